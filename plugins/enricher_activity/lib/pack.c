/* The UserActivity body of a matched request; see act.h. */
#include "act.h"

#include <stdio.h>
#include <string.h>

#include "siphash.h"

const char *const act_reject_codes[ACT_NREJECT] = {"bad_id", "missing_id", "empty_query",
                                                  "no_identity"};

int act_ident_key(act_ident *id, const char *secret, char *err, size_t errlen)
{
    static const uint8_t zero[16];
    if (!secret || strlen(secret) < 16) {
        snprintf(err, errlen, "guest_id_key: needs a secret of at least 16 characters");
        return -1;
    }
    /* Any length of secret folds into SipHash's 128-bit key. */
    siphash128(zero, secret, strlen(secret), id->key);
    return 0;
}

/* The value a source names for this event. */
static vval resolve(const vsrc *v, const act_rule *r, const act_req *q)
{
    vval out = {0, 0, 0, NULL, 0};
    sl_value f;
    switch (v->kind) {
    case VS_NONE:
        break;
    case VS_CAPTURE: {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
        uint32_t g = v->group;
        if (g < pcre2_get_ovector_count(r->md) && ov[2 * g] != PCRE2_UNSET) {
            out.s = q->path + ov[2 * g];
            out.n = ov[2 * g + 1] - ov[2 * g];
            out.found = 1;
        }
        break;
    }
    case VS_PARAM:
        out.found = act_param_value(q, v->name, v->name_len, &out.s, &out.n);
        break;
    case VS_COOKIE:
        out.found = q->cookie &&
                    vsrc_cookie(q->cookie, q->cookie_len, v->name, v->name_len, &out.s, &out.n);
        break;
    case VS_FIELD:
        if (!vsrc_field(q->body, v->name, v->name_len, &f))
            break;
        if (f.type == SL_STR) {
            out.s = f.v.s.ptr;
            out.n = f.v.s.len;
            out.found = 1;
        } else if (sl_value_to_int(&f, &out.i) == 0) {
            out.is_int = out.found = 1;
        }
        break;
    case VS_CONST_INT:
        out.i = v->i;
        out.is_int = out.found = 1;
        break;
    case VS_CONST_STR:
        out.s = v->name;
        out.n = v->name_len;
        out.found = 1;
        break;
    }
    /* nginx logs "-" for an empty variable */
    if (out.found && !out.is_int && (out.n == 0 || (out.n == 1 && out.s[0] == '-')))
        out.found = 0;
    return out;
}

static int to_id(const vval *v, int64_t *out)
{
    if (v->is_int) {
        *out = v->i;
        return v->i >= 0 && v->i <= ACT_MAX_ID ? 0 : -1;
    }
    if (v->n == 0 || v->n > 16)
        return -1;
    int64_t x = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->s[i] < '0' || v->s[i] > '9')
            return -1;
        x = x * 10 + (v->s[i] - '0');
    }
    *out = x;
    return x <= ACT_MAX_ID ? 0 : -1;
}

static int reject(act_reject *rej, const char *code, const char *why)
{
    rej->code = code;
    snprintf(rej->why, sizeof rej->why, "%s", why);
    return 1;
}

/* No pageId, but a page handle: sent on as pageUrl (+ pageLang) for the
 * oneentry_pages enricher, which sets pageId or rejects the event. */
static int resolve_page_url(const act_rule *r, const act_req *q, act_result *out,
                            act_reject *rej)
{
    out->page_url = resolve(&r->page_url, r, q);
    out->page_lang = resolve(&r->page_lang, r, q);
    if (out->page_lang.is_int)
        out->page_lang.found = 0;
    if (!out->page_url.found) {
        snprintf(rej->why, sizeof rej->why, "pageId: missing (no pageId, no pageUrl)");
        rej->code = "missing_id";
        return 1;
    }
    if (out->page_url.is_int) {
        snprintf(rej->why, sizeof rej->why, "pageUrl: %lld is not a page handle",
                 (long long)out->page_url.i);
        rej->code = "bad_id";
        return 1;
    }
    return 0;
}

/* productId, pageId, categoryId: required ones present, all numbers. */
static int resolve_ids(const act_rule *r, const act_req *q, act_result *out, act_reject *rej)
{
    static const char *names[3] = {"productId", "pageId", "categoryId"};
    const vsrc *src[3] = {&r->product, &r->page, &r->category};
    int by_url = r->page_url.kind != VS_NONE;
    int need[3] = {r->product.kind != VS_NONE && !strncmp(act_type_names[r->type], "product_", 8),
                   (r->type == 1 || r->type == 2) && !by_url, 0};
    out->page_url.found = out->page_lang.found = 0;
    for (int i = 0; i < 3; i++) {
        out->has_id[i] = 0;
        if (src[i]->kind == VS_NONE && !need[i])
            continue;
        vval v = resolve(src[i], r, q);
        if (!v.found) {
            if (need[i]) {
                snprintf(rej->why, sizeof rej->why, "%s: missing", names[i]);
                rej->code = "missing_id";
                return 1;
            }
            continue;
        }
        if (to_id(&v, &out->id[i]) != 0) {
            if (v.is_int)
                snprintf(rej->why, sizeof rej->why, "%s: %lld is out of range", names[i],
                         (long long)v.i);
            else
                snprintf(rej->why, sizeof rej->why, "%s: '%.*s' is not a number", names[i],
                         (int)(v.n > 40 ? 40 : v.n), v.s);
            rej->code = "bad_id";
            return 1;
        }
        out->has_id[i] = 1;
    }
    if (by_url && !out->has_id[1])
        return resolve_page_url(r, q, out, rej);
    return 0;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

/* The derived guest id: "g" + 32 hex digits of SipHash(ip "\n" ua). */
static int derive_guest(const act_ident *id, const act_req *q, char out[34])
{
    uint8_t buf[1024], h[16];
    size_t ipn = q->ip_len < 64 ? q->ip_len : 64;
    size_t uan = q->ua_len < sizeof buf - 65 ? q->ua_len : sizeof buf - 65;
    if (!q->ip && !q->ua)
        return -1;
    if (ipn)
        memcpy(buf, q->ip, ipn);
    buf[ipn] = '\n';
    if (uan)
        memcpy(buf + ipn + 1, q->ua, uan);
    siphash128(id->key, buf, ipn + 1 + uan, h);
    out[0] = 'g';
    hex(h, 16, out + 1);
    out[33] = 0;
    return 0;
}

static int pack_kv_str(sl_builder *bb, const char *k, size_t kn, const char *s, size_t n)
{
    return sl_bb_str(bb, k, kn) | sl_bb_str(bb, s, n);
}

#define KV(bb, lit, s, n) pack_kv_str(bb, lit, sizeof lit - 1, s, n)

int act_resolve(const act_rule *r, const act_req *q, const act_ident *id, act_result *res,
                act_reject *rej)
{
    res->r = r;
    if (resolve_ids(r, q, res, rej) != 0)
        return 1;
    res->query = resolve(&r->query, r, q);
    if (res->query.is_int)
        res->query.found = 0;
    if (r->type == 3 && !res->query.found)
        return reject(rej, "empty_query", "search: empty or missing query");
    res->guest = resolve(&id->guest, r, q);
    res->token = resolve(&id->token, r, q);
    if (!res->guest.found && !res->token.found && id->derive &&
        derive_guest(id, q, res->derived) == 0)
        res->guest = (vval){1, 0, 0, res->derived, 33};
    if (!res->guest.found && !res->token.found)
        return reject(rej, "no_identity", "no guest id or user token");
    if (res->guest.is_int || res->token.is_int)
        return reject(rej, "no_identity", "guest id and user token must be text");
    res->nmeta = 0;
    for (size_t i = 0; i < r->nmeta && i < ACT_MAX_META; i++) {
        res->meta[i] = resolve(&r->meta[i].src, r, q);
        res->nmeta += (uint32_t)res->meta[i].found;
    }
    return 0;
}

static int pack_meta(const act_result *res, sl_builder *bb)
{
    const act_rule *r = res->r;
    int rc = sl_bb_str(bb, "meta", 4) | sl_bb_map(bb, res->nmeta);
    for (size_t i = 0; i < r->nmeta && i < ACT_MAX_META; i++) {
        const vval *v = &res->meta[i];
        if (!v->found)
            continue;
        rc |= sl_bb_cstr(bb, r->meta[i].key);
        rc |= v->is_int ? sl_bb_int(bb, v->i) : sl_bb_str(bb, v->s, v->n);
    }
    return rc;
}

int act_pack_result(const act_result *res, sl_builder *bb)
{
    static const char *id_names[3] = {"productId", "pageId", "categoryId"};
    static const size_t id_lens[3] = {9, 6, 10};
    const char *type = act_type_names[res->r->type];
    uint32_t n = 1 + (uint32_t)(res->has_id[0] + res->has_id[1] + res->has_id[2]) +
                 (uint32_t)res->page_url.found + (uint32_t)res->page_lang.found +
                 (uint32_t)res->query.found + (res->nmeta > 0) + (uint32_t)res->guest.found +
                 (uint32_t)res->token.found;
    int rc = sl_bb_map(bb, n);
    rc |= KV(bb, "type", type, strlen(type));
    for (int i = 0; i < 3; i++)
        if (res->has_id[i])
            rc |= sl_bb_str(bb, id_names[i], id_lens[i]) | sl_bb_int(bb, res->id[i]);
    if (res->page_url.found)
        rc |= KV(bb, "pageUrl", res->page_url.s, res->page_url.n);
    if (res->page_lang.found)
        rc |= KV(bb, "pageLang", res->page_lang.s, res->page_lang.n);
    if (res->query.found)
        rc |= KV(bb, "query", res->query.s, res->query.n);
    if (res->nmeta)
        rc |= pack_meta(res, bb);
    if (res->guest.found)
        rc |= KV(bb, "guest_id", res->guest.s, res->guest.n);
    if (res->token.found)
        rc |= KV(bb, "user_token", res->token.s, res->token.n);
    return rc ? -1 : 0;
}

int act_pack_body(const act_rule *r, const act_req *q, const act_ident *id, sl_builder *bb,
                  act_reject *rej)
{
    act_result res;
    if (act_resolve(r, q, id, &res, rej) != 0)
        return 1;
    return act_pack_result(&res, bb);
}
