/* enricher_parse: whole lines of every format through pline_parse. */
#include <stdio.h>
#include <string.h>

#include "parse_util.h"
#include "pline.h"
#include "urlq.h"
#include "sl_test.h"

#define T0 971211336LL /* 10/Oct/2000:13:55:36 -0700 */
#define NS 1000000000LL

typedef struct line_case {
    const char *name;
    pline_format fmt;
    const char *line;       /* NUL-terminated unless len is set */
    size_t len;
    const char *want;       /* fields as JSON; NULL when the line must fail */
    const char *want_err;   /* substring of the error */
    int64_t want_ns;        /* 0 = the line has no time */
} line_case;

static const line_case cases[] = {
    {"nginx product view", PL_NGINX_COMBINED,
     "203.0.113.7 - - [10/Oct/2000:13:55:36 -0700] \"GET /products/42?utm_source=mail&ref=home HTTP/1.1\" 200 5120 \"https://shop.example/\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
     0,
     "{\"remote_addr\":\"203.0.113.7\",\"remote_user\":\"-\",\"time\":\"10/Oct/2000:13:55:36 -0700\","
     "\"method\":\"GET\",\"path\":\"/products/42\",\"query\":{\"utm_source\":\"mail\",\"ref\":\"home\"},"
     "\"protocol\":\"HTTP/1.1\",\"status\":200,\"body_bytes_sent\":5120,"
     "\"http_referer\":\"https://shop.example/\",\"http_user_agent\":\"Mozilla/5.0 (X11; Linux x86_64)\"}",
     NULL, T0 * NS},
    {"nginx escaped quote and trailing extra fields", PL_NGINX_COMBINED,
     "::1 - alice [01/Jan/2024:00:00:00 +0000] \"POST /cart/add HTTP/2.0\" 302 0 \"-\" \"say \\x22hi\\x22\" \"10.0.0.1\" rt=0.003",
     0,
     "{\"remote_addr\":\"::1\",\"remote_user\":\"alice\",\"time\":\"01/Jan/2024:00:00:00 +0000\","
     "\"method\":\"POST\",\"path\":\"/cart/add\",\"protocol\":\"HTTP/2.0\",\"status\":302,"
     "\"body_bytes_sent\":0,\"http_referer\":\"-\",\"http_user_agent\":\"say \\\"hi\\\"\"}",
     NULL, 1704067200LL * NS},
    {"apache combined with \\\" escapes and - bytes", PL_APACHE_COMBINED,
     "10.1.2.3 - frank [10/Oct/2000:13:55:36 -0700] \"GET /search?q=red+shoes%21 HTTP/1.0\" 304 - \"http://x/\\\"q\\\"\" \"Agent \\\\ 1\"",
     0,
     "{\"remote_addr\":\"10.1.2.3\",\"remote_user\":\"frank\",\"time\":\"10/Oct/2000:13:55:36 -0700\","
     "\"method\":\"GET\",\"path\":\"/search\",\"query\":{\"q\":\"red shoes!\"},\"protocol\":\"HTTP/1.0\","
     "\"status\":304,\"body_bytes_sent\":0,\"http_referer\":\"http://x/\\\"q\\\"\",\"http_user_agent\":\"Agent \\\\ 1\"}",
     NULL, T0 * NS},
    {"common", PL_COMMON,
     "127.0.0.1 user-identifier frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
     0,
     "{\"remote_addr\":\"127.0.0.1\",\"remote_user\":\"frank\",\"time\":\"10/Oct/2000:13:55:36 -0700\","
     "\"method\":\"GET\",\"path\":\"/apache_pb.gif\",\"protocol\":\"HTTP/1.0\",\"status\":200,\"body_bytes_sent\":2326}",
     NULL, T0 * NS},
    {"not a request line kept whole", PL_NGINX_COMBINED,
     "198.51.100.9 - - [10/Oct/2000:13:55:36 -0700] \"\\x16\\x03\\x01\" 400 157 \"-\" \"-\"", 0,
     "{\"remote_addr\":\"198.51.100.9\",\"remote_user\":\"-\",\"time\":\"10/Oct/2000:13:55:36 -0700\","
     "\"request\":\"\\u0016\\u0003\\u0001\",\"status\":400,\"body_bytes_sent\":157,\"http_referer\":\"-\",\"http_user_agent\":\"-\"}",
     NULL, T0 * NS},
    {"repeated query keys kept as an array", PL_NGINX_COMBINED,
     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /c?tag=a&x&tag=b&&tag=%E2%9C%93 HTTP/1.1\" 200 1 \"-\" \"ua\"", 0,
     "{\"remote_addr\":\"1.2.3.4\",\"remote_user\":\"-\",\"time\":\"10/Oct/2000:13:55:36 -0700\","
     "\"method\":\"GET\",\"path\":\"/c\",\"query\":{\"tag\":[\"a\",\"b\",\"\xe2\x9c\x93\"],\"x\":\"\"},"
     "\"protocol\":\"HTTP/1.1\",\"status\":200,\"body_bytes_sent\":1,\"http_referer\":\"-\",\"http_user_agent\":\"ua\"}",
     NULL, T0 * NS},
    /* malformed lines */
    {"truncated quote", PL_NGINX_COMBINED,
     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /products/1 HTTP/1.1\" 200 1 \"-\" \"Mozilla", 0,
     NULL, "http_user_agent", 0},
    {"missing user agent", PL_NGINX_COMBINED,
     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1 \"-\"", 0, NULL,
     "http_user_agent", 0},
    {"missing status", PL_COMMON, "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\"", 0,
     NULL, "status", 0},
    {"bad month", PL_NGINX_COMBINED,
     "1.2.3.4 - - [10/Okt/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"", 0, NULL,
     "bad time", 0},
    {"31 February", PL_COMMON, "1.2.3.4 - - [31/Feb/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1",
     0, NULL, "bad time", 0},
    {"status not a number", PL_COMMON,
     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 2x0 1", 0, NULL, "status", 0},
    {"empty line", PL_NGINX_COMBINED, "", 0, NULL, "remote_addr", 0},
    {"binary bytes", PL_NGINX_COMBINED, "\x00\x01\xff\xfe [\x00] \"\x00", 9, NULL, "", 0},
    {"json line", PL_JSON,
     "{\"time\":\"2024-03-01T12:00:00.250Z\",\"request\":\"GET /p/7?a=1 HTTP/1.1\",\"status\":200,"
     "\"user\":{\"id\":5,\"tags\":[\"x\",null,true,1.5,-3]},\"s\":\"\\u00e9\\ud83d\\ude00\\n\"}", 0,
     "{\"time\":\"2024-03-01T12:00:00.250Z\",\"request\":\"GET /p/7?a=1 HTTP/1.1\",\"status\":200,"
     "\"user\":{\"id\":5,\"tags\":[\"x\",null,true,1.5,-3]},\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\\n\","
     "\"method\":\"GET\",\"path\":\"/p/7\",\"query\":{\"a\":\"1\"},\"protocol\":\"HTTP/1.1\"}",
     NULL, 1709294400LL * NS + 250000000},
    {"json epoch millis", PL_JSON, "{\"time\":1709294400123}", 0, "{\"time\":1709294400123}",
     NULL, 1709294400123LL * 1000000},
    {"json not an object", PL_JSON, "[1,2]", 0, NULL, "not a JSON object", 0},
    {"json trailing comma", PL_JSON, "{\"a\":1,}", 0, NULL, "json:", 0},
    {"json unterminated", PL_JSON, "{\"a\":\"x", 0, NULL, "unterminated string", 0},
    {"json text after", PL_JSON, "{} x", 0, NULL, "text after", 0},
    {"logfmt", PL_LOGFMT, "time=2024-03-01T12:00:00+01:00 level=info msg=\"hello \\\"you\\\"\" ok", 0,
     "{\"time\":\"2024-03-01T12:00:00+01:00\",\"level\":\"info\",\"msg\":\"hello \\\"you\\\"\",\"ok\":true}",
     NULL, (1709294400LL - 3600) * NS},
    {"logfmt unterminated", PL_LOGFMT, "a=\"b c", 0, NULL, "unterminated", 0},
    {"logfmt bad time", PL_LOGFMT, "time=yesterday", 0, NULL, "time: cannot parse", 0},
};

static void run_case(const line_case *c)
{
    pline p;
    pf_out o;
    char err[256] = "";
    int64_t ns = 0;
    int has = 0;
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, c->fmt, NULL, NULL, c->fmt >= PL_JSON ? "time" : NULL,
                                     "request", err, sizeof err), 0);
    size_t len = c->len ? c->len : strlen(c->line);
    int rc = pline_parse(&p, c->line, len, &o, &ns, &has, err, sizeof err);
    if (!c->want) {
        if (rc == 0 || !strstr(err, c->want_err)) {
            fprintf(stderr, "\n%s: rc %d err '%s', want failure with '%s'\n", c->name, rc, err,
                    c->want_err);
            CU_FAIL("line should fail");
        }
    } else {
        char *got = rc == 0 ? fields_json(&o) : NULL;
        if (!got || strcmp(got, c->want) != 0) {
            fprintf(stderr, "\n%s:\n got: %s (err %s)\nwant: %s\n", c->name, got ? got : "-", err,
                    c->want);
            CU_FAIL("fields differ");
        }
        CU_ASSERT_EQUAL(has, c->want_ns != 0);
        if (c->want_ns && ns != c->want_ns) {
            fprintf(stderr, "\n%s: time %lld want %lld\n", c->name, (long long)ns,
                    (long long)c->want_ns);
            CU_FAIL("time differs");
        }
        free(got);
    }
    pline_free(&p);
    pf_free(&o);
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void test_regex(void)
{
    pline p;
    pf_out o;
    char err[256] = "";
    int64_t ns;
    int has;
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, PL_REGEX,
        "^(?<ip>\\S+) \\[(?<time>[^\\]]+)\\] \"(?<request>[^\"]*)\" (?<status>\\d+)(?: (?<opt>x))?$",
        "%d/%b/%Y:%H:%M:%S %z", "time", "request", err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(pline_add_cast(&p, "status", "int", err, sizeof err), 0);
    const char *line = "1.1.1.1 [10/Oct/2000:13:55:36 -0700] \"GET /s?q=a%20b HTTP/1.1\" 404";
    CU_ASSERT_EQUAL_FATAL(pline_parse(&p, line, strlen(line), &o, &ns, &has, err, sizeof err), 0);
    char *got = fields_json(&o);
    /* named groups come in PCRE2's name-table order (alphabetical) */
    CU_ASSERT_STRING_EQUAL(got, "{\"ip\":\"1.1.1.1\","
        "\"request\":\"GET /s?q=a%20b HTTP/1.1\",\"status\":404,\"time\":\"10/Oct/2000:13:55:36 -0700\",\"method\":\"GET\",\"path\":\"/s\","
        "\"query\":{\"q\":\"a b\"},\"protocol\":\"HTTP/1.1\"}");
    CU_ASSERT(has && ns == T0 * NS);
    free(got);
    line = "no match here";
    CU_ASSERT_EQUAL(pline_parse(&p, line, strlen(line), &o, &ns, &has, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "does not match") != NULL);
    /* a cast that fails names the field and the value */
    line = "1.1.1.1 [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 99999999999999999999";
    CU_ASSERT_EQUAL(pline_parse(&p, line, strlen(line), &o, &ns, &has, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "field 'status' is not an int") != NULL);
    pline_free(&p);
    CU_ASSERT_EQUAL(pline_init(&p, PL_REGEX, "(unclosed", NULL, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "pattern:") != NULL);
    pline_free(&p);
    CU_ASSERT_EQUAL(pline_init(&p, PL_REGEX, "no (groups)", NULL, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "no named group") != NULL);
    pline_free(&p);
    pf_free(&o);
}

/* A pattern that backtracks exponentially against a hostile 40-character
 * line: no parse, counted as a limit hit; ordinary lines still parse. */
static void test_regex_limit(void)
{
    pline p;
    pf_out o;
    char err[256] = "", line[41];
    int64_t ns;
    int has;
    memset(line, 'a', 39);
    strcpy(line + 39, "!");
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, PL_REGEX, "(?<word>(?:a|aa)+)$", NULL, NULL, NULL,
                                     err, sizeof err), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(pline_parse(&p, line, 40, &o, &ns, &has, err, sizeof err), -1);
        CU_ASSERT(strstr(err, "matching steps") != NULL);
    }
    CU_ASSERT_EQUAL(pline_take_limit_hits(&p), 3);
    CU_ASSERT_EQUAL(pline_take_limit_hits(&p), 0); /* taken */
    CU_ASSERT_EQUAL(pline_parse(&p, "aaaa", 4, &o, &ns, &has, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_parse(&p, "bbb!", 4, &o, &ns, &has, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "does not match") != NULL);
    CU_ASSERT_EQUAL(pline_take_limit_hits(&p), 0);
    pline_free(&p);
    pf_free(&o);
}

static void test_casts(void)
{
    pline p;
    pf_out o;
    char err[256] = "";
    int64_t ns;
    int has;
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, PL_LOGFMT, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_add_cast(&p, "n", "int", err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_add_cast(&p, "f", "float", err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_add_cast(&p, "b", "bool", err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_add_cast(&p, "flag", "string", err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_add_cast(&p, "x", "uuid", err, sizeof err), -1);
    CU_ASSERT(strstr(err, "'uuid'") != NULL);
    const char *line = "n=-12 f=0.5 b=yes flag";
    CU_ASSERT_EQUAL_FATAL(pline_parse(&p, line, strlen(line), &o, &ns, &has, err, sizeof err), 0);
    char *got = fields_json(&o);
    CU_ASSERT_STRING_EQUAL(got, "{\"n\":-12,\"f\":0.5,\"b\":true,\"flag\":\"true\"}");
    free(got);
    static const struct { const char *line, *err; } bad[] = {
        {"n=12a", "field 'n' is not an int: '12a'"},
        {"n=", "field 'n' is not an int: ''"},
        {"f=1e999", "field 'f' is not a float"},
        {"f=abc", "field 'f' is not a float"},
        {"b=maybe", "field 'b' is not a bool"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CU_ASSERT_EQUAL(pline_parse(&p, bad[i].line, strlen(bad[i].line), &o, &ns, &has, err,
                                    sizeof err), -1);
        if (!strstr(err, bad[i].err)) {
            fprintf(stderr, "\n%s: err '%s' want '%s'\n", bad[i].line, err, bad[i].err);
            CU_FAIL("cast error message");
        }
    }
    pline_free(&p);
    pf_free(&o);
}

/* A 1 MiB user agent and a 100,000-parameter query parse in bounded work. */
static void test_huge_fields(void)
{
    pline p;
    pf_out o;
    char err[256] = "";
    int64_t ns;
    int has;
    size_t big = 1 << 20;
    char *line = malloc(2 * big);
    CU_ASSERT_FATAL(line != NULL);
    int n = sprintf(line, "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /q?");
    for (int i = 0; i < 100000; i++)
        n += sprintf(line + n, "k=%d&", i % 7);
    n += sprintf(line + n, " HTTP/1.1\" 200 1 \"-\" \"");
    memset(line + n, 'A', big);
    n += (int)big;
    n += sprintf(line + n, "\"");
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, PL_NGINX_COMBINED, NULL, NULL, NULL, NULL, err,
                                     sizeof err), 0);
    CU_ASSERT_EQUAL(pline_parse(&p, line, (size_t)n, &o, &ns, &has, err, sizeof err), 0);
    int q = pf_find(&o, "query", 5);
    CU_ASSERT_FATAL(q >= 0);
    sl_builder *bb = sl_bb_new();
    sl_value val, arr;
    CU_ASSERT_EQUAL_FATAL(field_value(&o, (uint32_t)q, bb, &val), 0);
    CU_ASSERT_EQUAL(val.type, SL_MAP);
    CU_ASSERT_EQUAL(val.v.n, 1);
    CU_ASSERT_EQUAL(sl_map_gets(&val, "k", &arr), 1);
    CU_ASSERT_EQUAL(arr.v.n, URLQ_MAX_PARAMS);
    int ua = pf_find(&o, "http_user_agent", 15);
    CU_ASSERT_FATAL(ua >= 0);
    CU_ASSERT_EQUAL_FATAL(field_value(&o, (uint32_t)ua, bb, &val), 0);
    CU_ASSERT_EQUAL(val.v.s.len, big);
    sl_bb_free(bb);
    pline_free(&p);
    pf_free(&o);
    free(line);
}

/* Fields point into the line and the arena: text unescaped early in a line
 * stays in place while later fields need more arena than the first block,
 * and the blocks serve the next lines again. */
static void test_arena_growth(void)
{
    pline p;
    pf_out o;
    char err[256] = "";
    int64_t ns;
    int has;
    size_t big = 5000;
    char *line = malloc(big + 200), *want = malloc(big + 600), *ua = malloc(big + 1);
    CU_ASSERT_FATAL(line && want && ua);
    for (size_t i = 0; i < big; i++)
        ua[i] = i % 100 == 0 ? '"' : 'a' + (char)(i % 26);
    ua[big] = 0;
    CU_ASSERT_EQUAL_FATAL(pf_init(&o), 0);
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, PL_APACHE_COMBINED, NULL, NULL, NULL, NULL, err,
                                     sizeof err), 0);
    for (int round = 0; round < 3; round++) {
        int n = sprintf(line, "10.1.2.3 - frank [10/Oct/2000:13:55:36 -0700] "
                              "\"GET /a?q=\\\"x\\\"&r=%d HTTP/1.0\" 200 1 \"http://r/\\\"q\\\"\" \"", round);
        for (size_t i = 0; i < big; i++)
            n += sprintf(line + n, ua[i] == '"' ? "\\\"" : "%c", ua[i]);
        n += sprintf(line + n, "\"");
        CU_ASSERT_EQUAL_FATAL(pline_parse(&p, line, (size_t)n, &o, &ns, &has, err, sizeof err), 0);
        int w = sprintf(want, "{\"remote_addr\":\"10.1.2.3\",\"remote_user\":\"frank\","
                        "\"time\":\"10/Oct/2000:13:55:36 -0700\",\"method\":\"GET\",\"path\":\"/a\","
                        "\"query\":{\"q\":\"\\\"x\\\"\",\"r\":\"%d\"},\"protocol\":\"HTTP/1.0\","
                        "\"status\":200,\"body_bytes_sent\":1,\"http_referer\":\"http://r/\\\"q\\\"\","
                        "\"http_user_agent\":\"", round);
        for (size_t i = 0; i < big; i++)
            w += sprintf(want + w, ua[i] == '"' ? "\\\"" : "%c", ua[i]);
        sprintf(want + w, "\"}");
        char *got = fields_json(&o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "\nround %d:\n got %.300s\nwant %.300s\n", round, got, want);
            CU_FAIL("fields after arena growth");
        }
        free(got);
        big = big / 2 + 1; /* later lines fit the blocks already there */
    }
    pline_free(&p);
    /* json: decoded keys and text, then a cast to text and a request split,
     * each taking arena after the decoded strings */
    CU_ASSERT_EQUAL_FATAL(pline_init(&p, PL_JSON, NULL, NULL, NULL, "req", err, sizeof err), 0);
    CU_ASSERT_EQUAL(pline_add_cast(&p, "n", "string", err, sizeof err), 0);
    const char *js = "{\"k\\u00e9y\":\"v\\\"1\",\"n\":-42,\"req\":\"GET /p?a=%41 HTTP/1.1\",\"o\":{\"x\":[1,\"y\"]}}";
    CU_ASSERT_EQUAL_FATAL(pline_parse(&p, js, strlen(js), &o, &ns, &has, err, sizeof err), 0);
    char *got = fields_json(&o);
    CU_ASSERT_STRING_EQUAL(got, "{\"k\xc3\xa9y\":\"v\\\"1\",\"n\":\"-42\",\"req\":\"GET /p?a=%41 HTTP/1.1\","
                                "\"o\":{\"x\":[1,\"y\"]},\"method\":\"GET\",\"path\":\"/p\","
                                "\"query\":{\"a\":\"A\"},\"protocol\":\"HTTP/1.1\"}");
    free(got);
    pline_free(&p);
    pf_free(&o);
    free(line);
    free(want);
    free(ua);
}

int main(void)
{
    static const sl_test_case tests[] = {
        {"every format, good and malformed lines", test_table},
        {"regex format, casts and pattern errors", test_regex},
        {"a costly regex is no parse, counted", test_regex_limit},
        {"type casting and its errors", test_casts},
        {"huge fields stay bounded", test_huge_fields},
        {"fields stay in place while the arena grows", test_arena_growth},
        {NULL, NULL},
    };
    return sl_test_run("enricher_parse lines", tests);
}
