/*
 * Fuzz target: an access-log request through the activity path. The input is
 * up to six lines: request line, status, user agent, Cookie header, client
 * address, user token. The request line goes through enricher_parse's
 * request/query decoder (urlq), the resulting body through the storefront
 * rules of enricher_activity (matcher, bot filter, identity from a cookie or
 * a derived id, body packing), and a packed activity through sink_oneentry's
 * request builder: every hop that turns client-written bytes into output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "fuzz.h"
#include "oe_body.h"
#include "pfields.h"
#include "sluice/json.h"
#include "urlq.h"

static const act_fields FIELDS = {"method", "path", "query", "status", "ua", "ip", "cookie"};

/* The shipped storefront rules (pipelines/), in the "key=value" form. */
static const char *const SPECS[][6] = {
    {"product_add_to_cart", "method=POST", "path=^/cart/add$", "productId=param:product_id"},
    {"product_add_to_wishlist", "method=POST", "path=^/wishlist/(?<productId>[^/]+)$"},
    {"product_purchase", "path=^/checkout/complete$", "productId=param:product_id",
     "meta.order=param:order"},
    {"product_view", "method=GET", "path=^/products/(?<productId>[^/]+)$",
     "meta.sourceBlock=catalog", "meta.ref=param:ref"},
    {"category_view", "path=^/catalog/(?<slug>[a-z-]+)-(?<pageId>[0-9]+)$",
     "categoryId=capture:pageId", "status=any"},
    {"search", "method=GET", "path_prefix=/search", "param=q", "query=param:q"},
    {"page_view", "path=^/pages/(?<pageId>[0-9]+)", "status=404"},
};
#define NRULES (sizeof SPECS / sizeof SPECS[0])

static act_rule rules[NRULES];
static act_bots bots;
static act_ident ident;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_activity: %s: %s\n", what, err);
    abort();
}

static int rule_opt(act_rule *r, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    char key[32];
    snprintf(key, sizeof key, "%.*s", (int)(eq - spec), spec);
    const char *v = eq + 1;
    if (!strcmp(key, "method"))
        return act_rule_method(r, v, err, errlen);
    if (!strcmp(key, "path"))
        return act_rule_path(r, v, err, errlen);
    if (!strcmp(key, "path_prefix"))
        return act_rule_path_prefix(r, v, err, errlen);
    if (!strcmp(key, "param"))
        return act_rule_param(r, v, NULL, err, errlen);
    if (!strcmp(key, "status"))
        return act_rule_status(r, v, err, errlen);
    if (!strncmp(key, "meta.", 5))
        return act_rule_meta(r, key + 5, v, 0, err, errlen);
    return act_rule_value(r, key, v, 0, err, errlen);
}

static void setup(void)
{
    char err[300] = "";
    for (size_t i = 0; i < NRULES; i++) {
        if (act_rule_init(&rules[i], (int)i, SPECS[i][0], err, sizeof err) != 0)
            die("rule", err);
        for (size_t j = 1; j < 6 && SPECS[i][j]; j++)
            if (rule_opt(&rules[i], SPECS[i][j], err, sizeof err) != 0)
                die(SPECS[i][j], err);
        if (act_rule_finish(&rules[i], err, sizeof err) != 0)
            die("finish", err);
    }
    if (act_bots_init(&bots, NULL, 0, err, sizeof err) != 0 ||
        vsrc_parse(&ident.guest, "cookie:gid", 0, 1, err, sizeof err) != 0 ||
        vsrc_parse(&ident.token, "field:user.token", 0, 1, err, sizeof err) != 0 ||
        act_ident_key(&ident, "0123456789abcdef-fuzz", err, sizeof err) != 0)
        die("identity", err);
    ident.derive = 1;
}

/* Split the input at '\n' into at most n pieces (missing ones empty). */
static void split(const char *s, size_t len, const char **part, size_t *plen, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *nl = len ? memchr(s, '\n', len) : NULL;
        size_t k = (i + 1 < n && nl) ? (size_t)(nl - s) : len;
        part[i] = s;
        plen[i] = k;
        s += k;
        len -= k;
        if (len) {
            s++;
            len--;
        }
    }
}

/* The body enricher_parse would emit for these pieces, as one loose value
 * in bb. */
static int pack_request(sl_builder *bb, pf_out *o, const char **part, const size_t *plen)
{
    pf_reset(o);
    if (urlq_request(o, part[0], plen[0]) < 0)
        return -1;
    char num[32];
    snprintf(num, sizeof num, "%.*s", (int)(plen[1] < 20 ? plen[1] : 20), part[1]);
    if (pf_int(o, "status", strtoll(num, NULL, 10)) != 0 ||
        pf_str(o, "ua", part[2], plen[2]) != 0 || pf_str(o, "cookie", part[3], plen[3]) != 0 ||
        pf_str(o, "ip", part[4], plen[4]) != 0 || pf_begin(o, "user", 4) != 0 ||
        pf_note(o, sl_bb_map(o->sb, 1)) != 0 || pf_note(o, sl_bb_str(o->sb, "token", 5)) != 0 ||
        pf_note(o, sl_bb_str(o->sb, part[5], plen[5])) != 0 || pf_commit(o) != 0)
        return -1;
    int rc = sl_bb_map(bb, o->n);
    for (uint32_t i = 0; i < o->n; i++) {
        size_t klen;
        const char *k = pf_key(o, i, &klen);
        rc |= sl_bb_str(bb, k, klen) | pf_pack_value(o, i, bb);
    }
    return rc ? -1 : 0;
}

/* The one value a scratch builder holds, or die. */
static void read_one(const sl_builder *bb, sl_value *v, const char *what)
{
    size_t len;
    const uint8_t *p = sl_bb_data(bb, &len), *end = p + len;
    if (sl_read_value(&p, end, v) != 0 || p != end)
        die(what, "output is not one msgpack value");
}

static void to_oneentry(const sl_builder *act)
{
    sl_value v;
    read_one(act, &v, "act_pack_body");
    oe_request req = {0};
    char why[256];
    oe_keys keys = {"guest_id", "user_token"};
    if (oe_build(&v, &keys, &req, why, sizeof why) < 0)
        die("oe_build", "out of memory");
    oe_request_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pf_out o;
    static sl_builder *sb, *out;
    static int ready;
    if (!ready) {
        setup();
        if (pf_init(&o) != 0 || !(sb = sl_bb_new()) || !(out = sl_bb_new()))
            die("setup", "out of memory");
        ready = 1;
    }
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    const char *part[6];
    size_t plen[6];
    split(copy, size, part, plen, 6);

    sl_bb_reset(sb);
    sl_bb_reset(out);
    if (pack_request(sb, &o, part, plen) == 0) {
        sl_value body;
        read_one(sb, &body, "request body");
        act_req q;
        act_req_load(&q, &body, &FIELDS);
        act_rule *r = NULL;
        for (size_t i = 0; i < NRULES && !r; i++)
            if (act_rule_match(&rules[i], &q))
                r = &rules[i];
        act_reject rej;
        char reason[300];
        int rc = r && !act_is_bot(&bots, q.ua, q.ua_len) ? act_pack_body(r, &q, &ident, out, &rej)
                                                         : -2;
        if (rc == 0)
            to_oneentry(out);
        else if (rc == 1) /* the dead letter's reason */
            act_reject_reason(reason, sizeof reason, r, &rej);
    }
    free(copy);
    return 0;
}
