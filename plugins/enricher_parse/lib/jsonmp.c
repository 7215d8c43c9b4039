/* JSON objects to parsed fields; see jsonmp.h. */
#include "jsonmp.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "unescape.h"

typedef struct jp {
    const char *s, *p, *end;
    jsonmp *j;
    pf_out *o;
    size_t nc;     /* containers seen so far in this pass */
    int pack;      /* second pass: make the fields */
    char *arena;   /* decoded strings (pack pass); never outgrows the input */
    const char *why;
} jp;

static int value(jp *c, int depth);

static int fail(jp *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return -1;
}

static void ws(jp *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* \uXXXX (and its low surrogate) at c->p (after the 'u'); a lone
 * surrogate becomes U+FFFD rather than invalid UTF-8. */
static int unicode_escape(jp *c, uint32_t *cp)
{
    int used = sl_json_uescape(c->p, c->end, cp);
    if (used < 0)
        return fail(c, "bad \\u escape");
    c->p += used;
    if (sl_is_surrogate(*cp))
        *cp = 0xFFFD;
    return 0;
}

/* A string at c->p ('"'); decoded into the arena on the pack pass. */
static int string(jp *c, const char **out, size_t *len)
{
    char *o = c->arena;
    c->p++;
    for (;;) {
        if (c->p >= c->end)
            return fail(c, "unterminated string");
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return fail(c, "control character in string");
        if (ch != '\\') {
            if (c->pack)
                *o++ = (char)ch;
            continue;
        }
        if (c->p >= c->end)
            return fail(c, "unterminated string");
        char e = *c->p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        uint32_t cp;
        if (e && k) {
            if (c->pack)
                *o++ = to[k - from];
        } else if (e == 'u') {
            if (unicode_escape(c, &cp) != 0)
                return -1;
            if (c->pack)
                o += sl_utf8_put(cp, o);
        } else {
            return fail(c, "bad escape in string");
        }
    }
    if (c->pack) {
        *out = c->arena;
        *len = (size_t)(o - c->arena);
        c->arena = o;
    }
    return 0;
}

/* A number as JSON wrote it: exact integers as long as they fit 64 bits. */
typedef struct jnum {
    pf_kind kind; /* PF_INT, PF_UINT or PF_DOUBLE */
    int64_t i;
    uint64_t u;
    double d;
} jnum;

/* Scan a number; on the pack pass also convert it into *out. */
static int number(jp *c, jnum *out)
{
    const char *st = c->p;
    int is_int = 1;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (c->p < c->end && *c->p >= '1' && *c->p <= '9')
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    else
        return fail(c, "bad number");
    if (c->p < c->end && *c->p == '.') {
        is_int = 0;
        if (++c->p >= c->end || *c->p < '0' || *c->p > '9')
            return fail(c, "bad number");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        is_int = 0;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return fail(c, "bad number");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (!c->pack)
        return 0;
    char tmp[400];
    size_t n = (size_t)(c->p - st);
    if (n >= sizeof tmp)
        return fail(c, "number too long");
    memcpy(tmp, st, n);
    tmp[n] = 0;
    char *e;
    if (is_int) {
        /* Integers stay exact as long as they fit 64 bits; beyond, a double. */
        if (tmp[0] == '-') {
            long long v = strtoll(tmp, &e, 10);
            if (v != LLONG_MIN || strcmp(tmp, "-9223372036854775808") == 0) {
                out->kind = PF_INT;
                out->i = v;
                return 0;
            }
        } else {
            unsigned long long v = strtoull(tmp, &e, 10);
            if (v != ULLONG_MAX || strcmp(tmp, "18446744073709551615") == 0) {
                out->kind = PF_UINT;
                out->u = v;
                return 0;
            }
        }
    }
    out->kind = PF_DOUBLE;
    out->d = strtod(tmp, &e);
    return 0;
}

/* A number inside a container: packed into the scratch on the pack pass. */
static int pack_number(jp *c)
{
    jnum v;
    if (number(c, &v) != 0)
        return -1;
    if (!c->pack)
        return 0;
    sl_builder *sb = c->o->sb;
    return pf_note(c->o, v.kind == PF_INT ? sl_bb_int(sb, v.i)
                       : v.kind == PF_UINT ? sl_bb_uint(sb, v.u) : sl_bb_double(sb, v.d));
}

static int literal(jp *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return fail(c, "unexpected character");
    c->p += n;
    return 0;
}

/* Record (count pass) or fetch (pack pass) the size of container nc. */
static int container_slot(jp *c, size_t *slot)
{
    if (!c->pack) {
        uint32_t *v = sl_grow(c->j->counts, c->nc + 1, &c->j->cap, sizeof *v, 64);
        if (!v)
            return fail(c, "out of memory");
        c->j->counts = v;
    }
    *slot = c->nc++;
    return 0;
}

/* Object members or array items between the brackets. */
static int items(jp *c, int depth, int is_obj, uint32_t *count)
{
    char close = is_obj ? '}' : ']';
    *count = 0;
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (is_obj) {
            const char *k;
            size_t kn;
            if (c->p >= c->end || *c->p != '"')
                return fail(c, "expected a member name");
            if (string(c, &k, &kn) != 0)
                return -1;
            if (c->pack)
                pf_note(c->o, sl_bb_str(c->o->sb, k, kn));
            ws(c);
            if (c->p >= c->end || *c->p != ':')
                return fail(c, "expected ':'");
            c->p++;
        }
        if (value(c, depth + 1) != 0)
            return -1;
        if (*count == UINT32_MAX)
            return fail(c, "too many items");
        (*count)++;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return 0;
        }
        return fail(c, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int container(jp *c, int depth, int is_obj)
{
    size_t slot;
    uint32_t n;
    if (depth >= JSONMP_MAX_DEPTH) /* the top object is level 1 */
        return fail(c, "nested too deep");
    if (container_slot(c, &slot) != 0)
        return -1;
    c->p++;
    if (c->pack)
        pf_note(c->o, is_obj ? sl_bb_map(c->o->sb, c->j->counts[slot])
                             : sl_bb_array(c->o->sb, c->j->counts[slot]));
    if (items(c, depth, is_obj, &n) != 0)
        return -1;
    if (!c->pack)
        c->j->counts[slot] = n;
    return 0;
}

/* A value inside a container (or any value, on the count pass). */
static int value(jp *c, int depth)
{
    const char *s;
    size_t n;
    sl_builder *sb = c->pack ? c->o->sb : NULL;
    ws(c);
    if (c->p >= c->end)
        return fail(c, "unexpected end");
    switch (*c->p) {
    case '{': return container(c, depth, 1);
    case '[': return container(c, depth, 0);
    case '"':
        if (string(c, &s, &n) != 0)
            return -1;
        return sb ? pf_note(c->o, sl_bb_str(sb, s, n)) : 0;
    case 't':
        if (literal(c, "true", 4) != 0)
            return -1;
        return sb ? pf_note(c->o, sl_bb_bool(sb, 1)) : 0;
    case 'f':
        if (literal(c, "false", 5) != 0)
            return -1;
        return sb ? pf_note(c->o, sl_bb_bool(sb, 0)) : 0;
    case 'n':
        if (literal(c, "null", 4) != 0)
            return -1;
        return sb ? pf_note(c->o, sl_bb_nil(sb)) : 0;
    default:
        return pack_number(c);
    }
}

/* A top-level member's value on the pack pass: a field of its own kind;
 * only objects and arrays are encoded (into the scratch builder). */
static int member(jp *c, const char *k, size_t kn)
{
    const char *s;
    size_t n;
    jnum v;
    int rc, t;
    ws(c);
    if (c->p >= c->end)
        return fail(c, "unexpected end");
    switch (*c->p) {
    case '{':
    case '[':
        if (pf_begin(c->o, k, kn) != 0)
            return fail(c, "out of memory");
        if (value(c, 1) != 0)
            return -1;
        rc = pf_commit(c->o);
        break;
    case '"':
        if (string(c, &s, &n) != 0)
            return -1;
        rc = pf_strn(c->o, k, kn, s, n);
        break;
    case 't':
    case 'f':
        t = *c->p == 't';
        if (literal(c, t ? "true" : "false", t ? 4 : 5) != 0)
            return -1;
        rc = pf_booln(c->o, k, kn, t);
        break;
    case 'n':
        if (literal(c, "null", 4) != 0)
            return -1;
        rc = pf_niln(c->o, k, kn);
        break;
    default:
        if (number(c, &v) != 0)
            return -1;
        rc = v.kind == PF_INT ? pf_intn(c->o, k, kn, v.i)
           : v.kind == PF_UINT ? pf_uintn(c->o, k, kn, v.u) : pf_doublen(c->o, k, kn, v.d);
    }
    return rc != 0 ? fail(c, "out of memory") : 0;
}

/* The top-level object: each member becomes a field. */
static int top_members(jp *c)
{
    const char *k;
    size_t kn;
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (c->p >= c->end || *c->p != '"' || string(c, &k, &kn) != 0)
            return fail(c, "expected a member name");
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return fail(c, "expected ':'");
        c->p++;
        if ((c->pack ? member(c, k, kn) : value(c, 1)) != 0)
            return -1;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 0;
        }
        return fail(c, "expected ',' or '}'");
    }
}

static int run_pass(jp *c, int pack)
{
    c->p = c->s;
    c->nc = 0;
    c->pack = pack;
    ws(c);
    if (c->p >= c->end || *c->p != '{')
        return fail(c, "not a JSON object");
    if (top_members(c) != 0)
        return -1;
    ws(c);
    return c->p == c->end ? 0 : fail(c, "text after the object");
}

int jsonmp_fields(jsonmp *j, const char *s, size_t n, pf_out *o, char *err, size_t errlen)
{
    jp c = {.s = s, .end = s + n, .j = j, .o = o};
    if (run_pass(&c, 0) != 0)
        goto bad;
    /* Decoding never makes a string longer than its JSON text. Keys and
     * text values point at the decoded strings: the arena keeps them. */
    char *arena0 = pf_arena_reserve(o, n);
    if (!(c.arena = arena0)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (run_pass(&c, 1) != 0 || o->failed)
        goto bad;
    pf_arena_use(o, (size_t)(c.arena - arena0));
    return 0;
bad:
    snprintf(err, errlen, "json: %s at byte %zu", o->failed || !c.why ? "out of memory" : c.why,
             (size_t)(c.p - s));
    return -1;
}

void jsonmp_free(jsonmp *j)
{
    free(j->counts);
    j->counts = NULL;
    j->cap = 0;
}
