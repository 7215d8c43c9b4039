/* Unit tests of the emulator's pure logic: JSON checking, the contract, scripts, delays, events. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract.h"
#include "delay.h"
#include "events.h"
#include "json_check.h"
#include "pages.h"
#include "pem.h"
#include "script.h"
#include "sl_test.h"

static int json_ok(const char *s)
{
    char err[256];
    return jc_check_object(s, strlen(s), NULL, NULL, err, sizeof err) == 0;
}

static void test_json_valid(void)
{
    CU_ASSERT(json_ok("{}"));
    CU_ASSERT(json_ok(" \r\n\t{ \"a\" : 1 } \n"));
    CU_ASSERT(json_ok("{\"n\":123456789012345678901234567890,\"m\":-0.5e-300,\"z\":0,\"e\":1E+2}"));
    CU_ASSERT(json_ok("{\"a\":[1,\"x\",true,false,null,{\"b\":[]}],\"c\":{}}"));
    CU_ASSERT(json_ok("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}"));
    CU_ASSERT(json_ok("{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"));
}

static void test_json_invalid(void)
{
    static const char *bad[] = {
        "", "[]", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1}x",
        "{\"a\":1}{}", "{a:1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":.5}",
        "{\"a\":+1}", "{\"a\":tru}", "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\t\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"\\u12g4\"}", "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf5\x80\x80\x80\"}", "{\"a\":\"\xe2\x82\"}", "{\"a\":\"\x80\"}",
        "{\"a\":[1 2]}", "{\"a\":NaN}", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (json_ok(bad[i]))
            CU_FAIL(bad[i]);
}

/* {"a":[[...]]} with k arrays: the object is level 1, the innermost array level 1 + k. */
static int nested_ok(int k)
{
    char buf[2 * JC_MAX_DEPTH + 16];
    size_t n = 0;
    memcpy(buf, "{\"a\":", 5);
    n = 5;
    for (int i = 0; i < k; i++)
        buf[n++] = '[';
    for (int i = 0; i < k; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = '\0';
    return json_ok(buf);
}

static void test_json_depth(void)
{
    CU_ASSERT(nested_ok(JC_MAX_DEPTH - 1));
    CU_ASSERT(!nested_ok(JC_MAX_DEPTH));
}

static void test_string_decode(void)
{
    char out[16];
    const char raw[] = "\"a\\n\\u00e9\\ud83d\\ude00\"";
    CU_ASSERT_EQUAL(jc_string_decode(raw, strlen(raw), out, sizeof out), 8);
    CU_ASSERT(memcmp(out, "a\n\xc3\xa9\xf0\x9f\x98\x80", 8) == 0);
    CU_ASSERT_EQUAL(jc_string_decode("\"abcdef\"", 8, out, 4), -1);
}

static int body_ok(const char *s, char *err)
{
    return oe_check_body(s, strlen(s), err, 256) == 0;
}

static void test_body_valid(void)
{
    char err[256];
    CU_ASSERT(body_ok("{\"type\":\"product_view\",\"productId\":12}", err));
    CU_ASSERT(body_ok("{\"type\":\"page_view\",\"pageId\":-3,\"meta\":{\"k\":[1,{\"x\":null}]}}", err));
    CU_ASSERT(body_ok("{\"type\":\"category_view\",\"pageId\":1,\"categoryId\":2}", err));
    CU_ASSERT(body_ok("{\"type\":\"search\",\"query\":\"iphone case\"}", err));
    CU_ASSERT(body_ok("{\"type\":\"product_rating\",\"productId\":1e40}", err));
    /* keys and type compared after unescaping */
    CU_ASSERT(body_ok("{\"typ\\u0065\":\"product_purch\\u0061se\",\"productId\":7}", err));
    static const char *products[] = {"product_add_to_cart", "product_remove_from_cart",
                                     "product_add_to_wishlist", "product_remove_from_wishlist",
                                     NULL};
    for (int i = 0; products[i]; i++) {
        char b[128];
        snprintf(b, sizeof b, "{\"productId\":1,\"type\":\"%s\"}", products[i]);
        CU_ASSERT(body_ok(b, err));
    }
}

static void expect_reject(const char *body, const char *needle)
{
    char err[256] = "";
    CU_ASSERT_FALSE(body_ok(body, err));
    if (!strstr(err, needle)) {
        fprintf(stderr, "\nbody %s: message '%s' lacks '%s'\n", body, err, needle);
        CU_FAIL("message does not name the problem");
    }
}

static void test_body_rejects(void)
{
    expect_reject("{\"productId\":1}", "type missing");
    expect_reject("{\"type\":\"click\"}", "not one of");
    expect_reject("{\"type\":3}", "type must be a string");
    expect_reject("{\"type\":\"product_view\"}", "requires productId");
    expect_reject("{\"type\":\"product_view\",\"productId\":\"12\"}", "productId must be a number");
    expect_reject("{\"type\":\"page_view\",\"productId\":1}", "requires pageId");
    expect_reject("{\"type\":\"category_view\",\"categoryId\":1}", "requires pageId");
    expect_reject("{\"type\":\"search\"}", "requires query");
    expect_reject("{\"type\":\"search\",\"query\":\"\"}", "non-empty");
    expect_reject("{\"type\":\"search\",\"query\":5}", "query must be a string");
    expect_reject("{\"type\":\"search\",\"query\":\"q\",\"meta\":[]}", "meta must be an object");
    expect_reject("{\"type\":\"search\",\"query\":\"q\",\"guest_id\":\"g\"}", "unknown key \"guest_id\"");
    expect_reject("{\"type\":\"search\",\"type\":\"search\",\"query\":\"q\"}", "duplicate key \"type\"");
    expect_reject("{\"type\":\"page_view\",\"pageId\":null}", "pageId must be a number");
    expect_reject("[1]", "JSON object");
    expect_reject("{\"type\":\"search\",\"query\":\"q\"", "invalid JSON");
}

static void test_identity(void)
{
    char who[64], err[256];
    CU_ASSERT_EQUAL(oe_check_identity("Bearer abc", NULL, who, sizeof who, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(who, "bearer:abc");
    CU_ASSERT_EQUAL(oe_check_identity(NULL, "g-1", who, sizeof who, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(who, "guest:g-1");
    CU_ASSERT_EQUAL(oe_check_identity("bearer xyz", NULL, who, sizeof who, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_check_identity(NULL, NULL, who, sizeof who, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no identity"));
    CU_ASSERT_EQUAL(oe_check_identity("Bearer a", "g", who, sizeof who, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "both"));
    CU_ASSERT_EQUAL(oe_check_identity("Basic a", NULL, who, sizeof who, err, sizeof err), -1);
    CU_ASSERT_EQUAL(oe_check_identity("Bearer ", NULL, who, sizeof who, err, sizeof err), -1);
    CU_ASSERT_EQUAL(oe_check_identity(NULL, "", who, sizeof who, err, sizeof err), -1);
}

static void test_content_type(void)
{
    char err[256];
    CU_ASSERT_EQUAL(oe_check_content_type("application/json", err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_check_content_type("Application/JSON; charset=utf-8", err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_check_content_type("application/jsonx", err, sizeof err), -1);
    CU_ASSERT_EQUAL(oe_check_content_type("text/plain", err, sizeof err), -1);
    CU_ASSERT_EQUAL(oe_check_content_type(NULL, err, sizeof err), -1);
}

static void test_origin_path(void)
{
    CU_ASSERT_STRING_EQUAL(oe_origin_path("http://oneentry.invalid/api/x"), "/api/x");
    CU_ASSERT_STRING_EQUAL(oe_origin_path("HTTPS://h:8443/a/b"), "/a/b");
    CU_ASSERT_STRING_EQUAL(oe_origin_path("http://[::1]:80"), "/");
    CU_ASSERT_PTR_NULL(oe_origin_path("/api/x"));
    CU_ASSERT_PTR_NULL(oe_origin_path("ftp://h/x"));
    CU_ASSERT_PTR_NULL(oe_origin_path("oneentry.invalid:443")); /* CONNECT's target */
}

static void test_script(void)
{
    oe_action *a;
    size_t n;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(oe_script_parse("503,503,429:2,reset,slow:150,200", &a, &n, err,
                                          sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    CU_ASSERT(a[0].kind == OE_ACT_STATUS && a[0].status == 503 && !a[0].retry_after[0]);
    CU_ASSERT(a[2].kind == OE_ACT_STATUS && a[2].status == 429);
    CU_ASSERT_STRING_EQUAL(a[2].retry_after, "2");
    CU_ASSERT(a[3].kind == OE_ACT_RESET);
    CU_ASSERT(a[4].kind == OE_ACT_SLOW && a[4].slow_ms == 150);
    CU_ASSERT(a[5].kind == OE_ACT_PASS && a[5].status == 200);
    free(a);

    CU_ASSERT_EQUAL_FATAL(oe_script_parse("503:Wed, 21 Oct 2015 07:28:00 GMT,429:1", &a, &n,
                                          err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(a[0].retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    CU_ASSERT_STRING_EQUAL(a[1].retry_after, "1");
    free(a);

    CU_ASSERT_EQUAL_FATAL(oe_script_parse("", &a, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 0);
    free(a);

    static const char *bad[] = {"50", "5030", "600", "199", "abc", "503,", ",503", "503,,503",
                                "429:", "200:5", "slow:", "slow:x", "slow:-1", "reset:1",
                                "503x", NULL};
    for (int i = 0; bad[i]; i++)
        if (oe_script_parse(bad[i], &a, &n, err, sizeof err) == 0) {
            free(a);
            CU_FAIL(bad[i]);
        }
}

static void test_fail_spec(void)
{
    oe_fail f;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("3:503", &f, err, sizeof err), 0);
    CU_ASSERT(f.chance == 3000000 && f.status == 503 && !f.retry_after[0]);
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("10:503:1", &f, err, sizeof err), 0);
    CU_ASSERT(f.chance == 10000000 && f.status == 503);
    CU_ASSERT_STRING_EQUAL(f.retry_after, "1");
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("0.5:500", &f, err, sizeof err), 0);
    CU_ASSERT(f.chance == 500000 && f.status == 500);
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("0.000001:300", &f, err, sizeof err), 0);
    CU_ASSERT_EQUAL(f.chance, 1);
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("100.000000:599", &f, err, sizeof err), 0);
    CU_ASSERT_EQUAL(f.chance, OE_FAIL_SCALE);
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("5:429:Wed, 21 Oct 2015 07:28:00 GMT", &f, err,
                                        sizeof err), 0);
    CU_ASSERT(f.chance == 5000000 && f.status == 429);
    CU_ASSERT_STRING_EQUAL(f.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    CU_ASSERT_EQUAL_FATAL(oe_fail_parse("", &f, err, sizeof err), 0);
    CU_ASSERT_EQUAL(f.chance, 0);

    static const char *bad[] = {"3", "3:", ":503", "101:503", "100.1:503", "-1:503", "+1:503",
                                ".5:503", "5.:503", "0.0000001:503", "1e1:503", "5:200",
                                "5:299", "5:600", "5:50", "5:5030", "5:503x", "5:503:",
                                "5:503: 1", "5:503:1 ", "5:503:\x01", "5:503:a\r\nX: y",
                                "5:503:01234567890123456789012345678901234567890123456789012345"
                                "678901234567890", "x:503", NULL};
    f.chance = 42;
    for (int i = 0; bad[i]; i++)
        if (oe_fail_parse(bad[i], &f, err, sizeof err) == 0 || f.chance != 42)
            CU_FAIL(bad[i]);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "fail: bad"));
}

/* Draws: 0 % never, 100 % always, 10 % near 10 % of draws, one seed one sequence. */
static void test_fail_draw(void)
{
    oe_fail f = {0, 503, ""};
    unsigned hits = 0, same = 0;
    for (uint64_t n = 0; n < 1000; n++)
        hits += (unsigned)oe_fail_draw(&f, 7, n);
    CU_ASSERT_EQUAL(hits, 0);
    f.chance = OE_FAIL_SCALE;
    for (uint64_t n = 0; n < 1000; n++)
        hits += (unsigned)oe_fail_draw(&f, 7, n);
    CU_ASSERT_EQUAL(hits, 1000);
    f.chance = OE_FAIL_SCALE / 10;
    hits = 0;
    for (uint64_t n = 0; n < 100000; n++) {
        int a = oe_fail_draw(&f, 12345, n);
        hits += (unsigned)a;
        same += a == oe_fail_draw(&f, 12345, n) && a == oe_fail_draw(&f, 54321, n);
    }
    /* 10000 expected, sd 95: 9500..10500 is more than 5 sd either side */
    CU_ASSERT(hits > 9500 && hits < 10500);
    CU_ASSERT(same < 90000); /* another seed, another sequence: agree ~82 % of the time */
}

/* written by the timer thread; nwoken is published after the slot */
static void *woken[8];
static atomic_int nwoken;
static void record_wake(void *item)
{
    int n = atomic_load(&nwoken);
    woken[n] = item;
    atomic_store(&nwoken, n + 1);
}

static void test_delay_order_and_stop(void)
{
    char err[128];
    int items[4];
    oe_delay *d = oe_delay_start(record_wake, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    uint64_t now = oe_now_ns();
    CU_ASSERT_EQUAL(oe_delay_add(d, now + 30000000u, &items[2]), 0);
    CU_ASSERT_EQUAL(oe_delay_add(d, now + 10000000u, &items[0]), 0);
    CU_ASSERT_EQUAL(oe_delay_add(d, now + 20000000u, &items[1]), 0);
    CU_ASSERT_EQUAL(oe_delay_add(d, now + 3600000000000u, &items[3]), 0); /* an hour */
    for (int i = 0; i < 200 && nwoken < 3; i++)
        usleep(10000);
    CU_ASSERT_EQUAL_FATAL(nwoken, 3);
    CU_ASSERT(woken[0] == &items[0] && woken[1] == &items[1] && woken[2] == &items[2]);
    /* stop wakes what is still pending at once, then refuses new items */
    oe_delay_stop(d);
    CU_ASSERT_EQUAL(nwoken, 4);
    CU_ASSERT(woken[3] == &items[3]);
    CU_ASSERT_EQUAL(oe_delay_add(d, now, &items[0]), -1);
    oe_delay_free(d);
}

static void test_events_line(void)
{
    char path[] = "/tmp/oe-events-XXXXXX", err[256], got[256];
    int tfd = mkstemp(path);
    CU_ASSERT_FATAL(tfd >= 0);
    close(tfd);
    int fd = oe_events_open(path, err, sizeof err);
    CU_ASSERT_FATAL(fd >= 0);
    sl_buf scratch = {0};
    const char body[] = "{\"type\":\"search\",\r\n \"query\":\"a\\nb\"}";
    CU_ASSERT_EQUAL(oe_events_append(fd, &scratch, "bearer:t\"k", body, strlen(body), err,
                                     sizeof err), 0);
    CU_ASSERT_EQUAL(oe_events_append(fd, &scratch, "guest:g", "{}", 2, err, sizeof err), 0);
    sl_buf_free(&scratch);
    close(fd);
    int rfd = open(path, O_RDONLY);
    ssize_t n = read(rfd, got, sizeof got - 1);
    close(rfd);
    unlink(path);
    CU_ASSERT_FATAL(n > 0);
    got[n] = '\0';
    CU_ASSERT_STRING_EQUAL(got,
                           "{\"auth\":\"bearer:t\\\"k\",\"body\":{\"type\":\"search\",   "
                           "\"query\":\"a\\nb\"}}\n"
                           "{\"auth\":\"guest:g\",\"body\":{}}\n");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_read_pem(void)
{
    char dir[] = "/tmp/oe-pem-XXXXXX", path[64], err[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cert.pem", dir);
    CU_ASSERT_PTR_NULL(oe_read_pem(path, "--tls-cert", "CERTIFICATE", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--tls-cert"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
    write_file(path, "not a certificate\n");
    CU_ASSERT_PTR_NULL(oe_read_pem(path, "--tls-cert", "CERTIFICATE", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no PEM CERTIFICATE"));
    write_file(path, "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n");
    CU_ASSERT_PTR_NULL(oe_read_pem(path, "--tls-cert", "CERTIFICATE", err, sizeof err));
    char *key = oe_read_pem(path, "--tls-key", "PRIVATE KEY", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(key);
    free(key);
    write_file(path, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    CU_ASSERT_PTR_NULL(oe_read_pem(path, "--tls-key", "PRIVATE KEY", err, sizeof err));
    char *pem = oe_read_pem(path, "--tls-cert", "CERTIFICATE", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(pem);
    CU_ASSERT(pem && strcmp(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n") == 0);
    free(pem);
    CU_ASSERT_PTR_NULL(oe_read_pem(dir, "--tls-key", "PRIVATE KEY", err, sizeof err)); /* a dir */
    unlink(path);
    rmdir(dir);
}

static int pages_of(oe_pages *p, const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text);
    CU_ASSERT_FATAL(copy != NULL);
    return oe_pages_parse(p, copy, strlen(text), err, errlen);
}

/* The Pages API's content: one list for every langCode, or one per code;
 * each object served as written; found by its decoded handle. */
static void test_pages(void)
{
    oe_pages p;
    char err[300] = "";
    CU_ASSERT_EQUAL_FATAL(pages_of(&p, " [ {\"id\":1, \"pageUrl\":\"a\\u002Db\"},\n"
                                       "{\"pageUrl\":\"c\",\"id\":2,\"x\":[{}]} ] ", err, sizeof err), 0);
    const oe_lang_pages *l = oe_pages_lang(&p, "fr_FR"); /* any langCode */
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(oe_pages_count(&p), 2);
    CU_ASSERT_STRING_EQUAL(l->list, "[{\"id\":1, \"pageUrl\":\"a\\u002Db\"},"
                                    "{\"pageUrl\":\"c\",\"id\":2,\"x\":[{}]}]");
    const oe_page *pg = oe_pages_find(l, "a-b");
    CU_ASSERT_FATAL(pg != NULL);
    CU_ASSERT_EQUAL(pg->raw_len, strlen("{\"id\":1, \"pageUrl\":\"a\\u002Db\"}"));
    CU_ASSERT_PTR_NULL(oe_pages_find(l, "a\\u002Db"));
    oe_pages_free(&p);

    CU_ASSERT_EQUAL_FATAL(pages_of(&p, "{\"en_US\":[{\"id\":1,\"pageUrl\":\"about\"}],"
                                       "\"de_DE\":[]}", err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(oe_pages_find(oe_pages_lang(&p, "en_US"), "about"));
    CU_ASSERT_STRING_EQUAL(oe_pages_lang(&p, "de_DE")->list, "[]");
    CU_ASSERT_PTR_NULL(oe_pages_lang(&p, "fr_FR"));
    CU_ASSERT_PTR_NULL(oe_pages_find(NULL, "about"));
    oe_pages_free(&p);

    static const struct { const char *text, *want; } bad[] = {
        {"[{\"id\":1}]", "has no pageUrl"},
        {"[{\"pageUrl\":\"a\"},{\"pageUrl\":\"a\"}]", "'a' twice"},
        {"[1]", "expected an object"},
        {"[{\"pageUrl\":\"a\"},]", "trailing comma"},
        {"\"x\"", "expected an array"},
        {"[] []", "text after"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CU_ASSERT_EQUAL(pages_of(&p, bad[i].text, err, sizeof err), -1);
        if (!strstr(err, bad[i].want)) {
            fprintf(stderr, "\n%s: got '%s', wanted '%s'\n", bad[i].text, err, bad[i].want);
            CU_FAIL("pages error");
        }
    }
    CU_ASSERT_EQUAL(oe_pages_load(&p, "/nonexistent/pages.json", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open pages file"));
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"json accepts valid objects", test_json_valid},
        {"json rejects invalid text", test_json_invalid},
        {"json nesting is bounded", test_json_depth},
        {"json string decoding", test_string_decode},
        {"body: valid events", test_body_valid},
        {"body: each rejection names its reason", test_body_rejects},
        {"identity headers", test_identity},
        {"content type", test_content_type},
        {"absolute-form targets", test_origin_path},
        {"fault scripts", test_script},
        {"random failure specs", test_fail_spec},
        {"random failure draws", test_fail_draw},
        {"delay wakes in order and on stop", test_delay_order_and_stop},
        {"events file lines", test_events_line},
        {"PEM files for TLS", test_read_pem},
        {"the Pages API's pages", test_pages},
        {NULL, NULL},
    };
    return sl_test_run("oneentry-emulator", cases);
}
