#include "admin.h"

#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_clock.h"
#include "engine_priv.h"
#include "log.h"
#include "grow.h"

/* Tap streams at once: each holds a thread and has no idle timeout, so
 * there are few, and the rest of the connection limit stays for /health. */
#define ADMIN_MAX_TAPS 8
/* Seconds a connection may sit idle (a client that connects and says
 * nothing must not hold a slot for long). */
#define ADMIN_IDLE_TIMEOUT_S 10
/* Events per second a tap shows unless ?rate= says otherwise. */
#define TAP_DEFAULT_RATE 1000

struct sl_admin {
    struct MHD_Daemon *d;
    sl_engine *e;
    sl_admin_reload_fn reload; /* POST /reload; NULL answers 501 */
    void *reload_arg;
    char hosts[4][300];        /* Host values a loopback endpoint answers */
    int check_host;            /* loopback: only those Host values */
    atomic_size_t n_hosts;     /* published once the port is known */
    atomic_int taps;
};

/* ------------------------------------------------------------------ */
/* /metrics                                                            */
/* ------------------------------------------------------------------ */

typedef struct row {
    char name[96];
    int gauge;
    size_t comp;
    int64_t v;
} row;

typedef struct rows {
    row *r;
    size_t n, cap;
    size_t comp;
    int oom;
} rows;

static void add_row(rows *rs, const char *name, int gauge, int64_t v)
{
    row *nr = sl_grow(rs->r, rs->n + 1, &rs->cap, sizeof *nr, 64);
    if (!nr) {
        rs->oom = 1;
        return;
    }
    rs->r = nr;
    row *r = &rs->r[rs->n++];
    /* Prometheus names: [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_'. */
    size_t i = 0;
    for (; name[i] && i < sizeof r->name - 1; i++) {
        char ch = name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                 (i > 0 && ch >= '0' && ch <= '9');
        r->name[i] = ok ? ch : '_';
    }
    r->name[i] = '\0';
    r->gauge = gauge;
    r->comp = rs->comp;
    r->v = v;
}

static void add_counter(const sl_counter *c, void *arg)
{
    add_row(arg, c->name, c->gauge, (int64_t)atomic_load(&c->value));
}

static int row_cmp(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c == 0)
        c = x->gauge - y->gauge;
    return c ? c : (x->comp > y->comp) - (x->comp < y->comp);
}

static void engine_rows(sl_engine *e, rows *rs)
{
    for (size_t i = 0; i < e->n; i++) {
        sl_comp *c = &e->comps[i];
        rs->comp = i;
        sl_metrics_each(&c->metrics, add_counter, rs);
        if (c->has_queue) {
            add_row(rs, "queue_bytes", 1, (int64_t)sl_queue_bytes(&c->q));
            add_row(rs, "queue_max_bytes", 1, (int64_t)c->q.max_bytes);
        }
        if (c->spec->kind == SL_KIND_SINK && c->tickets.ring.slot) {
            pthread_mutex_lock(&c->tickets.mu);
            add_row(rs, "inflight_batches", 1, (int64_t)c->tickets.live);
            pthread_mutex_unlock(&c->tickets.mu);
        }
        if (c->spec->kind == SL_KIND_SOURCE && c->acks.ready)
            add_row(rs, "unacked_batches", 1, (int64_t)sl_acks_in_flight(&c->acks));
        add_row(rs, "component_failed", 1, atomic_load(&c->failed));
        add_row(rs, "tap_readers", 1, atomic_load(&c->taps.n));
    }
}

char *sl_admin_metrics_text(sl_engine *e)
{
    rows rs = {0};
    engine_rows(e, &rs);
    sl_buf out = {0};
    char line[512];
    snprintf(line, sizeof line,
             "# TYPE sluice_up gauge\nsluice_up %d\n"
             "# TYPE sluice_build_info gauge\nsluice_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n",
             !atomic_load(&e->stopping), SLUICE_VERSION, SL_ABI_MAJOR, SL_ABI_MINOR);
    int bad = rs.oom || sl_buf_puts(&out, line) < 0;
    qsort(rs.r, rs.n, sizeof *rs.r, row_cmp);
    for (size_t i = 0; !bad && i < rs.n; i++) {
        const row *r = &rs.r[i];
        const sl_comp *c = &e->comps[r->comp];
        const char *suffix = r->gauge ? "" : "_total";
        if (i == 0 || strcmp(r->name, rs.r[i - 1].name) || r->gauge != rs.r[i - 1].gauge) {
            snprintf(line, sizeof line, "# TYPE sluice_%s%s %s\n", r->name, suffix,
                     r->gauge ? "gauge" : "counter");
            bad |= sl_buf_puts(&out, line) < 0;
        }
        snprintf(line, sizeof line, "sluice_%s%s{component=\"%s\",kind=\"%s\",plugin=\"%s\"} %lld\n",
                 r->name, suffix, c->spec->name, sl_kind_name(c->spec->kind),
                 c->plugin.p ? c->plugin.p->name : "", (long long)r->v);
        bad |= sl_buf_puts(&out, line) < 0;
    }
    free(rs.r);
    if (bad || sl_buf_append(&out, "", 1) < 0) {
        sl_buf_free(&out);
        return NULL;
    }
    return out.data;
}

/* ------------------------------------------------------------------ */
/* /health                                                             */
/* ------------------------------------------------------------------ */

static const char *comp_state(sl_engine *e, sl_comp *c, int64_t now, int *stuck)
{
    *stuck = 0;
    if (atomic_load(&c->failed))
        return "failed";
    if (!atomic_load(&e->started))
        return "starting";
    if (c->spec->kind == SL_KIND_SOURCE && atomic_load(&c->finished))
        return "finished";
    if (c->spec->kind == SL_KIND_SINK && sl_queue_bytes(&c->q) > 0 &&
        now - atomic_load(&c->last_progress_ms) > e->spec->service.stuck_after_ms) {
        *stuck = 1;
        return "stuck";
    }
    return "running";
}

char *sl_admin_health_json(sl_engine *e, int *ready)
{
    int64_t now = sl_mono_ms();
    int ok = atomic_load(&e->started) && !atomic_load(&e->stopping);
    sl_buf out = {0};
    char item[512];
    int bad = sl_buf_puts(&out, "{\"components\":[") < 0;
    for (size_t i = 0; i < e->n; i++) {
        sl_comp *c = &e->comps[i];
        int stuck;
        const char *st = comp_state(e, c, now, &stuck);
        ok &= strcmp(st, "failed") != 0 && !stuck;
        int64_t since = now - atomic_load(&c->last_progress_ms);
        snprintf(item, sizeof item, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"state\":\"%s\"",
                 i ? "," : "", c->spec->name, sl_kind_name(c->spec->kind), st);
        bad |= sl_buf_puts(&out, item) < 0;
        if (c->spec->kind == SL_KIND_SINK) {
            snprintf(item, sizeof item, ",\"queue_bytes\":%zu,\"ms_since_progress\":%lld",
                     sl_queue_bytes(&c->q), (long long)since);
            bad |= sl_buf_puts(&out, item) < 0;
        }
        bad |= sl_buf_puts(&out, "}") < 0;
    }
    snprintf(item, sizeof item, "],\"status\":\"%s\"}\n",
             ok ? "ready" : atomic_load(&e->stopping) ? "stopping" : "not_ready");
    bad |= sl_buf_puts(&out, item) < 0 || sl_buf_append(&out, "", 1) < 0;
    *ready = ok;
    if (bad) {
        sl_buf_free(&out);
        return NULL;
    }
    return out.data;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

static enum MHD_Result queue_reply(struct MHD_Connection *conn, unsigned status,
                                   const char *type, char *body, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* A constant body: MHD only reads it. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body)
{
    return queue_reply(conn, status, type, (char *)body, MHD_RESPMEM_PERSISTENT);
}

/* A malloc'ed body that MHD frees; NULL (its allocation failed) answers 500.
 * One body pointer per function: given "this one or else that one", gcc -O3
 * finds a strlen(NULL) path (-Wnonnull). */
static enum MHD_Result reply_owned(struct MHD_Connection *conn, unsigned status,
                                   const char *type, char *body)
{
    if (!body)
        return reply(conn, 500, "text/plain", "out of memory\n");
    return queue_reply(conn, status, type, body, MHD_RESPMEM_MUST_FREE);
}

typedef struct tap_stream {
    sl_admin *a;
    sl_comp *c;
    sl_tap *tap;
} tap_stream;

static ssize_t tap_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    tap_stream *ts = cls;
    (void)pos;
    /* Waiting here holds this connection's own thread only. */
    long n = sl_tap_read(&ts->c->taps, ts->tap, buf, max, 500);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void tap_free(void *cls)
{
    tap_stream *ts = cls;
    sl_tap_close(&ts->c->taps, ts->tap);
    atomic_fetch_sub(&ts->a->taps, 1);
    free(ts);
}

static uint64_t query_u64(struct MHD_Connection *conn, const char *key, uint64_t dflt)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
    return v ? strtoull(v, NULL, 10) : dflt;
}

static enum MHD_Result serve_tap(sl_admin *a, struct MHD_Connection *conn, const char *name)
{
    sl_engine *e = a->e;
    long i = -1;
    for (size_t k = 0; k < e->n; k++)
        if (strcmp(e->comps[k].spec->name, name) == 0)
            i = (long)k;
    if (i < 0)
        return reply(conn, 404, "text/plain", "no such component\n");
    if (atomic_fetch_add(&a->taps, 1) >= ADMIN_MAX_TAPS) {
        atomic_fetch_sub(&a->taps, 1);
        return reply(conn, 503, "text/plain", "too many tap readers\n");
    }
    tap_stream *ts = malloc(sizeof *ts);
    sl_comp *c = &e->comps[i];
    c->taps.masks = e->spec->service.tap_masks;
    if (!ts || !(ts->tap = sl_tap_open(&c->taps, query_u64(conn, "sample", 0),
                                       query_u64(conn, "limit", 0),
                                       query_u64(conn, "rate", TAP_DEFAULT_RATE)))) {
        free(ts);
        atomic_fetch_sub(&a->taps, 1);
        return reply(conn, 500, "text/plain", "out of memory\n");
    }
    ts->a = a;
    ts->c = c;
    /* A stream may be quiet for long: no idle timeout for this one. */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int)0);
    if (atomic_load(&e->stopping))
        sl_taps_close_all(&c->taps);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, tap_reader, ts, tap_free);
    if (!r) {
        tap_free(ts);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static int host_known(sl_admin *a, const char *h)
{
    size_t n = atomic_load_explicit(&a->n_hosts, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (strcmp(a->hosts[i], h) == 0)
            return 1;
    return 0;
}

/*
 * Requests a browser could be made to send: a Host that is not this
 * endpoint's address (DNS rebinding) or an Origin other than the endpoint
 * itself (a page posting to /reload). NULL when the request may go on.
 */
static const char *foreign_request(sl_admin *a, struct MHD_Connection *conn)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (host && a->check_host && !host_known(a, host))
        return "Host is not this endpoint's address\n";
    if (origin && (strncmp(origin, "http://", 7) != 0 || !host || strcmp(origin + 7, host) != 0))
        return "cross-origin requests are refused\n";
    return NULL;
}

/* Bearer token check for /reload and /tap, in constant time. */
static int authorized(const sl_admin *a, struct MHD_Connection *conn)
{
    const char *want = a->e->spec->service.admin_token;
    if (!want)
        return 1;
    const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_AUTHORIZATION);
    if (!got || strncmp(got, "Bearer ", 7) != 0)
        return 0;
    got += 7;
    size_t n = strlen(want), m = strlen(got);
    unsigned char diff = n != m;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
    return diff == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    sl_admin *a = cls;
    sl_engine *e = a->e;
    (void)version;
    (void)upload;
    (void)con_cls;
    if (*upload_size)
        return MHD_NO;
    const char *foreign = foreign_request(a, conn);
    if (foreign)
        return reply(conn, 403, "text/plain", foreign);
    int guarded = strcmp(url, "/reload") == 0 || strncmp(url, "/tap/", 5) == 0;
    if (guarded && !authorized(a, conn))
        return reply(conn, 401, "text/plain", "a bearer token is needed (service.admin.token; "
                     "sluice tap/reload send $SLUICE_ADMIN_TOKEN)\n");
    if (strcmp(method, "POST") == 0 && strcmp(url, "/reload") == 0) {
        /* A call, not a signal: a program embedding the engine decides
         * what a reload means (sluice run: the same path as SIGHUP). */
        if (!a->reload)
            return reply(conn, 501, "text/plain", "this program does not reload\n");
        a->reload(a->reload_arg);
        return reply(conn, 202, "text/plain", "reload requested; see the log for the result\n");
    }
    if (strcmp(method, "GET") != 0)
        return reply(conn, 405, "text/plain", "only GET (and POST /reload)\n");
    if (strcmp(url, "/metrics") == 0)
        return reply_owned(conn, 200, "text/plain; version=0.0.4", sl_admin_metrics_text(e));
    if (strcmp(url, "/health") == 0) {
        int ready;
        char *t = sl_admin_health_json(e, &ready);
        return reply_owned(conn, ready ? 200 : 503, "application/json", t);
    }
    if (strcmp(url, "/live") == 0)
        return reply(conn, 200, "text/plain", "ok\n");
    if (strncmp(url, "/tap/", 5) == 0)
        return serve_tap(a, conn, url + 5);
    return reply(conn, 404, "text/plain",
                 "not found; try /metrics, /health, /live or /tap/<component>\n");
}

/* Split "host:port" ("[::1]:port" for IPv6) and resolve numerically or as
 * localhost; the config loader has already checked the shape. */
static int resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *len, int *v6,
                   char *err, size_t errlen)
{
    char host[256], port_s[8];
    int port;
    if (sl_split_host_port(listen, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "admin: bad address '%s'", listen);
        return -1;
    }
    snprintf(port_s, sizeof port_s, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, port_s, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "admin: cannot resolve '%s': %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* The Host values of a loopback endpoint: its address as configured with the
 * real port, and the other spellings of loopback when it is "localhost". */
static void known_hosts(sl_admin *a, const char *listen, unsigned port)
{
    int hl = (int)(strrchr(listen, ':') - listen);
    snprintf(a->hosts[0], sizeof a->hosts[0], "%.*s:%u", hl, listen, port);
    snprintf(a->hosts[1], sizeof a->hosts[1], "localhost:%u", port);
    snprintf(a->hosts[2], sizeof a->hosts[2], "127.0.0.1:%u", port);
    snprintf(a->hosts[3], sizeof a->hosts[3], "[::1]:%u", port);
    /* 127.0.0.2 listens only there: "localhost" would not reach it. The
     * count is published last: connection threads read the names after it. */
    atomic_store_explicit(&a->n_hosts, strncmp(listen, "localhost:", 10) == 0 ? 4 : 2,
                          memory_order_release);
}

int sl_admin_start(sl_engine *e, sl_admin_reload_fn reload, void *reload_arg, sl_admin **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    const char *listen = e->spec->service.admin_listen;
    if (!listen)
        return 0;
    struct sockaddr_storage ss;
    socklen_t len;
    int v6;
    if (resolve(listen, &ss, &len, &v6, err, errlen) < 0)
        return -1;
    sl_admin *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->e = e;
    a->reload = reload;
    a->reload_arg = reload_arg;
    a->check_host = !e->spec->service.admin_allow_remote;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     (v6 ? MHD_USE_IPv6 : 0);
    a->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, a, MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_CONNECTION_LIMIT, 64U,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ADMIN_IDLE_TIMEOUT_S,
                            MHD_OPTION_END);
    if (!a->d) {
        snprintf(err, errlen, "admin: cannot listen on %s (address in use or not available)",
                 listen);
        free(a);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    if (a->check_host)
        known_hosts(a, listen, port);
    sl_log(SL_LOG_INFO, NULL, "admin endpoint on %.*s:%u (/metrics /health /tap/<name>)",
           (int)(strrchr(listen, ':') - listen), listen, port);
    if (!e->spec->service.admin_token)
        sl_log(SL_LOG_WARN, NULL, "admin: no service.admin.token: every local user can "
               "reload the pipeline and tap its events");
    *out = a;
    return 0;
}

void sl_admin_stop(sl_admin *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->e->n; i++)
        sl_taps_close_all(&a->e->comps[i].taps);
    MHD_stop_daemon(a->d);
    free(a);
}
