/* enricher_lookup: parsing CSV and key=value lookup files, the hash table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lktable.h"
#include "sl_test.h"

static lk_table parse_ok(const char *text, lk_format fmt, int header)
{
    lk_table t = {0};
    char err[256] = "";
    int rc = lk_parse(&t, text, strlen(text), fmt, header, "t", err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "unexpected error: %s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    return t;
}

static void expect_err(const char *text, lk_format fmt, const char *want)
{
    lk_table t = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL(lk_parse(&t, text, strlen(text), fmt, 0, "t", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    if (!strstr(err, want))
        fprintf(stderr, "got '%s', wanted '%s'\n", err, want);
    CU_ASSERT_EQUAL(lk_count(&t), 0);
}

static void test_csv(void)
{
    lk_table t = parse_ok("id,name\n42,Blue mug\n7,\"Tea, green\",extra\r\n\n9,\"say \"\"hi\"\"\"\n"
                          "10,",
                          LK_CSV, 1);
    CU_ASSERT_EQUAL(lk_count(&t), 4);
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "42", 2), "Blue mug");
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "7", 1), "Tea, green");
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "9", 1), "say \"hi\"");
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "10", 2), "");
    CU_ASSERT_PTR_NULL(lk_get(&t, "id", 2)); /* the header was skipped */
    CU_ASSERT_PTR_NULL(lk_get(&t, "4", 1));
    lk_free(&t);
}

static void test_kv(void)
{
    lk_table t = parse_ok("# products\n  42 = Blue mug \n\nx=a=b\r\nx=last wins\n", LK_KV, 0);
    CU_ASSERT_EQUAL(lk_count(&t), 2);
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "42", 2), "Blue mug");
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "x", 1), "last wins");
    lk_free(&t);
}

static void test_errors(void)
{
    expect_err("a,b\nonly-one-field\n", LK_CSV, "t:2: expected key,value");
    expect_err("\"open,b\n", LK_CSV, "t:1: unterminated quoted field");
    expect_err("\"a\"x,b\n", LK_CSV, "t:1: text after a closing quote");
    expect_err(",b\n", LK_CSV, "t:1: empty key");
    expect_err("a=1\nno equals\n", LK_KV, "t:2: expected key=value");
    expect_err(" = v\n", LK_KV, "t:1: empty key");
}

/* Many keys: the table grows and every key is still found. */
static void test_growth(void)
{
    lk_table t = {0};
    char err[256];
    size_t cap = 20000 * 16, len = 0;
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (int i = 0; i < 20000; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%d=v%d\n", i, i);
    CU_ASSERT_EQUAL_FATAL(lk_parse(&t, text, len, LK_KV, 0, "t", err, sizeof err), 0);
    CU_ASSERT_EQUAL(lk_count(&t), 20000);
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        const char *got = lk_get(&t, k, strlen(k));
        bad += !got || strcmp(got, v) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    lk_free(&t);
    free(text);
}

static void test_file(void)
{
    char path[] = "/tmp/lktable-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "1,one\n2,two\n", 12), 12);
    close(fd);
    lk_table t = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL(lk_load_file(&t, path, LK_CSV, 0, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(lk_get(&t, "2", 1), "two");
    lk_free(&t);
    unlink(path);
    CU_ASSERT_EQUAL(lk_load_file(&t, path, LK_CSV, 0, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"csv: quotes, extra columns, header, CRLF", test_csv},
        {"kv: comments, trimming, last wins", test_kv},
        {"errors name the line and the reason", test_errors},
        {"20000 keys", test_growth},
        {"file loading", test_file},
        {NULL, NULL},
    };
    return sl_test_run("lookup_table", cases);
}
