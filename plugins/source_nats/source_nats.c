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

#include "nsrc.h"
#include "sl_clock.h"
#include "sluice/plugin.h"

#define FETCH_WAIT_MS 100  /* a fetch returns within this when idle: stop() is seen */
#define SETUP_RETRY_MS 500
#define RESUBSCRIBE_AFTER_MS 2000
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
     "while messages wait downstream, renew their ack_wait every third of it, so slow "
     "delivery is not taken for a dead process", NULL, NULL, NULL, 0},
    {0},
};

static const struct {
    const char *name;
    sl_metric_kind kind;
    size_t at;
} metric_table[] = {
    {"messages_fetched", SL_METRIC_COUNTER, offsetof(nsrc_metrics, fetched)},
    {"messages_redelivered", SL_METRIC_COUNTER, offsetof(nsrc_metrics, redelivered)},
    {"messages_acked", SL_METRIC_COUNTER, offsetof(nsrc_metrics, acked)},
    {"ack_errors", SL_METRIC_COUNTER, offsetof(nsrc_metrics, ack_errors)},
    {"payloads_raw", SL_METRIC_COUNTER, offsetof(nsrc_metrics, raw)},
    {"fetch_errors", SL_METRIC_COUNTER, offsetof(nsrc_metrics, fetch_errors)},
    {"messages_in_progress", SL_METRIC_COUNTER, offsetof(nsrc_metrics, in_progress)},
    {"messages_held", SL_METRIC_GAUGE, offsetof(nsrc_metrics, held)},
};

static void register_metrics(nats_src *s)
{
    for (size_t i = 0; i < sizeof metric_table / sizeof metric_table[0]; i++) {
        sl_metric **h = (sl_metric **)((char *)&s->m + metric_table[i].at);
        *h = s->host->metric(s->ctx, metric_table[i].name, metric_table[i].kind);
    }
}

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
    natsSubscription_Destroy(s->sub);
    if (s->nc)
        natsConnection_FlushTimeout(s->nc, 1000); /* the naks and last acks */
    jsCtx_Destroy(s->js);
    natsConnection_Destroy(s->nc);
    sl_nats_stream_free(&s->stream);
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
    register_metrics(s);
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

/* One message as one event. 0, or -1 (the event was dropped). */
static int pack_message(nats_src *s, natsMsg *m)
{
    jsMsgMetaData *md = NULL;
    if (natsMsg_GetMetaData(&md, m) != NATS_OK)
        md = NULL;
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
    int len = natsMsg_GetDataLength(m);
    sl_event ev;
    const uint8_t *p = data;
    int is_event = !s->raw_only && len > 0 && sl_event_parse(&p, data + len, &ev) == 0 &&
                   p == data + len;
    uint64_t delivered = md ? md->NumDelivered : 1;
    if (delivered > 1)
        s->host->metric_add(s->m.redelivered, 1);
    if (!is_event)
        s->host->metric_add(s->m.raw, 1);
    sl_builder *bb = s->bb;
    sl_bb_begin(bb, is_event ? ev.time_ns : md ? md->Timestamp : sl_now_ns());
    sl_bb_map(bb, is_event ? 6 : 5);
    kv_str(bb, "source", s->name);
    kv_str(bb, "subject", natsMsg_GetSubject(m));
    kv_str(bb, "stream", md && md->Stream ? md->Stream : s->stream.name);
    kv_uint(bb, "seq", md ? md->Sequence.Stream : 0);
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
    jsMsgMetaData_Destroy(md);
    return sl_bb_end(bb);
}

/* The fetched messages as events in s->bb; the ones kept go to msgs. */
static uint32_t pack_all(nats_src *s, natsMsgList *list, natsMsg **msgs)
{
    uint32_t n = 0;
    for (int i = 0; i < list->Count; i++) {
        natsMsg *m = list->Msgs[i];
        list->Msgs[i] = NULL; /* ours now */
        if (pack_message(s, m) == 0) {
            msgs[n++] = m;
            continue;
        }
        s->host->log(s->ctx, SL_LOG_ERROR, "out of memory packing a message; handed back");
        natsMsg_Nak(m, NULL);
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
            natsMsg_Nak(msgs[i], NULL);
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

/* A fetch failed (not a timeout): wait a little; when it goes on failing
 * while connected, subscribe again (the consumer may have been deleted). */
static void fetch_failed(nats_src *s, natsStatus st, jsErrCode jerr, int64_t *failing_since)
{
    char msg[400];
    unsigned long long held;
    int64_t now = sl_mono_ms();
    s->host->metric_add(s->m.fetch_errors, 1);
    if (!*failing_since)
        *failing_since = now;
    if (sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held)) {
        sl_nats_errmsg(msg, sizeof msg, "fetch", st, jerr);
        s->host->log(s->ctx, SL_LOG_WARN, "%s (%llu more not logged)", msg, held);
    }
    if (now - *failing_since >= RESUBSCRIBE_AFTER_MS && sl_nats_connected(s->nc)) {
        natsSubscription_Destroy(s->sub);
        s->sub = NULL;
        *failing_since = 0;
    }
    nap(s, 100);
}

/* One fetch. 0 fine, 1 stopping, 2 nothing there (idle). */
static int fetch_once(nats_src *s, int64_t *failing_since)
{
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus st = natsSubscription_Fetch(&list, s->sub, s->fetch_batch, FETCH_WAIT_MS, &jerr);
    if (st == NATS_TIMEOUT)
        return 2;
    if (st != NATS_OK) {
        fetch_failed(s, st, jerr, failing_since);
        return 0;
    }
    *failing_since = 0;
    s->host->metric_add(s->m.fetched, (uint64_t)list.Count);
    natsMsg **msgs = malloc((size_t)list.Count * sizeof *msgs);
    if (!msgs) {
        natsMsgList_Destroy(&list); /* unacknowledged: delivered again */
        nap(s, 100);
        return 0;
    }
    uint32_t n = pack_all(s, &list, msgs);
    natsMsgList_Destroy(&list);
    if (n == 0) {
        free(msgs);
        return 0;
    }
    return emit_held(s, msgs, n);
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

static int nsrc_run(void *state)
{
    nats_src *s = state;
    int64_t failing_since = 0;
    while (!s->host->stopping(s->ctx)) {
        if (!s->sub) {
            int r = ensure_setup(s);
            if (r < 0)
                return SL_ERR;
            if (r > 0)
                continue;
        }
        int r = fetch_once(s, &failing_since);
        if (r == 1 || (r == 2 && s->host->once(s->ctx)))
            break; /* stopping, or --once and nothing left for us */
    }
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
                   "when absent. With --once, stops when a fetch finds nothing.",
    .options = options,
    .init = nsrc_init,
    .run = nsrc_run,
    .acked = nsrc_acked,
    .destroy = nsrc_destroy,
};
