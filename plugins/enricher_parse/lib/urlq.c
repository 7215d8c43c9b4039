/* Request lines and query strings; see urlq.h. */
#include "urlq.h"

#include <string.h>

#include "unescape.h"

size_t urlq_decode(const char *s, size_t n, char *out, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n) {
            int hi = sl_hexval(s[i + 1]), lo = sl_hexval(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out[o++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        out[o++] = plus_space && c == '+' ? ' ' : c;
    }
    return o;
}

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct param {
    span k, v;      /* decoded, in the arena */
    int done;       /* already packed as part of an earlier key's array */
} param;

/* Split and decode the pairs; returns how many (<= URLQ_MAX_PARAMS). */
static size_t split_params(const char *qs, size_t n, char *arena, param *ps)
{
    size_t np = 0, a = 0, i = 0;
    while (i < n && np < URLQ_MAX_PARAMS) {
        const char *amp = memchr(qs + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - qs) : n;
        if (end > i) { /* "a&&b": empty pairs are skipped */
            const char *pair = qs + i;
            size_t plen = end - i;
            const char *eq = memchr(pair, '=', plen);
            size_t klen = eq ? (size_t)(eq - pair) : plen;
            param *p = &ps[np++];
            p->done = 0;
            p->k.p = arena + a;
            p->k.n = urlq_decode(pair, klen, arena + a, 1);
            a += p->k.n;
            p->v.p = arena + a;
            p->v.n = eq ? urlq_decode(eq + 1, plen - klen - 1, arena + a, 1) : 0;
            a += p->v.n;
        }
        i = end + 1;
    }
    return np;
}

static int same_key(const param *a, const param *b)
{
    return a->k.n == b->k.n && memcmp(a->k.p, b->k.p, a->k.n) == 0;
}

/* Pack the params into o's scratch as a map, a repeated key's values as
 * one array. */
static void pack_params(pf_out *o, param *ps, size_t np)
{
    sl_builder *sb = o->sb;
    uint32_t keys = 0;
    for (size_t i = 0; i < np; i++) {
        if (ps[i].done)
            continue;
        keys++;
        for (size_t j = i + 1; j < np; j++)
            if (!ps[j].done && same_key(&ps[i], &ps[j]))
                ps[j].done = 2; /* counted; cleared again below */
    }
    for (size_t i = 0; i < np; i++)
        if (ps[i].done == 2)
            ps[i].done = 0;
    pf_note(o, sl_bb_map(sb, keys));
    for (size_t i = 0; i < np; i++) {
        if (ps[i].done)
            continue;
        uint32_t same = 1;
        for (size_t j = i + 1; j < np; j++)
            same += same_key(&ps[i], &ps[j]);
        pf_note(o, sl_bb_str(sb, ps[i].k.p, ps[i].k.n));
        if (same == 1) {
            pf_note(o, sl_bb_str(sb, ps[i].v.p, ps[i].v.n));
            continue;
        }
        pf_note(o, sl_bb_array(sb, same));
        for (size_t j = i; j < np; j++)
            if (j == i || same_key(&ps[i], &ps[j])) {
                pf_note(o, sl_bb_str(sb, ps[j].v.p, ps[j].v.n));
                ps[j].done = 1;
            }
    }
}

int urlq_query_field(pf_out *o, const char *key, const char *qs, size_t n)
{
    param ps[URLQ_MAX_PARAMS];
    /* Decoding never grows the text, so n bytes hold every decoded pair.
     * They are packed at once, so the arena need not keep them. */
    char *arena = pf_arena_reserve(o, n);
    if (!arena)
        return -1;
    size_t np = split_params(qs, n, arena, ps);
    if (pf_begin(o, key, strlen(key)) != 0)
        return -1;
    pack_params(o, ps, np);
    return pf_commit(o);
}

static int is_method(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

int urlq_request(pf_out *o, const char *s, size_t n)
{
    const char *sp1 = memchr(s, ' ', n);
    const char *sp2 = NULL;
    for (size_t i = n; sp1 && i-- > (size_t)(sp1 - s) + 1;)
        if (s[i] == ' ') {
            sp2 = s + i;
            break;
        }
    size_t mlen = sp1 ? (size_t)(sp1 - s) : 0;
    const char *target = sp1 ? sp1 + 1 : NULL;
    size_t tlen = !sp1 ? 0 : sp2 ? (size_t)(sp2 - target) : n - mlen - 1;
    const char *proto = sp2 ? sp2 + 1 : NULL;
    size_t plen = sp2 ? n - (size_t)(proto - s) : 0;
    /* HTTP/0.9 "GET /" has no protocol; anything else must say HTTP/. */
    if (!is_method(s, mlen) || tlen == 0 || memchr(target, ' ', tlen) ||
        (proto && (plen < 5 || memcmp(proto, "HTTP/", 5) != 0)))
        return 1;
    const char *q = memchr(target, '?', tlen);
    size_t pathlen = q ? (size_t)(q - target) : tlen;
    if (PF_STR(o, "method", s, mlen) != 0 || PF_STR(o, "path", target, pathlen) != 0)
        return -1;
    if (q && urlq_query_field(o, "query", q + 1, tlen - pathlen - 1) != 0)
        return -1;
    if (proto && PF_STR(o, "protocol", proto, plen) != 0)
        return -1;
    return 0;
}
