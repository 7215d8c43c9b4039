/* ${VAR} interpolation. An unset variable is an error, never a silent "",
 * because an empty token or URL fails far from the line that caused it. */
#include "interp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults may hold references themselves; bound the recursion. */
#define MAX_NEST 16

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int put(buf *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
    return 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Index of the '}' closing a reference whose body starts at i, counting
 * nested "${"; len when there is none. */
static size_t closing(const char *s, size_t i, size_t len)
{
    int depth = 0;
    for (; i < len; i++) {
        if (s[i] == '$' && i + 1 < len && (s[i + 1] == '$' || s[i + 1] == '{')) {
            if (s[i + 1] == '{')
                depth++;
            i++;
        } else if (s[i] == '}') {
            if (depth == 0)
                return i;
            depth--;
        }
    }
    return len;
}

static int expand(const char *s, size_t len, buf *out, int nest, char *err, size_t errlen);

/* One reference; s[i] is the first byte after "${". *next gets the index after
 * the closing '}'. */
static int reference(const char *s, size_t i, size_t len, size_t *next, buf *out,
                     int nest, char *err, size_t errlen)
{
    size_t end = closing(s, i, len);
    size_t n0 = i;
    while (i < end && name_char(s[i]))
        i++;
    int namelen = (int)(i - n0);
    const char *name = s + n0;
    if (end == len)
        return fail(err, errlen, "unterminated ${%.*s (missing '}')", namelen, name);
    if (namelen == 0 || !name_start(name[0]) || (i < end && s[i] != ':'))
        return fail(err, errlen,
                    "bad variable reference '${%.*s}' (expected ${NAME}, ${NAME:-default} "
                    "or ${NAME:?message}; NAME is letters, digits and '_')",
                    (int)(end - n0), name);
    char vname[256];
    if (namelen >= (int)sizeof vname)
        return fail(err, errlen, "variable name too long in '${%.60s...'", name);
    memcpy(vname, name, (size_t)namelen);
    vname[namelen] = '\0';
    const char *val = getenv(vname);
    *next = end + 1;

    if (i == end) { /* ${NAME} */
        if (!val)
            return fail(err, errlen,
                        "environment variable %s is not set (use ${%s:-default} for a default)",
                        vname, vname);
        return put(out, val, strlen(val)) ? fail(err, errlen, "out of memory") : 0;
    }
    if (i + 1 >= end || (s[i + 1] != '-' && s[i + 1] != '?'))
        return fail(err, errlen,
                    "bad variable reference '${%.*s}' (expected ${%s:-default} or ${%s:?message})",
                    (int)(end - n0), name, vname, vname);
    const char *word = s + i + 2;
    size_t wlen = end - (i + 2);
    if (val && *val)
        return put(out, val, strlen(val)) ? fail(err, errlen, "out of memory") : 0;
    if (s[i + 1] == '?') {
        if (wlen == 0)
            return fail(err, errlen, "environment variable %s is not set or empty", vname);
        return fail(err, errlen, "%s: %.*s", vname, (int)wlen, word);
    }
    /* The default is only expanded when used, like the shell does. */
    return expand(word, wlen, out, nest + 1, err, errlen);
}

static int expand(const char *s, size_t len, buf *out, int nest, char *err, size_t errlen)
{
    if (nest > MAX_NEST)
        return fail(err, errlen, "${...} references nested deeper than %d levels", MAX_NEST);
    size_t i = 0, lit = 0;
    while (i < len) {
        if (s[i] != '$' || i + 1 >= len || (s[i + 1] != '$' && s[i + 1] != '{')) {
            i++;
            continue;
        }
        if (put(out, s + lit, i - lit))
            return fail(err, errlen, "out of memory");
        if (s[i + 1] == '$') {
            if (put(out, "$", 1))
                return fail(err, errlen, "out of memory");
            i += 2;
        } else if (reference(s, i + 2, len, &i, out, nest, err, errlen)) {
            return -1;
        }
        lit = i;
    }
    if (put(out, s + lit, len - lit))
        return fail(err, errlen, "out of memory");
    return 0;
}

int sl_interpolate(const char *in, size_t len, char **out, size_t *outlen,
                   char *err, size_t errlen)
{
    buf b = {0};
    *out = NULL;
    if (outlen)
        *outlen = 0;
    if (err && errlen)
        err[0] = '\0';
    if (expand(in ? in : "", in ? len : 0, &b, 0, err, errlen)) {
        free(b.p);
        return -1;
    }
    if (!b.p && put(&b, "", 0))
        return fail(err, errlen, "out of memory");
    *out = b.p;
    if (outlen)
        *outlen = b.n;
    return 0;
}
