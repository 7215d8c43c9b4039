/*
 * Allocation-failure torture of the plugins' parsers of untrusted bytes:
 * every enricher_parse format (set-up, one line and the event written from
 * it), the activity rules (compile, match, pack), the OneEntry request
 * builder and the tail checkpoint reader. For N = 0, 1, ... the Nth allocation fails; each run
 * must return an error, free everything and not crash (see failalloc.h).
 *
 * PCRE2's JIT compiler may fail and the code rightly goes on without it, so
 * runs that compile a regex may absorb a failure; they must still free all.
 *
 * Nothing here asserts while the failing allocator is armed (a failed
 * CUnit assertion allocates): checks note a problem in `odd`, and the
 * test asserts on it afterwards.
 *
 * Two cases it found are fixed and run every time: oe_build used to reject
 * (dead-letter) a valid event when its JSON buffer could not grow, and
 * tail_ckpts_format returned success with empty text when open_memstream
 * could not grow its buffer at fclose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "ckpt.h"
#include "oe_body.h"
#include "pline.h"
#include "sl_test.h"
#include "sluice/event.h"
#include "sluice/json.h"

#include "failalloc.h"

static char odd[256]; /* first problem seen while armed */

static void note_odd(const char *what)
{
    if (!odd[0])
        snprintf(odd, sizeof odd, "%s (allocation %ld failing)", what, fail_at);
}

static void assert_no_odd(const char *test)
{
    if (odd[0])
        fprintf(stderr, "\n%s: %s\n", test, odd);
    CU_ASSERT(odd[0] == 0);
    odd[0] = 0;
}

/* --- enricher_parse ------------------------------------------------- */

typedef struct line_case {
    pline_format fmt;
    const char *line;
} line_case;

static const char *const RX =
    "^(?<ip>\\S+) \\[(?<time>[^\\]]+)\\] \"(?<request>[^\"]*)\" (?<status>\\d+)$";

static const line_case LINES[] = {
    {PL_NGINX_COMBINED, "203.0.113.7 - - [10/Oct/2000:13:55:36 -0700] \"GET /products/42?"
                        "utm_source=mail&ref=home&a=1&a=2 HTTP/1.1\" 200 5120 \"https://shop/\" "
                        "\"Mozilla/5.0 (X11; Linux x86_64)\""},
    {PL_APACHE_COMBINED, "10.1.2.3 - frank [10/Oct/2000:13:55:36 -0700] \"GET /search?q=red+"
                         "shoes%21 HTTP/1.0\" 304 - \"http://x/\\\"q\\\"\" \"Agent \\\\ 1\""},
    {PL_COMMON, "::1 - - [01/Jan/2024:00:00:00 +0000] \"POST /cart/add?product_id=7 HTTP/2.0\" 201 12"},
    {PL_JSON, "{\"time\":\"2024-03-12T10:00:00.5+01:00\",\"request\":\"GET /a?b=1&b=2 HTTP/1.1\","
              "\"status\":\"200\",\"nested\":{\"x\":[1,null,\"\\u00e9\"]},\"n\":\"42\"}"},
    {PL_REGEX, "1.1.1.1 [10/Oct/2000:13:55:36 -0700] \"GET /s?q=a%20b&r=1 HTTP/1.1\" 404"},
    {PL_LOGFMT, "time=2024-03-12T10:00:00Z request=\"GET /p?x=1 HTTP/1.1\" status=201 n=42 "
                "msg=\"quoted \\\" value\" flag"},
};

/* The parsed fields as the plugin writes them: one event in a new builder. */
static int write_event(const pf_out *o)
{
    sl_builder *bb = sl_bb_new();
    if (!bb)
        return -1;
    sl_bb_begin(bb, 0);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, o->n);
    for (uint32_t i = 0; i < o->n; i++) {
        size_t kn;
        const char *k = pf_key(o, i, &kn);
        sl_bb_str(bb, k, kn);
        pf_pack_value(o, i, bb);
    }
    int rc = sl_bb_end(bb);
    if (rc == 0 && sl_bb_count(bb) != 1)
        note_odd("sl_bb_end succeeded without an event");
    sl_bb_free(bb);
    return rc;
}

static int parse_line(const void *arg)
{
    const line_case *c = arg;
    int keyed = c->fmt >= PL_JSON;
    pline p;
    pf_out o;
    char err[256];
    int64_t ns;
    int has;
    memset(&p, 0, sizeof p); /* pline_free is safe before pline_init */
    int rc = pf_init(&o);
    if (rc == 0)
        rc = pline_init(&p, c->fmt, c->fmt == PL_REGEX ? RX : NULL, NULL,
                        keyed ? "time" : NULL, keyed ? "request" : NULL, err, sizeof err);
    if (rc == 0 && keyed)
        rc = pline_add_cast(&p, "status", "int", err, sizeof err);
    if (rc == 0 && keyed)
        rc = pline_add_cast(&p, "n", "int", err, sizeof err);
    if (rc == 0)
        rc = pline_parse(&p, c->line, strlen(c->line), &o, &ns, &has, err, sizeof err);
    if (rc == 0)
        rc = write_event(&o);
    pline_free(&p);
    pf_free(&o);
    return rc == 0 ? 0 : -1;
}

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof LINES / sizeof LINES[0]; i++) {
        long runs = torture("parse", parse_line, &LINES[i], 1, LINES[i].fmt == PL_REGEX);
        CU_ASSERT(runs > 2); /* the parser really allocated under test */
    }
}

/* --- enricher_activity ---------------------------------------------- */

static const act_fields FIELDS = {"method", "path", "query", "status", "ua", "ip", "cookie"};

static void pack_request(sl_builder *bb)
{
    sl_bb_map(bb, 6);
    sl_bb_cstr(bb, "method");
    sl_bb_cstr(bb, "GET");
    sl_bb_cstr(bb, "path");
    sl_bb_cstr(bb, "/products/1042");
    sl_bb_cstr(bb, "query");
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "ref");
    sl_bb_cstr(bb, "home");
    sl_bb_cstr(bb, "status");
    sl_bb_int(bb, 200);
    sl_bb_cstr(bb, "ua");
    sl_bb_cstr(bb, "Mozilla/5.0");
    sl_bb_cstr(bb, "cookie");
    sl_bb_cstr(bb, "gid=g-42; other=1");
}

/* The one value a builder holds (built before the allocator is armed). */
static void read_loose(const sl_builder *bb, sl_value *v)
{
    size_t len;
    const uint8_t *p = sl_bb_data(bb, &len), *end = p + len;
    if (sl_read_value(&p, end, v) != 0 || p != end)
        abort();
}

static sl_builder *request;

static int activity(const void *arg)
{
    (void)arg;
    char err[300];
    act_rule r;
    act_ident id;
    memset(&id, 0, sizeof id);
    int rc = act_rule_init(&r, 0, "product_view", err, sizeof err);
    if (rc == 0)
        rc = act_rule_path(&r, "^/products/(?<productId>[0-9]+)$", err, sizeof err);
    if (rc == 0)
        rc = act_rule_meta(&r, "ref", "param:ref", 0, err, sizeof err);
    if (rc == 0)
        rc = act_rule_finish(&r, err, sizeof err);
    if (rc == 0)
        rc = vsrc_parse(&id.guest, "cookie:gid", 0, 1, err, sizeof err);
    sl_builder *out = NULL;
    if (rc == 0 && !(out = sl_bb_new()))
        rc = -1;
    if (rc == 0) {
        sl_value body;
        act_req q;
        act_reject rej;
        read_loose(request, &body);
        act_req_load(&q, &body, &FIELDS);
        if (act_rule_match(&r, &q) != 1)
            note_odd("the rule did not match");
        rc = act_pack_body(&r, &q, &id, out, &rej);
        if (rc == 1)
            note_odd("a valid request was rejected"); /* nothing here is a reason */
    }
    sl_bb_free(out);
    vsrc_free(&id.guest);
    act_rule_free(&r);
    return rc == 0 ? 0 : -1;
}

static void test_activity(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(request = sl_bb_new());
    pack_request(request);
    torture("activity", activity, NULL, 1, 1);
    sl_bb_free(request);
    assert_no_odd("activity");
}

/* --- sink_oneentry request builder ---------------------------------- */

static sl_builder *oe_in;

static int build_request(const void *arg)
{
    (void)arg;
    sl_value body;
    read_loose(oe_in, &body);
    oe_request req = {0};
    oe_keys keys = {"guest_id", "user_token"};
    char why[200];
    int rc = oe_build(&body, &keys, &req, why, sizeof why);
    if (rc == 1)
        note_odd("a valid event was rejected, i.e. dead-lettered");
    oe_request_free(&req);
    return rc == 0 ? 0 : -1;
}

static void test_oe_body(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(oe_in = sl_bb_new());
    sl_bb_map(oe_in, 4);
    sl_bb_cstr(oe_in, "type");
    sl_bb_cstr(oe_in, "product_view");
    sl_bb_cstr(oe_in, "productId");
    sl_bb_int(oe_in, 1042);
    sl_bb_cstr(oe_in, "guest_id");
    sl_bb_cstr(oe_in, "g-42 with \"quotes\" and \xc3\xa9");
    sl_bb_cstr(oe_in, "meta");
    sl_bb_map(oe_in, 2);
    sl_bb_cstr(oe_in, "ref");
    sl_bb_cstr(oe_in, "home");
    sl_bb_cstr(oe_in, "list");
    sl_bb_array(oe_in, 2);
    sl_bb_int(oe_in, 1);
    sl_bb_double(oe_in, 2.5);
    long runs = torture("oe_build", build_request, NULL, 1, 0);
    CU_ASSERT(runs > 1);
    sl_bb_free(oe_in);
    assert_no_odd("oe_build");
}

/* --- tail checkpoints ----------------------------------------------- */

static const char CKPT[] =
    "# sluice tail checkpoints v1\n"
    "2049 131 1024 256 cbf29ce484222325 64 af63bd4c8601b7df /var/log/nginx/access.log\n"
    "2049 132 0 0 0 0 0 /var/log/a b.log\n"
    "2049 133 10 10 ff 10 ee /var/log/c.log\n";

static int checkpoints(const void *arg)
{
    (void)arg;
    tail_ckpts c;
    char err[200];
    tail_ckpts_init(&c);
    int rc = tail_ckpts_parse(&c, CKPT, sizeof CKPT - 1, err, sizeof err);
    if (rc == 0) {
        char *out = NULL;
        size_t len;
        rc = tail_ckpts_format(&c, &out, &len);
        if (rc == 0) {
            if (!out || len != sizeof CKPT - 1 || memcmp(out, CKPT, len) != 0)
                note_odd("format succeeded with text that is not the checkpoints");
            free(out);
        }
    }
    tail_ckpts_free(&c);
    return rc;
}

static void test_ckpt(void)
{
    long runs = torture("checkpoints", checkpoints, NULL, 1, 0);
    CU_ASSERT(runs > 3);
    assert_no_odd("checkpoints");
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"enricher_parse, every format, every allocation failing", test_parse},
        {"activity rule, match and pack, every allocation failing", test_activity},
        {"OneEntry request builder, every allocation failing", test_oe_body},
        {"tail checkpoints parse and format, every allocation failing", test_ckpt},
        {NULL, NULL},
    };
    return sl_test_run("allocfail_parsers", cases);
}
