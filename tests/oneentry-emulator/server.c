/*
 * One request's life: headers arrive (a req is allocated), the body is
 * collected, then the request is decided — injected fault (down, the script,
 * a random failure) or contract check —
 * and answered at once or, with added latency, suspended and answered when
 * the delay thread resumes it. An accepted event is recorded just before
 * its 200 is queued, so a line in the events file means "answered true".
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"
#include "events.h"
#include "pem.h"
#include "sluice/json.h"
#include "state.h"

#define BODY_MAX (1u << 20)

struct req {
    sl_buf body;
    int too_large;
    int waiting;  /* suspended; the answer below is decided */
    unsigned status; /* 200 = answer true */
    char *msg;       /* error message for status != 200 */
    char retry_after[OE_RETRY_AFTER_MAX];
    char *who;       /* identity to record, set when the event is accepted */
    oe_server *counted; /* set while the request counts in s->inflight */
    int proxied;     /* the target was in absolute form */
    char *reply;     /* a JSON answer to send with 200 instead of true (Pages API) */
    size_t reply_len;
};

static void req_free(req *r)
{
    sl_buf_free(&r->body);
    free(r->reply);
    free(r->msg);
    free(r->who);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req *r = *req_cls;
    if (r && r->counted)
        atomic_fetch_sub(&r->counted->inflight, 1);
    if (r)
        req_free(r);
    *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    oe_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s->connections, 1);
}

/* In progress from the full body to the answer sent (or the reset): the
 * peak shows how many requests a client really had in flight at once. */
static void count_inflight(oe_server *s, req *r)
{
    uint_fast64_t now = atomic_fetch_add(&s->inflight, 1) + 1;
    uint_fast64_t peak = atomic_load(&s->peak_inflight);
    while (now > peak && !atomic_compare_exchange_weak(&s->peak_inflight, &peak, now))
        ;
    r->counted = s;
}

enum MHD_Result oe_reply_text(struct MHD_Connection *c, unsigned status, const char *type,
                              const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (rc == MHD_YES)
        rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result oe_reply_error(struct MHD_Connection *c, unsigned status, const char *msg,
                               const char *retry_after)
{
    sl_buf b = {0};
    char head[48];
    snprintf(head, sizeof head, "{\"statusCode\":%u,\"message\":", status);
    if (sl_buf_puts(&b, head) < 0 || sl_json_str(&b, msg, strlen(msg)) < 0 ||
        sl_buf_append(&b, "}", 2) < 0) { /* with the NUL */
        sl_buf_free(&b);
        return MHD_NO;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(b.len - 1, b.data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        sl_buf_free(&b);
        return MHD_NO;
    }
    enum MHD_Result rc =
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (rc == MHD_YES && retry_after && *retry_after)
        rc = MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    if (rc == MHD_YES)
        rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/*
 * Close without an answer, as a TCP reset. libmicrohttpd closes politely
 * first (a FIN, or a TLS close_notify that a client reads as a clean end),
 * so the reset is sent here: connect(AF_UNSPEC) on a TCP socket drops the
 * connection with an RST at once (Linux), and what libmicrohttpd writes
 * after it goes nowhere. Linger 0 still makes its close a reset where that
 * does not work.
 */
enum MHD_Result oe_reset_connection(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        struct linger lg = {1, 0};
        struct sockaddr unspec = {.sa_family = AF_UNSPEC};
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        (void)connect(ci->connect_fd, &unspec, sizeof unspec);
    }
    return MHD_NO;
}

static int decide(req *r, unsigned status, const char *msg)
{
    r->status = status;
    r->msg = strdup(msg);
    return r->msg ? 0 : -1;
}

int oe_req_error(req *r, unsigned status, const char *msg)
{
    return decide(r, status, msg);
}

int oe_req_json(req *r, const char *json, size_t len)
{
    if (!(r->reply = malloc(len ? len : 1)))
        return -1;
    memcpy(r->reply, json, len);
    r->reply_len = len;
    r->status = 200;
    return 0;
}

int oe_req_fault(req *r, int status, const char retry_after[OE_RETRY_AFTER_MAX], const char *msg)
{
    memcpy(r->retry_after, retry_after, sizeof r->retry_after);
    return decide(r, (unsigned)status, msg);
}

/* A fault's status: no contract check, not recorded, counted injected. */
static int inject(oe_server *s, req *r, int status,
                  const char retry_after[OE_RETRY_AFTER_MAX], const char *msg)
{
    atomic_fetch_add(&s->injected, 1);
    memcpy(r->retry_after, retry_after, sizeof r->retry_after);
    return decide(r, (unsigned)status, msg);
}

int oe_check_token(oe_server *s, struct MHD_Connection *c, char *err, size_t errlen)
{
    const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-app-token");
    int ok = 1;
    pthread_mutex_lock(&s->token_mu);
    if (s->token) {
        ok = got && strcmp(got, s->token) == 0;
        snprintf(err, errlen, "%s", got ? "x-app-token rejected" : "x-app-token missing");
    }
    pthread_mutex_unlock(&s->token_mu);
    return ok ? 0 : -1;
}

static int check_identity(req *r, struct MHD_Connection *c, char *err, size_t errlen)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *guest = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-guest-id");
    size_t cap = (auth ? strlen(auth) : 0) + (guest ? strlen(guest) : 0) + 8;
    r->who = malloc(cap);
    if (!r->who) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return oe_check_identity(auth, guest, r->who, cap, err, errlen);
}

/* The contract, in the order a real server would look: method, path, type, auth, body. */
static int check_request(oe_server *s, struct MHD_Connection *c, req *r, const char *url,
                         const char *method)
{
    char err[512];
    unsigned st = 0;
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        st = 405, snprintf(err, sizeof err, "method %s not allowed; use POST", method);
    else if (strcmp(url, s->path) != 0)
        st = 404, snprintf(err, sizeof err, "no route %s", url);
    else if (oe_check_content_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                               "Content-Type"),
                                   err, sizeof err) < 0)
        st = 415;
    else if (oe_check_token(s, c, err, sizeof err) < 0)
        st = 401;
    else if (check_identity(r, c, err, sizeof err) < 0)
        st = 400;
    else if (r->too_large)
        st = 413, snprintf(err, sizeof err, "body larger than %u bytes", BODY_MAX);
    else if (oe_check_body(r->body.data ? r->body.data : "", r->body.len, err, sizeof err) < 0)
        st = 400;
    if (st == 0) {
        r->status = 200;
        return 0;
    }
    atomic_fetch_add(&s->rejected, 1);
    if (!s->quiet)
        fprintf(stderr, "oneentry-emulator: %u %s %s: %s\n", st, method, url, err);
    return decide(r, st, err);
}

static enum MHD_Result reply_json(struct MHD_Connection *c, const char *json, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc =
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (rc == MHD_YES)
        rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Record (when accepted) and queue the decided answer. */
static enum MHD_Result answer(oe_server *s, struct MHD_Connection *c, req *r)
{
    char err[256];
    if (r->status != 200)
        return oe_reply_error(c, r->status, r->msg, r->retry_after);
    if (r->reply)
        return reply_json(c, r->reply, r->reply_len);
    if (s->events_fd >= 0) {
        sl_buf line = {0};
        int rc = oe_events_append(s->events_fd, &line, r->who, r->body.data, r->body.len,
                                  err, sizeof err);
        sl_buf_free(&line);
        if (rc < 0) {
            if (!s->quiet)
                fprintf(stderr, "oneentry-emulator: %s\n", err);
            return oe_reply_error(c, 500, err, NULL);
        }
    }
    atomic_fetch_add(&s->accepted, 1);
    return MHD_queue_response(c, MHD_HTTP_OK, s->true_response);
}

enum MHD_Result oe_req_answer_after(oe_server *s, struct MHD_Connection *c, req *r, unsigned ms)
{
    if (ms == 0)
        return answer(s, c, r);
    r->waiting = 1;
    /* suspend before the timer can see it: a resume must follow a suspend */
    MHD_suspend_connection(c);
    if (oe_delay_add(s->delay, oe_now_ns() + (uint64_t)ms * 1000000u, c) < 0)
        MHD_resume_connection(c);
    return MHD_YES;
}

/* The next script action, if any; the common empty case takes no lock. */
static int next_action(oe_server *s, oe_action *a)
{
    int have = 0;
    if (atomic_load(&s->script_left) == 0)
        return 0;
    pthread_mutex_lock(&s->script_mu);
    if (s->script_next < s->script_len) {
        *a = s->script[s->script_next++];
        atomic_store(&s->script_left, s->script_len - s->script_next);
        have = 1;
    }
    pthread_mutex_unlock(&s->script_mu);
    return have;
}

/* Whether a request the script left alone fails at random (--fail, fail=). */
static int random_failure(oe_server *s, oe_fail *f)
{
    if (!atomic_load(&s->fail_on))
        return 0;
    pthread_mutex_lock(&s->fail_mu);
    *f = s->fail;
    pthread_mutex_unlock(&s->fail_mu);
    return oe_fail_draw(f, s->seed, atomic_fetch_add(&s->draws, 1));
}

static int is_down(oe_server *s)
{
    uint64_t until = atomic_load(&s->down_until_ns);
    return until != 0 && oe_now_ns() < until;
}

static enum MHD_Result api_request(oe_server *s, struct MHD_Connection *c, req *r,
                                   const char *url, const char *method)
{
    oe_action a;
    oe_fail f;
    unsigned extra = 0;
    atomic_fetch_add(&s->requests, 1);
    if (r->proxied)
        atomic_fetch_add(&s->proxied, 1);
    count_inflight(s, r);
    if (is_down(s)) {
        atomic_fetch_add(&s->injected, 1);
        return oe_reset_connection(c);
    }
    int have = next_action(s, &a);
    if (have && a.kind == OE_ACT_RESET) {
        atomic_fetch_add(&s->injected, 1);
        return oe_reset_connection(c);
    }
    if (have && a.kind == OE_ACT_STATUS) {
        if (inject(s, r, a.status, a.retry_after, "injected by the emulator's script") < 0)
            return MHD_NO;
    } else if (!have && random_failure(s, &f)) {
        if (inject(s, r, f.status, f.retry_after, "injected by the emulator's fail setting") < 0)
            return MHD_NO;
    } else {
        if (have && a.kind == OE_ACT_SLOW)
            extra = a.slow_ms;
        if (check_request(s, c, r, url, method) < 0)
            return MHD_NO;
    }
    return oe_req_answer_after(s, c, r, atomic_load(&s->latency_ms) + extra);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    oe_server *s = cls;
    req *r = *req_cls;
    if (!r) { /* headers only so far */
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > BODY_MAX)
            r->too_large = 1; /* keep reading so the 413 goes out on a sane connection */
        else if (sl_buf_append(&r->body, upload, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->waiting)
        return answer(s, c, r);
    if (atomic_load(&s->stopping))
        return MHD_NO;
    const char *path = oe_origin_path(url);
    r->proxied = path != NULL;
    url = path ? path : url;
    if (strcmp(url, "/_control") == 0)
        return oe_control(s, c, method);
    if (strcmp(url, "/_stats") == 0)
        return oe_stats(s, c, method);
    if (strcmp(url, "/_transport") == 0)
        return oe_transport(s, c, method);
    if (strcmp(url, "/_pages") == 0)
        return oe_pages_stats(s, c, method);
    if (oe_pages_route(s, url))
        return oe_pages_request(s, c, r, url, method);
    return api_request(s, c, r, url, method);
}

static void wake(void *item)
{
    MHD_resume_connection(item);
}

static struct MHD_Response *make_true_response(void)
{
    static const char t[] = "true";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(4, (void *)t, MHD_RESPMEM_PERSISTENT);
    if (resp &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    return resp;
}

static int init_state(oe_server *s, const oe_config *cfg, char *err, size_t errlen)
{
    s->events_fd = -1;
    s->quiet = cfg->quiet;
    pthread_mutex_init(&s->token_mu, NULL);
    pthread_mutex_init(&s->script_mu, NULL);
    pthread_mutex_init(&s->fail_mu, NULL);
    pthread_mutex_init(&s->pages_mu, NULL);
    s->seed = cfg->seed;
    oe_set_fail(s, &cfg->fail);
    atomic_store(&s->latency_ms, cfg->latency_ms);
    if (cfg->down_ms)
        atomic_store(&s->down_until_ns, oe_now_ns() + (uint64_t)cfg->down_ms * 1000000u);
    s->path = strdup(cfg->path);
    s->true_response = make_true_response();
    if (!s->path || !s->true_response || oe_set_token(s, cfg->token) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cfg->script && *cfg->script) {
        oe_action *acts;
        size_t n;
        if (oe_script_parse(cfg->script, &acts, &n, err, errlen) < 0)
            return -1;
        oe_set_script(s, acts, n);
    }
    if (cfg->events_path && (s->events_fd = oe_events_open(cfg->events_path, err, errlen)) < 0)
        return -1;
    if (oe_pages_init(s, cfg, err, errlen) < 0)
        return -1;
    s->delay = oe_delay_start(wake, err, errlen);
    return s->delay ? 0 : -1;
}

static void free_secret(char *p)
{
    if (p)
        explicit_bzero(p, strlen(p));
    free(p);
}

static void free_state(oe_server *s)
{
    oe_delay_stop(s->delay);
    oe_delay_free(s->delay);
    if (s->true_response)
        MHD_destroy_response(s->true_response);
    if (s->events_fd >= 0)
        close(s->events_fd);
    free(s->path);
    free(s->token);
    free(s->script);
    free(s->tls_cert);
    free_secret(s->tls_key);
    pthread_mutex_destroy(&s->token_mu);
    pthread_mutex_destroy(&s->script_mu);
    pthread_mutex_destroy(&s->fail_mu);
    oe_pages_fini(s);
    pthread_mutex_destroy(&s->pages_mu);
    free(s);
}

/* The certificate and key, read before the daemon starts so a bad file is named. */
static int load_tls(oe_server *s, const oe_config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls_cert)
        return 0;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "--tls-cert: this libmicrohttpd was built without TLS support");
        return -1;
    }
    s->tls_cert = oe_read_pem(cfg->tls_cert, "--tls-cert", "CERTIFICATE", err, errlen);
    if (s->tls_cert)
        s->tls_key = oe_read_pem(cfg->tls_key, "--tls-key", "PRIVATE KEY", err, errlen);
    return s->tls_key ? 0 : -1;
}

static int start_daemon(oe_server *s, const oe_config *cfg, char *err, size_t errlen)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    if (cfg->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (!cfg->quiet)
        flags |= MHD_USE_ERROR_LOG;
    if (s->tls_cert)
        flags |= MHD_USE_TLS;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->addr,
        MHD_OPTION_ARRAY, s->tls_cert ? tls : tls + 2,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads > 1 ? cfg->threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)8192,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, cfg->backlog,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, (void *)s,
        MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen (address in use, or libmicrohttpd refused the "
                 "options%s)", s->tls_cert ? ", e.g. a certificate and key that do not match" : "");
        return -1;
    }
    return 0;
}

oe_server *oe_server_start(const oe_config *cfg, char *err, size_t errlen)
{
    oe_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (init_state(s, cfg, err, errlen) < 0 || load_tls(s, cfg, err, errlen) < 0 ||
        start_daemon(s, cfg, err, errlen) < 0) {
        free_state(s);
        return NULL;
    }
    return s;
}

unsigned oe_server_port(const oe_server *s)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : 0;
}

void oe_server_stop(oe_server *s)
{
    atomic_store(&s->stopping, 1);
    /* resume every suspended connection before the daemon stops */
    oe_delay_stop(s->delay);
    MHD_stop_daemon(s->daemon);
    free_state(s);
}
