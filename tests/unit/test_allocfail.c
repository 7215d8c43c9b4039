/*
 * Allocation-failure torture of the core: for N = 0, 1, 2, ... the Nth
 * allocation made by the code under test fails (the others succeed), until
 * a run makes fewer than N allocations. Every run must report the failure
 * as an error, leave nothing allocated and never crash. The failing
 * allocator is in tests/fuzz/failalloc.h (the plugins' parsers get the same
 * treatment in tests/fuzz/allocfail_parsers.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "graph.h"
#include "interp.h"
#include "sl_test.h"
#include "sluice/event.h"
#include "sluice/json.h"

#include "../fuzz/failalloc.h"

/* --- the config loader ------------------------------------------- */

static int load_config(const void *arg)
{
    const char *yaml = arg;
    sl_pipeline_spec spec = {0};
    sl_errs errs = {0};
    int rc = sl_config_load_buffer(yaml, strlen(yaml), "p.yaml", &spec, &errs);
    if (rc == 0) {
        rc = sl_graph_check(&spec, &errs);
        sl_config_free(&spec);
    } else {
        /* the loader's contract: on error the spec is freed and zeroed */
        CU_ASSERT_PTR_NULL(spec.root);
        CU_ASSERT_PTR_NULL(spec.comps);
        CU_ASSERT_EQUAL(spec.n_comps, 0);
        CU_ASSERT(errs.n > 0); /* the caller is told why */
    }
    sl_errs_free(&errs);
    return rc;
}

static const char *const good_pipelines[] = {
    "service:\n"
    "  state_dir: ${ALLOCFAIL_DIR:-/tmp/state}\n"
    "  queue_max_bytes: 64MiB\n"
    "  shutdown_timeout: 2.5s\n"
    "  log_level: debug\n"
    "  admin:\n"
    "    listen: 127.0.0.1:2021\n"
    "sources:\n"
    "  access:\n"
    "    plugin: tail\n"
    "    paths: [/var/log/nginx/access*.log, /var/log/b.log]\n"
    "enrichers:\n"
    "  parsed: {plugin: parse, inputs: access, format: nginx_combined}\n"
    "  activity:\n"
    "    plugin: activity\n"
    "    inputs: [parsed]\n"
    "    rules:\n"
    "      - { path: '^/products/(?<productId>[0-9]+)', type: product_view }\n"
    "      - { path: '^/search', query_param: q, type: search }\n"
    "sinks:\n"
    "  out: {plugin: stdout, inputs: [activity, parsed], queue_max_bytes: 1MB}\n",

    "sources:\n"
    "  a: &src {plugin: stdin, tags: [x, y, z]}\n"
    "  b: *src\n"
    "sinks:\n"
    "  o: {plugin: stdout, inputs: [a, b]}\n",
};

static const char *const bad_pipelines[] = {
    /* shape errors: every one reported, the spec kept to the end */
    "service:\n  queue_max_bytes: lots\n  bogus: 1\n"
    "sources:\n  a: {plugin: stdin, inputs: [x]}\n  a: {plugin: stdin}\n"
    "sinks:\n  o: {inputs: [nope]}\n",
    /* graph errors: unknown input, a cycle */
    "sources:\n  s: {plugin: stdin}\nenrichers:\n"
    "  e1: {plugin: modify, inputs: [s, e2]}\n  e2: {plugin: modify, inputs: [e1]}\n"
    "sinks:\n  o: {plugin: stdout, inputs: [e2, ghost]}\n",
    /* interpolation of an unset variable */
    "sources:\n  s: {plugin: stdin}\nsinks:\n  o: {plugin: file, inputs: [s], path: ${ALLOCFAIL_UNSET}}\n",
    /* not YAML at all */
    "sources: [\n  - {a: \n",
};

static void test_config_good(void)
{
    for (size_t i = 0; i < sizeof good_pipelines / sizeof good_pipelines[0]; i++) {
        long runs = torture("good pipeline", load_config, good_pipelines[i], 1, 0);
        CU_ASSERT(runs > 10); /* the loader really allocated under test */
    }
}

static void test_config_bad(void)
{
    for (size_t i = 0; i < sizeof bad_pipelines / sizeof bad_pipelines[0]; i++) {
        long runs = torture("bad pipeline", load_config, bad_pipelines[i], 0, 0);
        CU_ASSERT(runs > 3);
    }
}

/* --- interpolation ------------------------------------------------ */

static int interp(const void *arg)
{
    const char *in = arg;
    char *out = NULL;
    size_t len;
    char err[200];
    int rc = sl_interpolate(in, strlen(in), &out, &len, err, sizeof err);
    if (rc == 0)
        free(out);
    else
        CU_ASSERT_PTR_NULL(out);
    return rc;
}

static void test_interp(void)
{
    setenv("ALLOCFAIL_A", "a-value-long-enough-to-make-the-buffer-grow-more-than-once-0123456789", 1);
    torture("interp", interp,
            "x${ALLOCFAIL_A}y${ALLOCFAIL_UNSET:-${ALLOCFAIL_A}}$$z${ALLOCFAIL_A}${ALLOCFAIL_A}", 1,
            0);
    torture("interp error", interp, "${ALLOCFAIL_UNSET:?is required}", 0, 0);
}

/* --- event builder and JSON encoder -------------------------------- */

#define EVENTS 40

/* Build a batch of EVENTS events. A failed allocation drops the event being
 * built (the builder's contract); the batch must stay well-formed. */
static int build_batch(const void *arg)
{
    (void)arg;
    sl_builder *bb = sl_bb_new();
    if (!bb)
        return -1;
    char text[300];
    memset(text, 'x', sizeof text);
    for (int i = 0; i < EVENTS; i++) {
        sl_bb_begin(bb, 1700000000000000000LL + i);
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "source");
        sl_bb_cstr(bb, "allocfail");
        sl_bb_map(bb, 2);
        sl_bb_cstr(bb, "i");
        sl_bb_int(bb, i);
        sl_bb_cstr(bb, "text");
        sl_bb_str(bb, text, (size_t)(i * 7) % sizeof text);
        sl_bb_end(bb);
    }
    sl_batch b = sl_bb_batch(bb);
    char err[200];
    int valid = sl_batch_validate(&b, err, sizeof err) == 0;
    if (!valid)
        fprintf(stderr, "\nbatch after a failed allocation: %s\n", err);
    CU_ASSERT(valid);
    int rc = b.count == EVENTS ? 0 : -1;
    sl_bb_free(bb);
    return rc;
}

static void test_builder(void)
{
    torture("batch builder", build_batch, NULL, 1, 0);
}

/* A batch to encode, built before arming. */
static sl_builder *json_bb;

static int encode_json(const void *arg)
{
    (void)arg;
    sl_batch b = sl_bb_batch(json_bb);
    sl_batch_iter it;
    sl_event ev;
    sl_buf out = {0};
    int rc = 0;
    sl_batch_iter_init(&it, &b);
    while (rc == 0 && sl_batch_next(&it, &ev) == 1) {
        size_t before = out.len;
        if (sl_json_event_line(&out, &ev, "time", SL_TIME_RFC3339) != 0) {
            CU_ASSERT_EQUAL(out.len, before); /* nothing half-written */
            rc = -1;
        } else if (sl_json_value(&out, &ev.body) != 0) {
            rc = -1;
        }
    }
    sl_buf_free(&out);
    return rc;
}

static void test_json(void)
{
    json_bb = sl_bb_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(json_bb);
    for (int i = 0; i < 20; i++) {
        sl_bb_begin(json_bb, 1700000000123456789LL + i);
        sl_bb_map(json_bb, 0);
        sl_bb_map(json_bb, 3);
        sl_bb_cstr(json_bb, "msg");
        sl_bb_cstr(json_bb, "quote \" and \\ and \x01 and \xff invalid UTF-8 \xc3\xa9");
        sl_bb_cstr(json_bb, "nested");
        sl_bb_array(json_bb, 2);
        sl_bb_double(json_bb, 1.5);
        sl_bb_map(json_bb, 1);
        sl_bb_cstr(json_bb, "k");
        sl_bb_uint(json_bb, UINT64_MAX);
        sl_bb_cstr(json_bb, "n");
        sl_bb_int(json_bb, -i);
        sl_bb_end(json_bb);
    }
    CU_ASSERT_EQUAL_FATAL(sl_bb_count(json_bb), 20);
    torture("json encoder", encode_json, NULL, 1, 0);
    sl_bb_free(json_bb);
}

/* The interposer itself: a test of the test, so a torture that never
 * injects anything cannot pass unnoticed. */
static void test_interposer(void)
{
    /* through volatile pointers: the compiler may drop a malloc whose
     * result is only compared with NULL */
    void *(*volatile m)(size_t) = malloc;
    void *(*volatile cl)(size_t, size_t) = calloc;
    char *(*volatile sd)(const char *) = strdup;
    arm(1);
    void *a = m(10), *b = m(10), *c = cl(2, 8);
    disarm();
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT(injected);
    CU_ASSERT_EQUAL(live, 2);
    arm(0);
    char *d = sd("x");
    disarm();
    CU_ASSERT_PTR_NULL(d);
    free(a);
    free(c);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"the failing allocator fails the Nth allocation", test_interposer},
        {"config loader: good pipelines, every allocation failing", test_config_good},
        {"config loader: bad pipelines, every allocation failing", test_config_bad},
        {"interpolation, every allocation failing", test_interp},
        {"batch builder stays well-formed, every allocation failing", test_builder},
        {"JSON encoder, every allocation failing", test_json},
        {NULL, NULL},
    };
    return sl_test_run("allocfail", cases);
}
