/*
 * Strict JSON validation by recursive descent, bounded by JC_MAX_DEPTH so a
 * hostile body cannot exhaust the stack of a server thread.
 */
#include "json_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"
#include "unescape.h"

typedef struct parser {
    const char *s;
    size_t n, i;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *p, const char *what)
{
    snprintf(p->err, p->errlen, "invalid JSON at byte %zu: %s", p->i, what);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->i++;
    }
}

static int hex4(parser *p, unsigned *out)
{
    unsigned v = 0;
    if (p->n - p->i < 4)
        return fail(p, "truncated \\u escape");
    for (int k = 0; k < 4; k++) {
        int d = sl_hexval((unsigned char)p->s[p->i + k]);
        if (d < 0)
            return fail(p, "bad hex digit in \\u escape");
        v = v << 4 | (unsigned)d;
    }
    p->i += 4;
    *out = v;
    return 0;
}

/* \uXXXX after the backslash-u; a high surrogate must be followed by a low one. */
static int unicode_escape(parser *p)
{
    unsigned u, lo;
    if (hex4(p, &u) < 0)
        return -1;
    if (u >= 0xDC00 && u <= 0xDFFF)
        return fail(p, "unpaired low surrogate in \\u escape");
    if (u < 0xD800 || u > 0xDBFF)
        return 0;
    if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
        return fail(p, "unpaired high surrogate in \\u escape");
    p->i += 2;
    if (hex4(p, &lo) < 0)
        return -1;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(p, "unpaired high surrogate in \\u escape");
    return 0;
}

/* One multi-byte UTF-8 sequence starting at p->i: no overlongs, no surrogates, <= U+10FFFF. */
static int utf8_seq(parser *p)
{
    const unsigned char *u = (const unsigned char *)p->s + p->i;
    size_t left = p->n - p->i;
    unsigned char c = u[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return fail(p, "invalid UTF-8 lead byte");
    if (left < len)
        return fail(p, "truncated UTF-8 sequence");
    if (u[1] < lo || u[1] > hi)
        return fail(p, "invalid UTF-8 sequence");
    for (size_t k = 2; k < len; k++)
        if (u[k] < 0x80 || u[k] > 0xBF)
            return fail(p, "invalid UTF-8 sequence");
    p->i += len;
    return 0;
}

static int string(parser *p)
{
    p->i++; /* opening quote */
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            return 0;
        }
        if (c < 0x20)
            return fail(p, "unescaped control character in string");
        if (c >= 0x80) {
            if (utf8_seq(p) < 0)
                return -1;
            continue;
        }
        p->i++;
        if (c != '\\')
            continue;
        if (p->i >= p->n)
            break;
        c = (unsigned char)p->s[p->i++];
        if (c == 'u') {
            if (unicode_escape(p) < 0)
                return -1;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            p->i--;
            return fail(p, "invalid escape in string");
        }
    }
    return fail(p, "unterminated string");
}

static int digits(parser *p)
{
    size_t start = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
        p->i++;
    return p->i > start ? 0 : fail(p, "digit expected in number");
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — any magnitude. */
static int number(parser *p)
{
    if (p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0')
        p->i++;
    else if (digits(p) < 0)
        return -1;
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (digits(p) < 0)
            return -1;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (digits(p) < 0)
            return -1;
    }
    return 0;
}

static int literal(parser *p, const char *word)
{
    size_t len = strlen(word);
    if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0)
        return fail(p, "unexpected character");
    p->i += len;
    return 0;
}

static int value(parser *p, int depth, jc_type *type);

/* Members of an object whose '{' is at p->i; fn (may be NULL) sees each one. */
static int object(parser *p, int depth, jc_member_fn fn, void *ud)
{
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        return 0;
    }
    for (;;) {
        jc_member m;
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '"')
            return fail(p, "object key (string) expected");
        m.key = p->s + p->i;
        if (string(p) < 0)
            return -1;
        m.key_len = (size_t)(p->s + p->i - m.key);
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':')
            return fail(p, "':' expected after object key");
        p->i++;
        skip_ws(p);
        m.val = p->s + p->i;
        if (value(p, depth + 1, &m.type) < 0)
            return -1;
        m.val_len = (size_t)(p->s + p->i - m.val);
        if (fn && fn(ud, &m, p->err, p->errlen) < 0)
            return -1;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '}') {
            p->i++;
            return 0;
        }
        return fail(p, "',' or '}' expected in object");
    }
}

static int array(parser *p, int depth)
{
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') {
        p->i++;
        return 0;
    }
    for (;;) {
        jc_type t;
        skip_ws(p);
        if (value(p, depth + 1, &t) < 0)
            return -1;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == ']') {
            p->i++;
            return 0;
        }
        return fail(p, "',' or ']' expected in array");
    }
}

static int value(parser *p, int depth, jc_type *type)
{
    if (depth > JC_MAX_DEPTH)
        return fail(p, "nested too deeply");
    if (p->i >= p->n)
        return fail(p, "value expected");
    char c = p->s[p->i];
    switch (c) {
    case '{': *type = JC_OBJECT; return object(p, depth, NULL, NULL);
    case '[': *type = JC_ARRAY; return array(p, depth);
    case '"': *type = JC_STRING; return string(p);
    case 't': *type = JC_TRUE; return literal(p, "true");
    case 'f': *type = JC_FALSE; return literal(p, "false");
    case 'n': *type = JC_NULL; return literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            *type = JC_NUMBER;
            return number(p);
        }
        return fail(p, "unexpected character");
    }
}

int jc_check_object(const char *s, size_t n, jc_member_fn fn, void *ud,
                    char *err, size_t errlen)
{
    parser p = {s, n, 0, err, errlen};
    skip_ws(&p);
    if (p.i >= n || s[p.i] != '{')
        return fail(&p, "the body must be a JSON object");
    if (object(&p, 1, fn, ud) < 0)
        return -1;
    skip_ws(&p);
    if (p.i != n)
        return fail(&p, "trailing data after the object");
    return 0;
}

/* The raw token is validated already: support's scanner decodes it, the
 * same decoder the Pages enricher reads OneEntry's answers with. */
long jc_string_decode(const char *raw, size_t raw_len, char *out, size_t cap)
{
    sl_jscan j;
    size_t len;
    if (cap == 0)
        return -1;
    sl_jscan_init(&j, raw, raw_len);
    if (sl_jscan_string(&j, out, cap, &len) != 0)
        return -1;
    return (long)len;
}
