/* Unit tests for lib/json.c: strings, numbers, values, event lines. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sluice/event.h"
#include "sluice/json.h"

/* JSON of the string s (n bytes), compared with the expected text. */
static void expect_str(const char *s, size_t n, const char *want)
{
    sl_buf b = {0};
    CU_ASSERT_EQUAL_FATAL(sl_json_str(&b, s, n), 0);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) {
        fprintf(stderr, "\n got: %.*s\nwant: %s\n", (int)b.len, b.data, want);
        CU_FAIL("json string mismatch");
    }
    sl_buf_free(&b);
}

#define EXPECT_STR(lit, want) expect_str(lit, sizeof(lit) - 1, want)

/* JSON of the msgpack bytes (one value), compared with the expected text. */
static void expect_json(const void *bytes, size_t n, const char *want)
{
    uint8_t *d = malloc(n);
    CU_ASSERT_FATAL(d != NULL);
    memcpy(d, bytes, n);
    const uint8_t *p = d;
    sl_value v;
    sl_buf b = {0};
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, d + n, &v), 0);
    int r = sl_json_value(&b, &v);
    CU_ASSERT_EQUAL(r, 0);
    if (r != 0 || b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) {
        fprintf(stderr, "\n got: %.*s\nwant: %s\n", (int)b.len, b.data ? b.data : "", want);
        CU_FAIL("json value mismatch");
    }
    sl_buf_free(&b);
    free(d);
}

#define EXPECT_JSON(lit, want) expect_json(lit, sizeof(lit) - 1, want)

/* ------------------------------------------------------------------ */

static void test_buf(void)
{
    sl_buf b = {0};
    CU_ASSERT_EQUAL(sl_buf_puts(&b, "abc"), 0);
    CU_ASSERT_EQUAL(sl_buf_append(&b, "\0d", 2), 0);
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT(memcmp(b.data, "abc\0d", 5) == 0);
    CU_ASSERT_EQUAL(sl_buf_append(&b, NULL, 0), 0);
    for (int i = 0; i < 10000; i++)
        CU_ASSERT_EQUAL_FATAL(sl_buf_puts(&b, "0123456789"), 0);
    CU_ASSERT_EQUAL(b.len, 100005);
    CU_ASSERT(b.cap >= b.len);
    CU_ASSERT_EQUAL(sl_buf_reserve(&b, SIZE_MAX), -1);
    sl_buf_free(&b);
    CU_ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void test_escapes(void)
{
    EXPECT_STR("", "\"\"");
    EXPECT_STR("plain ascii / ok", "\"plain ascii / ok\"");
    EXPECT_STR("\"q\" \\b", "\"\\\"q\\\" \\\\b\"");
    EXPECT_STR("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    EXPECT_STR("\x00\x01\x1f\x0b", "\"\\u0000\\u0001\\u001f\\u000b\"");
    EXPECT_STR("del\x7f", "\"del\x7f\"");
    EXPECT_STR("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "\"a\\u2028b\\u2029c\"");
    EXPECT_STR("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\""); /* neighbours kept */
}

static void test_valid_utf8_kept(void)
{
    EXPECT_STR("caf\xc3\xa9", "\"caf\xc3\xa9\"");                       /* U+00E9 */
    EXPECT_STR("\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");             /* U+0080, U+07FF */
    EXPECT_STR("\xe0\xa0\x80\xef\xbf\xbf", "\"\xe0\xa0\x80\xef\xbf\xbf\""); /* U+0800, U+FFFF */
    EXPECT_STR("\xed\x9f\xbf\xee\x80\x80", "\"\xed\x9f\xbf\xee\x80\x80\""); /* around surrogates */
    EXPECT_STR("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""); /* U+10000, U+10FFFF */
    EXPECT_STR("\xf0\x9f\x98\x80!", "\"\xf0\x9f\x98\x80!\"");           /* emoji */
}

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8(void)
{
    /* overlongs */
    EXPECT_STR("\xc0\xaf", "\"" FFFD FFFD "\"");
    EXPECT_STR("\xc1\xbf", "\"" FFFD FFFD "\"");
    EXPECT_STR("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
    EXPECT_STR("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
    /* surrogates D800..DFFF */
    EXPECT_STR("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
    EXPECT_STR("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");
    /* above U+10FFFF and bytes that never appear */
    EXPECT_STR("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    EXPECT_STR("\xf5\x80", "\"" FFFD FFFD "\"");
    EXPECT_STR("\xff\xfe", "\"" FFFD FFFD "\"");
    /* truncated sequences: the valid prefix becomes one U+FFFD */
    EXPECT_STR("a\xc3", "\"a" FFFD "\"");
    EXPECT_STR("a\xe2\x82", "\"a" FFFD "\"");
    EXPECT_STR("\xf0\x9f\x98", "\"" FFFD "\"");
    EXPECT_STR("\xe2\x82z", "\"" FFFD "z\"");
    EXPECT_STR("\xf0\x9f\x98\"", "\"" FFFD "\\\"\"");
    EXPECT_STR("\xe2\x80", "\"" FFFD "\""); /* truncated U+2028 */
    /* stray continuation bytes */
    EXPECT_STR("\x80", "\"" FFFD "\"");
    EXPECT_STR("a\x80\xbf" "b", "\"a" FFFD FFFD "b\"");
    /* valid after invalid is kept */
    EXPECT_STR("\xc3\xc3\xa9", "\"" FFFD "\xc3\xa9\"");
}

static void test_ints_exact(void)
{
    EXPECT_JSON("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "18446744073709551615");
    EXPECT_JSON("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "-9223372036854775808");
    EXPECT_JSON("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", "9223372036854775807");
    EXPECT_JSON("\x00", "0");
    EXPECT_JSON("\xff", "-1");
    EXPECT_JSON("\xcc\xc8", "200");
}

static void test_floats(void)
{
    EXPECT_JSON("\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", "0.1");         /* shortest round trip */
    EXPECT_JSON("\xcb\x40\x08\x00\x00\x00\x00\x00\x00", "3.0");         /* integral keeps ".0" */
    EXPECT_JSON("\xcb\xbf\xf8\x00\x00\x00\x00\x00\x00", "-1.5");
    EXPECT_JSON("\xcb\x7e\x37\xe4\x3c\x88\x00\x75\x9c", "1e+300");      /* valid JSON exponent */
    EXPECT_JSON("\xcb\x00\x00\x00\x00\x00\x00\x00\x01", "4.94065645841247e-324"); /* reads back exactly */
    EXPECT_JSON("\xcb\x80\x00\x00\x00\x00\x00\x00\x00", "-0.0");
    EXPECT_JSON("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", "null");        /* NaN */
    EXPECT_JSON("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", "null");        /* +Inf */
    EXPECT_JSON("\xcb\xff\xf0\x00\x00\x00\x00\x00\x00", "null");        /* -Inf */
    EXPECT_JSON("\xca\x3d\xcc\xcc\xcd", "0.1");                         /* float32 0.1 */
    EXPECT_JSON("\xca\x7f\xc0\x00\x00", "null");                        /* float32 NaN */
    EXPECT_JSON("\xcb\x43\x30\x00\x00\x00\x00\x00\x00", "4503599627370496.0"); /* 2^52 */
    EXPECT_JSON("\xcb\x44\x30\x00\x00\x00\x00\x00\x00", "2.9514790517935283e+20"); /* 2^68 */
}

static void test_scalars_and_ext(void)
{
    EXPECT_JSON("\xc0", "null");
    EXPECT_JSON("\xc2", "false");
    EXPECT_JSON("\xc3", "true");
    EXPECT_JSON("\xa5hello", "\"hello\"");
    EXPECT_JSON("\xc4\x03" "a\0\xff", "\"a\\u0000" FFFD "\"");  /* bin as string */
    EXPECT_JSON("\xd4\x05" "a", "null");                       /* other extension */
    EXPECT_JSON("\xd6\xff\x00\x00\x00\x00", "\"1970-01-01T00:00:00.000000000Z\"");
    /* 8-byte: nsec 1, sec 2 */
    EXPECT_JSON("\xd7\xff\x00\x00\x00\x04\x00\x00\x00\x02", "\"1970-01-01T00:00:02.000000001Z\"");
    /* 12-byte: nsec 5, sec -2 */
    EXPECT_JSON("\xc7\x0c\xff\x00\x00\x00\x05\xff\xff\xff\xff\xff\xff\xff\xfe",
                "\"1969-12-31T23:59:58.000000005Z\"");
    /* timestamp with nsec >= 1e9, or a bad size: null */
    EXPECT_JSON("\xd7\xff\xee\x6b\x28\x00\x00\x00\x00\x01", "null");
    EXPECT_JSON("\xd5\xff\x00\x01", "null");
}

static void test_nested(void)
{
    /* {"a":[1,{"b":null}],"c":{}} */
    EXPECT_JSON("\x82\xa1" "a\x92\x01\x81\xa1" "b\xc0\xa1" "c\x80", "{\"a\":[1,{\"b\":null}],\"c\":{}}");
    EXPECT_JSON("\x90", "[]");
    EXPECT_JSON("\x80", "{}");
    /* non-string keys: their JSON text, quoted */
    EXPECT_JSON("\x84\x01\xc3\xc0\x00\xc3\x01\x92\x01\xa1x\x02", "{\"1\":true,\"null\":0,\"true\":1,\"[1,\\\"x\\\"]\":2}");
    EXPECT_JSON("\x81\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\x01", "{\"1.5\":1}");
    EXPECT_JSON("\x81\xa2k\n\x01", "{\"k\\n\":1}");
}

/* n nested arrays around a 1. */
static uint8_t *nest(size_t n)
{
    uint8_t *d = malloc(n + 1);
    CU_ASSERT_FATAL(d != NULL);
    memset(d, 0x91, n);
    d[n] = 0x01;
    return d;
}

static void test_depth_limit(void)
{
    sl_buf b = {0};
    sl_value v;
    uint8_t *d = nest(100);
    const uint8_t *p = d;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, d + 101, &v), 0);
    CU_ASSERT_EQUAL(sl_json_value(&b, &v), 0); /* 100 levels: fine */
    CU_ASSERT_EQUAL(b.len, 201);
    free(d);

    CU_ASSERT_EQUAL(sl_buf_puts(&b, "keep"), 0);
    size_t before = b.len;
    d = nest(101);
    p = d;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, d + 102, &v), 0);
    CU_ASSERT_EQUAL(sl_json_value(&b, &v), -1); /* 101 levels: refused */
    CU_ASSERT_EQUAL(b.len, before);             /* and nothing half-written */
    free(d);

    /* Same limit through map keys. */
    d = nest(101);
    uint8_t *m = malloc(104);
    CU_ASSERT_FATAL(m != NULL);
    m[0] = 0x81;
    memcpy(m + 1, d, 102);
    m[103] = 0xc0;
    p = m;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, m + 104, &v), 0);
    CU_ASSERT_EQUAL(sl_json_value(&b, &v), -1);
    free(m);
    free(d);

    /* Keys inside keys: 4 levels of non-string keys are written, the 5th
     * is refused, so a tiny input cannot double its escaping 100 times. */
    uint8_t k[16];
    for (int levels = 1; levels <= 6; levels++) {
        memset(k, 0x81, (size_t)levels); /* {{{...: 0}: 0}: 0} */
        k[levels] = 0xa0;
        memset(k + levels + 1, 0x00, (size_t)levels);
        p = k;
        CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, k + 2 * levels + 1, &v), 0);
        b.len = 0;
        CU_ASSERT_EQUAL(sl_json_value(&b, &v), levels <= 5 ? 0 : -1);
    }
    b.len = 0;
    memset(k, 0x81, 2);
    k[2] = 0xa0;
    memset(k + 3, 0x00, 2);
    p = k;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, k + 5, &v), 0);
    CU_ASSERT_EQUAL(sl_json_value(&b, &v), 0);
    CU_ASSERT(b.len == 14 && memcmp(b.data, "{\"{\\\"\\\":0}\":0}", 14) == 0);
    sl_buf_free(&b);
}

static void test_malformed_value(void)
{
    /* A hand-made array value claiming more items than its bytes hold. */
    static const uint8_t bytes[] = {0x93, 0x01, 0x02};
    sl_value v = {.type = SL_ARRAY, .raw = bytes, .raw_len = sizeof bytes};
    v.v.n = 3;
    sl_buf b = {0};
    CU_ASSERT_EQUAL(sl_json_value(&b, &v), -1);
    CU_ASSERT_EQUAL(b.len, 0);
    sl_buf_free(&b);
}

static void test_rfc3339(void)
{
    static const struct { int64_t ns; const char *want; } cases[] = {
        {0, "1970-01-01T00:00:00.000000000Z"},
        {1764428231123456789LL, "2025-11-29T14:57:11.123456789Z"},
        {-1, "1969-12-31T23:59:59.999999999Z"},
        {-1000000000LL, "1969-12-31T23:59:59.000000000Z"},
        {-1500000000LL, "1969-12-31T23:59:58.500000000Z"},
        {INT64_MAX, "2262-04-11T23:47:16.854775807Z"},
        {INT64_MIN, "1677-09-21T00:12:43.145224192Z"},
        {951782400LL * 1000000000LL, "2000-02-29T00:00:00.000000000Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_buf b = {0};
        CU_ASSERT_EQUAL(sl_json_rfc3339(&b, cases[i].ns), 0);
        CU_ASSERT(b.len == strlen(cases[i].want) && memcmp(b.data, cases[i].want, b.len) == 0);
        if (b.len != strlen(cases[i].want) || memcmp(b.data, cases[i].want, b.len) != 0)
            fprintf(stderr, "\n got: %.*s\nwant: %s\n", (int)b.len, b.data, cases[i].want);
        sl_buf_free(&b);
    }
}

static void test_time_format_parse(void)
{
    sl_time_format f = SL_TIME_UNIX;
    CU_ASSERT(sl_time_format_parse("rfc3339", &f) == 0 && f == SL_TIME_RFC3339);
    CU_ASSERT(sl_time_format_parse("iso8601", &f) == 0 && f == SL_TIME_RFC3339);
    CU_ASSERT(sl_time_format_parse("unix", &f) == 0 && f == SL_TIME_UNIX);
    CU_ASSERT(sl_time_format_parse("unix_ms", &f) == 0 && f == SL_TIME_UNIX_MS);
    CU_ASSERT(sl_time_format_parse("unix_ns", &f) == 0 && f == SL_TIME_UNIX_NS);
    CU_ASSERT_EQUAL(sl_time_format_parse("unix_us", &f), -1);
    CU_ASSERT_EQUAL(sl_time_format_parse("", &f), -1);
    CU_ASSERT_EQUAL(sl_time_format_parse(NULL, &f), -1);
}

/* ------------------------------------------------------------------ */
/* event lines                                                         */
/* ------------------------------------------------------------------ */

/* Builds one event with the given body bytes and renders its line. */
static void expect_line(int64_t ns, const void *body, size_t blen, const char *key,
                        sl_time_format fmt, const char *want)
{
    sl_builder *bb = sl_bb_new();
    sl_bb_begin(bb, ns);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "source");
    sl_bb_cstr(bb, "x");
    CU_ASSERT_EQUAL(sl_bb_raw(bb, body, blen, 1), 0);
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    sl_buf out = {0};
    CU_ASSERT_EQUAL(sl_json_event_line(&out, &ev, key, fmt), 0);
    if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0) {
        fprintf(stderr, "\n got: %.*s\nwant: %s\n", (int)out.len, out.data ? out.data : "", want);
        CU_FAIL("event line mismatch");
    }
    sl_buf_free(&out);
    sl_bb_free(bb);
}

#define BODY "\x82\xa7message\xa2hi\xa1n\x05"
#define T 1764428231123456789LL

static void test_event_line_formats(void)
{
    expect_line(T, BODY, sizeof BODY - 1, "time", SL_TIME_RFC3339,
                "{\"time\":\"2025-11-29T14:57:11.123456789Z\",\"message\":\"hi\",\"n\":5}\n");
    expect_line(T, BODY, sizeof BODY - 1, "time", SL_TIME_UNIX,
                "{\"time\":1764428231.123456789,\"message\":\"hi\",\"n\":5}\n");
    expect_line(T, BODY, sizeof BODY - 1, "ts", SL_TIME_UNIX_MS,
                "{\"ts\":1764428231123,\"message\":\"hi\",\"n\":5}\n");
    expect_line(T, BODY, sizeof BODY - 1, "@t", SL_TIME_UNIX_NS,
                "{\"@t\":1764428231123456789,\"message\":\"hi\",\"n\":5}\n");
    /* negative times */
    expect_line(-1, BODY, sizeof BODY - 1, "t", SL_TIME_UNIX,
                "{\"t\":-0.000000001,\"message\":\"hi\",\"n\":5}\n");
    expect_line(-1500000000LL, BODY, sizeof BODY - 1, "t", SL_TIME_UNIX,
                "{\"t\":-1.500000000,\"message\":\"hi\",\"n\":5}\n");
    expect_line(-1, BODY, sizeof BODY - 1, "t", SL_TIME_UNIX_MS,
                "{\"t\":-1,\"message\":\"hi\",\"n\":5}\n");
    expect_line(-1, BODY, sizeof BODY - 1, "t", SL_TIME_RFC3339,
                "{\"t\":\"1969-12-31T23:59:59.999999999Z\",\"message\":\"hi\",\"n\":5}\n");
    expect_line(INT64_MIN, BODY, sizeof BODY - 1, "t", SL_TIME_UNIX,
                "{\"t\":-9223372036.854775808,\"message\":\"hi\",\"n\":5}\n");
}

static void test_event_line_time_key(void)
{
    /* no key: no time */
    expect_line(T, BODY, sizeof BODY - 1, NULL, SL_TIME_RFC3339, "{\"message\":\"hi\",\"n\":5}\n");
    expect_line(T, BODY, sizeof BODY - 1, "", SL_TIME_RFC3339, "{\"message\":\"hi\",\"n\":5}\n");
    /* the body already has the key: the body wins, no duplicate */
    expect_line(T, BODY, sizeof BODY - 1, "message", SL_TIME_RFC3339,
                "{\"message\":\"hi\",\"n\":5}\n");
    /* an empty body */
    expect_line(T, "\x80", 1, "time", SL_TIME_UNIX_NS, "{\"time\":1764428231123456789}\n");
    expect_line(T, "\x80", 1, NULL, SL_TIME_UNIX_NS, "{}\n");
    /* a key needing escapes */
    expect_line(0, "\x80", 1, "t\"", SL_TIME_UNIX_NS, "{\"t\\\"\":0}\n");
    /* strings in the body are escaped and sanitised */
    expect_line(0, "\x81\xa1m\xa3\n\xff\"", 7, NULL, SL_TIME_UNIX,
                "{\"m\":\"\\n" FFFD "\\\"\"}\n");
}

static void test_event_line_non_map_body(void)
{
    /* sl_event_parse never yields this, but a hand-made event may. */
    static const uint8_t body[] = {0x92, 0x01, 0x02};
    sl_event ev = {0};
    ev.time_ns = 0;
    ev.body.type = SL_ARRAY;
    ev.body.raw = body;
    ev.body.raw_len = sizeof body;
    ev.body.v.n = 2;
    sl_buf out = {0};
    CU_ASSERT_EQUAL(sl_json_event_line(&out, &ev, "t", SL_TIME_UNIX_NS), 0);
    const char *want = "{\"t\":0,\"body\":[1,2]}\n";
    CU_ASSERT(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0);
    /* a malformed body fails and leaves the buffer as it was */
    size_t before = out.len;
    ev.body.v.n = 3;
    CU_ASSERT_EQUAL(sl_json_event_line(&out, &ev, "t", SL_TIME_UNIX_NS), -1);
    CU_ASSERT_EQUAL(out.len, before);
    sl_buf_free(&out);
}

/* A batch: good event, an event nested too deep to encode, good event. */
static void test_batch_lines(void)
{
    sl_builder *bb = sl_bb_new();
    for (int k = 0; k < 3; k++) {
        sl_bb_begin(bb, 1000000000LL * (k + 1));
        sl_bb_map(bb, 0);
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "v");
        if (k == 1) {
            for (int d = 0; d < 150; d++)
                sl_bb_array(bb, 1);
            sl_bb_nil(bb);
        } else {
            sl_bb_int(bb, k);
        }
        CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    }
    sl_batch b = sl_bb_batch(bb);
    sl_buf out = {0};
    uint32_t skipped = 99;
    CU_ASSERT_EQUAL(sl_json_batch_lines(&out, &b, "", SL_TIME_UNIX_MS, &skipped), 2);
    CU_ASSERT_EQUAL(skipped, 1);
    sl_buf_append(&out, "", 1);
    CU_ASSERT_STRING_EQUAL(out.data, "{\"v\":0}\n{\"v\":2}\n");
    /* Cut into the third event: the first two are written, one is skipped. */
    out.len = 0;
    b.len -= 2;
    CU_ASSERT_EQUAL(sl_json_batch_lines(&out, &b, "t", SL_TIME_UNIX_MS, &skipped), 1);
    CU_ASSERT_EQUAL(skipped, 2);
    sl_buf_free(&out);
    sl_bb_free(bb);
}

/* encodable: the nesting limits without allocating. */
static void test_encodable(void)
{
    sl_builder *sb = sl_bb_new();
    size_t len;
    for (int depth = 99; depth <= 101; depth++) {
        sl_bb_reset(sb);
        for (int d = 0; d < depth; d++)
            sl_bb_array(sb, 1);
        sl_bb_nil(sb);
        const uint8_t *p = sl_bb_data(sb, &len);
        sl_value v;
        CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, p + len, &v), 0);
        sl_buf out = {0};
        int enc = sl_json_value(&out, &v) == 0;
        CU_ASSERT_EQUAL(sl_json_encodable(&v) != 0, enc);
        CU_ASSERT_EQUAL(enc, depth <= 100);
        sl_buf_free(&out);
    }
    /* a map key that is a map inside a map key ... five times: refused */
    sl_bb_reset(sb);
    for (int d = 0; d < 5; d++)
        sl_bb_map(sb, 1);
    sl_bb_int(sb, 1);
    for (int d = 0; d < 5; d++)
        sl_bb_int(sb, 2);
    const uint8_t *p = sl_bb_data(sb, &len);
    sl_value v;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, p + len, &v), 0);
    sl_buf out = {0};
    CU_ASSERT_EQUAL(sl_json_value(&out, &v), -1);
    CU_ASSERT_FALSE(sl_json_encodable(&v));
    sl_buf_free(&out);
    sl_bb_free(sb);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"buf", test_buf},
        {"batch_lines", test_batch_lines},
        {"encodable", test_encodable},
        {"escapes", test_escapes},
        {"valid_utf8_kept", test_valid_utf8_kept},
        {"invalid_utf8_replaced", test_invalid_utf8},
        {"ints_exact", test_ints_exact},
        {"floats", test_floats},
        {"scalars_and_ext", test_scalars_and_ext},
        {"nested_and_keys", test_nested},
        {"depth_limit", test_depth_limit},
        {"malformed_value", test_malformed_value},
        {"rfc3339", test_rfc3339},
        {"time_format_parse", test_time_format_parse},
        {"event_line_formats", test_event_line_formats},
        {"event_line_time_key", test_event_line_time_key},
        {"event_line_non_map_body", test_event_line_non_map_body},
        {0},
    };
    return sl_test_run("json", cases);
}
