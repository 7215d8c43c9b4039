/*
 * source generate: synthetic events for demos and load tests.
 *
 * Body {message: <message>, seq: 1, 2, ...}, meta {source: <name>}; with
 * `keys: N` also key: "key-<seq mod N>", so a load test can spread events
 * over N visitors (or any other per-key grouping). With a
 * rate, events are paced against a monotonic clock: each wake-up generates
 * the events that are due (at most batch_max_events), so a high rate does
 * not mean one sleep per event and a late wake-up catches up.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

#define NS_PER_SEC 1000000000LL
#define MAX_SLEEP_NS (100 * 1000000LL) /* re-check stopping() this often */

typedef struct gen_src {
    sl_ctx *ctx;
    const sl_host *host;
    const char *name;
    char *message;
    uint64_t count; /* 0 = unlimited */
    double rate;    /* events per second, 0 = as fast as possible */
    uint32_t batch_max;
    uint64_t keys;  /* 0 = no key field */
    uint64_t seq;   /* events generated so far */
    sl_builder *bb;
} gen_src;

static const sl_option options[] = {
    {"count", SL_OPT_INT, "0", 0, "events to generate, then stop (0 = unlimited)", NULL,
     "0", NULL, 0},
    {"rate", SL_OPT_DOUBLE, "0", 0, "events per second (0 = as fast as possible)", NULL,
     "0", NULL, 0},
    {"message", SL_OPT_STRING, "hello from sluice", 0, "the body's message field", NULL,
     NULL, NULL, 0},
    {"batch_max_events", SL_OPT_INT, "1024", 0, "most events per emitted batch", NULL,
     "1", "1048576", 0},
    {"keys", SL_OPT_INT, "0", 0,
     "when > 0, add key: \"key-N\" with N = seq mod keys (say, N visitors' guest ids)", NULL,
     "0", NULL, 0},
    {0},
};

static void gen_destroy(void *state);

/* The option ranges are the table's: the core checked them before init. */
static int gen_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                    size_t errlen)
{
    double rate = host->opt_double(ctx, "rate");
    const char *msg = host->opt_str(ctx, "message");
    if (!(rate >= 0) || isinf(rate)) { /* min 0 lets NaN and infinity through */
        snprintf(err, errlen, "rate must be a finite number >= 0, got %g", rate);
        return SL_ERR;
    }
    gen_src *g = calloc(1, sizeof *g);
    if (!g || !(g->message = strdup(msg ? msg : "hello from sluice")) || !(g->bb = sl_bb_new())) {
        gen_destroy(g);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    g->ctx = ctx;
    g->host = host;
    g->name = host->name(ctx);
    g->count = (uint64_t)host->opt_int(ctx, "count");
    g->rate = rate;
    g->batch_max = (uint32_t)host->opt_int(ctx, "batch_max_events");
    g->keys = (uint64_t)host->opt_int(ctx, "keys");
    *state = g;
    return SL_OK;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Sleep until the monotonic time `at`, or MAX_SLEEP_NS at most. */
static void sleep_until(int64_t at)
{
    int64_t now = mono_ns();
    if (at - now > MAX_SLEEP_NS)
        at = now + MAX_SLEEP_NS;
    struct timespec ts = {.tv_sec = at / NS_PER_SEC, .tv_nsec = at % NS_PER_SEC};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* 0, or -1 when out of memory (the event is not in the batch). */
static int add_event(gen_src *g)
{
    sl_builder *bb = g->bb;
    sl_bb_begin(bb, sl_now_ns());
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "source");
    sl_bb_cstr(bb, g->name);
    sl_bb_map(bb, g->keys ? 3 : 2);
    sl_bb_cstr(bb, "message");
    sl_bb_cstr(bb, g->message);
    sl_bb_cstr(bb, "seq");
    sl_bb_uint(bb, g->seq + 1);
    if (g->keys) {
        char key[32];
        snprintf(key, sizeof key, "key-%" PRIu64, (g->seq + 1) % g->keys);
        sl_bb_cstr(bb, "key");
        sl_bb_cstr(bb, key);
    }
    if (sl_bb_end(bb) != 0)
        return -1;
    g->seq++;
    return 0;
}

/* Events allowed by now under the rate limit (and the count). */
static uint64_t due(const gen_src *g, int64_t start, int64_t now)
{
    uint64_t limit = g->count ? g->count : UINT64_MAX;
    if (g->rate <= 0)
        return limit;
    double d = (double)(now - start) / NS_PER_SEC * g->rate;
    /* The first event goes out at once, as with no rate. */
    uint64_t n = d >= 1.8e19 ? UINT64_MAX : (uint64_t)d + 1;
    return n < limit ? n : limit;
}

static int gen_run(void *state)
{
    gen_src *g = state;
    int64_t start = mono_ns();
    while (!g->host->stopping(g->ctx)) {
        if (g->count && g->seq >= g->count)
            return SL_OK;
        uint64_t want = due(g, start, mono_ns());
        if (want <= g->seq) {
            /* Next event's time: (seq / rate) seconds after start; a tiny
             * rate must not overflow the arithmetic (the sleep is capped). */
            double off = (double)g->seq / g->rate * NS_PER_SEC;
            sleep_until(off > 4e18 ? INT64_MAX / 2 : start + (int64_t)off);
            continue;
        }
        uint64_t n = want - g->seq;
        if (n > g->batch_max)
            n = g->batch_max;
        for (uint64_t i = 0; i < n; i++) {
            if (add_event(g) != 0) {
                g->host->log(g->ctx, SL_LOG_ERROR, "out of memory packing an event");
                return SL_ERR;
            }
        }
        int r = g->host->emit(g->ctx, g->bb, NULL);
        if (r == SL_STOPPED)
            return SL_OK;
        if (r != SL_OK) {
            g->host->log(g->ctx, SL_LOG_ERROR, "emit failed (%d)", r);
            return SL_ERR;
        }
    }
    return SL_OK;
}

static void gen_destroy(void *state)
{
    gen_src *g = state;
    if (!g)
        return;
    sl_bb_free(g->bb);
    free(g->message);
    free(g);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SOURCE, "generate", "1.0.0"),
    .description = "Generates events {message, seq} (and key, with keys > 0) at a given "
                   "rate, for demos and load tests. Stops after `count` events when count > 0.",
    .options = options,
    .init = gen_init,
    .run = gen_run,
    .destroy = gen_destroy,
};
