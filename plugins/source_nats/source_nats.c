/*
 * source nats: a durable pull consumer on a JetStream stream. Each fetch
 * becomes one batch of events (meta: subject, stream, seq, delivered); a
 * message is acknowledged to JetStream only after every sink downstream
 * acknowledged its batch (see nsrc.h), so a crash anywhere means a
 * redelivery, never a loss. Processes on the same durable share the work;
 * the consumer's max_ack_pending bounds what they hold together.
 *
 * A payload that is a sluice event (sink nats, format msgpack) keeps its
 * time and body, and its meta under meta.origin; any other payload becomes
 * body {message}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ackmeta.h"
#include "metrics.h"
#include "nsrc.h"
#include "sl_clock.h"
#include "sluice/plugin.h"

#define SETUP_RETRY_MS 500
#define LOG_EVERY_MS 5000

#define NONEMPTY NULL, NULL, SL_OPT_F_NONEMPTY
static const sl_option options[] = {
    SL_NATS_CONN_OPTIONS,
    SL_NATS_STREAM_OPTIONS,
    {"durable", SL_OPT_STRING, "sluice", 0,
     "durable pull consumer; processes with the same durable share its messages", NULL,
     NONEMPTY},
    {"filter_subject", SL_OPT_STRING, NULL, 0,
     "of a created consumer: only messages on these subjects (wildcards allowed, e.g. "
     "activity.>); also the subjects of a created stream without stream_subjects", NULL,
     NONEMPTY},
    {"create_consumer", SL_OPT_BOOL, "true", 0,
     "create the durable consumer when absent (with the options below); an existing one is "
     "used as it is", NULL, NULL, NULL, 0},
    {"deliver_policy", SL_OPT_STRING, "all", 0,
     "of a created consumer: all (from the stream's first message) or new (only messages "
     "stored from now on)", "all|new", NULL, NULL, 0},
    {"ack_wait", SL_OPT_DURATION, "30s", 0,
     "of a created consumer: a message not acknowledged this long after its delivery (its "
     "process died) is delivered again", NULL, "1s", "12h", 0},
    {"max_ack_pending", SL_OPT_INT, "10000", 0,
     "of a created consumer: messages delivered and not acknowledged yet, over all processes "
     "on the durable, at most (bounds memory)", NULL, "1", "1000000", 0},
    {"max_deliver", SL_OPT_INT, "0", 0,
     "of a created consumer: deliveries of one message at most (0 = no limit; a limit gives "
     "up on a message that keeps failing)", NULL, "0", "1000000", 0},
    {"fetch_batch", SL_OPT_INT, "256", 0,
     "messages asked for per pull request; each fetch becomes one batch", NULL, "1", "10000",
     0},
    {"payload", SL_OPT_STRING, "auto", 0,
     "auto: a sluice event (sink nats, format msgpack) keeps its time, body, and meta as "
     "meta.origin; anything else becomes body {message}. raw: always body {message}",
     "auto|raw", NULL, NULL, 0},
    {"in_progress", SL_OPT_BOOL, "true", 0,
     "while messages wait downstream, renew their ack_wait when half of it has passed, so "
     "slow delivery is not taken for a dead process", NULL, NULL, NULL, 0},
    {0},
};

static const sl_metric_row metric_table[] = {
    {"messages_fetched", SL_METRIC_COUNTER, offsetof(nsrc_metrics, fetched)},
    {"messages_redelivered", SL_METRIC_COUNTER, offsetof(nsrc_metrics, redelivered)},
    {"messages_acked", SL_METRIC_COUNTER, offsetof(nsrc_metrics, acked)},
    {"ack_errors", SL_METRIC_COUNTER, offsetof(nsrc_metrics, ack_errors)},
    {"payloads_raw", SL_METRIC_COUNTER, offsetof(nsrc_metrics, raw)},
    {"fetch_errors", SL_METRIC_COUNTER, offsetof(nsrc_metrics, fetch_errors)},
    {"messages_in_progress", SL_METRIC_COUNTER, offsetof(nsrc_metrics, in_progress)},
    {"messages_held", SL_METRIC_GAUGE, offsetof(nsrc_metrics, held)},
    {"consumer_rewinds", SL_METRIC_COUNTER, offsetof(nsrc_metrics, rewinds)},
};

static int read_options(nats_src *s, char *err, size_t errlen)
{
    const sl_host *h = s->host;
    sl_ctx *c = s->ctx;
    sl_nats_conn_read(c, h, &s->conn);
    s->durable = h->opt_str(c, "durable");
    s->filter = h->opt_str(c, "filter_subject");
    if (sl_nats_stream_read(c, h, s->filter, &s->stream, err, errlen) != 0)
        return -1;
    s->create_consumer = h->opt_bool(c, "create_consumer");
    const char *dp = h->opt_str(c, "deliver_policy");
    s->deliver = dp && strcmp(dp, "new") == 0 ? js_DeliverNew : js_DeliverAll;
    s->ack_wait_ms = h->opt_int(c, "ack_wait");
    s->max_ack_pending = h->opt_int(c, "max_ack_pending");
    s->max_deliver = h->opt_int(c, "max_deliver");
    s->fetch_batch = (int)h->opt_int(c, "fetch_batch");
    const char *pl = h->opt_str(c, "payload");
    s->raw_only = pl && strcmp(pl, "raw") == 0;
    s->in_progress = h->opt_bool(c, "in_progress");
    atomic_store(&s->consumer_ack_wait_ms, s->ack_wait_ms);
    return 0;
}

static int start_nats(nats_src *s, char *err, size_t errlen)
{
    jsOptions jo;
    int conn = sl_nats_connect(&s->conn, s->name, &s->nc, err, errlen);
    if (conn < 0)
        return -1;
    jsOptions_Init(&jo);
    jo.Wait = s->conn.request_timeout_ms;
    natsStatus st = natsConnection_JetStream(&s->js, s->nc, &jo);
    if (st != NATS_OK) {
        sl_nats_errmsg(err, errlen, "starting the NATS client", st, 0);
        return -1;
    }
    if (conn == 1) {
        s->host->log(s->ctx, SL_LOG_WARN, "no NATS server at %s yet; waiting for one",
                     s->conn.url);
        return 0;
    }
    /* With a server at hand, what JetStream refuses fails the start. */
    char msg[1200];
    int r = nsrc_setup(s, msg, sizeof msg);
    if (r == SL_NATS_FATAL) {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    s->host->log(s->ctx, r == SL_NATS_OK ? SL_LOG_INFO : SL_LOG_WARN, "%s%s", msg,
                 r == SL_NATS_OK ? "" : "; retrying");
    return 0;
}

static void src_free(nats_src *s)
{
    nsrc_ticker_stop(s);
    nsrc_release_all(s);
    natsSubscription_Destroy(s->inbox_sub);
    if (s->nc)
        natsConnection_FlushTimeout(s->nc, 1000); /* the naks and last acks */
    jsCtx_Destroy(s->js);
    natsConnection_Destroy(s->nc);
    sl_nats_stream_free(&s->stream);
    free(s->inbox);
    free(s->next_subj);
    sl_bb_free(s->bb);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->tick);
    free(s);
}

static int nsrc_init(sl_ctx *ctx, const sl_host *host, void **state, char *err, size_t errlen)
{
    nats_src *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    s->name = host->name(ctx);
    s->next_seq = 1;
    pthread_mutex_init(&s->mu, NULL);
    sl_cond_init_monotonic(&s->tick);
    atomic_init(&s->stop, 0);
    SL_METRICS_REGISTER(ctx, host, &s->m, metric_table);
    sl_nats_pin((void *)nsrc_init);
    if (!(s->bb = sl_bb_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (read_options(s, err, errlen) != 0 || start_nats(s, err, errlen) != 0)
        goto fail;
    if (nsrc_ticker_start(s) != 0) {
        snprintf(err, errlen, "cannot start the in-progress thread");
        goto fail;
    }
    *state = s;
    return SL_OK;
fail:
    src_free(s);
    return SL_ERR;
}

static void kv_str(sl_builder *bb, const char *k, const char *v)
{
    sl_bb_cstr(bb, k);
    sl_bb_cstr(bb, v);
}

static void kv_uint(sl_builder *bb, const char *k, uint64_t v)
{
    sl_bb_cstr(bb, k);
    sl_bb_uint(bb, v);
}

/* The consumer numbered this delivery at or below one seen before (see
 * nsrc_delivery_rewind): say so, it explains the duplicates that follow. */
static void check_rewind(nats_src *s, const nsrc_ackmeta *md)
{
    uint64_t last = s->last_delivery;
    uint64_t back = nsrc_delivery_rewind(&s->last_delivery, md->consumer_seq);
    if (!back)
        return;
    s->host->metric_add(s->m.rewinds, 1);
    s->host->log(s->ctx, SL_LOG_WARN, "consumer %s went back from delivery %" PRIu64 " to %"
                 PRIu64 " (at stream sequence %" PRIu64 "): JetStream lost part or all of "
                 "its record of what it delivered and what was acknowledged (nats-server "
                 "died before it wrote it down or while it did, a new leader was behind, or "
                 "the consumer was re-created), so up to %" PRIu64 " deliveries are repeated "
                 "and their events arrive again",
                 s->durable, last, md->consumer_seq, md->stream_seq, back);
}

/* One message as one event. 0, or -1 (the event was dropped). */
static int pack_message(nats_src *s, natsMsg *m)
{
    nsrc_ackmeta md;
    int has_md = nsrc_ackmeta_parse(natsMsg_GetReply(m), &md) == 0;
    if (has_md)
        check_rewind(s, &md);
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
    int len = natsMsg_GetDataLength(m);
    sl_event ev;
    const uint8_t *p = data;
    int is_event = !s->raw_only && len > 0 && sl_event_parse(&p, data + len, &ev) == 0 &&
                   p == data + len;
    uint64_t delivered = has_md ? md.delivered : 1;
    if (delivered > 1)
        s->host->metric_add(s->m.redelivered, 1);
    if (!is_event)
        s->host->metric_add(s->m.raw, 1);
    sl_builder *bb = s->bb;
    sl_bb_begin(bb, is_event ? ev.time_ns : has_md ? md.time_ns : sl_now_ns());
    sl_bb_map(bb, is_event ? 6 : 5);
    kv_str(bb, "source", s->name);
    kv_str(bb, "subject", natsMsg_GetSubject(m));
    sl_bb_cstr(bb, "stream");
    if (has_md)
        sl_bb_str(bb, md.stream, md.stream_len);
    else
        sl_bb_cstr(bb, s->stream.name);
    kv_uint(bb, "seq", has_md ? md.stream_seq : 0);
    kv_uint(bb, "delivered", delivered);
    if (is_event) {
        sl_bb_cstr(bb, "origin");
        sl_bb_value(bb, &ev.meta);
        sl_bb_value(bb, &ev.body);
    } else {
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "message");
        sl_bb_str(bb, (const char *)data, len > 0 ? (size_t)len : 0);
    }
    return sl_bb_end(bb);
}

/* The messages as events in s->bb; the ones kept stay in msgs. */
static uint32_t pack_all(nats_src *s, natsMsg **msgs, uint32_t got)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < got; i++) {
        natsMsg *m = msgs[i];
        if (pack_message(s, m) == 0) {
            msgs[n++] = m;
            continue;
        }
        s->host->log(s->ctx, SL_LOG_ERROR, "out of memory packing a message; handed back");
        nsrc_reply(s, m, "-NAK");
        natsMsg_Destroy(m);
    }
    return n;
}

/* Hand one batch to the pipeline. 0 fine, 1 stopping. */
static int emit_held(nats_src *s, natsMsg **msgs, uint32_t n)
{
    uint64_t seq = s->next_seq, got = 0;
    if (nsrc_hold(s, seq, msgs, n) != 0) {
        for (uint32_t i = 0; i < n; i++) {
            nsrc_reply(s, msgs[i], "-NAK");
            natsMsg_Destroy(msgs[i]);
        }
        free(msgs);
        sl_bb_reset(s->bb);
        s->host->log(s->ctx, SL_LOG_ERROR, "out of memory holding messages; handed back");
        return 0;
    }
    int r = s->host->emit(s->ctx, s->bb, &got); /* acked() may run before it returns */
    if (r == SL_OK) {
        if (got != seq)
            s->host->log(s->ctx, SL_LOG_WARN, "emit numbered a batch %" PRIu64 ", expected %"
                         PRIu64, got, seq);
        s->next_seq = got + 1;
        return 0;
    }
    nsrc_unhold_last(s); /* never to be acknowledged: back to JetStream */
    sl_bb_reset(s->bb);
    if (r == SL_STOPPED)
        return 1;
    s->host->log(s->ctx, SL_LOG_ERROR, "the pipeline rejected a batch; handed back");
    return 0;
}

static void nap(nats_src *s, int64_t ms)
{
    int64_t end = sl_mono_ms() + ms;
    while (!s->host->stopping(s->ctx) && sl_mono_ms() < end) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void pull_failed(nats_src *s, const char *msg)
{
    unsigned long long held;
    s->host->metric_add(s->m.fetch_errors, 1);
    if (sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held))
        s->host->log(s->ctx, SL_LOG_WARN, "%s (%llu more not logged)", msg, held);
    nap(s, 100);
}

/* One pull. 0 fine, 1 stopping, 2 nothing there (idle). */
static int fetch_once(nats_src *s)
{
    char msg[400];
    uint32_t n = 0;
    natsMsg **msgs = malloc((size_t)s->fetch_batch * sizeof *msgs);
    if (!msgs) {
        nap(s, 100);
        return 0;
    }
    int r = nsrc_pull(s, msgs, (uint32_t)s->fetch_batch, &n, msg, sizeof msg);
    if (r == PULL_ERROR)
        pull_failed(s, msg);
    if (r == PULL_RESETUP)
        s->ready = 0;
    if (n > 0)
        s->host->metric_add(s->m.fetched, n);
    if (n > 0 && (n = pack_all(s, msgs, n)) > 0)
        return emit_held(s, msgs, n);
    free(msgs);
    return r == PULL_IDLE ? 2 : 0;
}

/* Stream, consumer, subscription. 0 ready, 1 not yet, -1 fatal. */
static int ensure_setup(nats_src *s)
{
    char msg[1200];
    unsigned long long held;
    int r = nsrc_setup(s, msg, sizeof msg);
    if (r == SL_NATS_OK) {
        s->host->log(s->ctx, SL_LOG_INFO, "%s", msg);
        return 0;
    }
    if (r == SL_NATS_FATAL) {
        s->host->log(s->ctx, SL_LOG_ERROR, "%s", msg);
        return -1;
    }
    if (sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held))
        s->host->log(s->ctx, SL_LOG_WARN, "%s; retrying", msg);
    nap(s, SETUP_RETRY_MS);
    return 1;
}

/* What the last request brings after the stop is handed back at once:
 * never read, it would wait out ack_wait before another process got it. */
static void hand_back_late(nats_src *s)
{
    int n = nsrc_pull_drain(s);
    if (n)
        s->host->log(s->ctx, SL_LOG_INFO, "%d messages that came at the stop handed back", n);
}

/* --once: a pull that ended empty means nothing is left only when the
 * consumer has no undelivered message (it may be at max_ack_pending). */
static int nothing_left(nats_src *s)
{
    jsConsumerInfo *ci = NULL;
    if (js_GetConsumerInfo(&ci, s->js, s->stream.name, s->durable, NULL, NULL) != NATS_OK)
        return 0;
    int done = ci->NumPending == 0;
    jsConsumerInfo_Destroy(ci);
    return done;
}

static int nsrc_run(void *state)
{
    nats_src *s = state;
    while (!s->host->stopping(s->ctx)) {
        if (!s->ready) {
            int r = ensure_setup(s);
            if (r < 0)
                return SL_ERR;
            if (r > 0)
                continue;
        }
        int r = fetch_once(s);
        if (r == 1 || (r == 2 && s->host->once(s->ctx) && nothing_left(s)))
            break; /* stopping, or --once and nothing left */
    }
    hand_back_late(s);
    return SL_OK;
}

static void nsrc_destroy(void *state)
{
    if (state)
        src_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SOURCE, "nats", "1.0.0"),
    .description = "Reads a NATS JetStream stream through a durable pull consumer, one batch "
                   "per fetch (meta: subject, stream, seq, delivered). Acknowledges each "
                   "message to JetStream only after every sink downstream acknowledged it, so "
                   "a crash means a redelivery, never a loss; processes on the same durable "
                   "share the messages. A payload written by sink nats keeps its time and "
                   "body (its meta becomes meta.origin). Creates the stream and the consumer "
                   "when absent. With --once, stops once the consumer has no undelivered "
                   "message left.",
    .options = options,
    .init = nsrc_init,
    .run = nsrc_run,
    .acked = nsrc_acked,
    .destroy = nsrc_destroy,
};
