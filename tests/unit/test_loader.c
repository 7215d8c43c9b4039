/* Loader refusals, each one line naming the file and the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "sl_test.h"

#define FX(name) SL_TEST_FIXTURES "/" name ".so"

static char err[2048];

static int open_fx(const char *file, sl_kind kind)
{
    sl_loaded l;
    err[0] = '\0';
    int rc = sl_plugin_open(file, kind, &l, err, sizeof err);
    if (rc == 0)
        sl_plugin_close(&l);
    return rc;
}

static void assert_refused(const char *file, sl_kind kind, const char *why)
{
    CU_ASSERT_EQUAL(open_fx(file, kind), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, file));
    if (!strstr(err, why))
        fprintf(stderr, "\n  got: %s\n  want: ...%s...\n", err, why);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, why));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

static void test_missing_file(void)
{
    assert_refused(SL_TEST_FIXTURES "/does_not_exist.so", 0, "No such file or directory");
}

static void test_not_shared_object(void)
{
    char path[] = "/tmp/sluice-test-XXXXXX.so";
    int fd = mkstemps(path, 3);
    CU_ASSERT_FATAL(fd >= 0);
    char text[256];
    memset(text, 'x', sizeof text); /* long enough that dlopen reads a header */
    CU_ASSERT(write(fd, text, sizeof text) == (ssize_t)sizeof text);
    close(fd);
    assert_refused(path, 0, "invalid ELF header");
    unlink(path);
}

static void test_no_descriptor(void)
{
    assert_refused(FX("no_descriptor"), 0, "no 'sluice_plugin' symbol");
}

static void test_wrong_major(void)
{
    assert_refused(FX("wrong_major"), 0, "built for plugin ABI 3.x, this sluice speaks ABI 2: "
                                         "rebuild it against this sluice's headers");
    /* a plugin of sluice 0.1 is told what changed */
    assert_refused(FX("abi_major_1"), 0, "built for plugin ABI 1.x, this sluice speaks ABI 2: "
                                         "rebuild it");
    assert_refused(FX("abi_major_1"), 0, "ABI 2 made the batch builder opaque");
}

/* `run` refuses what `plugins check` calls an error in an option table:
 * both use one check (descriptor.c). */
static void test_option_table_errors(void)
{
    assert_refused(FX("check_bad_options"), 0, "option 'limit': default 'ten' is not an integer");
    assert_refused(FX("check_bad_ranges"), 0, "option 'name': min/max only apply to");
}

/* A 2.0 plugin with a shorter struct (no later fields) still loads. */
static void test_append_only_minor(void)
{
    CU_ASSERT_EQUAL(open_fx(FX("abi_2_0"), 0), 0);
    CU_ASSERT_EQUAL(open_fx(FX("abi_2_0_short"), 0), 0);
}

static void test_newer_minor(void)
{
    assert_refused(FX("newer_minor"), 0, "newer than this sluice");
}

static void test_truncated(void)
{
    assert_refused(FX("truncated"), 0, "struct_size 16 is smaller than the");
}

static void test_missing_callback(void)
{
    assert_refused(FX("no_run"), 0, "a source plugin needs its run callback");
}

static void test_kind_mismatch(void)
{
    assert_refused(FX("a_source"), SL_KIND_SINK, "plugin 'a_source' is a source, but it is used as a sink");
    CU_ASSERT_EQUAL(open_fx(FX("a_source"), SL_KIND_SOURCE), 0);
}

static void test_search_path(void)
{
    sl_plugin_path pp;
    CU_ASSERT_EQUAL(sl_plugin_path_init(&pp, "/nonexistent:" SL_TEST_PLUGINS), 0);
    CU_ASSERT_STRING_EQUAL(pp.dirs[0], "/nonexistent");
    sl_loaded l;
    CU_ASSERT_EQUAL(sl_plugin_load(&pp, SL_KIND_SINK, "null", NULL, &l, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(l.p->name, "null");
    CU_ASSERT_EQUAL(l.p->kind, SL_KIND_SINK);
    sl_plugin_close(&l);
    /* Found by file name, so a source called "null" does not exist. */
    CU_ASSERT_EQUAL(sl_plugin_load(&pp, SL_KIND_SOURCE, "null", NULL, &l, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown source plugin 'null': no source_null.so in /nonexistent"));
    CU_ASSERT_EQUAL(sl_plugin_load(&pp, SL_KIND_SINK, "../x", NULL, &l, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "may not contain '/'"));
    /* An explicit path wins over the name. */
    CU_ASSERT_EQUAL(sl_plugin_load(&pp, SL_KIND_SOURCE, "ignored", FX("a_source"), &l, err, sizeof err), 0);
    sl_plugin_close(&l);
    sl_plugin_path_free(&pp);
}

static void count_plugin(const char *file, const sl_plugin *p, const char *why, void *arg)
{
    if (p && !strcmp(p->name, "stdout"))
        ++*(int *)arg;
}

static void test_scan(void)
{
    sl_plugin_path pp;
    sl_plugin_path_init(&pp, SL_TEST_PLUGINS ":" SL_TEST_PLUGINS);
    int n = 0;
    sl_plugin_scan(&pp, count_plugin, &n);
    CU_ASSERT_EQUAL(n, 1); /* the same directory twice is searched once */
    sl_plugin_path_free(&pp);
}

static const sl_test_case cases[] = {
    {"missing file", test_missing_file},
    {"not a shared object", test_not_shared_object},
    {"no descriptor symbol", test_no_descriptor},
    {"another ABI major", test_wrong_major},
    {"newer ABI minor", test_newer_minor},
    {"option table errors refuse the plugin", test_option_table_errors},
    {"2.0 descriptors of any length load", test_append_only_minor},
    {"truncated descriptor", test_truncated},
    {"missing kind callback", test_missing_callback},
    {"kind does not match the section", test_kind_mismatch},
    {"search path and names", test_search_path},
    {"scan lists each plugin once", test_scan},
    {0},
};

int main(void) { return sl_test_run("loader", cases); }
