/*
 * The built-in HTTP/1.1 client, over TCP or TLS (oe_tls.c). oe_http.c picks
 * it for http:// URLs reached directly, and for https:// when asked
 * (http_client: builtin); libcurl serves proxies and HTTP/2.
 *
 * Why it exists: at a fast server, libcurl's per-request work (handle
 * bookkeeping, header callbacks, a liveness poll before each reuse) cost
 * sluice more CPU per event than the server spent answering. Here a request
 * is one formatted head plus the caller's body, written with the other
 * requests waiting for the same connection in one sendmsg; answers are
 * read in as large pieces as the socket has and parsed in place
 * (oe_h1resp.c).
 *
 * Connections: up to ceil(max_conns / pipeline), kept alive. A request
 * goes to an idle connection, else a new one, else (pipeline > 1) behind
 * others on the connection with room; answers come back in order.
 * Requests a connection never answered because it closed (the server's
 * idle timeout, "Connection: close", a reset) are sent again once on
 * another connection — as libcurl does for a reused connection; the
 * sink's delivery is at-least-once anyway. Failures the server caused
 * (refused connection, a cut answer, timeouts) are returned as errors and
 * the sink retries them.
 */
#include "oe_h1.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "oe_h1resp.h"
#include "oe_tls.h"
#include "sluice/json.h"

#define RBUF OE_H1_HEAD_MAX /* read buffer per connection: one whole head fits */
#define IOV_MAX_BATCH 256   /* iovecs per sendmsg (two per request) */
#define TLS_WBUF 16384      /* requests gathered into one TLS write: one record */
#define EVENTS_MAX 256
#define CHECK_EVERY_NS 20000000LL /* how often timeouts are looked for */
#define RESOLVE_TTL_NS 30000000000LL
/* With requests pipelined, answers are collected at most this often: each
 * recv and sendmsg then carries dozens, which at a fast server cuts
 * sluice's CPU per event by a third (0.5 ms: by a sixth) for 2 ms of
 * latency, nothing beside a server's own (bench/oneentry.sh). */
#define PIPELINE_NAP_US 2000

typedef struct req {
    struct req *next;
    void *user;
    const char *body;
    size_t body_len;
    sl_buf head;           /* request line and headers */
    int64_t start_ns;
    int resent;            /* already sent again after a connection dropped it */
    int active;            /* started and not yet returned by next */
    long status;
    const char *error;
    char errbuf[160];
    char retry_after[80];
    char *resp;            /* the answer's body, up to OE_H1_BODY_MAX */
    size_t resp_len;
} req;

typedef struct rq { req *head, *tail; } rq; /* a FIFO of requests */

typedef struct conn {
    int fd;                /* -1: slot unused */
    int connecting;
    int64_t connect_deadline_ns;
    rq q;                  /* requests on it, oldest (next to be answered) first */
    int n;
    req *unsent;           /* first request not completely written */
    size_t unsent_off;
    int answered;          /* answers received so far */
    int want_out;          /* EPOLLOUT registered */
    int dirty, idle;       /* on the flush list / on the idle stack (kept across reopening) */
    oe_tls_conn *tls;      /* TLS state (https), NULL for plain TCP */
    int handshaking;       /* connecting: TCP is up, the TLS handshake is not done */
    int read_wants_write;  /* a TLS read waits for the socket to be writable */
    size_t tls_retry_len;  /* the TLS write that would block, retried with exactly these bytes */
    oe_h1resp resp;
    size_t rlen;
    char rbuf[RBUF];
} conn;


struct oe_h1 {
    char *host, *port, *prefix; /* prefix: request line, Host, content type, token */
    size_t prefix_len;
    long connect_timeout_ms, timeout_ms;
    int pipeline, budget;
    conn **conns;               /* budget slots, allocated on first use */
    int nopen, rr;
    conn **idle, **dirty;
    int nidle, ndirty;
    rq pending, done;
    req *free_reqs, *last_done;
    req **all;
    size_t nall, capall;
    int inflight;
    int epfd, evfd;
    int64_t next_check_ns;
    int64_t loop_ns;            /* when the last wait returned: start and latency clock */
    struct addrinfo *addrs;
    int64_t resolved_ns;
    unsigned addr_pick;
    int https;
    oe_tls *tls;                /* https: settings and session; NULL for http */
    char *wbuf;                 /* TLS_WBUF bytes: requests gathered for one TLS write */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void rq_push(rq *q, req *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

static req *rq_pop(rq *q)
{
    req *r = q->head;
    if (r && !(q->head = r->next))
        q->tail = NULL;
    return r;
}

/* ---------------------------------------------------------------- */
/* Setup                                                              */
/* ---------------------------------------------------------------- */

/* Host, port and the constant part of every request, from the URL. */
static int parse_url(oe_h1 *h, const oe_http_cfg *cfg, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int rc = -1;
    if (!u || curl_url_set(u, CURLUPART_URL, cfg->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        snprintf(err, errlen, "url: cannot parse '%s'", cfg->url);
        goto out;
    }
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    /* Host names an IPv6 literal in brackets; getaddrinfo wants it bare. */
    size_t hl = strlen(host);
    int v6 = hl > 2 && host[0] == '[';
    int tls = strncasecmp(cfg->url, "https://", 8) == 0;
    int def = strcmp(port, tls ? "443" : "80") == 0;
    if (!(h->host = v6 ? strndup(host + 1, hl - 2) : strdup(host)) || !(h->port = strdup(port)))
        goto oom;
    int n = asprintf(&h->prefix, "POST %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n"
                     "Content-Type: application/json\r\n%s%s%s",
                     path, query ? "?" : "", query ? query : "", host, def ? "" : ":",
                     def ? "" : port, cfg->token && *cfg->token ? "x-app-token: " : "",
                     cfg->token && *cfg->token ? cfg->token : "",
                     cfg->token && *cfg->token ? "\r\n" : "");
    if (n < 0) {
        h->prefix = NULL;
        goto oom;
    }
    h->prefix_len = (size_t)n;
    h->https = tls;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "cannot set up HTTP transport: out of memory");
out:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}

int oe_h1_new(oe_h1 **out, const oe_http_cfg *cfg, char *err, size_t errlen)
{
    oe_h1 *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h) {
        snprintf(err, errlen, "cannot set up HTTP transport: out of memory");
        return -1;
    }
    h->epfd = h->evfd = -1;
    h->connect_timeout_ms = cfg->connect_timeout_ms;
    h->timeout_ms = cfg->timeout_ms;
    h->pipeline = cfg->pipeline > 1 ? cfg->pipeline : 1;
    h->budget = (cfg->max_conns + h->pipeline - 1) / h->pipeline;
    if (h->budget < 1)
        h->budget = 1;
    if (parse_url(h, cfg, err, errlen) < 0)
        goto fail;
    if (h->https && oe_tls_new(&h->tls, h->host, cfg->tls_verify, cfg->ca_file, err, errlen) < 0)
        goto fail;
    h->conns = calloc((size_t)h->budget, sizeof *h->conns);
    h->idle = calloc((size_t)h->budget, sizeof *h->idle);
    h->dirty = calloc((size_t)h->budget, sizeof *h->dirty);
    if (h->https)
        h->wbuf = malloc(TLS_WBUF);
    if (!h->conns || !h->idle || !h->dirty || (h->https && !h->wbuf)) {
        snprintf(err, errlen, "cannot set up HTTP transport: out of memory");
        goto fail;
    }
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = NULL};
    if (h->epfd < 0 || h->evfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->evfd, &wev) != 0) {
        snprintf(err, errlen, "cannot set up HTTP transport: %s", strerror(errno));
        goto fail;
    }
    *out = h;
    return 0;
fail:
    oe_h1_free(h);
    return -1;
}

/* ---------------------------------------------------------------- */
/* Requests                                                           */
/* ---------------------------------------------------------------- */

static req *req_get(oe_h1 *h)
{
    req *r = h->free_reqs;
    if (r) {
        h->free_reqs = r->next;
        return r;
    }
    if (h->nall == h->capall) {
        size_t nc = h->capall ? h->capall * 2 : 64;
        req **na = realloc(h->all, nc * sizeof *na);
        if (!na)
            return NULL;
        h->all = na;
        h->capall = nc;
    }
    if (!(r = calloc(1, sizeof *r)) || !(r->resp = malloc(OE_H1_BODY_MAX))) {
        free(r);
        return NULL;
    }
    h->all[h->nall++] = r;
    return r;
}

static void req_put(oe_h1 *h, req *r)
{
    r->active = 0;
    r->user = NULL;
    r->next = h->free_reqs;
    h->free_reqs = r;
}

/* Request line and headers: the constant prefix, identity, length (sl_json
 * writes the number: snprintf was a visible share of the client's CPU). */
static int format_head(oe_h1 *h, req *r, const char *ident, size_t len)
{
    sl_value length = {.type = SL_UINT, .v.u = len};
    r->head.len = 0;
    return sl_buf_append(&r->head, h->prefix, h->prefix_len) || sl_buf_puts(&r->head, ident) ||
                   sl_buf_puts(&r->head, "\r\nContent-Length: ") ||
                   sl_json_value(&r->head, &length) || sl_buf_puts(&r->head, "\r\n\r\n")
               ? -1
               : 0;
}

static void finish(oe_h1 *h, req *r)
{
    rq_push(&h->done, r);
}

static void finish_error(oe_h1 *h, req *r, const char *why)
{
    snprintf(r->errbuf, sizeof r->errbuf, "%s", why);
    r->error = r->errbuf;
    r->status = 0;
    finish(h, r);
}

/* ---------------------------------------------------------------- */
/* Connections                                                        */
/* ---------------------------------------------------------------- */

static void mark_dirty(oe_h1 *h, conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        h->dirty[h->ndirty++] = c;
    }
}

static void set_out(oe_h1 *h, conn *c, int want)
{
    if (c->want_out == want)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = c};
    epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

static void conn_enqueue(oe_h1 *h, conn *c, req *r)
{
    rq_push(&c->q, r);
    if (!c->unsent) {
        c->unsent = r;
        c->unsent_off = 0;
    }
    c->n++;
    if (!c->connecting)
        mark_dirty(h, c);
}

static req *conn_dequeue(conn *c)
{
    req *r = rq_pop(&c->q);
    if (!r)
        return NULL;
    if (c->unsent == r) {
        c->unsent = r->next;
        c->unsent_off = 0;
    }
    c->n--;
    return r;
}

/* What happens to the requests still on a connection being closed. */
enum { FAIL_REST, RESEND_ONCE, RESEND_ALL };

/* Close c. The requests left on it fail with `why` (FAIL_REST), or go to
 * another connection: all of them when the server said it would not read
 * them (RESEND_ALL, "Connection: close"), else those not resent before. */
static void conn_close(oe_h1 *h, conn *c, int resend, const char *why)
{
    req *r;
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    oe_tls_close(c->tls);
    c->tls = NULL;
    close(c->fd);
    c->fd = -1;
    h->nopen--;
    while ((r = conn_dequeue(c))) {
        if (resend == RESEND_ALL || (resend == RESEND_ONCE && !r->resent)) {
            r->resent |= resend == RESEND_ONCE;
            rq_push(&h->pending, r);
        } else {
            finish_error(h, r, why);
        }
    }
    c->want_out = 0; /* dirty and idle stay: the lists skip closed slots */
}

static struct addrinfo *address(oe_h1 *h, char *err, size_t errlen)
{
    int64_t now = now_ns();
    if (!h->addrs || now - h->resolved_ns > RESOLVE_TTL_NS) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *a;
        int rc = getaddrinfo(h->host, h->port, &hints, &a);
        if (rc != 0) {
            snprintf(err, errlen, "cannot resolve host %s: %s", h->host, gai_strerror(rc));
            return NULL;
        }
        if (h->addrs)
            freeaddrinfo(h->addrs);
        h->addrs = a;
        h->resolved_ns = now;
    }
    /* Take the addresses in turn, so a dead one is not the only one tried. */
    int n = 0;
    for (struct addrinfo *a = h->addrs; a; a = a->ai_next)
        n++;
    struct addrinfo *a = h->addrs;
    for (unsigned i = h->addr_pick % (unsigned)n; i; i--)
        a = a->ai_next;
    return a;
}

/* A new connection in slot i, connecting. NULL with err when it fails at once. */
static conn *conn_open(oe_h1 *h, int i, char *err, size_t errlen)
{
    struct addrinfo *a = address(h, err, errlen);
    if (!a)
        return NULL;
    if (!h->conns[i] && !(h->conns[i] = calloc(1, sizeof(conn)))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    conn *c = h->conns[i];
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect to %s port %s: %s", h->host, h->port, strerror(errno));
        h->addr_pick++;
        close(fd);
        return NULL;
    }
    int dirty = c->dirty, idle = c->idle;
    memset(c, 0, offsetof(conn, rbuf));
    c->dirty = dirty;
    c->idle = idle;
    c->fd = fd;
    c->connecting = 1;
    c->connect_deadline_ns = now_ns() + h->connect_timeout_ms * 1000000LL;
    oe_h1resp_reset(&c->resp);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    c->want_out = 1;
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        close(fd);
        c->fd = -1;
        return NULL;
    }
    h->nopen++;
    return c;
}

/* Connected (and through TLS): the requests waiting on it can go. */
static void conn_ready(oe_h1 *h, conn *c)
{
    c->connecting = 0;
    if (c->unsent)
        mark_dirty(h, c);
    else
        set_out(h, c, 0);
}

/* One step of the TLS handshake, when the socket is ready for it. */
static void handshake(oe_h1 *h, conn *c)
{
    char err[256];
    int ww = 0, r = oe_tls_handshake(c->tls, &ww, err, sizeof err);
    if (r == 1) {
        c->handshaking = 0;
        conn_ready(h, c);
    } else if (r == -1) {
        set_out(h, c, ww);
    } else {
        conn_close(h, c, FAIL_REST, err);
    }
}

static void conn_connected(oe_h1 *h, conn *c)
{
    int e = 0;
    socklen_t el = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
        e = errno;
    if (e) {
        char why[128];
        snprintf(why, sizeof why, "connect to %s port %s: %s", h->host, h->port, strerror(e));
        h->addr_pick++;
        conn_close(h, c, FAIL_REST, why);
        return;
    }
    if (h->tls) {
        char err[256];
        if (!(c->tls = oe_tls_open(h->tls, c->fd, err, sizeof err))) {
            conn_close(h, c, FAIL_REST, err);
            return;
        }
        c->handshaking = 1;
        handshake(h, c);
        return;
    }
    conn_ready(h, c);
}

/* ---------------------------------------------------------------- */
/* Placing requests                                                   */
/* ---------------------------------------------------------------- */

static conn *pick_idle(oe_h1 *h)
{
    while (h->nidle) {
        conn *c = h->idle[--h->nidle];
        c->idle = 0;
        if (c->fd >= 0 && !c->n && !c->connecting)
            return c;
    }
    return NULL;
}

/* With pipelining: the next open connection (in turn) with room. */
static conn *pick_room(oe_h1 *h)
{
    for (int k = 0; k < h->budget; k++) {
        conn *c = h->conns[(h->rr + k) % h->budget];
        /* not behind an answer that said the connection ends with it */
        if (c && c->fd >= 0 && c->n < h->pipeline && !c->resp.close) {
            h->rr = (h->rr + k + 1) % h->budget;
            return c;
        }
    }
    return NULL;
}

static int free_slot(const oe_h1 *h)
{
    for (int i = 0; i < h->budget; i++)
        if (!h->conns[i] || h->conns[i]->fd < 0)
            return i;
    return -1;
}

/* Put waiting requests on connections. */
static void dispatch(oe_h1 *h)
{
    while (h->pending.head) {
        conn *c = pick_idle(h);
        if (!c && h->nopen < h->budget) {
            char err[160];
            if (!(c = conn_open(h, free_slot(h), err, sizeof err))) {
                /* Nothing to connect to: every waiting request gets the error. */
                req *r;
                while ((r = rq_pop(&h->pending)))
                    finish_error(h, r, err);
                return;
            }
        }
        if (!c && h->pipeline > 1)
            c = pick_room(h);
        if (!c)
            return; /* all busy: they wait for an answer to free a place */
        conn_enqueue(h, c, rq_pop(&h->pending));
    }
}

int oe_h1_start(oe_h1 *h, const char *ident, const char *body, size_t len, void *user)
{
    req *r = req_get(h);
    if (!r || format_head(h, r, ident, len) < 0) {
        if (r)
            req_put(h, r);
        return -1;
    }
    r->user = user;
    r->body = body;
    r->body_len = len;
    r->start_ns = h->loop_ns ? h->loop_ns : now_ns();
    r->resent = 0;
    r->active = 1;
    h->inflight++;
    rq_push(&h->pending, r);
    dispatch(h);
    return 0;
}

/* ---------------------------------------------------------------- */
/* Writing                                                            */
/* ---------------------------------------------------------------- */

/* Advance c's unsent position by w written bytes. */
static void advance(conn *c, size_t w)
{
    while (w && c->unsent) {
        req *r = c->unsent;
        size_t rem = r->head.len + r->body_len - c->unsent_off;
        if (w < rem) {
            c->unsent_off += w;
            return;
        }
        w -= rem;
        c->unsent = r->next;
        c->unsent_off = 0;
    }
}

static int parse(oe_h1 *h, conn *c);
static void conn_lost(oe_h1 *h, conn *c, const char *why);

/* Read up to len bytes onto c's buffer: > 0 read, 0 the server closed,
 * -1 nothing yet, -2 failed (why). */
static long conn_recv(oe_h1 *h, conn *c, size_t len, char *why, size_t wl)
{
    char *at = c->rbuf + c->rlen;
    long n;
    if (c->tls) {
        int ww = 0;
        n = oe_tls_read(c->tls, at, len, &ww, why, wl);
        if (n == -1 && ww != c->read_wants_write) {
            c->read_wants_write = ww;
            set_out(h, c, ww || c->unsent);
        }
    } else {
        do
            n = recv(c->fd, at, len, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            snprintf(why, wl, "recv: %s", strerror(errno)), n = -2;
        else if (n < 0)
            n = -1;
    }
    if (n > 0) {
        c->rlen += (size_t)n;
        c->read_wants_write = 0;
    }
    return n;
}

/* A write failed: the server closed (it may do so right after an answer
 * that says so, with later requests unread). Answers it sent before
 * closing can still wait in the socket: take them to its end, or they
 * would be sent again and arrive twice; then the rest is resent. */
static void write_failed(oe_h1 *h, conn *c, const char *why)
{
    char rwhy[256];
    while (conn_recv(h, c, RBUF - c->rlen, rwhy, sizeof rwhy) > 0)
        if (parse(h, c) < 0)
            return; /* closed by an answer that said so */
    conn_lost(h, c, why);
}

/* TLS: gather what c has unsent (up to TLS_WBUF, one record) and write
 * it. One record at a time because a write over several reports none of
 * them when a later one blocks: an answer to a request in the first could
 * then arrive "before" its request was written (parse closes on that).
 * A blocked write is retried with exactly the same bytes, as OpenSSL
 * wants. Returns bytes written, 0 would block, -1 the connection is gone. */
static long tls_flush_some(oe_h1 *h, conn *c)
{
    size_t n = 0, off = c->unsent_off, lim = c->tls_retry_len ? c->tls_retry_len : TLS_WBUF;
    for (req *r = c->unsent; r && n < lim; r = r->next, off = 0) {
        const char *parts[2] = {r->head.data, r->body};
        size_t lens[2] = {r->head.len, r->body_len};
        for (int i = 0; i < 2 && n < lim; i++) {
            if (off >= lens[i]) {
                off -= lens[i];
                continue;
            }
            size_t k = lens[i] - off < lim - n ? lens[i] - off : lim - n;
            memcpy(h->wbuf + n, parts[i] + off, k);
            n += k;
            off = 0;
        }
    }
    char why[256];
    int ww = 0;
    long w = oe_tls_write(c->tls, h->wbuf, n, &ww, why, sizeof why);
    c->tls_retry_len = w == -1 ? n : 0;
    if (w == -1) {
        set_out(h, c, 1); /* (a write waiting for a read gets EPOLLIN, always on) */
        return 0;
    }
    if (w < 0) {
        write_failed(h, c, why);
        return -1;
    }
    advance(c, (size_t)w);
    return w;
}

/* Write what c has unsent, as many requests per system call as fit. */
static void conn_flush(oe_h1 *h, conn *c)
{
    /* The answer coming in ends the connection: what is unsent goes to
     * another one when it closes. */
    while (c->unsent && !c->resp.close) {
        if (c->tls) {
            if (tls_flush_some(h, c) <= 0)
                return;
            continue;
        }
        struct iovec iov[IOV_MAX_BATCH];
        int n = 0;
        size_t off = c->unsent_off;
        for (req *r = c->unsent; r && n + 2 <= IOV_MAX_BATCH; r = r->next, off = 0) {
            if (off < r->head.len)
                iov[n++] = (struct iovec){r->head.data + off, r->head.len - off};
            size_t boff = off > r->head.len ? off - r->head.len : 0;
            if (r->body_len > boff)
                iov[n++] = (struct iovec){(void *)(r->body + boff), r->body_len - boff};
        }
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out(h, c, 1);
            return;
        }
        if (w < 0) {
            char why[128];
            snprintf(why, sizeof why, "send: %s", strerror(errno));
            write_failed(h, c, why);
            return;
        }
        advance(c, (size_t)w);
    }
    set_out(h, c, c->read_wants_write); /* a TLS read may still wait for it */
}

static void flush_dirty(oe_h1 *h)
{
    for (int i = 0; i < h->ndirty; i++) {
        conn *c = h->dirty[i];
        c->dirty = 0;
        if (c->fd >= 0 && !c->connecting)
            conn_flush(h, c);
    }
    h->ndirty = 0;
}

/* ---------------------------------------------------------------- */
/* Reading                                                            */
/* ---------------------------------------------------------------- */

static void complete(oe_h1 *h, conn *c)
{
    req *r = conn_dequeue(c);
    oe_h1resp *a = &c->resp;
    r->status = a->status;
    r->error = NULL;
    r->retry_after[0] = 0;
    if (a->retry_after[0])
        memcpy(r->retry_after, a->retry_after, sizeof r->retry_after);
    /* A success's body ("true") is never read: not copying it keeps the
     * request's 4 KiB answer buffer out of the cache. */
    r->resp_len = a->status >= 200 && a->status < 300 ? 0 : a->body_len;
    if (r->resp_len)
        memcpy(r->resp, a->body, r->resp_len + 1);
    finish(h, r);
    c->answered++;
    oe_h1resp_reset(a);
}

/* The server ended the connection (EOF, reset) or broke the protocol. */
static void conn_lost(oe_h1 *h, conn *c, const char *why)
{
    if (c->q.head && oe_h1resp_eof(&c->resp)) {
        complete(h, c); /* an answer delimited by the connection's end */
        why = "connection closed before the answer";
    }
    /* The oldest request was being answered: if not a byte of its answer
     * came and the connection had served others, the server most likely
     * closed it as idle before it saw the request — send it again. */
    req *first = c->q.head;
    if (first && (oe_h1resp_started(&c->resp) || c->rlen || !c->answered || first->resent)) {
        conn_dequeue(c);
        finish_error(h, first, why);
    }
    conn_close(h, c, RESEND_ONCE, why);
}

/* Parse the answers in c's buffer. Returns -1 when c was closed. */
static int parse(oe_h1 *h, conn *c)
{
    size_t pos = 0;
    char err[128];
    while (pos < c->rlen) {
        if (!c->q.head) {
            conn_lost(h, c, "unexpected data from the server");
            return -1;
        }
        int done;
        long k = oe_h1resp_feed(&c->resp, c->rbuf + pos, c->rlen - pos, &done, err, sizeof err);
        if (k < 0) {
            conn_lost(h, c, err);
            return -1;
        }
        pos += (size_t)k;
        if (!done) {
            if (!k)
                break;
            continue;
        }
        /* An answer before its request was all written (an early 4xx):
         * the rest of that request would be read as the next one. */
        int closing = c->resp.close || c->unsent == c->q.head;
        complete(h, c);
        if (closing) {
            conn_close(h, c, RESEND_ALL, "connection closed by the server");
            return -1;
        }
    }
    memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
    c->rlen -= pos;
    if (!c->n && c->fd >= 0 && !c->idle) {
        c->idle = 1;
        h->idle[h->nidle++] = c;
    }
    return 0;
}

static void conn_read(oe_h1 *h, conn *c)
{
    char why[256];
    for (;;) {
        size_t room = RBUF - c->rlen;
        long n = conn_recv(h, c, room, why, sizeof why);
        if (n > 0) {
            if (parse(h, c) < 0)
                return;
            /* A short read most likely drained the socket: epoll says when
             * more comes. TLS may hold decrypted bytes back: read on. */
            if ((size_t)n < room && !c->tls)
                return;
            continue;
        }
        if (n == 0)
            conn_lost(h, c, c->q.head ? "connection closed before the answer" : "idle");
        else if (n == -2)
            conn_lost(h, c, why);
        return;
    }
}

/* ---------------------------------------------------------------- */
/* Timeouts                                                           */
/* ---------------------------------------------------------------- */

static int expired(const oe_h1 *h, const req *r, int64_t now)
{
    return h->timeout_ms > 0 && now - r->start_ns >= h->timeout_ms * 1000000LL;
}

/* A request past its timeout takes its connection down: HTTP/1.1 cannot
 * skip an answer. The others on it go elsewhere. */
static void check_conn(oe_h1 *h, conn *c, int64_t now)
{
    char why[96];
    if (c->connecting && now >= c->connect_deadline_ns) {
        snprintf(why, sizeof why, "connection timed out after %ld ms", h->connect_timeout_ms);
        h->addr_pick++;
        conn_close(h, c, FAIL_REST, why);
        return;
    }
    int any = 0;
    for (req *r = c->q.head; r && !any; r = r->next)
        any = expired(h, r, now);
    if (!any)
        return;
    snprintf(why, sizeof why, "operation timed out after %ld ms", h->timeout_ms);
    rq keep = {0};
    req *r;
    while ((r = conn_dequeue(c))) {
        if (expired(h, r, now))
            finish_error(h, r, why);
        else
            rq_push(&keep, r);
    }
    conn_close(h, c, FAIL_REST, why);
    while ((r = rq_pop(&keep)))
        rq_push(&h->pending, r);
}

static void check_timeouts(oe_h1 *h, int64_t now)
{
    if (now < h->next_check_ns)
        return;
    h->next_check_ns = now + CHECK_EVERY_NS;
    for (int i = 0; i < h->budget; i++)
        if (h->conns[i] && h->conns[i]->fd >= 0)
            check_conn(h, h->conns[i], now);
    char why[96];
    snprintf(why, sizeof why, "operation timed out after %ld ms", h->timeout_ms);
    rq still = {0};
    req *r;
    while ((r = rq_pop(&h->pending))) {
        if (expired(h, r, now))
            finish_error(h, r, why);
        else
            rq_push(&still, r);
    }
    h->pending = still;
}

/* ---------------------------------------------------------------- */
/* Loop                                                               */
/* ---------------------------------------------------------------- */

static void on_event(oe_h1 *h, conn *c, uint32_t ev)
{
    if (c->fd < 0)
        return; /* closed by an earlier event of this round */
    if (c->handshaking) {
        handshake(h, c);
        return;
    }
    if (c->connecting) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        conn_connected(h, c);
        if (c->fd < 0 || c->connecting)
            return;
    }
    if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (c->read_wants_write && (ev & EPOLLOUT))) {
        conn_read(h, c);
        if (c->fd < 0)
            return;
    }
    if ((ev & EPOLLOUT) && c->unsent)
        mark_dirty(h, c);
}

void oe_h1_wait(oe_h1 *h, int timeout_ms)
{
    struct epoll_event ev[EVENTS_MAX];
    dispatch(h); /* requests a failed write put back since the last round */
    flush_dirty(h);
    if (h->done.head)
        timeout_ms = 0; /* answers to hand over: only look for more */
    int64_t now = now_ns();
    if (h->inflight && h->next_check_ns > now) {
        int64_t left = (h->next_check_ns - now + 999999) / 1000000;
        if (left < timeout_ms)
            timeout_ms = (int)left;
    }
    if (h->pipeline > 1 && h->inflight > h->nopen && timeout_ms > 0)
        usleep(PIPELINE_NAP_US); /* requests are queued behind others on some connection */
    int n = epoll_wait(h->epfd, ev, EVENTS_MAX, timeout_ms);
    h->loop_ns = now_ns();
    for (int i = 0; i < n; i++) {
        if (!ev[i].data.ptr) {
            uint64_t v;
            if (read(h->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
                continue;
            continue;
        }
        on_event(h, ev[i].data.ptr, ev[i].events);
    }
    if (h->inflight)
        check_timeouts(h, h->loop_ns);
    dispatch(h);
    flush_dirty(h);
}

int oe_h1_next(oe_h1 *h, oe_http_done *d)
{
    if (h->last_done) {
        req_put(h, h->last_done);
        h->last_done = NULL;
    }
    req *r = rq_pop(&h->done);
    if (!r)
        return 0;
    h->inflight--;
    *d = (oe_http_done){.user = r->user, .status = r->status, .error = r->error,
                        .retry_after = !r->error && r->retry_after[0] ? r->retry_after : NULL,
                        .body = r->error || !r->resp_len ? "" : r->resp,
                        .body_len = r->error ? 0 : r->resp_len,
                        .latency_ms = h->loop_ns > r->start_ns
                                          ? (double)(h->loop_ns - r->start_ns) / 1e6 : 0};
    r->active = 0;
    h->last_done = r;
    return 1;
}

int oe_h1_abort_all(oe_h1 *h, void (*fn)(void *user, void *arg), void *arg)
{
    for (int i = 0; i < h->budget; i++) {
        conn *c = h->conns[i];
        if (c && c->fd >= 0)
            conn_close(h, c, RESEND_ALL, "stopped");
        if (c)
            c->dirty = c->idle = 0;
    }
    h->ndirty = h->nidle = 0;
    int n = 0;
    for (size_t i = 0; i < h->nall; i++) {
        req *r = h->all[i];
        if (!r->active || r == h->last_done)
            continue;
        fn(r->user, arg);
        n++;
    }
    h->pending = h->done = (rq){0};
    for (size_t i = 0; i < h->nall; i++)
        if (h->all[i]->active && h->all[i] != h->last_done) {
            req_put(h, h->all[i]);
            h->inflight--;
        }
    return n;
}

int oe_h1_inflight(const oe_h1 *h)
{
    return h->inflight;
}

void oe_h1_wakeup(oe_h1 *h)
{
    uint64_t one = 1;
    if (write(h->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
        return;
}

void oe_h1_free(oe_h1 *h)
{
    if (!h)
        return;
    for (int i = 0; h->conns && i < h->budget; i++) {
        if (h->conns[i] && h->conns[i]->fd >= 0) {
            oe_tls_close(h->conns[i]->tls);
            close(h->conns[i]->fd);
        }
        free(h->conns[i]);
    }
    for (size_t i = 0; i < h->nall; i++) {
        sl_buf_free(&h->all[i]->head);
        free(h->all[i]->resp);
        free(h->all[i]);
    }
    if (h->addrs)
        freeaddrinfo(h->addrs);
    oe_tls_free(h->tls);
    free(h->wbuf);
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->evfd >= 0)
        close(h->evfd);
    if (h->prefix) {
        /* The token must not linger in freed memory longer than needed. */
        memset(h->prefix, 0, h->prefix_len);
        free(h->prefix);
    }
    free(h->conns);
    free(h->idle);
    free(h->dirty);
    free(h->all);
    free(h->host);
    free(h->port);
    free(h);
}
