/*
 * Build and validate UserActivity requests. Only the six contract fields are
 * sent, in a fixed order; identity keys become a header and never reach the
 * body. Strings and meta go through sl_json_value, which escapes control
 * characters and replaces invalid UTF-8, so any input yields valid JSON.
 */
#include "oe_body.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const types[] = {
    "product_view", "page_view", "category_view", "search",
    "product_add_to_cart", "product_remove_from_cart", "product_add_to_wishlist",
    "product_remove_from_wishlist", "product_purchase", "product_rating",
};

int oe_type_known(const char *type, size_t len)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == len && memcmp(types[i], type, len) == 0)
            return 1;
    return 0;
}

/* The fields of interest, looked up once from the body map. */
typedef struct fields {
    sl_value type, product, page, category, query, meta, guest, token;
    int has_type, has_product, has_page, has_category, has_query, has_meta, has_guest,
        has_token;
} fields;

static int key_is(const sl_value *k, const char *name)
{
    return k->type == SL_STR && sl_value_eq(k, name);
}

/* First occurrence wins, as with sl_map_get. */
static void take(const sl_value *k, const sl_value *v, const char *name, sl_value *dst,
                 int *has)
{
    if (!*has && key_is(k, name)) {
        *dst = *v;
        *has = 1;
    }
}

static int collect(const sl_value *body, const oe_keys *keys, fields *f)
{
    sl_iter it;
    sl_value k, v;
    int r;
    memset(f, 0, sizeof *f);
    if (body->type != SL_MAP || sl_iter_init(&it, body) != 0)
        return -1;
    while ((r = sl_iter_next(&it, &k, &v)) == 1) {
        take(&k, &v, "type", &f->type, &f->has_type);
        take(&k, &v, "productId", &f->product, &f->has_product);
        take(&k, &v, "pageId", &f->page, &f->has_page);
        take(&k, &v, "categoryId", &f->category, &f->has_category);
        take(&k, &v, "query", &f->query, &f->has_query);
        take(&k, &v, "meta", &f->meta, &f->has_meta);
        take(&k, &v, keys->guest_id, &f->guest, &f->has_guest);
        take(&k, &v, keys->user_token, &f->token, &f->has_token);
    }
    return r;
}

/* An id field must be an integer (a decimal string is accepted and sent as
 * a number). Returns 0 ok, 1 rejected. */
static int check_id(const char *name, const sl_value *v, int64_t *out, char *why, size_t n)
{
    if (sl_value_to_int(v, out) != 0) {
        snprintf(why, n, "%s is not an integer", name);
        return 1;
    }
    return 0;
}

/* An identity string becomes a header value: it must be non-empty and free
 * of control characters, or it could end the header early (injection). */
static int header_safe(const sl_value *v)
{
    if (v->type != SL_STR || v->v.s.len == 0)
        return 0;
    for (uint32_t i = 0; i < v->v.s.len; i++)
        if ((unsigned char)v->v.s.ptr[i] < 0x20 || v->v.s.ptr[i] == 0x7f)
            return 0;
    return 1;
}

static int check_identity(const fields *f, const oe_keys *keys, char *why, size_t n)
{
    if (f->has_token && header_safe(&f->token))
        return 0;
    if (f->has_guest && header_safe(&f->guest))
        return 0;
    if (f->has_token || f->has_guest)
        snprintf(why, n, "identity %s/%s is not a non-empty string without control characters",
                 keys->user_token, keys->guest_id);
    else
        snprintf(why, n, "no identity: neither %s nor %s", keys->user_token, keys->guest_id);
    return 1;
}

static int check_type(const fields *f, char *why, size_t n)
{
    if (!f->has_type) {
        snprintf(why, n, "missing type");
        return 1;
    }
    if (f->type.type != SL_STR || !oe_type_known(f->type.v.s.ptr, f->type.v.s.len)) {
        sl_buf t = {0};
        int ok = sl_json_value(&t, &f->type) == 0 && sl_buf_append(&t, "", 1) == 0;
        snprintf(why, n, "unknown type %.100s", ok ? t.data : "(unprintable)");
        sl_buf_free(&t);
        return 1;
    }
    return 0;
}

/* Per-type required fields. */
static int check_required(const fields *f, char *why, size_t n)
{
    const char *t = f->type.v.s.ptr;
    uint32_t len = f->type.v.s.len;
    if (len > 8 && memcmp(t, "product_", 8) == 0 && !f->has_product) {
        snprintf(why, n, "%.*s without productId", (int)len, t);
        return 1;
    }
    if ((sl_value_eq(&f->type, "page_view") || sl_value_eq(&f->type, "category_view")) &&
        !f->has_page) {
        snprintf(why, n, "%.*s without pageId", (int)len, t);
        return 1;
    }
    if (sl_value_eq(&f->type, "search") &&
        (!f->has_query || f->query.type != SL_STR || f->query.v.s.len == 0)) {
        snprintf(why, n, f->has_query ? "search query is not a non-empty string"
                                      : "search without query");
        return 1;
    }
    if (f->has_meta && f->meta.type != SL_MAP) {
        snprintf(why, n, "meta is not an object");
        return 1;
    }
    return 0;
}

static int put_id(sl_buf *b, const char *key, int has, int64_t v)
{
    sl_value id = {.type = SL_INT, .v.i = v};
    if (!has)
        return 0;
    return sl_buf_puts(b, ",\"") || sl_buf_puts(b, key) || sl_buf_puts(b, "\":") ||
                   sl_json_value(b, &id)
               ? -1
               : 0;
}

static int put_json(const fields *f, const int64_t ids[3], sl_buf *b)
{
    if (sl_buf_puts(b, "{\"type\":") || sl_json_value(b, &f->type) ||
        put_id(b, "productId", f->has_product, ids[0]) ||
        put_id(b, "pageId", f->has_page, ids[1]) ||
        put_id(b, "categoryId", f->has_category, ids[2]))
        return -1;
    if (f->has_query && (sl_buf_puts(b, ",\"query\":") || sl_json_value(b, &f->query)))
        return -1;
    if (f->has_meta && (sl_buf_puts(b, ",\"meta\":") || sl_json_value(b, &f->meta)))
        return -1;
    return sl_buf_append(b, "}", 1);
}

static int put_header(const fields *f, oe_request *req)
{
    const sl_value *v = f->has_token && header_safe(&f->token) ? &f->token : &f->guest;
    req->is_user = v == &f->token;
    if (sl_buf_puts(&req->header, req->is_user ? "Authorization: Bearer " : "x-guest-id: ") ||
        sl_buf_append(&req->header, v->v.s.ptr, v->v.s.len) ||
        sl_buf_append(&req->header, "", 1))
        return -1;
    req->header.len--; /* keep the NUL for curl, not in the length */
    return 0;
}

int oe_build(const sl_value *body, const oe_keys *keys, oe_request *req, char *why,
             size_t whylen)
{
    fields f;
    int64_t ids[3] = {0, 0, 0};
    req->json.len = 0;
    req->header.len = 0;
    req->is_user = 0;
    if (collect(body, keys, &f) != 0) {
        snprintf(why, whylen, "body is not a well-formed map");
        return 1;
    }
    if (check_type(&f, why, whylen) || check_required(&f, why, whylen) ||
        (f.has_product && check_id("productId", &f.product, &ids[0], why, whylen)) ||
        (f.has_page && check_id("pageId", &f.page, &ids[1], why, whylen)) ||
        (f.has_category && check_id("categoryId", &f.category, &ids[2], why, whylen)) ||
        check_identity(&f, keys, why, whylen))
        return 1;
    /* meta nested past the JSON encoder's limits can never be sent: reject.
     * Anything else that fails while encoding is memory: retry later. */
    if (f.has_meta && !sl_json_encodable(&f.meta)) {
        snprintf(why, whylen, "meta cannot be encoded as JSON (nested too deep)");
        return 1;
    }
    if (put_json(&f, ids, &req->json) != 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (put_header(&f, req) != 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

void oe_request_free(oe_request *req)
{
    sl_buf_free(&req->json);
    sl_buf_free(&req->header);
}
