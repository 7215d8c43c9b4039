/* Unit test of sink @NAME@: its callbacks driven through fake_host. */
#include <CUnit/Basic.h>
#include <unistd.h>

#include "fake_host.h"
#include "@PLUGIN@.c" /* included, not linked: the test may look at its statics */

/* The file's first `len - 1` bytes, NUL-terminated, into text. */
static void slurp(const char *path, char *text, size_t len)
{
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(text, 1, len - 1, f);
    text[n] = '\0';
    fclose(f);
}

static void test_writes_lines_and_dead_letters(void)
{
    char path[] = "/tmp/@NAME@-test-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char opt[64];
    snprintf(opt, sizeof opt, "path=%s", path);
    const char *const opts[] = {opt, "max_event_bytes=100", NULL};
    sl_ctx ctx;
    void *state = NULL;
    char err[256] = "";
    sl_builder *in = sl_bb_new();
    CU_ASSERT_FATAL(in != NULL);
    fake_ctx_init(&ctx, &sluice_plugin, opts);
    fake_event(in, "first");
    fake_event(in, "a message far too long to fit in one hundred bytes of JSON with its time "
                   "and its braces");
    fake_event(in, "second");
    CU_ASSERT_EQUAL_FATAL(sluice_plugin.init(&ctx, &fake_host, &state, err, sizeof err), SL_OK);
    sl_batch b = sl_bb_batch(in);
    CU_ASSERT_EQUAL(sluice_plugin.write(state, &b, 1, err, sizeof err), SL_OK);
    sluice_plugin.destroy(state);

    char text[512];
    slurp(path, text, sizeof text);
    unlink(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"message\":\"first\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"message\":\"second\""));
    CU_ASSERT_PTR_NULL(strstr(text, "far too long"));
    CU_ASSERT_EQUAL(ctx.dead_letters, 1);
    CU_ASSERT_STRING_EQUAL(ctx.last_reason, "longer than max_event_bytes");
    CU_ASSERT_EQUAL(fake_metric(&ctx, "events_written"), 2);
    sl_bb_free(in);
    fake_ctx_free(&ctx);
}

static void test_bad_path_refused(void)
{
    static const char *const opts[] = {"path=/nonexistent-dir/x/out.jsonl", NULL};
    sl_ctx ctx;
    void *state = NULL;
    char err[256] = "";
    fake_ctx_init(&ctx, &sluice_plugin, opts);
    CU_ASSERT_EQUAL(sluice_plugin.init(&ctx, &fake_host, &state, err, sizeof err), SL_ERR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
    fake_ctx_free(&ctx);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("@PLUGIN@", NULL, NULL);
    CU_add_test(s, "writes JSON lines, dead-letters a line too long",
                test_writes_lines_and_dead_letters);
    CU_add_test(s, "unopenable path refused", test_bad_path_refused);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
