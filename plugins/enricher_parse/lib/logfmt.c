/* logfmt; see logfmt.h. */
#include "logfmt.h"

#include <stdio.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Quoted value at s[*i] == '"': unescaped into out; returns its length or -1. */
static long quoted_value(const char *s, size_t n, size_t *i, char *out)
{
    size_t o = 0;
    for (size_t k = *i + 1; k < n; k++) {
        char c = s[k];
        if (c == '"') {
            *i = k + 1;
            return (long)o;
        }
        if (c == '\\' && k + 1 < n) {
            char e = s[++k];
            out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            continue;
        }
        out[o++] = c;
    }
    return -1;
}

int logfmt_fields(const char *s, size_t n, pf_out *o, char *err, size_t errlen)
{
    /* Unescaped values are never longer than the line; the fields point at
     * them, so the bytes are taken from the arena at the end. */
    char *arena0 = pf_arena_reserve(o, n), *arena = arena0;
    size_t i = 0, pairs = 0;
    if (!arena) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t k0 = i;
        while (i < n && !is_space(s[i]) && s[i] != '=' && s[i] != '"')
            i++;
        if (i == k0) {
            snprintf(err, errlen, "logfmt: expected a key at byte %zu", i);
            return -1;
        }
        const char *key = s + k0;
        size_t klen = i - k0;
        int rc;
        if (i == n || s[i] != '=') {
            if (i < n && s[i] == '"') {
                snprintf(err, errlen, "logfmt: quote inside a key at byte %zu", i);
                return -1;
            }
            rc = pf_booln(o, key, klen, 1);
        } else if (++i < n && s[i] == '"') {
            long len = quoted_value(s, n, &i, arena);
            if (len < 0) {
                snprintf(err, errlen, "logfmt: unterminated quoted value");
                return -1;
            }
            rc = pf_strn(o, key, klen, arena, (size_t)len);
            arena += len;
        } else {
            size_t v0 = i;
            while (i < n && !is_space(s[i]))
                i++;
            rc = pf_strn(o, key, klen, s + v0, i - v0);
        }
        if (rc != 0)
            goto oom;
        pairs++;
    }
    pf_arena_use(o, (size_t)(arena - arena0));
    if (pairs == 0) {
        snprintf(err, errlen, "logfmt: no key=value pair");
        return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
