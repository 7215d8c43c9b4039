/*
 * sink oneentry: every activity event becomes one POST to OneEntry's
 * UserActivity API (docs/oneentry-contract.md says what the API expects and
 * how each answer is handled).
 *
 * This file is the plugin glue: options, metrics, init/destroy, the spool's
 * file services, dead letters, and write(), which validates each event on
 * the sink thread (rejections are dead-lettered at once), builds its
 * request, and hands the jobs to the worker (oe_worker.c). write() returns
 * SL_PENDING; the worker acknowledges the batch when every event of it is
 * delivered, spooled or dead-lettered. Held batches count against the
 * engine's queue bound, and write() waits while the worker holds more than
 * OE_MAX_MEM_JOBS unfinished events, so memory stays bounded.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "oe_sink.h"
#include "sl_clock.h"
#include "sluice/plugin.h"

/* Numeric ranges are checked by the core (validate, plugins check, run)
 * before init. token may be empty: a project without an app token (the
 * shipped pipeline says `token: ${ONEENTRY_TOKEN:-}`). */
static const sl_option options[] = {
    {"url", SL_OPT_STRING, NULL, 1,
     "project URL, e.g. https://myproject.oneentry.cloud (reached through https_proxy, "
     "http_proxy or ALL_PROXY unless NO_PROXY says otherwise)", NULL, NULL, NULL,
     SL_OPT_F_NONEMPTY},
    {"path", SL_OPT_STRING, "/api/content/user-activity", 0, "UserActivity path", NULL, NULL,
     NULL, 0},
    {"token", SL_OPT_SECRET, NULL, 0, "app token sent as x-app-token (never printed or logged)",
     NULL, NULL, NULL, 0},
    {"concurrency", SL_OPT_STRING, "adaptive", 0,
     "requests in flight: a number 1..4096, or adaptive (AIMD on latency, 429 and 503)", NULL,
     NULL, NULL, SL_OPT_F_NONEMPTY},
    {"max_concurrency", SL_OPT_INT, "256", 0,
     "upper bound of adaptive concurrency (over HTTP/2: 100 streams per connection)", NULL,
     "1", "4096", 0},
    {"connect_timeout", SL_OPT_DURATION, "5s", 0, "TCP/TLS connect timeout", NULL, "1ms", NULL,
     0},
    {"timeout", SL_OPT_DURATION, "10s", 0, "whole-request timeout", NULL, "1ms", NULL, 0},
    {"tls_verify", SL_OPT_BOOL, "true", 0, "verify the server certificate", NULL, NULL, NULL, 0},
    {"ca_file", SL_OPT_STRING, NULL, 0, "CA bundle to verify the server with", NULL, NULL, NULL,
     0},
    {"guest_id_field", SL_OPT_STRING, "guest_id", 0, "body key holding the guest id", NULL,
     NULL, NULL, SL_OPT_F_NONEMPTY},
    {"user_token_field", SL_OPT_STRING, "user_token", 0, "body key holding the user token",
     NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"retryable_status", SL_OPT_STRING, "408,429,500-599", 0,
     "HTTP statuses retried (others 4xx are dead-lettered)", NULL, NULL, NULL, 0},
    {"retry_base", SL_OPT_DURATION, "100ms", 0, "first retry backoff (doubles, full jitter)",
     NULL, "1ms", NULL, 0},
    {"retry_max", SL_OPT_DURATION, "30s", 0, "backoff cap, and the longest Retry-After obeyed",
     NULL, "1ms", NULL, 0},
    {"order", SL_OPT_STRING, "per_visitor", 0,
     "per_visitor: one request at a time per guest id or user token, so each visitor's "
     "events arrive in input order, also across retries; none: no such wait",
     "per_visitor|none", NULL, NULL, 0},
    {"max_retries", SL_OPT_INT, "10", 0,
     "dead-letter an event after this many failed attempts made while OneEntry accepted "
     "other events (a poison event); connection errors, 429, 503 and outages never count; "
     "0 = retry forever",
     NULL, "0", "1000000", 0},
    {"spool", SL_OPT_BOOL, "true", 0, "spool to disk while OneEntry is down", NULL, NULL, NULL,
     0},
    {"spool_fsync", SL_OPT_BOOL, "true", 0,
     "fdatasync spooled events before acknowledging them upstream (at most 20 ms later), so "
     "they survive a power loss, not only a crash", NULL, NULL, NULL, 0},
    {"spool_after_failures", SL_OPT_INT, "5", 0,
     "consecutive failed requests after which events go to the spool", NULL, "1", "1000000",
     0},
    {"spool_max_bytes", SL_OPT_SIZE, "1GiB", 0,
     "bound of the spool on disk (a spooled event may take up to 1 MiB)", NULL, "1MiB", NULL,
     0},
    {"on_full", SL_OPT_STRING, "block", 0, "spool full: block (backpressure) or drop_oldest",
     "block|drop_oldest", NULL, NULL, 0},
    {"auth_probe_interval", SL_OPT_DURATION, "10s", 0,
     "while the app token is rejected: probe (and log) this often", NULL, "10ms", NULL, 0},
    {"stop_drain_timeout", SL_OPT_DURATION, "30s", 0,
     "at stop, how long to keep delivering what the spool holds while OneEntry answers "
     "(within service.shutdown_timeout); what is left stays spooled for the next start "
     "(logged with its count), and run --once then exits 4", NULL, "0s", NULL, 0},
    {"rate_limit", SL_OPT_DOUBLE, "0", 0, "most requests started per second (0 = no limit)",
     NULL, "0", NULL, 0},
    {"dry_run", SL_OPT_BOOL, "false", 0, "print each request (token masked), send nothing",
     NULL, NULL, NULL, 0},
    {0},
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

/* An event whose bytes do not parse (a spool record of another format) is
 * recorded as an empty event at the current time, its size in the reason. */
static void stand_in_event(sl_event *ev, size_t raw_len, const char *reason, char *why,
                           size_t whylen)
{
    static const uint8_t empty_map[1] = {0x80};
    const uint8_t *p = empty_map;
    *ev = (sl_event){.time_ns = sl_now_ns()};
    sl_read_value(&p, empty_map + 1, &ev->meta);
    ev->body = ev->meta;
    snprintf(why, whylen, "%s (an undecodable event of %zu bytes)", reason, raw_len);
}

void oe_sink_dead_letter(oe_sink *s, const uint8_t *raw, size_t raw_len, const char *reason)
{
    const uint8_t *p = raw;
    sl_event ev;
    char why[1400];
    if (sl_event_parse(&p, raw + raw_len, &ev) != 0) {
        stand_in_event(&ev, raw_len, reason, why, sizeof why);
        reason = why;
    }
    /* The host writes the line (its failures are logged and counted there). */
    s->host->dead_letter(s->ctx, &ev, reason);
    s->host->metric_add(s->m.dead_lettered, 1);
}

/* ---------------------------------------------------------------- */
/* Metrics                                                            */
/* ---------------------------------------------------------------- */

static const sl_metric_row metric_table[] = {
    {"events_delivered", SL_METRIC_COUNTER, offsetof(oe_metrics, delivered)},
    {"events_spooled", SL_METRIC_COUNTER, offsetof(oe_metrics, spooled)},
    {"events_rejected", SL_METRIC_COUNTER, offsetof(oe_metrics, rejected)},
    {"events_dead_lettered", SL_METRIC_COUNTER, offsetof(oe_metrics, dead_lettered)},
    {"events_given_up", SL_METRIC_COUNTER, offsetof(oe_metrics, given_up)},
    {"retries", SL_METRIC_COUNTER, offsetof(oe_metrics, retries)},
    {"outages", SL_METRIC_COUNTER, offsetof(oe_metrics, outages)},
    {"auth_failures", SL_METRIC_COUNTER, offsetof(oe_metrics, auth_failures)},
    {"spool_dropped", SL_METRIC_COUNTER, offsetof(oe_metrics, spool_dropped)},
    {"spool_corrupt_records", SL_METRIC_COUNTER, offsetof(oe_metrics, spool_corrupt)},
    {"requests_in_flight", SL_METRIC_GAUGE, offsetof(oe_metrics, in_flight)},
    {"concurrency_limit", SL_METRIC_GAUGE, offsetof(oe_metrics, concurrency)},
    {"retries_waiting", SL_METRIC_GAUGE, offsetof(oe_metrics, retries_waiting)},
    {"events_waiting_for_visitor", SL_METRIC_GAUGE, offsetof(oe_metrics, waiting_for_visitor)},
    {"spool_pending_events", SL_METRIC_GAUGE, offsetof(oe_metrics, spool_pending)},
    {"delivery_paused", SL_METRIC_GAUGE, offsetof(oe_metrics, paused)},
};

/* ---------------------------------------------------------------- */
/* Options                                                            */
/* ---------------------------------------------------------------- */

static int parse_concurrency(oe_sink *s, char *err, size_t errlen)
{
    const char *c = s->host->opt_str(s->ctx, "concurrency");
    int64_t max = s->host->opt_int(s->ctx, "max_concurrency");
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

/* Ranges and non-empty strings were checked by the core (option table). */
static int read_options(oe_sink *s, char *err, size_t errlen)
{
    const sl_host *h = s->host;
    sl_ctx *c = s->ctx;
    oe_cfg *k = &s->cfg;
    k->keys.guest_id = h->opt_str(c, "guest_id_field");
    k->keys.user_token = h->opt_str(c, "user_token_field");
    if (oe_status_set_parse(h->opt_str(c, "retryable_status"), &k->retryable, err, errlen) < 0 ||
        parse_concurrency(s, err, errlen) < 0)
        return -1;
    k->rate_limit = h->opt_double(c, "rate_limit");
    k->retry_base_ms = h->opt_int(c, "retry_base");
    k->retry_max_ms = h->opt_int(c, "retry_max");
    k->auth_probe_ms = h->opt_int(c, "auth_probe_interval");
    k->drain_ms = h->opt_int(c, "stop_drain_timeout");
    k->timeout_ms = h->opt_int(c, "timeout");
    k->spool_after = (int)h->opt_int(c, "spool_after_failures");
    k->max_retries = (int)h->opt_int(c, "max_retries");
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
    if (!base)
        base = ""; /* required and non-empty: the core said so already */
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

/* What init would refuse in the options, for `sluice validate` (the
 * descriptor's check): no file, connection or thread, nothing kept. */
static int oe_check(sl_ctx *ctx, const sl_host *h, char *err, size_t errlen)
{
    oe_sink tmp = {.ctx = ctx, .host = h};
    int bad = read_options(&tmp, err, errlen) < 0 || make_url(&tmp, err, errlen) < 0;
    free(tmp.url);
    return bad ? SL_ERR : SL_OK;
}

/* ---------------------------------------------------------------- */
/* Lifecycle                                                          */
/* ---------------------------------------------------------------- */

/* ---------------------------------------------------------------- */
/* The spool's file services: the host's                              */
/* ---------------------------------------------------------------- */

static int io_open_append(void *c, const char *path, char *err, size_t errlen)
{
    oe_sink *s = c;
    return s->host->file_open(s->ctx, path, SL_FILE_APPEND | SL_FILE_MKDIRS, 0600, err, errlen);
}

static int io_write(void *c, int fd, const void *data, size_t len, char *err, size_t errlen)
{
    oe_sink *s = c;
    return s->host->file_write(s->ctx, fd, data, len, 0, err, errlen) == SL_OK ? 0 : -1;
}

static int io_replace(void *c, const char *path, const void *data, size_t len, char *err,
                      size_t errlen)
{
    oe_sink *s = c;
    return s->host->file_replace(s->ctx, path, data, len, err, errlen) == SL_OK ? 0 : -1;
}

/* Say what opening the spool found: damage, or events of a previous run. */
static void report_spool(oe_sink *s)
{
    const oe_spool_stats *st = oe_spool_get_stats(s->spool);
    if (st->torn_bytes)
        s->host->log(s->ctx, SL_LOG_WARN, "spool: cut %" PRIu64 " bytes of an incomplete record "
                     "at the end (interrupted write)", st->torn_bytes);
    if (st->corrupt_records) {
        s->host->log(s->ctx, SL_LOG_ERROR, "spool: %" PRIu64 " damaged region(s), %" PRIu64
                     " bytes, failed their CRC and will be skipped", st->corrupt_records,
                     st->corrupt_bytes);
        s->host->metric_add(s->m.spool_corrupt, st->corrupt_records);
    }
    if (st->stale_pos)
        s->host->log(s->ctx, SL_LOG_WARN, "spool: the position file was ahead of the spooled "
                     "data (segment files removed or lost); reading from the oldest record, so "
                     "some events may be sent twice");
    if (oe_spool_unread(s->spool))
        s->host->log(s->ctx, SL_LOG_INFO, "spool: %" PRIu64 " events from a previous run to "
                     "deliver", oe_spool_unread(s->spool));
}

/* The spool lives in <state_dir>/spool; dead letters are the host's. */
static int open_spool(oe_sink *s, char *err, size_t errlen)
{
    if (!s->cfg.use_spool)
        return 0;
    const char *dir = s->host->state_dir(s->ctx);
    char path[4096];
    if (!dir) {
        snprintf(err, errlen, "no state directory (service.state_dir) for the spool");
        return -1;
    }
    snprintf(path, sizeof path, "%s/spool", dir);
    if (!(s->spool_dir = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t max = (uint64_t)s->host->opt_int(s->ctx, "spool_max_bytes");
    uint64_t seg = max / 8 < (8u << 20) ? max / 8 : (8u << 20);
    oe_spool_io io = {s, io_open_append, io_write, io_replace};
    if (oe_spool_open(&s->spool, path, max, seg < 4096 ? 4096 : seg, &io, err, errlen) < 0)
        return -1;
    report_spool(s);
    return 0;
}

static void sink_free(oe_sink *s)
{
    if (!s)
        return;
    oe_http_free(s->http);
    oe_spool_close(s->spool);
    oe_request_free(&s->req);
    pthread_mutex_destroy(&s->mu);
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
    s->rng = (uint64_t)sl_now_ns() ^ (uint64_t)(uintptr_t)s;
    pthread_mutex_init(&s->mu, NULL);
    /* Timed waits on the monotonic clock: a clock jump cannot stretch them. */
    sl_cond_init_monotonic(&s->idle);
    sl_cond_init_monotonic(&s->room);
    atomic_init(&s->mem_jobs, 0);
    SL_METRICS_REGISTER(ctx, host, &s->m, metric_table);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        goto fail;
    }
    if (read_options(s, err, errlen) < 0 || make_url(s, err, errlen) < 0 ||
        open_spool(s, err, errlen) < 0 || start_http(s, err, errlen) < 0)
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
    pthread_mutex_lock(&s->mu);
    /* Backpressure: hold the sink thread (and so, through the engine's
     * bounded queue, the sources) while the worker has enough to do. */
    while (atomic_load(&s->mem_jobs) > OE_MAX_MEM_JOBS && !s->stop) {
        struct timespec t = sl_deadline_in(100);
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
            s->host->metric_add(s->m.rejected, 1);
            oe_sink_dead_letter(s, ev.raw, ev.raw_len, why);
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

/* Wait on s->idle until cond(s) is false or the deadline passes; under mu. */
static void wait_while(oe_sink *s, int (*cond)(const oe_sink *), int64_t ms)
{
    struct timespec dl = sl_deadline_in(ms > 0 ? ms : 0);
    while (cond(s) && pthread_cond_timedwait(&s->idle, &s->mu, &dl) == 0)
        ;
}

static int is_busy(const oe_sink *s) { return s->busy; }
static int has_inflight(const oe_sink *s) { return s->inflight > 0; }

/*
 * At stop the engine has no more batches for us (it calls flush before it
 * waits for our pending batches, within service.shutdown_timeout). Two
 * phases, so a stop or a reload never makes the next run send again what
 * OneEntry already took:
 *  1. deliver: keep delivering what is queued and spooled, for
 *     stop_drain_timeout with a spool, leaving time for phase 2;
 *  2. quiesce: start no new request and let those in flight get their
 *     answers (a request abandoned mid-flight may have reached OneEntry:
 *     its event, spooled again, would be sent twice).
 * Then the worker ends: what is left is spooled (acknowledged) or, without
 * a spool, left unacknowledged for the source to read again. SL_PENDING
 * when events stay spooled for the next run (run --once exits 4).
 */
static int oe_flush(void *state)
{
    oe_sink *s = state;
    if (!s->host->stopping(s->ctx))
        return SL_OK;
    int64_t left = s->host->drain_left_ms(s->ctx);
    /* Phase 2 needs at most one request's time; phase 1 gets the rest. */
    int64_t reserve = s->cfg.timeout_ms < left / 2 ? s->cfg.timeout_ms : left / 2;
    int64_t deliver = left - reserve;
    if (s->spool && s->cfg.drain_ms < deliver)
        deliver = s->cfg.drain_ms;
    int64_t t0 = sl_mono_ms();
    pthread_mutex_lock(&s->mu);
    wait_while(s, is_busy, deliver);
    s->quiesce = 1;
    pthread_mutex_unlock(&s->mu);
    oe_http_wakeup(s->http);
    pthread_mutex_lock(&s->mu);
    wait_while(s, has_inflight, left - (sl_mono_ms() - t0));
    int abandoned = s->inflight;
    pthread_mutex_unlock(&s->mu);
    if (abandoned)
        s->host->log(s->ctx, SL_LOG_WARN, "%d requests were still in flight at the stop "
                     "deadline: OneEntry may have taken them, and their events go out again "
                     "(from the %s)", abandoned, s->spool ? "spool" : "source");
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
    SL_PLUGIN_HEADER(SL_KIND_SINK, "oneentry", "2.0.0"),
    .description = "Delivers activity events to OneEntry's UserActivity API, one POST per "
                   "event, many in flight over kept-alive connections; validates before "
                   "sending, retries with backoff and Retry-After, spools to disk through "
                   "outages; what can never be delivered (invalid, or refused with a 4xx) "
                   "goes to the component's dead letters with the reason.",
    .options = options,
    .init = oe_init,
    .write = oe_write,
    .flush = oe_flush,
    .destroy = oe_destroy,
    .check = oe_check,
};
