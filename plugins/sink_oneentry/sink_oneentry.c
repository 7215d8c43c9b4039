/*
 * sink oneentry: every activity event becomes one POST to OneEntry's
 * UserActivity API (docs/plugins/sink_oneentry.md says what it expects).
 *
 * This file is the plugin glue: options, init/destroy, and write(), which
 * validates each event on the sink thread (rejections go to the dead-letter
 * file at once), builds its request, and hands the jobs to the worker
 * (oe_worker.c). write() returns SL_PENDING; the worker acknowledges the
 * batch when every event of it is delivered, spooled or dead-lettered.
 * Held batches count against the engine's queue bound, so memory stays
 * bounded without a limit of our own.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oe_sink.h"
#include "sluice/plugin.h"

static const sl_option options[] = {
    {"url", SL_OPT_STRING, NULL, 1,
     "project URL, e.g. https://myproject.oneentry.cloud (reached through https_proxy, "
     "http_proxy or ALL_PROXY unless NO_PROXY says otherwise)", NULL},
    {"path", SL_OPT_STRING, "/api/content/user-activity", 0, "UserActivity path", NULL},
    {"token", SL_OPT_SECRET, NULL, 0, "app token sent as x-app-token (never printed or logged)", NULL},
    {"concurrency", SL_OPT_STRING, "adaptive", 0,
     "requests in flight: a number, or adaptive (AIMD on latency, 429 and 503)", NULL},
    {"max_concurrency", SL_OPT_INT, "256", 0,
     "upper bound of adaptive concurrency (over HTTP/2: 100 streams per connection)", NULL},
    {"connect_timeout", SL_OPT_DURATION, "5s", 0, "TCP/TLS connect timeout", NULL},
    {"timeout", SL_OPT_DURATION, "10s", 0, "whole-request timeout", NULL},
    {"tls_verify", SL_OPT_BOOL, "true", 0, "verify the server certificate", NULL},
    {"ca_file", SL_OPT_STRING, NULL, 0, "CA bundle to verify the server with", NULL},
    {"guest_id_field", SL_OPT_STRING, "guest_id", 0, "body key holding the guest id", NULL},
    {"user_token_field", SL_OPT_STRING, "user_token", 0, "body key holding the user token", NULL},
    {"retryable_status", SL_OPT_STRING, "408,429,500-599", 0,
     "HTTP statuses retried (others 4xx are dead-lettered)", NULL},
    {"retry_base", SL_OPT_DURATION, "100ms", 0, "first retry backoff (doubles, full jitter)", NULL},
    {"retry_max", SL_OPT_DURATION, "30s", 0, "backoff cap", NULL},
    {"order", SL_OPT_STRING, "per_visitor", 0,
     "per_visitor: one request at a time per guest id or user token, so each visitor's "
     "events arrive in input order, also across retries; none: no such wait",
     "per_visitor|none"},
    {"max_retries", SL_OPT_INT, "10", 0,
     "dead-letter an event after this many failed attempts made while OneEntry accepted "
     "other events (a poison event); connection errors, 429, 503 and outages never count; "
     "0 = retry forever",
     NULL},
    {"spool", SL_OPT_BOOL, "true", 0, "spool to disk while OneEntry is down", NULL},
    {"spool_fsync", SL_OPT_BOOL, "true", 0,
     "fdatasync spooled events before acknowledging them upstream (at most 20 ms later), so "
     "they survive a power loss, not only a crash", NULL},
    {"spool_after_failures", SL_OPT_INT, "5", 0,
     "consecutive failed requests after which events go to the spool", NULL},
    {"spool_max_bytes", SL_OPT_SIZE, "1GiB", 0, "bound of the spool on disk", NULL},
    {"on_full", SL_OPT_STRING, "block", 0, "spool full: block (backpressure) or drop_oldest",
     "block|drop_oldest"},
    {"dead_letter_path", SL_OPT_STRING, NULL, 0,
     "dead-letter JSON lines file (default <state_dir>/dead_letter.jsonl)", NULL},
    {"auth_probe_interval", SL_OPT_DURATION, "10s", 0,
     "while the app token is rejected: probe (and log) this often", NULL},
    {"stop_drain_timeout", SL_OPT_DURATION, "30s", 0,
     "at stop, how long to keep delivering what the spool holds while OneEntry answers; "
     "what is left stays spooled for the next start (logged with its count), and "
     "run --once then exits 4", NULL},
    {"rate_limit", SL_OPT_DOUBLE, "0", 0, "most requests started per second (0 = no limit)", NULL},
    {"dry_run", SL_OPT_BOOL, "false", 0, "print each request (token masked), send nothing", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

/* ---------------------------------------------------------------- */
/* Jobs                                                               */
/* ---------------------------------------------------------------- */

int oe_job_make(const oe_keys *keys, oe_request *req, const uint8_t *raw, size_t raw_len,
                int copy_raw, oe_job **out, char *why, size_t whylen)
{
    const uint8_t *p = raw;
    sl_event ev;
    if (sl_event_parse(&p, raw + raw_len, &ev) != 0) {
        snprintf(why, whylen, "malformed event");
        return 1;
    }
    int r = oe_build(&ev.body, keys, req, why, whylen);
    if (r != 0)
        return r;
    size_t extra = req->header.len + 1 + req->json.len + 1 + (copy_raw ? raw_len : 0);
    oe_job *j = malloc(sizeof *j + extra);
    if (!j) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    char *h = (char *)(j + 1), *b = h + req->header.len + 1;
    memcpy(h, req->header.data, req->header.len);
    h[req->header.len] = 0;
    memcpy(b, req->json.data, req->json.len);
    b[req->json.len] = 0;
    *j = (oe_job){.raw = raw, .raw_len = raw_len, .ident = h, .json = b,
                  .json_len = req->json.len, .is_user = req->is_user};
    if (copy_raw) {
        uint8_t *copy = (uint8_t *)b + req->json.len + 1;
        memcpy(copy, raw, raw_len);
        j->raw = copy;
    }
    *out = j;
    return 0;
}

void oe_sink_dead_letter(oe_sink *s, const uint8_t *raw, size_t raw_len, const char *reason,
                         long status, const char *msg, size_t msglen)
{
    const uint8_t *p = raw;
    sl_event ev;
    sl_value nil = {.type = SL_NIL};
    char err[256];
    int bad = sl_event_parse(&p, raw + raw_len, &ev) != 0;
    pthread_mutex_lock(&s->dl_mu);
    int r = oe_deadletter_write(&s->dl, bad ? &nil : &ev.body, reason, status, msg, msglen, err,
                                sizeof err);
    pthread_mutex_unlock(&s->dl_mu);
    s->host->count(s->ctx, "events_dead_lettered", 1);
    if (r != 0)
        s->host->log(s->ctx, SL_LOG_ERROR, "cannot record a rejected event (%s): %s", reason, err);
}

/* ---------------------------------------------------------------- */
/* Options                                                            */
/* ---------------------------------------------------------------- */

static int parse_concurrency(oe_sink *s, char *err, size_t errlen)
{
    const char *c = s->host->opt_str(s->ctx, "concurrency");
    int64_t max = s->host->opt_int(s->ctx, "max_concurrency");
    if (max < 1 || max > 4096) {
        snprintf(err, errlen, "max_concurrency must be 1..4096, got %" PRId64, max);
        return -1;
    }
    s->cfg.max_concurrency = (int)max;
    if (!c || strcmp(c, "adaptive") == 0) {
        s->cfg.adaptive = 1;
        s->cfg.concurrency = max < 8 ? (int)max : 8;
        return 0;
    }
    char *end;
    long n = strtol(c, &end, 10);
    if (*end || n < 1 || n > 4096) {
        snprintf(err, errlen, "concurrency: expected adaptive or a number 1..4096, got '%s'", c);
        return -1;
    }
    s->cfg.concurrency = s->cfg.max_concurrency = (int)n;
    return 0;
}

static int read_options(oe_sink *s, char *err, size_t errlen)
{
    const sl_host *h = s->host;
    sl_ctx *c = s->ctx;
    oe_cfg *k = &s->cfg;
    k->keys.guest_id = h->opt_str(c, "guest_id_field");
    k->keys.user_token = h->opt_str(c, "user_token_field");
    if (!k->keys.guest_id || !*k->keys.guest_id || !k->keys.user_token || !*k->keys.user_token) {
        snprintf(err, errlen, "guest_id_field and user_token_field must not be empty");
        return -1;
    }
    if (oe_status_set_parse(h->opt_str(c, "retryable_status"), &k->retryable, err, errlen) < 0 ||
        parse_concurrency(s, err, errlen) < 0)
        return -1;
    k->rate_limit = h->opt_double(c, "rate_limit");
    if (!(k->rate_limit >= 0)) {
        snprintf(err, errlen, "rate_limit must be >= 0");
        return -1;
    }
    k->retry_base_ms = h->opt_int(c, "retry_base");
    k->retry_max_ms = h->opt_int(c, "retry_max");
    k->auth_probe_ms = h->opt_int(c, "auth_probe_interval");
    k->drain_ms = h->opt_int(c, "stop_drain_timeout");
    int64_t after = h->opt_int(c, "spool_after_failures");
    k->spool_after = after < 1 ? 1 : after > 1000000 ? 1000000 : (int)after;
    int64_t mr = h->opt_int(c, "max_retries");
    if (mr < 0 || mr > 1000000) {
        snprintf(err, errlen, "max_retries must be 0..1000000, got %" PRId64, mr);
        return -1;
    }
    k->max_retries = (int)mr;
    const char *order = h->opt_str(c, "order");
    k->ordered = !order || strcmp(order, "none") != 0;
    k->use_spool = h->opt_bool(c, "spool");
    k->spool_fsync = h->opt_bool(c, "spool_fsync");
    const char *full = h->opt_str(c, "on_full");
    k->drop_oldest = full && strcmp(full, "drop_oldest") == 0;
    k->dry_run = h->opt_bool(c, "dry_run");
    const char *tok = h->opt_str(c, "token");
    k->has_token = tok && *tok;
    for (const char *p = tok; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            /* It becomes a header line: a CR or LF would end it early. */
            snprintf(err, errlen, "token: contains a control character (value not shown)");
            return -1;
        }
    return 0;
}

static int make_url(oe_sink *s, char *err, size_t errlen)
{
    const char *base = s->host->opt_str(s->ctx, "url");
    const char *path = s->host->opt_str(s->ctx, "path");
    if (!base || !*base) {
        snprintf(err, errlen, "url: required, the project URL");
        return -1;
    }
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        snprintf(err, errlen, "url: expected http:// or https://, got '%s'", base);
        return -1;
    }
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (!path)
        path = "";
    if (asprintf(&s->url, "%.*s%s%s", (int)bl, base, *path == '/' ? "" : "/", path) < 0) {
        s->url = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Lifecycle                                                          */
/* ---------------------------------------------------------------- */

static int open_files(oe_sink *s, char *err, size_t errlen)
{
    const char *dir = s->host->state_dir(s->ctx);
    const char *dl = s->host->opt_str(s->ctx, "dead_letter_path");
    char path[4096];
    if (!dir) {
        snprintf(err, errlen, "no state directory (service.state_dir) for the spool and "
                 "dead letters");
        return -1;
    }
    snprintf(path, sizeof path, "%s/dead_letter.jsonl", dir);
    if (oe_deadletter_open(&s->dl, dl && *dl ? dl : path, err, errlen) < 0)
        return -1;
    if (!s->cfg.use_spool)
        return 0;
    snprintf(path, sizeof path, "%s/spool", dir);
    if (!(s->spool_dir = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t max = (uint64_t)s->host->opt_int(s->ctx, "spool_max_bytes");
    uint64_t seg = max / 8 < (8u << 20) ? max / 8 : (8u << 20);
    if (oe_spool_open(&s->spool, path, max, seg < 4096 ? 4096 : seg, err, errlen) < 0)
        return -1;
    const oe_spool_stats *st = oe_spool_get_stats(s->spool);
    if (st->torn_bytes)
        s->host->log(s->ctx, SL_LOG_WARN, "spool: cut %" PRIu64 " bytes of an incomplete record "
                     "at the end (interrupted write)", st->torn_bytes);
    if (st->corrupt_records) {
        s->host->log(s->ctx, SL_LOG_ERROR, "spool: %" PRIu64 " damaged region(s), %" PRIu64
                     " bytes, failed their CRC and will be skipped", st->corrupt_records,
                     st->corrupt_bytes);
        s->host->count(s->ctx, "spool_corrupt_records", st->corrupt_records);
    }
    if (st->stale_pos)
        s->host->log(s->ctx, SL_LOG_WARN, "spool: the position file was ahead of the spooled "
                     "data (segment files removed or lost); reading from the oldest record, so "
                     "some events may be sent twice");
    if (oe_spool_unread(s->spool))
        s->host->log(s->ctx, SL_LOG_INFO, "spool: %" PRIu64 " events from a previous run to "
                     "deliver", oe_spool_unread(s->spool));
    return 0;
}

static void sink_free(oe_sink *s)
{
    if (!s)
        return;
    oe_http_free(s->http);
    oe_spool_close(s->spool);
    oe_deadletter_close(&s->dl);
    oe_request_free(&s->req);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->dl_mu);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->room);
    free(s->url);
    free(s->spool_dir);
    free(s);
}

static int start_http(oe_sink *s, char *err, size_t errlen)
{
    const sl_host *h = s->host;
    int verify = h->opt_bool(s->ctx, "tls_verify");
    /* libcurl reads only lowercase http_proxy (uppercase HTTP_PROXY can be
     * set by a CGI request header, "httpoxy"): say so rather than let a
     * proxy setting be ignored silently. */
    if (getenv("HTTP_PROXY") && !getenv("http_proxy") && strncmp(s->url, "http://", 7) == 0)
        h->log(s->ctx, SL_LOG_WARN, "HTTP_PROXY is set but not used for http:// URLs (libcurl "
               "reads only lowercase http_proxy); set http_proxy to go through the proxy");
    if (!verify)
        h->log(s->ctx, SL_LOG_WARN, "tls_verify is off: the server's certificate is not "
               "checked, the app token can be intercepted");
    oe_http_cfg hc = {
        .url = s->url, .token = h->opt_str(s->ctx, "token"),
        .connect_timeout_ms = (long)h->opt_int(s->ctx, "connect_timeout"),
        .timeout_ms = (long)h->opt_int(s->ctx, "timeout"), .tls_verify = verify,
        .ca_file = h->opt_str(s->ctx, "ca_file"), .max_conns = s->cfg.max_concurrency,
    };
    return oe_http_new(&s->http, &hc, err, errlen);
}

static int oe_init(sl_ctx *ctx, const sl_host *host, void **state, char *err, size_t errlen)
{
    oe_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    s->dl.fd = -1;
    s->rng = (uint64_t)sl_now_ns() ^ (uint64_t)(uintptr_t)s;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->dl_mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_cond_init(&s->room, NULL);
    atomic_init(&s->mem_jobs, 0);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        goto fail;
    }
    if (read_options(s, err, errlen) < 0 || make_url(s, err, errlen) < 0 ||
        open_files(s, err, errlen) < 0 || start_http(s, err, errlen) < 0)
        goto fail;
    /* Until the worker has looked, assume work (a spool from a previous
     * run), so a flush at once does not end the drain before it began. */
    s->busy = 1;
    if (pthread_create(&s->thread, NULL, oe_worker_main, s) != 0) {
        snprintf(err, errlen, "cannot start the delivery thread");
        goto fail;
    }
    s->has_thread = 1;
    *state = s;
    return SL_OK;
fail:
    sink_free(s);
    return SL_ERR;
}

static void hand_over(oe_sink *s, oe_job *head, oe_job *tail, uint32_t n)
{
    struct timespec t;
    pthread_mutex_lock(&s->mu);
    /* Backpressure: hold the sink thread (and so, through the engine's
     * bounded queue, the sources) while the worker has enough to do. */
    while (atomic_load(&s->mem_jobs) > OE_MAX_MEM_JOBS && !s->stop) {
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 100000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->room, &s->mu, &t);
    }
    atomic_fetch_add(&s->mem_jobs, (long)n);
    if (s->in_tail)
        s->in_tail->next = head;
    else
        s->in_head = head;
    s->in_tail = tail;
    s->busy = 1;
    pthread_mutex_unlock(&s->mu);
    oe_http_wakeup(s->http);
}

static int oe_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                    size_t errlen)
{
    oe_sink *s = state;
    oe_batch *b = malloc(sizeof *b);
    oe_job *head = NULL, *tail = NULL;
    sl_batch_iter it;
    sl_event ev;
    char why[256];
    if (!b)
        goto oom;
    *b = (oe_batch){.ticket = ticket};
    sl_batch_iter_init(&it, batch);
    while (sl_batch_next(&it, &ev) == 1) {
        oe_job *j;
        int r = oe_job_make(&s->cfg.keys, &s->req, ev.raw, ev.raw_len, 0, &j, why, sizeof why);
        if (r < 0)
            goto oom;
        if (r > 0) {
            s->host->count(s->ctx, "events_rejected", 1);
            oe_sink_dead_letter(s, ev.raw, ev.raw_len, why, 0, NULL, 0);
            continue;
        }
        j->batch = b;
        b->left++;
        if (tail)
            tail->next = j;
        else
            head = j;
        tail = j;
    }
    if (!head) { /* every event was rejected: done now */
        free(b);
        return SL_OK;
    }
    hand_over(s, head, tail, b->left);
    return SL_PENDING;
oom:
    /* Nothing handed over yet: the core retries the whole batch; events
     * already dead-lettered may be recorded twice, never lost. */
    while (head) {
        oe_job *n = head->next;
        free(head);
        head = n;
    }
    free(b);
    snprintf(err, errlen, "out of memory building requests");
    return SL_ERR;
}

/*
 * End the worker: what it has not delivered goes to the spool (or stays
 * unacknowledged, for the source to read again). Then say what the spool
 * still holds, so a stop never leaves events behind silently. Returns that
 * number.
 */
static uint64_t stop_worker(oe_sink *s)
{
    if (!s->has_thread)
        return 0; /* never started, or stopped (and reported) already */
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    oe_http_wakeup(s->http);
    pthread_join(s->thread, NULL);
    s->has_thread = 0;
    uint64_t left = s->spool ? oe_spool_pending(s->spool) : 0;
    if (left)
        s->host->log(s->ctx, SL_LOG_WARN, "%" PRIu64 " events remain in the spool (%s); the "
                     "next start sends them", left, s->spool_dir);
    return left;
}

static struct timespec deadline_in_ms(int64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return dl;
}

/* At stop the engine has no more batches for us: keep delivering what the
 * spool holds while OneEntry answers, for at most stop_drain_timeout, then
 * end the worker here, so the answer is final: SL_PENDING when events stay
 * spooled for the next run (run --once exits 4). */
static int oe_flush(void *state)
{
    oe_sink *s = state;
    if (!s->host->stopping(s->ctx))
        return SL_OK;
    struct timespec dl = deadline_in_ms(s->spool ? s->cfg.drain_ms : 0);
    pthread_mutex_lock(&s->mu);
    while (s->busy && pthread_cond_timedwait(&s->idle, &s->mu, &dl) == 0)
        ;
    pthread_mutex_unlock(&s->mu);
    return stop_worker(s) ? SL_PENDING : SL_OK;
}

static void oe_destroy(void *state)
{
    oe_sink *s = state;
    if (!s)
        return;
    stop_worker(s);
    sink_free(s);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "oneentry", "1.0.0"),
    .description = "Delivers activity events to OneEntry's UserActivity API, one POST per "
                   "event, many in flight over kept-alive connections; validates before "
                   "sending (rejections to a dead-letter file), retries with backoff and "
                   "Retry-After, spools to disk through outages.",
    .options = options,
    .init = oe_init,
    .write = oe_write,
    .flush = oe_flush,
    .destroy = oe_destroy,
};
