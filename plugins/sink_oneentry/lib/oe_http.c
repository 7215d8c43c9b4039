#include "oe_http.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sl_clock.h"
#include "grow.h"

#define RESP_MAX 4096
#define EVENTS_MAX 256
/* HTTP/2 streams per connection we ask for (libcurl's default, set
 * explicitly because the HTTP/2 connection budget is computed from it). */
#define STREAMS_PER_CONN 100

/* One request slot; easy handles are reused so their connections and
 * settings survive from one request to the next. */
typedef struct slot {
    struct slot *next_free;
    struct oe_http *h;
    CURL *easy;
    void *user;
    struct curl_slist hdr[4]; /* content-type, token, Expect, identity */
    char resp[RESP_MAX];
    size_t resp_len;
    char retry_after[80];
    char error[CURL_ERROR_SIZE];
    int64_t start_ns; /* monotonic */
    int active;
    int unconnected; /* added, no connection yet (see oe_http_can_start) */
    int connecting;  /* and it opened a socket of its own for that */
} slot;

struct oe_http {
    CURLM *multi;
    oe_http_cfg cfg;
    char *url, *token_hdr;
    slot *free_slots;
    slot **all;        /* every slot ever made, for cleanup */
    size_t nall, capall;
    int inflight;
    int running;       /* transfers curl still runs (the rest are done) */
    int maybe_h2;      /* https, and no answer has shown HTTP/1.x yet */
    int multiplexed;   /* an answer came over HTTP/2 (or 3) */
    int socks;         /* sockets open (connections, and connects in progress) */
    int unconnected;   /* transfers without a connection yet */
    int connecting;    /* of which opened a socket that is not connected yet */
    slot *last_done;   /* returned by oe_http_next, recycled on the next call */
    /* curl's socket interface driven by epoll: the cost of a wait is the
     * sockets that are ready, not every transfer in flight. */
    int epfd, evfd;
    int64_t timer_at;  /* monotonic ms when curl wants a timeout call, -1 none */
};

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp);
static int on_timer(CURLM *m, long timeout_ms, void *userp);

static char content_type[] = "Content-Type: application/json";
static char no_expect[] = "Expect:"; /* no 100-continue round trip */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    slot *s = ud;
    size_t len = size * n, room = RESP_MAX - 1 - s->resp_len;
    memcpy(s->resp + s->resp_len, p, len < room ? len : room);
    s->resp_len += len < room ? len : room;
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    slot *s = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vl = len - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= sizeof s->retry_after)
            vl = sizeof s->retry_after - 1;
        memcpy(s->retry_after, v, vl);
        s->retry_after[vl] = 0;
    }
    return len;
}

/* The transfer has its connection (new or reused) or is over. */
static void slot_connected(slot *s)
{
    if (s->unconnected) {
        s->unconnected = 0;
        s->h->unconnected--;
    }
    if (s->connecting) {
        s->connecting = 0;
        s->h->connecting--;
    }
}

/* Connection accounting for oe_http_can_start: libcurl opens and closes
 * every socket through these two, and calls on_prereq once the transfer's
 * connection is ready (after TLS), before the request is sent. */
static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    slot *s = clientp;
    (void)purpose;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd == CURL_SOCKET_BAD)
        return fd;
    s->h->socks++;
    if (!s->connecting) {
        s->connecting = 1;
        s->h->connecting++;
    }
    return fd;
}

static int on_close(void *clientp, curl_socket_t fd)
{
    oe_http *h = clientp;
    h->socks--;
    return close(fd);
}

#if LIBCURL_VERSION_NUM >= 0x075000 /* 7.80: CURLOPT_PREREQFUNCTION */
static int on_prereq(void *clientp, char *ip, char *local_ip, int port, int local_port)
{
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    slot_connected(clientp);
    return CURL_PREREQFUNC_OK;
}
#endif

static int slot_setup(oe_http *h, slot *s)
{
    CURL *e = s->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, h->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->error) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, h) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075000
    bad |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PREREQDATA, s) != CURLE_OK;
#endif
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->cfg.connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->cfg.timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->cfg.tls_verify ? 1L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->cfg.tls_verify ? 2L : 0L) != CURLE_OK;
    if (h->cfg.ca_file && *h->cfg.ca_file)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, h->cfg.ca_file) != CURLE_OK;
    /* HTTP/2 over TLS when offered (multiplexed), HTTP/1.1 keep-alive otherwise. */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Only http(s), and never follow redirects with the token on. */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    return bad ? -1 : 0;
}

static slot *slot_get(oe_http *h)
{
    slot *s = h->free_slots;
    if (s) {
        h->free_slots = s->next_free;
        return s;
    }
    slot **na = sl_grow(h->all, h->nall + 1, &h->capall, sizeof *na, 16);
    if (!na)
        return NULL;
    h->all = na;
    if (!(s = calloc(1, sizeof *s)))
        return NULL;
    s->h = h;
    if (!(s->easy = curl_easy_init()) || slot_setup(h, s) < 0) {
        if (s->easy)
            curl_easy_cleanup(s->easy);
        free(s);
        return NULL;
    }
    h->all[h->nall++] = s;
    return s;
}

static void slot_put(oe_http *h, slot *s)
{
    s->active = 0;
    s->user = NULL;
    s->next_free = h->free_slots;
    h->free_slots = s;
}

/*
 * Connections to the host curl may open. HTTP/1.1 carries one request per
 * connection, so it needs max_conns. Over HTTP/2, libcurl (7.88) opens a
 * new connection for each request the open ones cannot take at that moment
 * rather than wait for the one it is already opening: 150 requests in
 * flight made 51 connections, 256 made 157. Capped to what max_conns
 * streams need, the rest wait in curl for a free stream. Only https can
 * be HTTP/2 (ALPN), and an answer over HTTP/1.x lifts the cap
 * (learn_protocol). A server allowing fewer than STREAMS_PER_CONN streams
 * gets fewer requests in flight than max_conns.
 */
static long host_conns(const oe_http *h)
{
    long n = h->cfg.max_conns;
    return h->maybe_h2 ? (n + STREAMS_PER_CONN - 1) / STREAMS_PER_CONN : n;
}

int oe_http_new(oe_http **out, const oe_http_cfg *cfg, char *err, size_t errlen)
{
    oe_http *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h)
        goto oom;
    h->epfd = h->evfd = -1;
    h->timer_at = -1;
    if (!(h->url = strdup(cfg->url)))
        goto oom;
    h->cfg = *cfg;
    h->cfg.url = h->url;
    if (cfg->token && *cfg->token && asprintf(&h->token_hdr, "x-app-token: %s", cfg->token) < 0) {
        h->token_hdr = NULL;
        goto oom;
    }
    h->cfg.token = NULL; /* only the header copy is kept */
    if (!(h->multi = curl_multi_init()))
        goto oom;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wev = {.events = EPOLLIN};
    if (h->epfd < 0 || h->evfd < 0) {
        snprintf(err, errlen, "cannot set up HTTP transport: %s", strerror(errno));
        oe_http_free(h);
        return -1;
    }
    wev.data.fd = h->evfd;
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->evfd, &wev) != 0) {
        snprintf(err, errlen, "cannot set up HTTP transport: %s", strerror(errno));
        oe_http_free(h);
        return -1;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)STREAMS_PER_CONN);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_conns);
    h->maybe_h2 = strncasecmp(cfg->url, "https://", 8) == 0;
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, host_conns(h));
    *out = h;
    return 0;
oom:
    snprintf(err, errlen, "cannot set up HTTP transport: out of memory");
    oe_http_free(h);
    return -1;
}

static struct curl_slist *headers(oe_http *h, slot *s, const char *ident)
{
    int n = 0;
    s->hdr[n++].data = content_type;
    s->hdr[n++].data = no_expect;
    if (h->token_hdr)
        s->hdr[n++].data = h->token_hdr;
    s->hdr[n++].data = (char *)ident;
    for (int i = 0; i < n; i++)
        s->hdr[i].next = i + 1 < n ? &s->hdr[i + 1] : NULL;
    return &s->hdr[0];
}

int oe_http_start(oe_http *h, const char *ident, const char *body, size_t len, void *user)
{
    slot *s = slot_get(h);
    if (!s)
        return -1;
    s->user = user;
    s->resp_len = 0;
    s->retry_after[0] = 0;
    s->error[0] = 0;
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers(h, s, ident));
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    s->start_ns = sl_mono_ns();
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        slot_put(h, s);
        return -1;
    }
    s->active = 1;
    s->unconnected = 1;
    h->unconnected++;
    h->inflight++;
    return 0;
}

int oe_http_can_start(const oe_http *h)
{
#if LIBCURL_VERSION_NUM >= 0x075000
    if (h->multiplexed || h->unconnected < OE_HTTP_MAX_CONNECTING)
        return 1;
    /* HTTP/1.1 connections open and not carrying a request; the
     * transfers already waiting for a connection take them first. */
    int idle = h->socks - h->connecting - (h->inflight - h->unconnected);
    return idle > h->unconnected - h->connecting;
#else
    (void)h;
    return 1; /* no way to tell a connect from a reused connection */
#endif
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    oe_http *h = userp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(h->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.fd = fd};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(h->epfd, op, fd, &ev) != 0 && errno == (op == EPOLL_CTL_ADD ? EEXIST : ENOENT))
        epoll_ctl(h->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (!socketp)
        curl_multi_assign(h->multi, fd, h); /* marks the socket as registered */
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    oe_http *h = userp;
    (void)m;
    h->timer_at = timeout_ms < 0 ? -1 : sl_mono_ms() + timeout_ms;
    return 0;
}

/* Run curl's timeouts that are due (a new transfer asks for one at once). */
static void run_timers(oe_http *h)
{
    for (int i = 0; i < 4 && h->timer_at >= 0 && h->timer_at <= sl_mono_ms(); i++) {
        h->timer_at = -1;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
    }
}

void oe_http_wait(oe_http *h, int timeout_ms)
{
    struct epoll_event ev[EVENTS_MAX];
    run_timers(h);
    /* Answers already complete (a fast server answers within one action):
     * hand them over now instead of sleeping. */
    if (h->running < h->inflight)
        return;
    if (h->timer_at >= 0) {
        int64_t left = h->timer_at - sl_mono_ms();
        if (left < timeout_ms)
            timeout_ms = left < 0 ? 0 : (int)left;
    }
    int n = epoll_wait(h->epfd, ev, EVENTS_MAX, timeout_ms);
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == h->evfd) {
            uint64_t v;
            if (read(h->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
                continue;
            continue;
        }
        int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(h->multi, ev[i].data.fd, flags, &h->running);
    }
    run_timers(h);
}

/* The first answer over HTTP/1.x shows the server does not multiplex: from
 * then on each request in flight needs a connection of its own. Waiting
 * requests take the new budget as running ones finish. */
static void learn_protocol(oe_http *h, CURL *e)
{
    long v = 0;
    if (!h->maybe_h2 || curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &v) != CURLE_OK)
        return;
    if (v == CURL_HTTP_VERSION_2_0 || v == CURL_HTTP_VERSION_3) {
        h->multiplexed = 1;
        return;
    }
    h->maybe_h2 = 0;
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, host_conns(h));
}

int oe_http_next(oe_http *h, oe_http_done *d)
{
    if (h->last_done) {
        slot_put(h, h->last_done);
        h->last_done = NULL;
    }
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        slot *s;
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(h->multi, m->easy_handle);
        h->inflight--;
        slot_connected(s);
        s->resp[s->resp_len] = 0;
        *d = (oe_http_done){.user = s->user, .body = s->resp, .body_len = s->resp_len,
                            .latency_ms = (double)(sl_mono_ns() - s->start_ns) / 1e6};
        if (code == CURLE_OK) {
            learn_protocol(h, s->easy);
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &d->status);
            d->retry_after = s->retry_after[0] ? s->retry_after : NULL;
        } else {
            d->error = s->error[0] ? s->error : curl_easy_strerror(code);
        }
        s->active = 0;
        h->last_done = s;
        return 1;
    }
    return 0;
}

int oe_http_abort_all(oe_http *h, void (*fn)(void *user, void *arg), void *arg)
{
    int n = 0;
    for (size_t i = 0; i < h->nall; i++) {
        slot *s = h->all[i];
        if (!s->active)
            continue;
        curl_multi_remove_handle(h->multi, s->easy);
        h->inflight--;
        slot_connected(s);
        fn(s->user, arg);
        slot_put(h, s);
        n++;
    }
    return n;
}

int oe_http_inflight(const oe_http *h)
{
    return h->inflight;
}

void oe_http_wakeup(oe_http *h)
{
    uint64_t one = 1;
    /* A full counter already means a pending wakeup: nothing to add. */
    if (write(h->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
        return;
}

void oe_http_free(oe_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nall; i++) {
        if (h->all[i]->active && h->multi)
            curl_multi_remove_handle(h->multi, h->all[i]->easy);
        curl_easy_cleanup(h->all[i]->easy);
        free(h->all[i]);
    }
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->evfd >= 0)
        close(h->evfd);
    if (h->token_hdr) {
        /* The token must not linger in freed memory; explicit_bzero, as a
         * memset right before free is removed by the compiler. */
        explicit_bzero(h->token_hdr, strlen(h->token_hdr));
        free(h->token_hdr);
    }
    free(h->all);
    free(h->url);
    free(h);
}
