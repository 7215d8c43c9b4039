/* NCSA common/combined log lines; see clf.h. */
#include "clf.h"

#include <stdio.h>
#include <string.h>

#include "ptime.h"
#include "unescape.h"
#include "urlq.h"

typedef struct cursor {
    const char *p, *end;
} cursor;

size_t clf_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = s[i];
            continue;
        }
        char c = s[i + 1];
        if (c == 'x' && i + 3 < n && sl_hexval(s[i + 2]) >= 0 && sl_hexval(s[i + 3]) >= 0) {
            out[o++] = (char)(sl_hexval(s[i + 2]) << 4 | sl_hexval(s[i + 3]));
            i += 3;
        } else if (c == '"' || c == '\\') {
            out[o++] = c;
            i++;
        } else if (c == 'n' || c == 't' || c == 'r') {
            out[o++] = c == 'n' ? '\n' : c == 't' ? '\t' : '\r';
            i++;
        } else {
            out[o++] = '\\'; /* unknown escape: keep it as written */
        }
    }
    return o;
}

/* A space-delimited token; fails on an empty one or at the end of the line. */
static int token(cursor *c, const char **s, size_t *n)
{
    const char *sp = memchr(c->p, ' ', (size_t)(c->end - c->p));
    const char *e = sp ? sp : c->end;
    if (e == c->p)
        return -1;
    *s = c->p;
    *n = (size_t)(e - c->p);
    c->p = sp ? sp + 1 : c->end;
    return 0;
}

/* Expect one space before the next field (end of line only when last). */
static int space(cursor *c)
{
    if (c->p < c->end && *c->p == ' ') {
        c->p++;
        return 0;
    }
    return -1;
}

/*
 * A "quoted" field. The closing quote is the first one not escaped by an odd
 * run of backslashes (Apache writes \"; nginx writes \x22 and never a bare
 * quote). *esc tells whether the text holds a backslash to unescape.
 */
static int quoted(cursor *c, const char **s, size_t *n, int *esc)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    const char *start = c->p + 1, *q = start;
    *esc = 0;
    for (;;) {
        q = memchr(q, '"', (size_t)(c->end - q));
        if (!q)
            return -1;
        size_t bs = 0;
        while (q - bs > start && q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs)
            *esc = 1;
        if (bs % 2 == 0)
            break;
        q++;
    }
    if (!*esc && memchr(start, '\\', (size_t)(q - start)))
        *esc = 1;
    *s = start;
    *n = (size_t)(q - start);
    c->p = q + 1;
    return 0;
}

/* Add a quoted field, unescaped into the arena when needed. */
static int quoted_field(pf_out *o, const char *key, const char *s, size_t n, int esc)
{
    if (!esc)
        return pf_str(o, key, s, n);
    char *buf = pf_arena_reserve(o, n);
    if (!buf)
        return -1;
    size_t len = clf_unescape(s, n, buf);
    pf_arena_use(o, len);
    return pf_str(o, key, buf, len);
}

static int parse_status(const char *s, size_t n, int64_t *out)
{
    if (n != 3)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < 3; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v >= 100 ? 0 : -1;
}

static int parse_bytes(const char *s, size_t n, int64_t *out)
{
    if (n == 1 && s[0] == '-') {
        *out = 0;
        return 0;
    }
    if (n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
#define OOM() FAIL("out of memory")

/* remote_addr ident remote_user [time] */
static int head(cursor *c, pf_out *o, int64_t *time_ns, char *err, size_t errlen)
{
    const char *s;
    size_t n;
    static const ptime_fmt clf_time = {PTIME_CLF, NULL};
    if (token(c, &s, &n) != 0)
        FAIL("missing remote_addr");
    if (PF_STR(o, "remote_addr", s, n) != 0)
        OOM();
    if (token(c, &s, &n) != 0)
        FAIL("missing ident field");
    if (token(c, &s, &n) != 0)
        FAIL("missing remote_user");
    if (PF_STR(o, "remote_user", s, n) != 0)
        OOM();
    if (c->p >= c->end || *c->p != '[')
        FAIL("missing [time]");
    const char *close = memchr(c->p, ']', (size_t)(c->end - c->p));
    if (!close)
        FAIL("unterminated [time]");
    s = c->p + 1;
    n = (size_t)(close - s);
    if (ptime_parse(&clf_time, s, n, time_ns) != 0)
        FAIL("bad time '%.*s'", (int)(n > 40 ? 40 : n), s);
    if (PF_STR(o, "time", s, n) != 0)
        OOM();
    c->p = close + 1;
    return 0;
}

/* "request" status bytes */
static int middle(cursor *c, pf_out *o, char *err, size_t errlen)
{
    const char *s;
    size_t n;
    int esc;
    int64_t v;
    if (space(c) != 0 || quoted(c, &s, &n, &esc) != 0)
        FAIL("missing or unterminated \"request\"");
    if (esc) {
        /* The fields urlq makes point into this text: the arena keeps it
         * in place until the next line. */
        char *buf = pf_arena_reserve(o, n);
        if (!buf)
            OOM();
        n = clf_unescape(s, n, buf);
        pf_arena_use(o, n);
        s = buf;
    }
    int r = urlq_request(o, s, n);
    if (r < 0 || (r == 1 && PF_STR(o, "request", s, n) != 0))
        OOM();
    if (space(c) != 0 || token(c, &s, &n) != 0 || parse_status(s, n, &v) != 0)
        FAIL("missing or bad status");
    if (pf_int(o, "status", v) != 0)
        OOM();
    /* The last field of common may end the line; token() handles both. */
    if (token(c, &s, &n) != 0 || parse_bytes(s, n, &v) != 0)
        FAIL("missing or bad body_bytes_sent");
    if (pf_int(o, "body_bytes_sent", v) != 0)
        OOM();
    return 0;
}

/* "referer" "user agent" */
static int tail(cursor *c, pf_out *o, char *err, size_t errlen)
{
    const char *s;
    size_t n;
    int esc;
    if (quoted(c, &s, &n, &esc) != 0)
        FAIL("missing or unterminated \"http_referer\"");
    if (quoted_field(o, "http_referer", s, n, esc) != 0)
        OOM();
    if (space(c) != 0 || quoted(c, &s, &n, &esc) != 0)
        FAIL("missing or unterminated \"http_user_agent\"");
    if (quoted_field(o, "http_user_agent", s, n, esc) != 0)
        OOM();
    return 0;
}

int clf_parse(clf_kind kind, const char *s, size_t n, pf_out *o, int64_t *time_ns,
              char *err, size_t errlen)
{
    cursor c = {s, s + n};
    if (head(&c, o, time_ns, err, errlen) != 0 || middle(&c, o, err, errlen) != 0)
        return -1;
    if (kind == CLF_COMBINED && tail(&c, o, err, errlen) != 0)
        return -1;
    return 0;
}
