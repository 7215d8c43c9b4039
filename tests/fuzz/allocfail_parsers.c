/*
 * Allocation-failure torture of the plugins' parsers of untrusted bytes:
 * every enricher_parse format (set-up and one line), the activity rules
 * (compile, match, pack), the OneEntry request builder and the tail
 * checkpoint reader. For N = 0, 1, ... the Nth allocation fails; each run
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

static int parse_line(const void *arg)
{
    const line_case *c = arg;
    int keyed = c->fmt >= PL_JSON;
    pline p;
    pf_out o;
    char err[256];
    int64_t ns;
    int has;
    pf_init(&o);
    int rc = pline_init(&p, c->fmt, c->fmt == PL_REGEX ? RX : NULL, NULL,
                        keyed ? "time" : NULL, keyed ? "request" : NULL, err, sizeof err);
    if (rc == 0 && keyed)
        rc = pline_add_cast(&p, "status", "int", err, sizeof err);
    if (rc == 0 && keyed)
        rc = pline_add_cast(&p, "n", "int", err, sizeof err);
    if (rc == 0)
        rc = pline_parse(&p, c->line, strlen(c->line), &o, &ns, &has, err, sizeof err);
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

static void pack_request(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    sl_pack_cstr(&pk, "method");
    sl_pack_cstr(&pk, "GET");
    sl_pack_cstr(&pk, "path");
    sl_pack_cstr(&pk, "/products/1042");
    sl_pack_cstr(&pk, "query");
    msgpack_pack_map(&pk, 1);
    sl_pack_cstr(&pk, "ref");
    sl_pack_cstr(&pk, "home");
    sl_pack_cstr(&pk, "status");
    msgpack_pack_int(&pk, 200);
    sl_pack_cstr(&pk, "ua");
    sl_pack_cstr(&pk, "Mozilla/5.0");
    sl_pack_cstr(&pk, "cookie");
    sl_pack_cstr(&pk, "gid=g-42; other=1");
}

static msgpack_sbuffer request;

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
    if (rc == 0) {
        const uint8_t *p = (const uint8_t *)request.data;
        sl_value body;
        act_req q;
        act_reject rej;
        msgpack_sbuffer out;
        msgpack_packer pk;
        msgpack_sbuffer_init(&out);
        msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
        if (sl_read_value(&p, p + request.size, &body) != 0)
            abort();
        act_req_load(&q, &body, &FIELDS);
        if (act_rule_match(&r, &q) != 1)
            note_odd("the rule did not match");
        rc = act_pack_body(&r, &q, &id, &pk, &rej);
        if (rc == 1)
            note_odd("a valid request was rejected"); /* nothing here is a reason */
        msgpack_sbuffer_destroy(&out);
    }
    vsrc_free(&id.guest);
    act_rule_free(&r);
    return rc == 0 ? 0 : -1;
}

static void test_activity(void)
{
    msgpack_sbuffer_init(&request);
    pack_request(&request);
    torture("activity", activity, NULL, 1, 1);
    msgpack_sbuffer_destroy(&request);
    assert_no_odd("activity");
}

/* --- sink_oneentry request builder ---------------------------------- */

static msgpack_sbuffer oe_in;

static int build_request(const void *arg)
{
    (void)arg;
    const uint8_t *p = (const uint8_t *)oe_in.data;
    sl_value body;
    if (sl_read_value(&p, p + oe_in.size, &body) != 0)
        abort();
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
    msgpack_packer pk;
    msgpack_sbuffer_init(&oe_in);
    msgpack_packer_init(&pk, &oe_in, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    sl_pack_cstr(&pk, "type");
    sl_pack_cstr(&pk, "product_view");
    sl_pack_cstr(&pk, "productId");
    msgpack_pack_int(&pk, 1042);
    sl_pack_cstr(&pk, "guest_id");
    sl_pack_cstr(&pk, "g-42 with \"quotes\" and \xc3\xa9");
    sl_pack_cstr(&pk, "meta");
    msgpack_pack_map(&pk, 2);
    sl_pack_cstr(&pk, "ref");
    sl_pack_cstr(&pk, "home");
    sl_pack_cstr(&pk, "list");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_double(&pk, 2.5);
    long runs = torture("oe_build", build_request, NULL, 1, 0);
    CU_ASSERT(runs > 1);
    msgpack_sbuffer_destroy(&oe_in);
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
