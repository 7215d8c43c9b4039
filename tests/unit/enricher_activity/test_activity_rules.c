/* enricher_activity: storefront rules for all ten types, bots, order,
 * rejections, identity and the keyed guest id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "siphash.h"
#include "uaset.h"
#include "sl_test.h"
#include "sluice/json.h"

static const act_fields FIELDS = {"method", "path", "query", "status", "http_user_agent",
                                  "remote_addr", "http_cookie"};

#define MAX_RULES 16
static act_rule rules[MAX_RULES];
static size_t nrules;
static act_bots bots;
static act_ident ident;

/* A rule from "key=value" specs, e.g. {"type=search", "path=^/search$", ...}. */
static void add_rule(const char *const *spec)
{
    char err[300] = "";
    act_rule *r = &rules[nrules];
    CU_ASSERT_EQUAL_FATAL(act_rule_init(r, (int)nrules, spec[0] + 5, err, sizeof err), 0);
    for (size_t i = 1; spec[i]; i++) {
        const char *eq = strchr(spec[i], '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - spec[i]), spec[i]);
        const char *v = eq + 1;
        int rc;
        if (!strcmp(key, "method"))
            rc = act_rule_method(r, v, err, sizeof err);
        else if (!strcmp(key, "path"))
            rc = act_rule_path(r, v, err, sizeof err);
        else if (!strcmp(key, "path_prefix"))
            rc = act_rule_path_prefix(r, v, err, sizeof err);
        else if (!strcmp(key, "param"))
            rc = act_rule_param(r, v, NULL, err, sizeof err);
        else if (!strcmp(key, "status"))
            rc = act_rule_status(r, v, err, sizeof err);
        else if (!strncmp(key, "meta.", 5))
            rc = act_rule_meta(r, key + 5, v, 0, err, sizeof err);
        else
            rc = act_rule_value(r, key, v, 0, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "\nrule spec %s: %s\n", spec[i], err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
    }
    if (act_rule_finish(r, err, sizeof err) != 0)
        fprintf(stderr, "\nfinish: %s\n", err);
    nrules++;
}

static void storefront(void)
{
    static const char *const specs[][8] = {
        {"type=product_add_to_cart", "method=POST", "path=^/cart/add$", "productId=param:product_id", NULL},
        {"type=product_remove_from_cart", "method=POST", "path=^/cart/remove$", "productId=param:product_id", NULL},
        {"type=product_add_to_wishlist", "method=POST", "path=^/wishlist/(?<productId>[^/]+)$", NULL},
        {"type=product_remove_from_wishlist", "method=DELETE", "path=^/wishlist/(?<productId>[^/]+)$", NULL},
        {"type=product_purchase", "path=^/checkout/complete$", "productId=param:product_id", "meta.order=param:order", NULL},
        {"type=product_rating", "method=POST", "path=^/products/(?<productId>[^/]+)/rating$", "meta.stars=param:stars", NULL},
        {"type=product_view", "method=GET", "path=^/products/(?<productId>[^/]+)$", "meta.sourceBlock=catalog", "meta.ref=param:ref", NULL},
        {"type=category_view", "method=GET", "path=^/catalog/(?<slug>[a-z-]+)-(?<pageId>[0-9]+)$", "categoryId=capture:pageId", NULL},
        {"type=search", "method=GET", "path=^/search$", "param=q", "query=param:q", NULL},
        {"type=page_view", "method=GET", "path=^/pages/(?<pageId>[0-9]+)", NULL},
    };
    char err[200];
    nrules = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        add_rule(specs[i]);
    CU_ASSERT_EQUAL_FATAL(act_bots_init(&bots, NULL, 0, err, sizeof err), 0);
    memset(&ident, 0, sizeof ident);
    CU_ASSERT_EQUAL_FATAL(vsrc_parse(&ident.guest, "cookie:gid", 0, 1, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(vsrc_parse(&ident.token, "field:user.token", 0, 1, err, sizeof err), 0);
}

static void teardown(void)
{
    for (size_t i = 0; i < nrules; i++)
        act_rule_free(&rules[i]);
    nrules = 0;
    act_bots_free(&bots);
    vsrc_free(&ident.guest);
    vsrc_free(&ident.token);
}

/* A parsed-request body, as one loose value in bb; qs "a=1&b=2" becomes
 * the query map as is. */
static void pack_body(sl_builder *bb, const char *method, const char *path, const char *qs,
                      int status, const char *ua, const char *cookie, const char *token)
{
    sl_bb_map(bb, 6 + (qs != NULL) + (token != NULL));
    sl_bb_cstr(bb, "method"); sl_bb_cstr(bb, method);
    sl_bb_cstr(bb, "path"); sl_bb_cstr(bb, path);
    sl_bb_cstr(bb, "status"); sl_bb_int(bb, status);
    sl_bb_cstr(bb, "http_user_agent"); sl_bb_cstr(bb, ua);
    sl_bb_cstr(bb, "remote_addr"); sl_bb_cstr(bb, "203.0.113.9");
    sl_bb_cstr(bb, "http_cookie"); sl_bb_cstr(bb, cookie);
    if (qs) {
        uint32_t n = *qs ? 1 : 0;
        for (const char *p = qs; *p; p++)
            n += *p == '&';
        sl_bb_cstr(bb, "query");
        sl_bb_map(bb, n);
        for (const char *p = qs; n && *p;) {
            const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
            const char *eq = memchr(p, '=', (size_t)(end - p));
            sl_bb_str(bb, p, eq ? (size_t)(eq - p) : (size_t)(end - p));
            sl_bb_str(bb, eq ? eq + 1 : "", eq ? (size_t)(end - eq - 1) : 0);
            p = amp ? amp + 1 : end;
        }
    }
    if (token) {
        sl_bb_cstr(bb, "user");
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "token"); sl_bb_cstr(bb, token);
    }
}

/* The one value a scratch builder holds. */
static void read_loose(const sl_builder *bb, sl_value *v)
{
    size_t len;
    const uint8_t *p = sl_bb_data(bb, &len), *end = p + len;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, end, v), 0);
    CU_ASSERT_FATAL(p == end);
}

typedef struct act_case {
    const char *method, *path, *qs;
    int status;
    const char *ua, *cookie, *token;
    const char *want; /* JSON body, "unmatched", "bot", "excluded" or "reject:<code>" */
} act_case;

#define UA "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
static const act_case cases[] = {
    {"GET", "/products/42", "ref=home", 200, UA, "gid=g-1", NULL,
     "{\"type\":\"product_view\",\"productId\":42,\"meta\":{\"sourceBlock\":\"catalog\",\"ref\":\"home\"},\"guest_id\":\"g-1\"}"},
    {"GET", "/pages/7", NULL, 304, UA, "a=b; gid=g-2", NULL,
     "{\"type\":\"page_view\",\"pageId\":7,\"guest_id\":\"g-2\"}"},
    {"GET", "/catalog/red-shoes-15", NULL, 200, UA, "gid=g-3", NULL,
     "{\"type\":\"category_view\",\"pageId\":15,\"categoryId\":15,\"guest_id\":\"g-3\"}"},
    {"GET", "/search", "q=iphone case", 200, UA, "", "tok-1",
     "{\"type\":\"search\",\"query\":\"iphone case\",\"user_token\":\"tok-1\"}"},
    {"POST", "/cart/add", "product_id=0042", 302, UA, "gid=g-5", "tok-5",
     "{\"type\":\"product_add_to_cart\",\"productId\":42,\"guest_id\":\"g-5\",\"user_token\":\"tok-5\"}"},
    {"POST", "/cart/remove", "product_id=9", 200, UA, "gid=g-6", NULL,
     "{\"type\":\"product_remove_from_cart\",\"productId\":9,\"guest_id\":\"g-6\"}"},
    {"POST", "/wishlist/77", NULL, 201, UA, "gid=g-7", NULL,
     "{\"type\":\"product_add_to_wishlist\",\"productId\":77,\"guest_id\":\"g-7\"}"},
    {"DELETE", "/wishlist/77", NULL, 204, UA, "gid=g-8", NULL,
     "{\"type\":\"product_remove_from_wishlist\",\"productId\":77,\"guest_id\":\"g-8\"}"},
    {"GET", "/checkout/complete", "product_id=5&order=A-1", 200, UA, "gid=g-9", NULL,
     "{\"type\":\"product_purchase\",\"productId\":5,\"meta\":{\"order\":\"A-1\"},\"guest_id\":\"g-9\"}"},
    {"POST", "/products/3/rating", "stars=5", 200, UA, "gid=g-10", NULL,
     "{\"type\":\"product_rating\",\"productId\":3,\"meta\":{\"stars\":\"5\"},\"guest_id\":\"g-10\"}"},
    /* rule order: /products/3/rating also starts like a product view, the rating rule is first */
    {"GET", "/products/3/rating", NULL, 200, UA, "gid=x", NULL, "unmatched"},
    /* conditions */
    {"GET", "/products/42", NULL, 404, UA, "gid=x", NULL, "unmatched"},
    {"GET", "/products/42", NULL, 500, UA, "gid=x", NULL, "unmatched"},
    {"HEAD", "/products/42", NULL, 200, UA, "gid=x", NULL, "unmatched"},
    {"GET", "/search", "page=2", 200, UA, "gid=x", NULL, "unmatched"},
    {"GET", "/search", "q=", 200, UA, "gid=x", NULL, "unmatched"},
    {"GET", "/static/app.js", NULL, 200, UA, "gid=x", NULL, "unmatched"},
    /* bots */
    {"GET", "/products/42", NULL, 200, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "gid=x", NULL, "bot"},
    {"GET", "/products/42", NULL, 200, "Mozilla/5.0 (compatible; AhrefsBot/7.0)", "gid=x", NULL, "bot"},
    {"GET", "/products/42", NULL, 200, "curl/8.4.0", "gid=x", NULL, "bot"},
    {"GET", "/products/42", NULL, 200, "python-requests/2.31", "gid=x", NULL, "bot"},
    {"GET", "/products/42", NULL, 200, "Mozilla/5.0 (compatible; YandexSpider)", "gid=x", NULL, "bot"},
    /* invalid results */
    {"GET", "/products/abc", NULL, 200, UA, "gid=x", NULL, "reject:bad_id"},
    {"GET", "/products/99999999999999999", NULL, 200, UA, "gid=x", NULL, "reject:bad_id"},
    {"POST", "/cart/add", "x=1", 200, UA, "gid=x", NULL, "reject:missing_id"},
    {"POST", "/cart/add", "product_id=-1", 200, UA, "gid=x", NULL, "reject:bad_id"},
    {"GET", "/products/42", NULL, 200, UA, "other=1", NULL, "reject:no_identity"},
    {"GET", "/products/42", NULL, 200, UA, "gid=-", "-", "reject:no_identity"},
};

/* "bot", "unmatched", "excluded", "reject:<code>" or the body as JSON; caller frees. */
static char *run_one(const act_case *c)
{
    sl_builder *sb = sl_bb_new(), *out = sl_bb_new();
    CU_ASSERT_FATAL(sb && out);
    pack_body(sb, c->method, c->path, c->qs, c->status, c->ua, c->cookie, c->token);
    sl_value body;
    act_req q;
    act_reject rej;
    char *res = NULL;
    read_loose(sb, &body);
    act_req_load(&q, &body, &FIELDS);
    act_rule *r = NULL;
    for (size_t i = 0; i < nrules && !r; i++)
        if (act_rule_match(&rules[i], &q))
            r = &rules[i];
    if (!r) {
        res = strdup("unmatched");
    } else if (act_is_bot(&bots, q.ua, q.ua_len)) {
        res = strdup("bot");
    } else if (act_rule_excluded(r, &q)) {
        res = strdup("excluded");
    } else {
        int rc = act_pack_body(r, &q, &ident, out, &rej);
        if (rc == 1) {
            char buf[64];
            int known = 0; /* each code has its rejected_<code> counter */
            for (int i = 0; i < ACT_NREJECT; i++)
                known += !strcmp(rej.code, act_reject_codes[i]);
            CU_ASSERT_EQUAL(known, 1);
            snprintf(buf, sizeof buf, "reject:%s", rej.code);
            res = strdup(buf);
        } else {
            sl_buf b = {0};
            sl_value v;
            CU_ASSERT_EQUAL(rc, 0);
            read_loose(out, &v);
            CU_ASSERT_EQUAL(sl_json_value(&b, &v), 0);
            CU_ASSERT_EQUAL(sl_buf_append(&b, "", 1), 0);
            res = b.data;
        }
    }
    sl_bb_free(sb);
    sl_bb_free(out);
    return res;
}

static void test_storefront_table(void)
{
    storefront();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = run_one(&cases[i]);
        if (!got || strcmp(got, cases[i].want) != 0) {
            fprintf(stderr, "\n%s %s?%s %d\n got %s\nwant %s\n", cases[i].method, cases[i].path,
                    cases[i].qs ? cases[i].qs : "", cases[i].status, got ? got : "-",
                    cases[i].want);
            CU_FAIL("activity case");
        }
        free(got);
    }
    teardown();
}

/* The first matching rule wins, whatever comes after it. */
static void test_rule_order(void)
{
    static const char *const a[] = {"type=page_view", "path=^/pages/(?<pageId>[0-9]+)", "meta.rule=first", NULL};
    static const char *const b[] = {"type=page_view", "path=^/pages/(?<pageId>[0-9]+)$", "meta.rule=second", NULL};
    char err[200];
    nrules = 0;
    add_rule(a);
    add_rule(b);
    memset(&ident, 0, sizeof ident);
    CU_ASSERT_EQUAL_FATAL(vsrc_parse(&ident.guest, "cookie:gid", 0, 1, err, sizeof err), 0);
    act_case c = {"GET", "/pages/1", NULL, 200, UA, "gid=z", NULL, NULL};
    char *got = run_one(&c);
    CU_ASSERT_STRING_EQUAL(got, "{\"type\":\"page_view\",\"pageId\":1,\"meta\":{\"rule\":\"first\"},\"guest_id\":\"z\"}");
    free(got);
    teardown();
}

static void test_prefix_derivation(void)
{
    static const struct { const char *re, *prefix; } pcases[] = {
        {"^/products/(?<productId>[0-9]+)$", "/products/"},
        {"^/search$", "/search"},
        {"^/items?/x", "/item"},
        {"^/a|^/b", ""},
        {"/products/", ""},
        {"^(?i)/Products", ""},
        {"^/p\\.html", "/p"},
    };
    for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
        act_rule r;
        char err[200];
        CU_ASSERT_EQUAL_FATAL(act_rule_init(&r, 0, "page_view", err, sizeof err), 0);
        CU_ASSERT_EQUAL_FATAL(act_rule_path(&r, pcases[i].re, err, sizeof err), 0);
        const char *got = r.prefix ? r.prefix : "";
        if (strcmp(got, pcases[i].prefix) != 0) {
            fprintf(stderr, "\n%s: prefix '%s' want '%s'\n", pcases[i].re, got, pcases[i].prefix);
            CU_FAIL("derived prefix");
        }
        act_rule_free(&r);
    }
}

static void test_config_errors(void)
{
    act_rule r;
    char err[300];
    CU_ASSERT_EQUAL(act_rule_init(&r, 0, "product_like", err, sizeof err), -1);
    CU_ASSERT(strstr(err, "'product_like'") != NULL);
    act_rule_free(&r);
    CU_ASSERT_EQUAL_FATAL(act_rule_init(&r, 0, "product_view", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_path(&r, "^/p/(?<id>[0-9]+)$", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_finish(&r, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "needs productId") != NULL);
    CU_ASSERT_EQUAL(act_rule_value(&r, "productId", "capture:nope", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_finish(&r, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "'nope' is not a named group") != NULL);
    CU_ASSERT_EQUAL(act_rule_status(&r, "6xx", err, sizeof err), -1);
    CU_ASSERT_EQUAL(act_rule_path(&r, "(", err, sizeof err), -1);
    CU_ASSERT_EQUAL(act_rule_value(&r, "price", "1", 0, err, sizeof err), -1);
    act_rule_free(&r);
    CU_ASSERT_EQUAL_FATAL(act_rule_init(&r, 0, "search", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_finish(&r, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "search needs query") != NULL);
    act_rule_free(&r);
}

static void test_derived_guest_id(void)
{
    static const char *const spec[] = {"type=page_view", "path=^/pages/(?<pageId>[0-9]+)", NULL};
    char err[200];
    nrules = 0;
    add_rule(spec);
    memset(&ident, 0, sizeof ident);
    ident.derive = 1;
    CU_ASSERT_EQUAL(act_ident_key(&ident, "short", err, sizeof err), -1);
    CU_ASSERT_EQUAL_FATAL(act_ident_key(&ident, "0123456789abcdef-secret", err, sizeof err), 0);
    act_case c = {"GET", "/pages/1", NULL, 200, UA, "", NULL, NULL};
    char *a = run_one(&c), *b = run_one(&c);
    CU_ASSERT_STRING_EQUAL(a, b); /* stable */
    CU_ASSERT(strstr(a, "\"guest_id\":\"g") != NULL && strlen(strstr(a, "\"guest_id\":\"g")) == 12 + 33 + 2);
    c.ua = "Mozilla/5.0 (Android)";
    char *d = run_one(&c);
    CU_ASSERT(strcmp(a, d) != 0); /* another visitor, another id */
    CU_ASSERT_EQUAL_FATAL(act_ident_key(&ident, "another-secret-of-16", err, sizeof err), 0);
    c.ua = UA;
    char *e = run_one(&c);
    CU_ASSERT(strcmp(a, e) != 0); /* the key changes every id */
    free(a);
    free(b);
    free(d);
    free(e);
    teardown();
}

static void test_siphash_vector(void)
{
    /* SipHash-2-4-128 reference vector: key 00..0f, empty input. */
    static const uint8_t want[16] = {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
                                     0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93};
    uint8_t key[16], out[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    siphash128(key, "", 0, out);
    CU_ASSERT(memcmp(out, want, 16) == 0);
}

static void test_cookie_and_field(void)
{
    const char *v;
    size_t n;
    const char *hdr = "a=1; gid=abc ; empty=; last=z";
    CU_ASSERT_EQUAL(vsrc_cookie(hdr, strlen(hdr), "gid", 3, &v, &n), 1);
    CU_ASSERT(n == 3 && !memcmp(v, "abc", 3));
    CU_ASSERT_EQUAL(vsrc_cookie(hdr, strlen(hdr), "empty", 5, &v, &n), 1);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(vsrc_cookie(hdr, strlen(hdr), "last", 4, &v, &n), 1);
    CU_ASSERT(n == 1 && v[0] == 'z');
    CU_ASSERT_EQUAL(vsrc_cookie(hdr, strlen(hdr), "gi", 2, &v, &n), 0);
}

static void test_uaset(void)
{
    static const char *const pats[] = {"bot", "Crawl", "x", "java/"};
    static const char *const one[] = {"Q"};
    static const struct { const char *ua; int want; } ua_cases[] = {
        {"Mozilla/5.0 (compatible; Googlebot/2.1)", 1}, /* inside a word */
        {"SomeCRAWLER 1.0", 1},                         /* case of the text ignored */
        {"crawl", 1},                                   /* the whole text */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", 1}, /* one byte: 'X' */
        {"Mozilla/5.0 (Windows NT 10.0) Chrome/120", 0},
        {"jav", 0},                                     /* a pattern cut by the end */
        {"Java/17.0.2", 1},
        {"bo", 0},
        {"", 0},
    };
    uaset s, q;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(uaset_init(&s, pats, 4, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof ua_cases / sizeof ua_cases[0]; i++) {
        int got = uaset_match(&s, ua_cases[i].ua, strlen(ua_cases[i].ua));
        if (got != ua_cases[i].want) {
            fprintf(stderr, "\n'%s': %d want %d\n", ua_cases[i].ua, got, ua_cases[i].want);
            CU_FAIL("uaset case");
        }
    }
    CU_ASSERT_EQUAL(uaset_match(&s, NULL, 0), 0);
    uaset_free(&s);
    CU_ASSERT_EQUAL_FATAL(uaset_init(&q, one, 1, err, sizeof err), 0);
    CU_ASSERT_EQUAL(uaset_match(&q, "abq", 3), 1);
    CU_ASSERT_EQUAL(uaset_match(&q, "abc", 3), 0);
    uaset_free(&q);
    static const char *const empty[] = {"bot", ""};
    CU_ASSERT_EQUAL(uaset_init(&s, empty, 2, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "pattern 2 is empty") != NULL);
    /* the default bot list, beside the storefront table's cases */
    act_bots b;
    CU_ASSERT_EQUAL_FATAL(act_bots_init(&b, NULL, 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_is_bot(&b, "Mozilla/5.0 (compatible; bingbot/2.0)", 37), 1);
    CU_ASSERT_EQUAL(act_is_bot(&b, "facebookexternalhit/1.1", 23), 1);
    CU_ASSERT_EQUAL(act_is_bot(&b, UA, strlen(UA)), 0);
    act_bots_free(&b);
}

/* Remembered verdicts: the same answers as a scan, through evictions and
 * agents that differ only in the middle (same length, same ends). */
static void test_bot_memo(void)
{
    act_bots b;
    char err[200], ua[400];
    CU_ASSERT_EQUAL_FATAL(act_bots_init(&b, NULL, 0, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.memo.slot);
    int wrong = 0;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            int len = snprintf(ua, sizeof ua, "Mozilla/5.0 (X11) %s/%03d.0 Firefox/121.0",
                               i % 7 == 0 ? "SpiderX" : "GeckoXY", i);
            int want = i % 7 == 0;
            wrong += act_is_bot(&b, ua, (size_t)len) != want;
        }
    CU_ASSERT_EQUAL(wrong, 0);
    /* too long to remember: still answered */
    memset(ua, 'a', sizeof ua);
    memcpy(ua + 350, "crawler", 7);
    CU_ASSERT_EQUAL(act_is_bot(&b, ua, sizeof ua), 1);
    CU_ASSERT_EQUAL(act_is_bot(&b, ua, 350), 0);
    CU_ASSERT_EQUAL(act_is_bot(&b, "bot", 3), 1);
    CU_ASSERT_EQUAL(act_is_bot(&b, "bot", 2), 0); /* same bytes, shorter: another agent */
    act_bots_free(&b);
}

/* One event with the given time packing, appended to *out as bytes (the
 * builder writes only the common forms: the others are put together here). */
static void pack_event(sl_buf *out, int form, int64_t ns, int wide_body)
{
    static const char a16[] = {(char)0xdc, 0, 3}, a3[] = {(char)0x93};
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_FATAL(bb != NULL);
    if (form == 1)
        sl_bb_int(bb, ns);
    else
        sl_bb_time(bb, ns);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "src"); sl_bb_cstr(bb, "t");
    if (!wide_body) {
        pack_body(bb, "GET", "/products/1", "a=1&b=2", 200, UA, "gid=1", "tok");
    } else {
        sl_bb_map(bb, 20);  /* map16, a non-string key, a nested value, a long string */
        for (int i = 0; i < 14; i++) {
            char k[8];
            snprintf(k, sizeof k, "k%d", i);
            sl_bb_cstr(bb, k);
            sl_bb_int(bb, i);
        }
        sl_bb_int(bb, 7); sl_bb_cstr(bb, "int key");
        sl_bb_cstr(bb, "method"); sl_bb_cstr(bb, "POST");
        sl_bb_cstr(bb, "path"); sl_bb_cstr(bb, "/cart/add");
        sl_bb_cstr(bb, "status"); sl_bb_cstr(bb, "302");
        sl_bb_cstr(bb, "method"); sl_bb_cstr(bb, "GET");   /* repeated: the first wins */
        char ua[300];
        memset(ua, 'u', sizeof ua);
        sl_bb_cstr(bb, "http_user_agent"); sl_bb_str(bb, ua, sizeof ua);
    }
    size_t len;
    const uint8_t *d = sl_bb_data(bb, &len);
    /* form 2: an array16 header, legal but not the common form */
    CU_ASSERT_EQUAL(form == 2 ? sl_buf_append(out, a16, 3) : sl_buf_append(out, a3, 1), 0);
    CU_ASSERT_EQUAL(sl_buf_append(out, d, len), 0);
    sl_bb_free(bb);
}

/* act_event_next reads exactly what sl_batch_next + act_req_load_keys read. */
static void test_event_reader(void)
{
    static const struct { int form; int64_t ns; int wide; } evs[] = {
        {0, 1710234000000000000LL, 0},  /* 4-byte timestamp */
        {0, 1710234000123456789LL, 0},  /* 8-byte */
        {0, -5, 0},                     /* 12-byte: the general reader */
        {0, (int64_t)1 << 62, 0},       /* 12-byte, far future */
        {1, 1710234000123456789LL, 1},  /* integer time, map16 body */
        {1, -42, 0},
        {2, 1710234000000000000LL, 0},  /* array16 event */
        {0, 0, 1},
    };
    sl_buf sb = {0};
    uint32_t n = sizeof evs / sizeof evs[0];
    for (uint32_t i = 0; i < n; i++)
        pack_event(&sb, evs[i].form, evs[i].ns, evs[i].wide);
    /* the same bytes through the checked copy: the builder agrees they are events */
    sl_builder *chk = sl_bb_new();
    sl_batch whole = {(const uint8_t *)sb.data, sb.len, n};
    sl_batch_iter ci;
    sl_event ce;
    sl_batch_iter_init(&ci, &whole);
    while (sl_batch_next(&ci, &ce) == 1)
        CU_ASSERT_EQUAL(sl_bb_append_event(chk, &ce), 0);
    CU_ASSERT_EQUAL(sl_bb_count(chk), n);
    sl_bb_free(chk);
    act_keys k;
    act_keys_init(&k, &FIELDS, ACT_F_ALL);
    for (size_t cut = 0; cut <= 1; cut++) {  /* whole, then truncated by one byte */
        sl_batch b = {(const uint8_t *)sb.data, sb.len - cut, n};
        sl_batch_iter a, z;
        sl_event ea, ez;
        act_req qa, qz;
        int ra, rz;
        sl_batch_iter_init(&a, &b);
        sl_batch_iter_init(&z, &b);
        for (uint32_t i = 0;; i++) {
            ra = act_event_next(&a, &ea, &qa, &k);
            rz = sl_batch_next(&z, &ez);
            CU_ASSERT_EQUAL_FATAL(ra, rz);
            if (ra != 1)
                break;
            act_req_load_keys(&qz, &ez.body, &k);
            CU_ASSERT_EQUAL(ea.time_ns, evs[i].ns);
            CU_ASSERT(ea.time_ns == ez.time_ns && ea.raw == ez.raw && ea.raw_len == ez.raw_len);
            CU_ASSERT(ea.meta.raw == ez.meta.raw && ea.meta.raw_len == ez.meta.raw_len);
            CU_ASSERT(ea.body.raw == ez.body.raw && ea.body.raw_len == ez.body.raw_len &&
                      ea.body.v.n == ez.body.v.n && ea.body.type == SL_MAP);
            CU_ASSERT(qa.method == qz.method && qa.method_len == qz.method_len);
            CU_ASSERT(qa.path == qz.path && qa.ua == qz.ua && qa.ua_len == qz.ua_len);
            CU_ASSERT(qa.cookie == qz.cookie && qa.ip == qz.ip);
            CU_ASSERT(qa.has_status == qz.has_status && qa.status == qz.status);
            CU_ASSERT(qa.has_query == qz.has_query &&
                      (!qa.has_query || qa.query.raw == qz.query.raw));
            CU_ASSERT(qa.body == &ea.body);
        }
        CU_ASSERT_EQUAL(ra, cut ? -1 : 0);
    }
    sl_buf_free(&sb);
}

/* A rule's own exclude drops what it matched; other rules are not affected. */
static void test_rule_exclude(void)
{
    static const char *const view[] = {"type=product_view", "method=GET",
                                       "path=^/products/(?<productId>[0-9]+)$", NULL};
    static const char *const page[] = {"type=page_view", "path=^/pages/(?<pageId>[0-9]+)", NULL};
    char err[300];
    nrules = 0;
    add_rule(view);
    add_rule(page);
    CU_ASSERT_EQUAL(act_rule_exclude_ua(&rules[0], "StoreKiosk", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_exclude_path(&rules[0], "^/products/0+$", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_exclude_path(&rules[0], "/preview$", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_exclude_path(&rules[0], "(", err, sizeof err), -1);
    CU_ASSERT(strstr(err, "regex '('") != NULL);
    CU_ASSERT_EQUAL(act_rule_exclude_ua(&rules[0], "", err, sizeof err), -1);
    CU_ASSERT_EQUAL_FATAL(act_rule_finish(&rules[0], err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(act_bots_init(&bots, NULL, 0, err, sizeof err), 0);
    memset(&ident, 0, sizeof ident);
    CU_ASSERT_EQUAL_FATAL(vsrc_parse(&ident.guest, "cookie:gid", 0, 1, err, sizeof err), 0);
    static const act_case ex[] = {
        {"GET", "/products/42", NULL, 200, UA, "gid=a", NULL,
         "{\"type\":\"product_view\",\"productId\":42,\"guest_id\":\"a\"}"},
        {"GET", "/products/42", NULL, 200, "Mozilla/5.0 storekiosk/2 (Linux)", "gid=a", NULL, "excluded"},
        {"GET", "/products/000", NULL, 200, UA, "gid=a", NULL, "excluded"},
        {"GET", "/products/100", NULL, 200, UA, "gid=a", NULL,
         "{\"type\":\"product_view\",\"productId\":100,\"guest_id\":\"a\"}"},
        /* the kiosk is excluded by the product rule only */
        {"GET", "/pages/5", NULL, 200, "Mozilla/5.0 StoreKiosk/2", "gid=a", NULL,
         "{\"type\":\"page_view\",\"pageId\":5,\"guest_id\":\"a\"}"},
        /* the global bot list is checked as well */
        {"GET", "/products/42", NULL, 200, "Googlebot/2.1", "gid=a", NULL, "bot"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        char *got = run_one(&ex[i]);
        if (!got || strcmp(got, ex[i].want) != 0) {
            fprintf(stderr, "\n%s %s\n got %s\nwant %s\n", ex[i].path, ex[i].ua,
                    got ? got : "-", ex[i].want);
            CU_FAIL("exclude case");
        }
        free(got);
    }
    teardown();
}

/* A rejected event's dead-letter reason: code, why, rule. */
static void test_reject_reason(void)
{
    static const char *const view[] = {"type=product_view", "path=^/products/(?<productId>[^/]+)$", NULL};
    nrules = 0;
    add_rule(view);
    sl_builder *sb = sl_bb_new();
    CU_ASSERT_FATAL(sb != NULL);
    pack_body(sb, "GET", "/products/ab\"c", NULL, 200, UA, "gid=x", NULL);
    sl_value body;
    read_loose(sb, &body);
    act_req q;
    act_reject rej;
    act_result res;
    act_ident id;
    char err[200], reason[300];
    memset(&id, 0, sizeof id);
    CU_ASSERT_EQUAL_FATAL(vsrc_parse(&id.guest, "cookie:gid", 0, 1, err, sizeof err), 0);
    act_req_load(&q, &body, &FIELDS);
    CU_ASSERT_EQUAL_FATAL(act_rule_match(&rules[0], &q), 1);
    CU_ASSERT_EQUAL_FATAL(act_resolve(&rules[0], &q, &id, &res, &rej), 1);
    act_reject_reason(reason, sizeof reason, &rules[0], &rej);
    CU_ASSERT_STRING_EQUAL(reason, "bad_id: productId: 'ab\"c' is not a number (rule 1 (product_view))");
    int known = 0;
    for (int i = 0; i < ACT_NREJECT; i++)
        known += !strcmp(rej.code, act_reject_codes[i]);
    CU_ASSERT_EQUAL(known, 1);
    vsrc_free(&id.guest);
    sl_bb_free(sb);
    teardown();
}

/*
 * A rule regex that backtracks exponentially, `(a|aa)+$`, and a visitor's
 * 40-character path of a's: without PCRE2 limits one such line cost 42 ms
 * (ten million steps). It must be "no match", counted in the rule's
 * limit_hits, while an ordinary path still matches the same rule and a
 * costly exclude regex is counted too.
 */
static void test_regex_limit(void)
{
    static const char *const costly[] = {"type=page_view", "path=(a|aa)+$", "pageId=7", NULL};
    char hostile[41], err[300];
    hostile[0] = '/';
    memset(hostile + 1, 'a', 38);
    strcpy(hostile + 39, "!"); /* 40 characters; the '!' makes every split fail */
    nrules = 0;
    add_rule(costly);
    act_rule *r = &rules[0];
    sl_builder *sb = sl_bb_new();
    CU_ASSERT_FATAL(sb != NULL);
    sl_value body;
    act_req q;
    pack_body(sb, "GET", hostile, NULL, 200, UA, "gid=x", NULL);
    read_loose(sb, &body);
    act_req_load(&q, &body, &FIELDS);
    CU_ASSERT_EQUAL(q.path_len, 40);
    long long t0 = sl_test_now_ms();
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(act_rule_match(r, &q), 0);
    CU_ASSERT_EQUAL(r->limit_hits, 3);
    /* Not a timing assertion: a bound so loose only a missing limit fails it. */
    CU_ASSERT(sl_test_now_ms() - t0 < 3000);
    sl_bb_reset(sb);
    pack_body(sb, "GET", "/aaaa", NULL, 200, UA, "gid=x", NULL);
    read_loose(sb, &body);
    act_req_load(&q, &body, &FIELDS);
    CU_ASSERT_EQUAL(act_rule_match(r, &q), 1);
    CU_ASSERT_EQUAL(r->limit_hits, 3);
    teardown();

    /* The same regex as an exclude: the hostile path is not excluded. */
    static const char *const view[] = {"type=page_view", "path=^/", "pageId=7", NULL};
    nrules = 0;
    add_rule(view);
    r = &rules[0];
    CU_ASSERT_EQUAL(act_rule_exclude_path(r, "(a|aa)+$", err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(act_rule_finish(r, err, sizeof err), 0);
    sl_bb_reset(sb);
    pack_body(sb, "GET", hostile, NULL, 200, UA, "gid=x", NULL);
    read_loose(sb, &body);
    act_req_load(&q, &body, &FIELDS);
    CU_ASSERT_EQUAL(act_rule_match(r, &q), 1);
    CU_ASSERT_EQUAL(act_rule_excluded(r, &q), 0);
    CU_ASSERT_EQUAL(r->limit_hits, 1);
    sl_bb_free(sb);
    teardown();
}


/* OneEntry's own storefront: category and page views by handle. The event
 * goes on with pageUrl (and pageLang) instead of pageId, for the
 * oneentry_pages enricher; a rule with both takes pageId when it is there. */
static void test_page_url(void)
{
    static const char *const cat[] = {"type=category_view", "method=GET",
        "path=^/(?<lang>[a-z]{2})/shop/category/(?<pageUrl>[^/]+)/?$", "pageLang=capture:lang",
        NULL};
    static const char *const both[] = {"type=page_view", "path=^/p$", "pageId=param:id",
        "pageUrl=param:h", NULL};
    static const char *const page[] = {"type=page_view", "method=GET",
        "path=^/(?<pageLang>[a-z]{2})/(?<pageUrl>[a-z0-9-]+)/?$", NULL};
    static const act_case pc[] = {
        {"GET", "/en/shop/category/t-shirts", NULL, 200, UA, "gid=g", NULL,
         "{\"type\":\"category_view\",\"pageUrl\":\"t-shirts\",\"pageLang\":\"en\",\"guest_id\":\"g\"}"},
        {"GET", "/p", "id=5&h=x", 200, UA, "gid=g", NULL,
         "{\"type\":\"page_view\",\"pageId\":5,\"guest_id\":\"g\"}"},
        {"GET", "/p", "h=about", 200, UA, "gid=g", NULL,
         "{\"type\":\"page_view\",\"pageUrl\":\"about\",\"guest_id\":\"g\"}"},
        {"GET", "/p", "id=x&h=about", 200, UA, "gid=g", NULL, "reject:bad_id"},
        {"GET", "/p", "h=-", 200, UA, "gid=g", NULL, "reject:missing_id"},
        {"GET", "/de/ueber-uns/", NULL, 200, UA, "gid=g", NULL,
         "{\"type\":\"page_view\",\"pageUrl\":\"ueber-uns\",\"pageLang\":\"de\",\"guest_id\":\"g\"}"},
    };
    char err[200];
    nrules = 0;
    add_rule(cat);
    add_rule(both);
    add_rule(page);
    CU_ASSERT_EQUAL_FATAL(act_bots_init(&bots, NULL, 0, err, sizeof err), 0);
    memset(&ident, 0, sizeof ident);
    CU_ASSERT_EQUAL_FATAL(vsrc_parse(&ident.guest, "cookie:gid", 0, 1, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++) {
        char *got = run_one(&pc[i]);
        if (!got || strcmp(got, pc[i].want) != 0) {
            fprintf(stderr, "\n%s %s\n got %s\nwant %s\n", pc[i].method, pc[i].path,
                    got ? got : "-", pc[i].want);
            CU_FAIL("pageUrl case");
        }
        free(got);
    }
    teardown();
}

/* pageUrl only on page and category views, pageLang only with a pageUrl;
 * a page view needs pageId or pageUrl. */
static void test_page_url_errors(void)
{
    act_rule r;
    char err[400];
    CU_ASSERT_EQUAL_FATAL(act_rule_init(&r, 0, "product_view", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_path(&r, "^/p/(?<productId>[0-9]+)$", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_value(&r, "pageUrl", "param:h", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_finish(&r, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "pageUrl and pageLang are for page_view and category_view") != NULL);
    act_rule_free(&r);
    CU_ASSERT_EQUAL_FATAL(act_rule_init(&r, 0, "page_view", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_value(&r, "pageLang", "param:l", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_finish(&r, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "pageLang needs a pageUrl") != NULL);
    act_rule_free(&r);
    CU_ASSERT_EQUAL_FATAL(act_rule_init(&r, 0, "category_view", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_path(&r, "^/c/(?<slug>[a-z]+)$", err, sizeof err), 0);
    CU_ASSERT_EQUAL(act_rule_finish(&r, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "needs pageId") != NULL && strstr(err, "pageUrl") != NULL);
    act_rule_free(&r);
}

int main(void)
{
    static const sl_test_case tests[] = {
        {"storefront: ten types, conditions, bots, rejections", test_storefront_table},
        {"first matching rule wins", test_rule_order},
        {"literal path prefix derived from the regex", test_prefix_derivation},
        {"rule configuration errors", test_config_errors},
        {"derived guest id: stable and keyed", test_derived_guest_id},
        {"siphash reference vector", test_siphash_vector},
        {"cookies", test_cookie_and_field},
        {"user-agent substring sets", test_uaset},
        {"remembered bot verdicts", test_bot_memo},
        {"one-walk event reader equals sl_batch_next", test_event_reader},
        {"per-rule exclude: user agents and paths", test_rule_exclude},
        {"dead-letter reason of a rejected event", test_reject_reason},
        {"a costly regex is no match, counted", test_regex_limit},
        {"pageUrl: page and category views by handle", test_page_url},
        {"pageUrl and pageLang configuration errors", test_page_url_errors},
        {NULL, NULL},
    };
    return sl_test_run("enricher_activity rules", tests);
}
