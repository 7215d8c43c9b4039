/* Tap rendering: secrets masked at every depth, extra words, the rate budget. */
#include <string.h>

#include "sl_test.h"
#include "tap.h"

/* {meta: {source: t}, body: {user: {session_token: abc, name: n},
 *  list: [{jwt: x}], http_cookie: c, query: {token: q}, ssn: 1, ok: 2}} */
static sl_builder *nested(void)
{
    sl_builder *bb = sl_bb_new();
    sl_bb_begin(bb, 0);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "source");
    sl_bb_cstr(bb, "t");
    sl_bb_map(bb, 6);
    sl_bb_cstr(bb, "user");
    sl_bb_map(bb, 2);
    sl_bb_cstr(bb, "session_token");
    sl_bb_cstr(bb, "abc");
    sl_bb_cstr(bb, "name");
    sl_bb_cstr(bb, "n");
    sl_bb_cstr(bb, "list");
    sl_bb_array(bb, 1);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "jwt");
    sl_bb_cstr(bb, "x");
    sl_bb_cstr(bb, "http_cookie");
    sl_bb_cstr(bb, "c");
    sl_bb_cstr(bb, "query");
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "token");
    sl_bb_cstr(bb, "q");
    sl_bb_cstr(bb, "ssn");
    sl_bb_int(bb, 1);
    sl_bb_cstr(bb, "ok");
    sl_bb_int(bb, 2);
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    return bb;
}

static void test_nested_masks(void)
{
    sl_builder *bb = nested();
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    sl_buf out = {0};
    static const char *const extra[] = {"ssn", NULL};
    CU_ASSERT_EQUAL(sl_tap_render(&out, &ev, extra), 0);
    CU_ASSERT_EQUAL(sl_buf_append(&out, "", 1), 0);
    CU_ASSERT_STRING_EQUAL(out.data,
        "{\"time\":\"1970-01-01T00:00:00.000000000Z\",\"meta\":{\"source\":\"t\"},"
        "\"body\":{\"user\":{\"session_token\":\"***\",\"name\":\"n\"},"
        "\"list\":[{\"jwt\":\"***\"}],\"http_cookie\":\"***\",\"query\":{\"token\":\"***\"},"
        "\"ssn\":\"***\",\"ok\":2}}\n");
    sl_buf_free(&out);
    sl_bb_free(bb);
}

static void test_rate_budget(void)
{
    sl_taps t;
    sl_taps_init(&t);
    sl_tap *tap = sl_tap_open(&t, 1, 0, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tap);
    sl_builder *bb = sl_bb_new();
    for (int i = 0; i < 50; i++) {
        sl_bb_begin(bb, 0);
        sl_bb_map(bb, 0);
        sl_bb_map(bb, 0);
        sl_bb_end(bb);
    }
    sl_batch b = sl_bb_batch(bb);
    sl_taps_publish(&t, &b);
    char buf[8192];
    long n = sl_tap_read(&t, tap, buf, sizeof buf - 1, 0);
    CU_ASSERT_FATAL(n > 0);
    buf[n] = '\0';
    int lines = 0;
    for (char *p = buf; (p = strchr(p, '\n')); p++)
        lines++;
    CU_ASSERT_EQUAL(lines, 5); /* 5 a second, however many are published */
    sl_tap_close(&t, tap);
    sl_taps_destroy(&t);
    sl_bb_free(bb);
}

static const sl_test_case cases[] = {
    {"secrets masked at every depth", test_nested_masks},
    {"a tap shows at most its rate", test_rate_budget},
    {0},
};

int main(void)
{
    return sl_test_run("tap", cases);
}
