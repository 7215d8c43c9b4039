/* sink_oneentry request building: validation reasons, exact JSON, identity. */
#include <string.h>

#include "oe_body.h"
#include "sl_test.h"

static sl_builder *bb;
static oe_request req;
static char why[256];
static const oe_keys keys = {"guest_id", "user_token"};

/* Body map of n string/int pairs given as a format: keys with "s" string or
 * "i" int values. Returns the parsed body. */
static sl_value body_of(int n, const char *const *k, const char *types, const char *const *sv,
                        const int64_t *iv)
{
    sl_bb_reset(bb);
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        sl_bb_cstr(bb, k[i]);
        if (types[i] == 's')
            sl_bb_cstr(bb, sv[i]);
        else
            sl_bb_int(bb, iv[i]);
    }
    CU_ASSERT_FATAL(sl_bb_end(bb) == 0);
    sl_batch b = sl_bb_batch(bb);
    const uint8_t *p = b.data;
    sl_event ev;
    CU_ASSERT_FATAL(sl_event_parse(&p, b.data + b.len, &ev) == 0);
    return ev.body;
}

static int build(sl_value body)
{
    why[0] = 0;
    return oe_build(&body, &keys, &req, why, sizeof why);
}

static const char *json(void)
{
    sl_buf_append(&req.json, "", 1);
    req.json.len--;
    return req.json.data;
}

static void test_product_view_guest(void)
{
    const char *k[] = {"type", "productId", "guest_id", "other"};
    const char *sv[] = {"product_view", NULL, "g-1", "x"};
    int64_t iv[] = {0, 42, 0, 0};
    CU_ASSERT_EQUAL(build(body_of(4, k, "siss", sv, iv)), 0);
    CU_ASSERT_STRING_EQUAL(json(), "{\"type\":\"product_view\",\"productId\":42}");
    CU_ASSERT_STRING_EQUAL(req.header.data, "x-guest-id: g-1");
    CU_ASSERT_EQUAL(req.is_user, 0);
}

static void test_user_token_wins_and_is_not_in_body(void)
{
    const char *k[] = {"guest_id", "type", "query", "user_token"};
    const char *sv[] = {"g", "search", "iphone \"case\"\n\x01", "tok"};
    CU_ASSERT_EQUAL(build(body_of(4, k, "ssss", sv, (int64_t[]){0, 0, 0, 0})), 0);
    CU_ASSERT_STRING_EQUAL(json(), "{\"type\":\"search\",\"query\":\"iphone \\\"case\\\"\\n\\u0001\"}");
    CU_ASSERT_STRING_EQUAL(req.header.data, "Authorization: Bearer tok");
    CU_ASSERT_EQUAL(req.is_user, 1);
}

static void test_numbers_big_negative_and_strings(void)
{
    const char *k[] = {"type", "pageId", "categoryId", "guest_id"};
    const char *sv[] = {"category_view", "9007199254740993", NULL, "g"};
    int64_t iv[] = {0, 0, -5, 0};
    CU_ASSERT_EQUAL(build(body_of(4, k, "ssis", sv, iv)), 0);
    CU_ASSERT_STRING_EQUAL(json(), "{\"type\":\"category_view\",\"pageId\":9007199254740993,"
                                   "\"categoryId\":-5}");
}

static void test_invalid_utf8_replaced(void)
{
    const char *k[] = {"type", "query", "guest_id"};
    const char *sv[] = {"search", "caf\xc3", "g"};
    CU_ASSERT_EQUAL(build(body_of(3, k, "sss", sv, (int64_t[]){0, 0, 0})), 0);
    CU_ASSERT_STRING_EQUAL(json(), "{\"type\":\"search\",\"query\":\"caf\xef\xbf\xbd\"}");
}

static void expect_reject(int n, const char *const *k, const char *t, const char *const *sv,
                          const int64_t *iv, const char *reason)
{
    CU_ASSERT_EQUAL(build(body_of(n, k, t, sv, iv)), 1);
    if (!strstr(why, reason))
        fprintf(stderr, "\nreason '%s' lacks '%s'\n", why, reason);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, reason));
}

static void test_rejections(void)
{
    int64_t z[4] = {0, 0, 0, 0};
    expect_reject(2, (const char *[]){"type", "guest_id"}, "ss",
                  (const char *[]){"bogus", "g"}, z, "unknown type \"bogus\"");
    expect_reject(1, (const char *[]){"guest_id"}, "s", (const char *[]){"g"}, z, "missing type");
    expect_reject(2, (const char *[]){"type", "guest_id"}, "ss",
                  (const char *[]){"product_purchase", "g"}, z, "product_purchase without productId");
    expect_reject(2, (const char *[]){"type", "guest_id"}, "ss",
                  (const char *[]){"page_view", "g"}, z, "page_view without pageId");
    expect_reject(2, (const char *[]){"type", "guest_id"}, "ss",
                  (const char *[]){"search", "g"}, z, "search without query");
    expect_reject(3, (const char *[]){"type", "query", "guest_id"}, "sss",
                  (const char *[]){"search", "", "g"}, z, "not a non-empty string");
    expect_reject(2, (const char *[]){"type", "productId"}, "si",
                  (const char *[]){"product_view", NULL}, (int64_t[]){0, 1}, "no identity");
    expect_reject(3, (const char *[]){"type", "productId", "guest_id"}, "sss",
                  (const char *[]){"product_view", "abc", "g"}, z, "productId is not an integer");
    expect_reject(3, (const char *[]){"type", "productId", "guest_id"}, "sis",
                  (const char *[]){"product_view", NULL, "a\r\nX-Evil: 1"}, z, "identity");
    expect_reject(3, (const char *[]){"type", "meta", "guest_id"}, "sss",
                  (const char *[]){"page_view", "m", "g"}, z, "page_view without pageId");
}

static void test_meta_nested_and_renamed_keys(void)
{
    sl_bb_reset(bb);
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 4);
    sl_bb_cstr(bb, "type");
    sl_bb_cstr(bb, "page_view");
    sl_bb_cstr(bb, "pageId");
    sl_bb_uint(bb, 7);
    sl_bb_cstr(bb, "meta");
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "ab");
    sl_bb_array(bb, 2);
    sl_bb_bool(bb, 1);
    sl_bb_double(bb, 1.5);
    sl_bb_cstr(bb, "visitor");
    sl_bb_cstr(bb, "v9");
    CU_ASSERT_FATAL(sl_bb_end(bb) == 0);
    sl_batch b = sl_bb_batch(bb);
    const uint8_t *p = b.data;
    sl_event ev;
    CU_ASSERT_FATAL(sl_event_parse(&p, b.data + b.len, &ev) == 0);
    oe_keys renamed = {"visitor", "tok"};
    CU_ASSERT_EQUAL(oe_build(&ev.body, &renamed, &req, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(json(), "{\"type\":\"page_view\",\"pageId\":7,\"meta\":{\"ab\":[true,1.5]}}");
    CU_ASSERT_STRING_EQUAL(req.header.data, "x-guest-id: v9");
    /* The default key is now an ordinary (ignored) field: no identity. */
    CU_ASSERT_EQUAL(oe_build(&ev.body, &keys, &req, why, sizeof why), 1);
}

static void test_types(void)
{
    CU_ASSERT(oe_type_known("product_rating", 14));
    CU_ASSERT(oe_type_known("page_view", 9));
    CU_ASSERT(!oe_type_known("page_vie", 8));
    CU_ASSERT(!oe_type_known("", 0));
}

int main(void)
{
    bb = sl_bb_new();
    if (!bb)
        return 1;
    static const sl_test_case cases[] = {
        {"product view with guest id", test_product_view_guest},
        {"user token wins, never in body", test_user_token_wins_and_is_not_in_body},
        {"numbers: big, negative, decimal strings", test_numbers_big_negative_and_strings},
        {"invalid UTF-8 replaced", test_invalid_utf8_replaced},
        {"every rejection names its reason", test_rejections},
        {"nested meta and renamed identity keys", test_meta_nested_and_renamed_keys},
        {"the ten types", test_types},
        {NULL, NULL},
    };
    int rc = sl_test_run("oneentry_body", cases);
    oe_request_free(&req);
    sl_bb_free(bb);
    return rc;
}
