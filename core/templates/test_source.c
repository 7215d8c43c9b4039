/* Unit test of source @NAME@: its callbacks driven through fake_host. */
#include <CUnit/Basic.h>

#include "fake_host.h"
#include "@PLUGIN@.c" /* included, not linked: the test may look at its statics */

static void test_emits_count(void)
{
    static const char *const opts[] = {"count=5", "batch=2", NULL};
    sl_ctx ctx;
    void *state = NULL;
    char err[256] = "";
    fake_ctx_init(&ctx, &sluice_plugin, opts);
    CU_ASSERT_EQUAL_FATAL(sluice_plugin.init(&ctx, &fake_host, &state, err, sizeof err), SL_OK);
    CU_ASSERT_EQUAL(sluice_plugin.run(state), SL_OK);
    CU_ASSERT_EQUAL(sl_bb_count(ctx.emitted), 5);
    CU_ASSERT_EQUAL(ctx.batches, 3); /* 2 + 2 + 1 */
    CU_ASSERT_EQUAL(fake_metric(&ctx, "events_emitted"), 5);

    sl_batch b = sl_bb_batch(ctx.emitted);
    sl_batch_iter it;
    sl_event ev;
    sl_value seq;
    int64_t want = 1, got;
    sl_batch_iter_init(&it, &b);
    while (sl_batch_next(&it, &ev) == 1) {
        CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "seq", &seq), 1);
        CU_ASSERT(sl_value_to_int(&seq, &got) == 0 && got == want);
        want++;
    }
    sluice_plugin.acked(state, 2); /* as the core would, once sinks took batch 2 */
    CU_ASSERT_EQUAL(atomic_load(&((@NAME@_state *)state)->acked), 2);
    sluice_plugin.destroy(state);
    fake_ctx_free(&ctx);
}

static void test_stops_when_asked(void)
{
    sl_ctx ctx;
    void *state = NULL;
    char err[256] = "";
    fake_ctx_init(&ctx, &sluice_plugin, NULL);
    ctx.stopping = 1;
    CU_ASSERT_EQUAL_FATAL(sluice_plugin.init(&ctx, &fake_host, &state, err, sizeof err), SL_OK);
    CU_ASSERT_EQUAL(sluice_plugin.run(state), SL_OK);
    CU_ASSERT_EQUAL(sl_bb_count(ctx.emitted), 0);
    sluice_plugin.destroy(state);
    fake_ctx_free(&ctx);
}

/* The table declares the ranges the core enforces before init(). */
static void test_declares_ranges(void)
{
    const sl_option *batch = &options[1];
    CU_ASSERT_STRING_EQUAL(batch->name, "batch");
    CU_ASSERT_STRING_EQUAL(batch->min, "1");
    CU_ASSERT_PTR_NOT_NULL(batch->max);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("@PLUGIN@", NULL, NULL);
    CU_add_test(s, "emits count events in batches", test_emits_count);
    CU_add_test(s, "returns at once when stopping", test_stops_when_asked);
    CU_add_test(s, "batch has a range", test_declares_ranges);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
