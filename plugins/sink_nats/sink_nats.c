/*
 * sink nats: publishes every event to a JetStream stream, many in flight,
 * and acknowledges a batch upstream only when JetStream has stored every
 * event of it (its PubAck), so a tail checkpoint never passes an event the
 * stream does not hold. NATS outages and server restarts are waited out:
 * what had no PubAck is sent again, in order, and the stream's duplicate
 * window (Nats-Msg-Id, see lib/msgid.h) drops what it already stored.
 *
 * This file: options, init/destroy, write() (events to records) and
 * flush() at stop. The threads are in ns_pub.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"
#include "metrics.h"
#include "ns_sink.h"
#include "sl_clock.h"
#include "sluice/plugin.h"

static const sl_option options[] = {
    SL_NATS_CONN_OPTIONS,
    {"subject", SL_OPT_STRING, NULL, 1,
     "subject template: text with {field} for a body field's value (dotted path for nested "
     "maps), e.g. activity.{type}; '.', '*', '>' and spaces in a value become '_', a missing "
     "field '_'", NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    SL_NATS_STREAM_OPTIONS,
    {"format", SL_OPT_STRING, "msgpack", 0,
     "payload: msgpack (the whole event - time, meta, body - as source nats reads it back) or "
     "json (the body's fields and the time, one JSON object)", "msgpack|json", NULL, NULL, 0},
    SL_JSONL_OPTIONS,
    {"id_prefix", SL_OPT_STRING, NULL, 0,
     "first part of every Nats-Msg-Id, which must differ between machines (default: the host "
     "name)", NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"max_in_flight", SL_OPT_INT, "4096", 0,
     "events sent and not yet stored by JetStream, at most; then write() waits "
     "(backpressure)", NULL, "1", "1000000", 0},
    {"ack_timeout", SL_OPT_DURATION, "5s", 0,
     "a publish without a PubAck for this long is sent again (the duplicate window drops it "
     "if it was stored)", NULL, "50ms", "10m", 0},
    {0},
};

static const sl_metric_row metric_table[] = {
    {"events_published", SL_METRIC_COUNTER, offsetof(ns_metrics, published)},
    {"events_duplicate", SL_METRIC_COUNTER, offsetof(ns_metrics, duplicates)},
    {"events_republished", SL_METRIC_COUNTER, offsetof(ns_metrics, republished)},
    {"publish_errors", SL_METRIC_COUNTER, offsetof(ns_metrics, errors)},
    {"publish_timeouts", SL_METRIC_COUNTER, offsetof(ns_metrics, timeouts)},
    {"reconnects", SL_METRIC_COUNTER, offsetof(ns_metrics, reconnects)},
    {"events_dead_lettered", SL_METRIC_COUNTER, offsetof(ns_metrics, dead_lettered)},
    {"subject_fields_missing", SL_METRIC_COUNTER, offsetof(ns_metrics, missing)},
    {"events_in_flight", SL_METRIC_GAUGE, offsetof(ns_metrics, in_flight)},
};

static int read_id_prefix(ns_sink *s, char *err, size_t errlen)
{
    const char *p = s->host->opt_str(s->ctx, "id_prefix");
    char host[256];
    if (!p) {
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "sluice");
        host[sizeof host - 1] = 0;
        p = host;
    }
    if (!(s->id_prefix = strdup(p))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int read_options(ns_sink *s, char *err, size_t errlen)
{
    const sl_host *h = s->host;
    sl_ctx *c = s->ctx;
    sl_nats_conn_read(c, h, &s->conn);
    if (ns_subject_parse(h->opt_str(c, "subject"), &s->subject, err, errlen) != 0)
        return -1;
    char why[256];
    char *wild = ns_subject_wildcard(s->subject, why, sizeof why);
    int r = sl_nats_stream_read(c, h, wild, &s->stream, err, errlen);
    free(wild);
    if (r != 0)
        return -1;
    if (s->stream.create && s->stream.nsubjects == 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    const char *fmt = h->opt_str(c, "format");
    s->json = fmt && strcmp(fmt, "json") == 0;
    const char *tk = h->opt_str(c, "time_key");
    if (!(s->time_key = strdup(tk ? tk : ""))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sl_time_format_parse(h->opt_str(c, "time_format"), &s->time_fmt) != 0)
        s->time_fmt = SL_TIME_RFC3339; /* the option's choices allow no other */
    s->max_in_flight = (uint32_t)h->opt_int(c, "max_in_flight");
    s->ack_timeout_ms = h->opt_int(c, "ack_timeout");
    return read_id_prefix(s, err, errlen);
}

/* The inbox for PubAcks, subscribed before anything is sent. */
static int start_nats(ns_sink *s, char *err, size_t errlen)
{
    jsOptions jo;
    int conn = sl_nats_connect(&s->conn, s->host->name(s->ctx), &s->nc, err, errlen);
    if (conn < 0)
        return -1;
    jsOptions_Init(&jo);
    jo.Wait = s->conn.request_timeout_ms;
    natsStatus st = natsConnection_JetStream(&s->js, s->nc, &jo);
    /* A PubAck is small, and at most max_in_flight are due. */
    if (st == NATS_OK)
        st = sl_nats_inbox_subscribe(s->nc, &s->inbox, &s->inbox_len, &s->acks);
    if (st != NATS_OK) {
        sl_nats_errmsg(err, errlen, "starting the NATS client", st, 0);
        return -1;
    }
    return conn;
}

/* With a server at hand, a stream JetStream refuses fails the start. */
static int first_setup(ns_sink *s, int connected, char *err, size_t errlen)
{
    char msg[512];
    if (!connected) {
        s->host->log(s->ctx, SL_LOG_WARN, "no NATS server at %s yet; events wait until one "
                     "answers", s->conn.url);
        return 0;
    }
    int r = ns_setup_stream(s, msg, sizeof msg);
    if (r == SL_NATS_FATAL) {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    s->stream_ready = r == SL_NATS_OK;
    s->host->log(s->ctx, r == SL_NATS_OK ? SL_LOG_INFO : SL_LOG_WARN, "%s%s", msg,
                 r == SL_NATS_OK ? "" : "; retrying");
    return 0;
}

static void sink_free(ns_sink *s)
{
    ns_threads_stop(s);
    natsSubscription_Destroy(s->acks);
    jsCtx_Destroy(s->js);
    natsConnection_Destroy(s->nc);
    ns_records_free(s);
    ns_subject_free(s->subject);
    sl_nats_stream_free(&s->stream);
    sl_buf_free(&s->json_buf);
    free(s->inbox);
    free(s->time_key);
    free(s->id_prefix);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->room);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->idle);
    free(s);
}

static int ns_init(sl_ctx *ctx, const sl_host *host, void **state, char *err, size_t errlen)
{
    ns_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    pthread_mutex_init(&s->mu, NULL);
    sl_cond_init_monotonic(&s->room);
    sl_cond_init_monotonic(&s->work);
    sl_cond_init_monotonic(&s->idle);
    atomic_init(&s->stop, 0);
    SL_METRICS_REGISTER(ctx, host, &s->m, metric_table);
    sl_nats_pin((void *)ns_init);
    if (sl_seqring_init(&s->recs, 1024) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (read_options(s, err, errlen) != 0)
        goto fail;
    int conn = start_nats(s, err, errlen);
    if (conn < 0 || first_setup(s, conn == 0, err, errlen) != 0)
        goto fail;
    s->reconnects_seen = sl_nats_reconnects(s->nc);
    if (ns_threads_start(s, err, errlen) != 0)
        goto fail;
    *state = s;
    return SL_OK;
fail:
    sink_free(s);
    return SL_ERR;
}

/* Wait until fewer than max_in_flight events are held. */
static int wait_room(ns_sink *s, char *err, size_t errlen)
{
    int rc = SL_OK;
    pthread_mutex_lock(&s->mu);
    while (s->held >= s->max_in_flight && !s->fatal) {
        if (s->host->stopping(s->ctx) && s->host->drain_left_ms(s->ctx) <= 0) {
            snprintf(err, errlen, "stopping with %u events not stored by JetStream", s->held);
            rc = SL_ERR;
            break;
        }
        struct timespec dl = sl_deadline_in(100);
        pthread_cond_timedwait(&s->room, &s->mu, &dl);
    }
    if (s->fatal) {
        snprintf(err, errlen, "%s", s->fatal_msg);
        rc = SL_FATAL;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void note_missing(ns_sink *s, unsigned n)
{
    unsigned long long held;
    s->host->metric_add(s->m.missing, n);
    if (sl_throttle_pass(&s->log_missing, 10000, &held))
        s->host->log(s->ctx, SL_LOG_WARN, "an event lacks a field of the subject template, "
                     "published to %s (%llu more not logged)", s->subj, held);
}

/*
 * The record of one event, numbered num. 0, 1 when the event cannot be
 * published (reason in why), -1 out of memory.
 */
static int make_record(ns_sink *s, const sl_event *ev, uint64_t num, ns_rec **out, char *why,
                       size_t whylen)
{
    unsigned missing = ns_subject_render(s->subject, &ev->body, s->subj, sizeof s->subj);
    if (missing)
        note_missing(s, missing);
    const void *data = ev->raw;
    size_t len = ev->raw_len;
    if (s->json) {
        s->json_buf.len = 0;
        if (sl_json_event_line(&s->json_buf, ev, s->time_key, s->time_fmt) != 0) {
            snprintf(why, whylen, "cannot be written as JSON");
            return sl_json_encodable(&ev->body) ? -1 : 1;
        }
        data = s->json_buf.data;
        len = s->json_buf.len - 1; /* without the newline */
    }
    char reply[300];
    snprintf(reply, sizeof reply, "%s.%" PRIu64, s->inbox, num);
    ns_msgid(s->id_prefix, ev, s->msgid, sizeof s->msgid);
    ns_rec *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    natsStatus st = natsMsg_Create(&r->msg, s->subj, reply, data, (int)len);
    if (st == NATS_OK)
        st = natsMsgHeader_Set(r->msg, "Nats-Msg-Id", s->msgid);
    if (st != NATS_OK) {
        natsMsg_Destroy(r->msg);
        free(r);
        return -1;
    }
    *r = (ns_rec){.num = num, .msg = r->msg, .raw = ev->raw, .raw_len = ev->raw_len};
    *out = r;
    return 0;
}

/* Free n records (not the array). */
static void free_records(ns_rec **recs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        natsMsg_Destroy(recs[i]->msg);
        free(recs[i]);
    }
}

/* Build the batch's records; *n gets how many (events that cannot be
 * published are dead-lettered here). 0, or -1 out of memory. */
static int build(ns_sink *s, const sl_batch *batch, uint64_t first, ns_rec **recs,
                 uint32_t *n)
{
    sl_batch_iter it;
    sl_event ev;
    char why[200];
    *n = 0;
    sl_batch_iter_init(&it, batch);
    while (sl_batch_next(&it, &ev) == 1) {
        int r = make_record(s, &ev, first + *n, &recs[*n], why, sizeof why);
        if (r < 0)
            return -1;
        if (r > 0) {
            s->host->dead_letter(s->ctx, &ev, why);
            s->host->metric_add(s->m.dead_lettered, 1);
            continue;
        }
        (*n)++;
    }
    return 0;
}

/* Queue the records for the publisher; how many it took (all but when out
 * of memory). */
static uint32_t push_records(ns_sink *s, ns_batch *b, ns_rec **recs, uint32_t n)
{
    uint32_t i = 0;
    pthread_mutex_lock(&s->mu);
    for (; i < n; i++) {
        recs[i]->batch = b;
        if (sl_seqring_push(&s->recs, recs[i]) != recs[i]->num)
            break;
    }
    if (i < n) {
        b->left = i;
        b->incomplete = 1; /* never acknowledged */
        if (i == 0)
            free(b);
    }
    s->held += i;
    s->host->metric_set(s->m.in_flight, s->held);
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return i;
}

static int ns_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                    size_t errlen)
{
    ns_sink *s = state;
    int rc = wait_room(s, err, errlen);
    if (rc != SL_OK)
        return rc;
    ns_batch *b = malloc(sizeof *b);
    ns_rec **recs = calloc(batch->count ? batch->count : 1, sizeof *recs);
    uint32_t n = 0;
    pthread_mutex_lock(&s->mu);
    uint64_t first = s->recs.next; /* only this thread adds records */
    pthread_mutex_unlock(&s->mu);
    if (!b || !recs || build(s, batch, first, recs, &n) != 0) {
        free(b);
        if (recs)
            free_records(recs, n);
        free(recs);
        snprintf(err, errlen, "out of memory building messages");
        return SL_ERR;
    }
    if (n == 0) {
        free(b);
        free(recs);
        return SL_OK;
    }
    *b = (ns_batch){.ticket = ticket, .left = n};
    uint32_t pushed = push_records(s, b, recs, n);
    if (pushed < n) {
        /* Out of memory growing the ring: the records queued are sent, but
         * the batch is never acknowledged whole (its source reads it again
         * at the next start), and this sink cannot go on. */
        free_records(recs + pushed, n - pushed);
        free(recs);
        snprintf(err, errlen, "out of memory queueing messages");
        return SL_FATAL;
    }
    free(recs);
    return SL_PENDING;
}

/* At stop: wait (until the drain deadline) for JetStream to store what is
 * held. What it has not by then stays unacknowledged upstream. */
static int ns_flush(void *state)
{
    ns_sink *s = state;
    if (!s->host->stopping(s->ctx))
        return SL_OK;
    pthread_mutex_lock(&s->mu);
    while (s->held > 0 && !s->fatal) {
        int64_t left = s->host->drain_left_ms(s->ctx);
        if (left <= 0)
            break;
        struct timespec dl = sl_deadline_in(left < 100 ? left : 100);
        pthread_cond_timedwait(&s->idle, &s->mu, &dl);
    }
    uint32_t left = s->held;
    pthread_mutex_unlock(&s->mu);
    if (left)
        s->host->log(s->ctx, SL_LOG_WARN, "%u events not stored by JetStream at stop; their "
                     "batches stay unacknowledged, so their source sends them again at the "
                     "next start", left);
    return SL_OK;
}

static void ns_destroy(void *state)
{
    if (state)
        sink_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "nats", "1.0.0"),
    .description = "Publishes every event to a NATS JetStream stream (subject from a template "
                   "such as activity.{type}; payload msgpack or JSON; a Nats-Msg-Id from the "
                   "event's source position so the stream drops a republished event), many in "
                   "flight, and acknowledges a batch only when JetStream stored every event of "
                   "it. Waits out NATS outages and restarts and sends again, in order, what "
                   "was not stored. Creates the stream when absent.",
    .options = options,
    .init = ns_init,
    .write = ns_write,
    .flush = ns_flush,
    .destroy = ns_destroy,
};
