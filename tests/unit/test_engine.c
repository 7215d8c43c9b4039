/*
 * The engine end to end with fixture plugins: acknowledgements across a
 * fan-out, the queue bound under a sink that never finishes, a failing init,
 * and the drain timeout.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "sl_test.h"

#define FX(name) SL_TEST_FIXTURES "/" name ".so"

/* Mirrors of the fixtures' statistics (see tests/fixtures/fx_*.c). */
struct fx_source_stats {
    atomic_ulong emitted, acked, out_of_order, premature;
    int (*check)(uint64_t seq);
    uint64_t last;
};
struct fx_sink_stats {
    atomic_uchar done[100000];
    atomic_ulong events, batches, held_bytes;
};

typedef struct run {
    sl_pipeline_spec spec;
    sl_engine *e;
    void *src_dl, *sink_dl;
    struct fx_source_stats *src;
    struct fx_sink_stats *sink; /* [2] */
} run;

static int setup(run *r, const char *yaml)
{
    memset(r, 0, sizeof *r);
    sl_errs errs = {0};
    sl_engine_opts opts = {0};
    if (sl_config_load_buffer(yaml, strlen(yaml), "test.yaml", &r->spec, &errs) < 0 ||
        sl_engine_create(&r->spec, &opts, &r->e, &errs) < 0) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msg[i]);
        sl_errs_free(&errs);
        return -1;
    }
    /* The engine loaded the fixtures; take a reference to read their stats. */
    r->src_dl = dlopen(FX("fx_source"), RTLD_NOW | RTLD_NOLOAD);
    r->sink_dl = dlopen(FX("fx_sink"), RTLD_NOW | RTLD_NOLOAD);
    r->src = r->src_dl ? dlsym(r->src_dl, "fx_source_stats") : NULL;
    r->sink = r->sink_dl ? dlsym(r->sink_dl, "fx_sink_stats") : NULL;
    return 0;
}

static void teardown(run *r)
{
    sl_engine_destroy(r->e);
    sl_config_free(&r->spec);
    if (r->src_dl)
        dlclose(r->src_dl);
    if (r->sink_dl)
        dlclose(r->sink_dl);
}

static struct fx_sink_stats *g_sinks;

static int both_sinks_done(uint64_t seq)
{
    return atomic_load(&g_sinks[0].done[seq]) && atomic_load(&g_sinks[1].done[seq]);
}

static void test_acks_after_every_sink(void)
{
    run r;
    int rc = setup(&r,
        "service: {state_dir: /tmp/sluice-test-state, shutdown_timeout: 10s}\n"
        "sources:\n"
        "  src: {path: " FX("fx_source") ", batches: 300, events: 20}\n"
        "sinks:\n"
        "  slow: {path: " FX("fx_sink") ", inputs: [src], mode: async, slot: 0}\n"
        "  fast: {path: " FX("fx_sink") ", inputs: [src], mode: sync, slot: 1}\n");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.sink);
    g_sinks = r.sink;
    r.src->check = both_sinks_done;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sl_engine_start(r.e, err, sizeof err), 0);
    for (int i = 0; i < 500 && !sl_engine_sources_done(r.e); i++)
        sl_engine_wait(r.e, 20);
    CU_ASSERT_EQUAL(sl_engine_shutdown(r.e), SL_RUN_OK);
    CU_ASSERT_EQUAL(atomic_load(&r.src->emitted), 300);
    CU_ASSERT_EQUAL(atomic_load(&r.src->acked), 300);
    CU_ASSERT_EQUAL(atomic_load(&r.src->out_of_order), 0);
    CU_ASSERT_EQUAL(atomic_load(&r.src->premature), 0);
    CU_ASSERT_EQUAL(atomic_load(&r.sink[0].events), 6000);
    CU_ASSERT_EQUAL(atomic_load(&r.sink[1].events), 6000);
    CU_ASSERT_EQUAL(sl_engine_counter(r.e, "slow", "events_out"), 6000);
    CU_ASSERT_EQUAL(sl_engine_counter(r.e, "src", "events_out"), 6000);
    r.src->check = NULL;
    teardown(&r);
}

/* Wait until the source has filled most of the sink's bound (64 KiB, batches of
 * ~1.2 KB): a fact, where "no progress for 100 ms" is also what a source
 * starved of CPU on a busy machine looks like. */
static unsigned long wait_stalled(run *r)
{
    SL_WAIT_UNTIL(sl_engine_queue_peak(r->e, "stuck") > 48 * 1024);
    CU_ASSERT(sl_engine_queue_peak(r->e, "stuck") > 48 * 1024);
    sl_test_sleep_ms(100); /* the bound must hold however long it waits */
    return atomic_load(&r->src->emitted);
}

static void test_queue_bound_with_stuck_sink(void)
{
    run r;
    int rc = setup(&r,
        "service: {queue_max_bytes: 64KiB, shutdown_timeout: 10s}\n"
        "sources:\n"
        "  src: {path: " FX("fx_source") ", endless: true, events: 50}\n"
        "sinks:\n"
        "  stuck: {path: " FX("fx_sink") ", inputs: [src], mode: hold}\n");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sl_engine_start(r.e, err, sizeof err), 0);
    unsigned long emitted = wait_stalled(&r);
    /* The source is paused: what it emitted is all held or queued, and that
     * stays within the bound (each batch is ~1.2 KB). */
    CU_ASSERT(emitted > 10);
    CU_ASSERT(emitted < 70);
    CU_ASSERT(atomic_load(&r.sink[0].held_bytes) <= 64 * 1024);
    CU_ASSERT(sl_engine_queue_peak(r.e, "stuck") <= 64 * 1024);
    CU_ASSERT_EQUAL(atomic_load(&r.src->acked), 0);
    /* Let go: everything flows and is acknowledged. */
    void (*release)(void) = (void (*)(void))dlsym(r.sink_dl, "fx_sink_release");
    CU_ASSERT_PTR_NOT_NULL_FATAL(release);
    release();
    SL_WAIT_UNTIL(atomic_load(&r.src->emitted) > emitted);
    CU_ASSERT(atomic_load(&r.src->emitted) > emitted);
    CU_ASSERT_EQUAL(sl_engine_shutdown(r.e), SL_RUN_OK);
    CU_ASSERT_EQUAL(atomic_load(&r.src->acked), atomic_load(&r.src->emitted));
    CU_ASSERT_EQUAL(atomic_load(&r.src->out_of_order), 0);
    teardown(&r);
}

static void test_init_failure_starts_nothing(void)
{
    run r;
    int rc = setup(&r,
        "sources:\n"
        "  src: {path: " FX("fx_source") ", batches: 5}\n"
        "sinks:\n"
        "  moon: {path: " FX("init_fails") ", inputs: [src]}\n");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char err[512] = "";
    CU_ASSERT_EQUAL(sl_engine_start(r.e, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "sink 'moon' failed to start: cannot reach the moon");
    CU_ASSERT_EQUAL(atomic_load(&r.src->emitted), 0);
    teardown(&r);
}

static void test_drain_timeout(void)
{
    run r;
    int rc = setup(&r,
        "service: {shutdown_timeout: 300ms}\n"
        "sources:\n"
        "  src: {path: " FX("fx_source") ", batches: 20}\n"
        "sinks:\n"
        "  stuck: {path: " FX("fx_sink") ", inputs: [src], mode: hold}\n");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sl_engine_start(r.e, err, sizeof err), 0);
    for (int i = 0; i < 100 && !sl_engine_sources_done(r.e); i++)
        sl_engine_wait(r.e, 20);
    CU_ASSERT_EQUAL(sl_engine_shutdown(r.e), SL_RUN_TIMEOUT);
    CU_ASSERT_EQUAL(atomic_load(&r.src->acked), 0);
    teardown(&r);
}

/* A sink that acknowledges from flush() at stop (it writes what it gathered)
 * is flushed before the core waits for its pending batches: the stop is
 * clean. Flushed after the wait, it would stall until shutdown_timeout and
 * the run would end with SL_RUN_TIMEOUT. */
static void test_flush_before_final_wait(void)
{
    run r;
    int rc = setup(&r,
        "service: {shutdown_timeout: 60s}\n"
        "sources:\n"
        "  src: {path: " FX("fx_source") ", batches: 20}\n"
        "sinks:\n"
        "  gather: {path: " FX("fx_sink") ", inputs: [src], mode: flush}\n");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sl_engine_start(r.e, err, sizeof err), 0);
    SL_WAIT_UNTIL(sl_engine_sources_done(r.e) && atomic_load(&r.sink[0].events) == 20 * 10);
    CU_ASSERT_EQUAL(atomic_load(&r.src->acked), 0); /* nothing acknowledged before the stop */
    CU_ASSERT_EQUAL(sl_engine_shutdown(r.e), SL_RUN_OK);
    CU_ASSERT_EQUAL(atomic_load(&r.src->acked), 20);
    teardown(&r);
}

static void test_graph_errors_reported(void)
{
    sl_pipeline_spec spec;
    sl_errs errs = {0};
    const char *yaml =
        "sources:\n"
        "  src: {path: " FX("fx_source") "}\n"
        "sinks:\n"
        "  out: {path: " FX("a_source") ", inputs: [srcx]}\n";
    CU_ASSERT_EQUAL_FATAL(sl_config_load_buffer(yaml, strlen(yaml), "g.yaml", &spec, &errs), 0);
    sl_engine *e = NULL;
    sl_engine_opts opts = {0};
    CU_ASSERT_EQUAL(sl_engine_create(&spec, &opts, &e, &errs), -1);
    int kind = 0, input = 0;
    for (size_t i = 0; i < errs.n; i++) {
        kind |= strstr(errs.msg[i], "g.yaml:4:") && strstr(errs.msg[i], "is a source, but it is used as a sink");
        input |= strstr(errs.msg[i], "g.yaml:4:") && strstr(errs.msg[i], "unknown input 'srcx'");
    }
    CU_ASSERT(kind);
    CU_ASSERT(input);
    sl_errs_free(&errs);
    sl_config_free(&spec);
}

static const sl_test_case cases[] = {
    {"source acked once, in order, after every sink", test_acks_after_every_sink},
    {"stuck sink: memory bounded, source paused", test_queue_bound_with_stuck_sink},
    {"failing init starts nothing", test_init_failure_starts_nothing},
    {"drain timeout", test_drain_timeout},
    {"a sink acknowledging in flush stops cleanly", test_flush_before_final_wait},
    {"loader and graph errors together", test_graph_errors_reported},
    {0},
};

int main(void)
{
    sl_log_set_level(SL_LOG_ERROR);
    return sl_test_run("engine", cases);
}
