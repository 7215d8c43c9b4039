/* enricher_parse: time formats, percent-decoding, unescaping, JSON limits. */
#include <stdio.h>
#include <string.h>

#include "clf.h"
#include "jsonmp.h"
#include "parse_util.h"
#include "ptime.h"
#include "sl_test.h"
#include "urlq.h"

#define NS 1000000000LL

static void test_time_formats(void)
{
    static const struct { const char *fmt, *text; int ok; int64_t ns; } cases[] = {
        {"auto", "10/Oct/2000:13:55:36 -0700", 1, 971211336LL * NS},
        {"clf", "29/Feb/2024:23:59:60 +0000", 1, 1709251200LL * NS},
        {"clf", "29/Feb/2023:00:00:00 +0000", 0, 0},
        {"clf", "10/Oct/2000:13:55:36 -07", 0, 0},
        {"clf", "10/Oct/2000:24:00:00 +0000", 0, 0},
        {"auto", "1970-01-01T00:00:00Z", 1, 0},
        {"iso8601", "2024-03-01 12:00:00.5+05:30", 1, (1709294400LL - 19800) * NS + 500000000},
        {"iso8601", "2024-03-01T12:00:00.123456789-0100", 1, (1709294400LL + 3600) * NS + 123456789},
        {"iso8601", "2024-03-01T12:00:00", 1, 1709294400LL * NS},
        {"iso8601", "2024-03-01T12:00:00+25:00", 0, 0},
        {"iso8601", "2024-13-01T12:00:00Z", 0, 0},
        {"iso8601", "2024-03-01T12:00:00Zjunk", 0, 0},
        {"auto", "1709294400", 1, 1709294400LL * NS},
        {"auto", "1709294400.25", 1, 1709294400LL * NS + 250000000},
        {"auto", "1709294400123", 1, 1709294400123LL * 1000000},
        {"epoch", "17092944001230", 0, 0}, /* would overflow int64 ns */
        {"epoch_ms", "1709294400123", 1, 1709294400123LL * 1000000},
        {"epoch", "12x", 0, 0},
        {"epoch", "", 0, 0},
        {"%Y/%m/%d %H:%M:%S %z", "2024/03/01 12:00:00 +0100", 1, (1709294400LL - 3600) * NS},
        {"%Y/%m/%d", "2024/03/01 extra", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ptime_fmt f;
        int64_t ns = -1;
        CU_ASSERT_EQUAL_FATAL(ptime_fmt_parse(cases[i].fmt, &f), 0);
        int rc = ptime_parse(&f, cases[i].text, strlen(cases[i].text), &ns);
        if ((rc == 0) != cases[i].ok || (rc == 0 && ns != cases[i].ns)) {
            fprintf(stderr, "\n%s '%s': rc %d ns %lld want ok=%d %lld\n", cases[i].fmt,
                    cases[i].text, rc, (long long)ns, cases[i].ok, (long long)cases[i].ns);
            CU_FAIL("time case");
        }
    }
    ptime_fmt f;
    CU_ASSERT_EQUAL(ptime_fmt_parse("yesterday", &f), -1);
    CU_ASSERT_EQUAL(ptime_civil_to_epoch(1969, 12, 31, 23, 59, 59), -1);
}

static void expect_decode(const char *in, int plus, const char *want, size_t want_len)
{
    char out[64];
    size_t n = urlq_decode(in, strlen(in), out, plus);
    if (n != want_len || memcmp(out, want, n) != 0) {
        fprintf(stderr, "\ndecode '%s' -> '%.*s' (%zu)\n", in, (int)n, out, n);
        CU_FAIL("percent decoding");
    }
}

static void test_percent(void)
{
    expect_decode("a%20b", 1, "a b", 3);
    expect_decode("a+b", 1, "a b", 3);
    expect_decode("a+b", 0, "a+b", 3);
    expect_decode("%zz", 1, "%zz", 3);
    expect_decode("%4", 1, "%4", 2);
    expect_decode("100%", 1, "100%", 4);
    expect_decode("%00x", 1, "\0x", 2);
    expect_decode("%E2%9C%93", 1, "\xe2\x9c\x93", 3);
    expect_decode("%e2%9c%93", 1, "\xe2\x9c\x93", 3);
    expect_decode("%ff%fe", 1, "\xff\xfe", 2);
    expect_decode("%2B%25", 1, "+%", 2);
    expect_decode("", 1, "", 0);
}

static void expect_query(const char *qs, const char *want)
{
    pf_out o;
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(urlq_query_field(&o, "query", qs, strlen(qs)), 0);
    char *got = fields_json(&o);
    if (!got || strcmp(got, want) != 0) {
        fprintf(stderr, "\nquery '%s'\n got %s\nwant %s\n", qs, got ? got : "-", want);
        CU_FAIL("query map");
    }
    free(got);
    pf_free(&o);
}

static void test_query_map(void)
{
    expect_query("", "{\"query\":{}}");
    expect_query("a=1&b=2", "{\"query\":{\"a\":\"1\",\"b\":\"2\"}}");
    expect_query("a=1&a=2&b&a=3", "{\"query\":{\"a\":[\"1\",\"2\",\"3\"],\"b\":\"\"}}");
    expect_query("q=iphone+case%21&&=x", "{\"query\":{\"q\":\"iphone case!\",\"\":\"x\"}}");
    expect_query("k%3D=v%26w", "{\"query\":{\"k=\":\"v&w\"}}");
    expect_query("x=%zz&y=%00", "{\"query\":{\"x\":\"%zz\",\"y\":\"\\u0000\"}}");
    expect_query("bad=%C3%28", "{\"query\":{\"bad\":\"\xef\xbf\xbd(\"}}"); /* invalid UTF-8 -> U+FFFD in JSON */
}

static void expect_request(const char *line, const char *want)
{
    pf_out o;
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    int r = urlq_request(&o, line, strlen(line));
    char *got = r == 0 ? fields_json(&o) : NULL;
    const char *g = r == 1 ? "not a request" : got ? got : "-";
    if (strcmp(g, want) != 0) {
        fprintf(stderr, "\nrequest '%s'\n got %s\nwant %s\n", line, g, want);
        CU_FAIL("request split");
    }
    free(got);
    pf_free(&o);
}

static void test_request_lines(void)
{
    expect_request("GET / HTTP/1.1", "{\"method\":\"GET\",\"path\":\"/\",\"protocol\":\"HTTP/1.1\"}");
    expect_request("GET /a?b=c HTTP/2.0",
                   "{\"method\":\"GET\",\"path\":\"/a\",\"query\":{\"b\":\"c\"},\"protocol\":\"HTTP/2.0\"}");
    expect_request("GET /legacy", "{\"method\":\"GET\",\"path\":\"/legacy\"}");
    expect_request("-", "not a request");
    expect_request("", "not a request");
    expect_request("get / HTTP/1.1", "not a request");
    expect_request("GET / FTP/1", "not a request");
    expect_request("GET /a b HTTP/1.1", "not a request");
    expect_request("GET  HTTP/1.1", "not a request");
}

static void test_unescape(void)
{
    static const struct { const char *in, *out; size_t n; } cases[] = {
        {"plain", "plain", 5},
        {"\\x22q\\x22", "\"q\"", 3},
        {"\\\"a\\\\b", "\"a\\b", 4},
        {"\\x0", "\\x0", 3},
        {"\\xzz", "\\xzz", 4},
        {"tab\\t", "tab\t", 4},
        {"end\\", "end\\", 4},
        {"\\x00", "\0", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        size_t n = clf_unescape(cases[i].in, strlen(cases[i].in), out);
        if (n != cases[i].n || memcmp(out, cases[i].out, n) != 0) {
            fprintf(stderr, "\nunescape '%s' -> '%.*s'\n", cases[i].in, (int)n, out);
            CU_FAIL("unescape");
        }
    }
}

static void test_json_limits(void)
{
    jsonmp j = {0};
    pf_out o;
    char err[200], deep[400];
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    /* depth 64 is accepted, 65 refused */
    for (int depth = 64; depth <= 65; depth++) {
        int n = sprintf(deep, "{\"a\":");
        for (int i = 1; i < depth; i++)
            n += sprintf(deep + n, "[");
        n += sprintf(deep + n, "1");
        for (int i = 1; i < depth; i++)
            n += sprintf(deep + n, "]");
        n += sprintf(deep + n, "}");
        pf_reset(&o);
        int rc = jsonmp_fields(&j, deep, (size_t)n, &o, err, sizeof err);
        CU_ASSERT_EQUAL(rc, depth <= JSONMP_MAX_DEPTH ? 0 : -1);
    }
    static const struct { const char *in; const char *want; } cases[] = {
        {"{\"n\":18446744073709551615,\"m\":-9223372036854775808,\"big\":1e400}",
         NULL /* ints exact; 1e400 is inf -> null in JSON */},
        {"{\"lone\":\"\\udc00\\ud800x\"}", "{\"lone\":\"\xef\xbf\xbd\xef\xbf\xbdx\"}"},
        {" {\"a\" : [ ] , \"b\":{}} \r", "{\"a\":[],\"b\":{}}"},
        {"{\"z\":\"\\u0000\"}", "{\"z\":\"\\u0000\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pf_reset(&o);
        CU_ASSERT_EQUAL_FATAL(jsonmp_fields(&j, cases[i].in, strlen(cases[i].in), &o, err,
                                            sizeof err), 0);
        char *got = fields_json(&o);
        const char *want = cases[i].want ? cases[i].want
            : "{\"n\":18446744073709551615,\"m\":-9223372036854775808,\"big\":null}";
        if (!got || strcmp(got, want) != 0) {
            fprintf(stderr, "\njson %s\n got %s\nwant %s\n", cases[i].in, got ? got : "-", want);
            CU_FAIL("json value");
        }
        free(got);
    }
    static const char *bad[] = {"{\"a\":01}", "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\" 1}",
                                "{a:1}", "{\"a\":1", "{\"a\":-}", "{\"a\":1.}", "{\"a\":\"\\q\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pf_reset(&o);
        CU_ASSERT_EQUAL(jsonmp_fields(&j, bad[i], strlen(bad[i]), &o, err, sizeof err), -1);
    }
    jsonmp_free(&j);
    pf_free(&o);
}

int main(void)
{
    static const sl_test_case tests[] = {
        {"time formats", test_time_formats},
        {"percent-decoding edge cases", test_percent},
        {"query maps", test_query_map},
        {"request lines", test_request_lines},
        {"log field unescaping", test_unescape},
        {"json limits and values", test_json_limits},
        {NULL, NULL},
    };
    return sl_test_run("enricher_parse pieces", tests);
}
