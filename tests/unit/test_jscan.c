/* support/jscan: the pull scanner the Pages API readers share. */
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "sl_test.h"

static void test_pages_array(void)
{
    const char *t = " [ {\"id\": 12, \"pageUrl\": \"t-shirts\", \"localizeInfos\": {\"title\": "
                    "\"T \\\"shirts\\\"\", \"deep\": [[1, {\"x\": null}], true, false]}},\n"
                    "{\"pageUrl\":\"caf\\u00e9\",\"id\":-3,\"n\":1.5e3} ] ";
    sl_jscan j;
    sl_jscan_init(&j, t, strlen(t));
    CU_ASSERT_EQUAL(sl_jscan_enter(&j, '['), 0);
    int64_t ids[2] = {0, 0};
    char urls[2][32] = {"", ""};
    int n = 0, r;
    while ((r = sl_jscan_more(&j, ']')) == 1) {
        CU_ASSERT_FATAL(n < 2);
        CU_ASSERT_EQUAL(sl_jscan_enter(&j, '{'), 0);
        while ((r = sl_jscan_more(&j, '}')) == 1) {
            char key[32];
            size_t kl, ul;
            CU_ASSERT_EQUAL(sl_jscan_key(&j, key, sizeof key, &kl), 0);
            int rc;
            if (!strcmp(key, "id"))
                rc = sl_jscan_int(&j, &ids[n]);
            else if (!strcmp(key, "pageUrl"))
                rc = sl_jscan_string(&j, urls[n], sizeof urls[n], &ul);
            else
                rc = sl_jscan_skip(&j, NULL, NULL);
            CU_ASSERT_EQUAL(rc, 0);
        }
        CU_ASSERT_EQUAL(r, 0);
        n++;
    }
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(sl_jscan_end(&j), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(ids[0], 12);
    CU_ASSERT_EQUAL(ids[1], -3);
    CU_ASSERT_STRING_EQUAL(urls[0], "t-shirts");
    CU_ASSERT_STRING_EQUAL(urls[1], "caf\xc3\xa9");
}

static void test_strings(void)
{
    const char *t = "\"a\\n\\t\\/\\\\\\ud83d\\ude00z\"";
    sl_jscan j;
    char buf[32];
    size_t n;
    sl_jscan_init(&j, t, strlen(t));
    CU_ASSERT_EQUAL(sl_jscan_string(&j, buf, sizeof buf, &n), 0);
    CU_ASSERT_EQUAL(n, 10);
    CU_ASSERT_EQUAL(memcmp(buf, "a\n\t/\\\xf0\x9f\x98\x80z", 10), 0);
    /* too long for the buffer: left to skip */
    sl_jscan_init(&j, "\"abcdef\"", 8);
    CU_ASSERT_EQUAL(sl_jscan_string(&j, buf, 4, &n), 1);
    CU_ASSERT_EQUAL(sl_jscan_skip(&j, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sl_jscan_end(&j), 0);
    /* a key too long for the buffer is consumed, with its ':' */
    sl_jscan_init(&j, "{\"longer-key\": 1}", 17);
    CU_ASSERT_EQUAL(sl_jscan_enter(&j, '{'), 0);
    CU_ASSERT_EQUAL(sl_jscan_more(&j, '}'), 1);
    CU_ASSERT_EQUAL(sl_jscan_key(&j, buf, 4, &n), 1);
    CU_ASSERT_STRING_EQUAL(buf, "");
    CU_ASSERT_EQUAL(sl_jscan_skip(&j, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sl_jscan_more(&j, '}'), 0);
    /* not a string: nothing consumed */
    sl_jscan_init(&j, " 12", 3);
    CU_ASSERT_EQUAL(sl_jscan_string(&j, buf, sizeof buf, &n), 1);
    int64_t v;
    CU_ASSERT_EQUAL(sl_jscan_int(&j, &v), 0);
    CU_ASSERT_EQUAL(v, 12);
}

static void test_ints(void)
{
    sl_jscan j;
    int64_t v = 0;
    sl_jscan_init(&j, "9223372036854775807", 19);
    CU_ASSERT_EQUAL(sl_jscan_int(&j, &v), 0);
    CU_ASSERT_EQUAL(v, INT64_MAX);
    sl_jscan_init(&j, "-9223372036854775808", 20);
    CU_ASSERT_EQUAL(sl_jscan_int(&j, &v), 0);
    CU_ASSERT_EQUAL(v, INT64_MIN);
    sl_jscan_init(&j, "9223372036854775808", 19);
    CU_ASSERT_EQUAL(sl_jscan_int(&j, &v), 1); /* a number, too big */
    sl_jscan_init(&j, "1.0", 3);
    CU_ASSERT_EQUAL(sl_jscan_int(&j, &v), 1);
    CU_ASSERT_EQUAL(sl_jscan_skip(&j, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sl_jscan_end(&j), 0);
    sl_jscan_init(&j, "\"7\"", 3);
    CU_ASSERT_EQUAL(sl_jscan_int(&j, &v), 1);
}

static void test_skip_raw(void)
{
    const char *t = "{\"a\": [1, {\"b\": \"]}\"}], \"c\": {}} tail";
    sl_jscan j;
    const char *raw;
    size_t n;
    sl_jscan_init(&j, t, strlen(t));
    CU_ASSERT_EQUAL(sl_jscan_skip(&j, &raw, &n), 0);
    CU_ASSERT_EQUAL(n, strlen(t) - 5);
    CU_ASSERT_EQUAL(raw, t);
    CU_ASSERT_EQUAL(sl_jscan_end(&j), -1);
}

static int bad(const char *t)
{
    sl_jscan j;
    sl_jscan_init(&j, t, strlen(t));
    return sl_jscan_skip(&j, NULL, NULL) < 0 || sl_jscan_end(&j) < 0;
}

static void test_malformed(void)
{
    static const char *cases[] = {
        "", "[", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "[1 2]", "\"x", "\"\\x\"",
        "\"\\ud800\"", "\"\\udc00\"", "01", "1.", "-", "tru", "nul", "[1]]", "{\"a\":1,}",
        "\"\x01\"", NULL,
    };
    for (int i = 0; cases[i]; i++)
        if (!bad(cases[i]))
            CU_FAIL(cases[i]);
    /* deep nesting is refused, not a stack overflow */
    size_t n = 5000;
    char *deep = malloc(2 * n + 1);
    CU_ASSERT_FATAL(deep != NULL);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = 0;
    CU_ASSERT(bad(deep));
    free(deep);
    char err[128];
    sl_jscan j;
    sl_jscan_init(&j, "[1,]", 4);
    CU_ASSERT_EQUAL(sl_jscan_skip(&j, NULL, NULL), -1);
    sl_jscan_error(&j, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at byte"));
    /* the array reader sees the same problems */
    sl_jscan_init(&j, "[1,]", 4);
    CU_ASSERT_EQUAL(sl_jscan_enter(&j, '['), 0);
    CU_ASSERT_EQUAL(sl_jscan_more(&j, ']'), 1);
    CU_ASSERT_EQUAL(sl_jscan_skip(&j, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sl_jscan_more(&j, ']'), -1);
    sl_jscan_init(&j, "{}", 2);
    CU_ASSERT_EQUAL(sl_jscan_enter(&j, '['), -1);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"an array of page objects: ids, urls, skipped members", test_pages_array},
        {"strings: escapes, surrogate pairs, too long, not a string", test_strings},
        {"integers: range, fractions, strings", test_ints},
        {"skip returns the raw text", test_skip_raw},
        {"malformed text and deep nesting are errors", test_malformed},
        {NULL, NULL},
    };
    return sl_test_run("jscan", cases);
}
