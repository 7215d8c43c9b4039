#include "contract.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json_check.h"

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

int oe_check_content_type(const char *value, char *err, size_t errlen)
{
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;
    if (!value)
        return fail(err, errlen, "Content-Type header missing; expected application/json");
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, want, n) == 0) {
        const char *rest = value + n;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (*rest == '\0' || *rest == ';')
            return 0;
    }
    snprintf(err, errlen, "Content-Type is '%s'; expected application/json", value);
    return -1;
}

/* "Bearer" is case-insensitive (RFC 7235); the token must be non-empty. */
static const char *bearer_token(const char *authorization)
{
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return *t ? t : NULL;
}

int oe_check_identity(const char *authorization, const char *guest_id,
                      char *who, size_t cap, char *err, size_t errlen)
{
    if (authorization && guest_id)
        return fail(err, errlen,
                    "both Authorization and x-guest-id sent; exactly one identity is allowed");
    if (!authorization && !guest_id)
        return fail(err, errlen,
                    "no identity: send Authorization: Bearer <token> or x-guest-id");
    if (guest_id) {
        if (!*guest_id)
            return fail(err, errlen, "x-guest-id is empty");
        if ((size_t)snprintf(who, cap, "guest:%s", guest_id) >= cap)
            return fail(err, errlen, "x-guest-id too long");
        return 0;
    }
    const char *tok = bearer_token(authorization);
    if (!tok)
        return fail(err, errlen, "Authorization must be 'Bearer <token>' with a non-empty token");
    if ((size_t)snprintf(who, cap, "bearer:%s", tok) >= cap)
        return fail(err, errlen, "bearer token too long");
    return 0;
}

enum field { F_TYPE, F_PRODUCT, F_PAGE, F_CATEGORY, F_QUERY, F_META, F_COUNT };

static const struct {
    const char *name;
    jc_type type;
    const char *type_name;
} fields[F_COUNT] = {
    [F_TYPE] = {"type", JC_STRING, "a string"},
    [F_PRODUCT] = {"productId", JC_NUMBER, "a number"},
    [F_PAGE] = {"pageId", JC_NUMBER, "a number"},
    [F_CATEGORY] = {"categoryId", JC_NUMBER, "a number"},
    [F_QUERY] = {"query", JC_STRING, "a string"},
    [F_META] = {"meta", JC_OBJECT, "an object"},
};

/* Each type and the field it requires. */
static const struct {
    const char *name;
    enum field needs;
} types[] = {
    {"product_view", F_PRODUCT},
    {"page_view", F_PAGE},
    {"category_view", F_PAGE},
    {"search", F_QUERY},
    {"product_add_to_cart", F_PRODUCT},
    {"product_remove_from_cart", F_PRODUCT},
    {"product_add_to_wishlist", F_PRODUCT},
    {"product_remove_from_wishlist", F_PRODUCT},
    {"product_purchase", F_PRODUCT},
    {"product_rating", F_PRODUCT},
};

typedef struct seen {
    jc_member m[F_COUNT];
    int have[F_COUNT];
} seen;

/* Longest known key or type name is 28 bytes; anything longer is unknown. */
#define NAME_CAP 40

static int on_member(void *ud, const jc_member *m, char *err, size_t errlen)
{
    seen *s = ud;
    char key[NAME_CAP];
    long len = jc_string_decode(m->key, m->key_len, key, sizeof key);
    for (int f = 0; len >= 0 && f < F_COUNT; f++) {
        if ((size_t)len != strlen(fields[f].name) || memcmp(key, fields[f].name, (size_t)len))
            continue;
        if (s->have[f]) {
            snprintf(err, errlen, "duplicate key \"%s\"", fields[f].name);
            return -1;
        }
        if (m->type != fields[f].type) {
            snprintf(err, errlen, "%s must be %s", fields[f].name, fields[f].type_name);
            return -1;
        }
        s->have[f] = 1;
        s->m[f] = *m;
        return 0;
    }
    int shown = m->key_len > 64 ? 64 : (int)m->key_len;
    snprintf(err, errlen, "unknown key %.*s%s (allowed: type, productId, pageId, categoryId, "
             "query, meta)", shown, m->key, shown < (int)m->key_len ? "..." : "");
    return -1;
}

static int check_type(const seen *s, char *err, size_t errlen)
{
    char name[NAME_CAP];
    const jc_member *t = &s->m[F_TYPE];
    long len = jc_string_decode(t->val, t->val_len, name, sizeof name);
    for (size_t k = 0; len >= 0 && k < sizeof types / sizeof types[0]; k++) {
        if ((size_t)len != strlen(types[k].name) || memcmp(name, types[k].name, (size_t)len))
            continue;
        enum field need = types[k].needs;
        if (s->have[need] && (need != F_QUERY || s->m[need].val_len > 2))
            return 0;
        snprintf(err, errlen, "%s requires %s (%s%s)", types[k].name, fields[need].name,
                 need == F_QUERY ? "non-empty " : "", fields[need].type_name);
        return -1;
    }
    int shown = t->val_len > 64 ? 64 : (int)t->val_len;
    snprintf(err, errlen, "type %.*s is not one of the ten UserActivity types", shown, t->val);
    return -1;
}

int oe_check_body(const char *body, size_t len, char *err, size_t errlen)
{
    seen s;
    memset(&s, 0, sizeof s);
    if (jc_check_object(body, len, on_member, &s, err, errlen) < 0)
        return -1;
    if (!s.have[F_TYPE])
        return fail(err, errlen, "type missing");
    return check_type(&s, err, errlen);
}

const char *oe_origin_path(const char *target)
{
    size_t skip;
    if (strncasecmp(target, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(target, "https://", 8) == 0)
        skip = 8;
    else
        return NULL;
    const char *path = strchr(target + skip, '/');
    return path ? path : "/";
}
