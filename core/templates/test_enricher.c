/* Unit test of enricher @NAME@: its callbacks driven through fake_host. */
#include <CUnit/Basic.h>

#include "fake_host.h"
#include "@PLUGIN@.c" /* included, not linked: the test may look at its statics */

/* Run process() on `n` events {message: "m<i>"} with the given options;
 * returns the output builder (free it with sl_bb_free) and, in *tagged,
 * the events_tagged metric. */
static sl_builder *run_batch(const char *const *opts, int n, int64_t *tagged)
{
    sl_ctx ctx;
    void *state = NULL;
    char err[256] = "";
    sl_builder *in = sl_bb_new(), *out = sl_bb_new();
    CU_ASSERT_FATAL(in && out);
    fake_ctx_init(&ctx, &sluice_plugin, opts);
    for (int i = 0; i < n; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "m%d", i);
        fake_event(in, msg);
    }
    CU_ASSERT_EQUAL_FATAL(sluice_plugin.init(&ctx, &fake_host, &state, err, sizeof err), SL_OK);
    sl_batch b = sl_bb_batch(in);
    CU_ASSERT_EQUAL(sluice_plugin.process(state, &b, out, err, sizeof err), SL_OK);
    CU_ASSERT(!sl_bb_open(out)); /* every event begun was ended */
    *tagged = fake_metric(&ctx, "events_tagged");
    sluice_plugin.destroy(state);
    sl_bb_free(in);
    fake_ctx_free(&ctx);
    return out;
}

static void test_sets_field(void)
{
    static const char *const opts[] = {"field=team", "value=blue", NULL};
    int64_t tagged;
    sl_builder *out = run_batch(opts, 3, &tagged);
    sl_batch b = sl_bb_batch(out);
    sl_batch_iter it;
    sl_event ev;
    char buf[64];
    int seen = 0;
    CU_ASSERT_EQUAL(b.count, 3);
    CU_ASSERT_EQUAL(tagged, 3);
    sl_batch_iter_init(&it, &b);
    while (sl_batch_next(&it, &ev) == 1) {
        CU_ASSERT_EQUAL(fake_body_str(&ev, "team", buf, sizeof buf), 0);
        CU_ASSERT_STRING_EQUAL(buf, "blue");
        CU_ASSERT_EQUAL(fake_body_str(&ev, "message", buf, sizeof buf), 0);
        seen++;
    }
    CU_ASSERT_EQUAL(seen, 3);
    sl_bb_free(out);
}

static void test_replaces_field(void)
{
    static const char *const opts[] = {"field=message", "value=new", NULL};
    int64_t tagged;
    sl_builder *out = run_batch(opts, 1, &tagged);
    sl_batch b = sl_bb_batch(out);
    sl_batch_iter it;
    sl_event ev;
    char buf[64];
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(ev.body.v.n, 1); /* replaced, not added twice */
    CU_ASSERT_EQUAL(fake_body_str(&ev, "message", buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "new");
    sl_bb_free(out);
}

static void test_every_other(void)
{
    static const char *const opts[] = {"every=2", NULL};
    int64_t tagged;
    sl_builder *out = run_batch(opts, 4, &tagged);
    sl_batch b = sl_bb_batch(out);
    sl_batch_iter it;
    sl_event ev;
    char buf[64];
    int i = 0;
    CU_ASSERT_EQUAL(b.count, 4);
    CU_ASSERT_EQUAL(tagged, 2);
    sl_batch_iter_init(&it, &b);
    while (sl_batch_next(&it, &ev) == 1) {
        int has = fake_body_str(&ev, "tag", buf, sizeof buf) == 0;
        CU_ASSERT_EQUAL(has, i % 2 == 0);
        CU_ASSERT(!has || strcmp(buf, "@NAME@") == 0);
        i++;
    }
    sl_bb_free(out);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("@PLUGIN@", NULL, NULL);
    CU_add_test(s, "sets the field on every event", test_sets_field);
    CU_add_test(s, "replaces a field that is there", test_replaces_field);
    CU_add_test(s, "every=2 tags every other event, default value", test_every_other);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
