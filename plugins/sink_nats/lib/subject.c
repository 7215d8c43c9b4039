#include "subject.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct part {
    int field;        /* 1: a {field} (text is its dotted path), 0: literal */
    const char *text; /* points into ns_subject.copy */
    size_t len;
} part;

struct ns_subject {
    char *copy; /* the template, NUL-terminated */
    part *parts;
    size_t n, nfields;
};

/* Characters a literal may not hold: wildcards and whitespace. */
static int bad_literal(unsigned char c)
{
    return c <= ' ' || c == 0x7f || c == '*' || c == '>';
}

static int add_part(ns_subject *t, int field, const char *text, size_t len)
{
    part *p = realloc(t->parts, (t->n + 1) * sizeof *p);
    if (!p)
        return -1;
    t->parts = p;
    p[t->n++] = (part){field, text, len};
    t->nfields += (size_t)field;
    return 0;
}

/* Tokens must not be empty: no leading or trailing '.', no "..". */
static int check_dots(const char *s, char *err, size_t errlen)
{
    size_t n = strlen(s);
    if (s[0] == '.' || s[n - 1] == '.' || strstr(s, "..")) {
        snprintf(err, errlen, "subject '%s': a token is empty (leading, trailing or double '.')",
                 s);
        return -1;
    }
    return 0;
}

static int check_field(const char *tmpl, const char *f, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "subject '%s': empty {} (name a body field)", tmpl);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (f[i] == '{' || (f[i] == '.' && (i == 0 || i + 1 == len || f[i + 1] == '.'))) {
            snprintf(err, errlen, "subject '%s': bad field name '%.*s'", tmpl, (int)len, f);
            return -1;
        }
    return 0;
}

static int scan(ns_subject *t, const char *tmpl, char *err, size_t errlen)
{
    const char *s = t->copy;
    while (*s) {
        if (*s == '{') {
            const char *e = strchr(s, '}');
            if (!e) {
                snprintf(err, errlen, "subject '%s': '{' without '}'", tmpl);
                return -1;
            }
            if (check_field(tmpl, s + 1, (size_t)(e - s - 1), err, errlen) != 0)
                return -1;
            if (add_part(t, 1, s + 1, (size_t)(e - s - 1)) != 0)
                goto oom;
            s = e + 1;
            continue;
        }
        const char *e = s;
        while (*e && *e != '{') {
            if (*e == '}' || bad_literal((unsigned char)*e)) {
                snprintf(err, errlen, "subject '%s': '%c' is not allowed outside {field} "
                         "(no wildcards or spaces in a published subject)", tmpl,
                         *e > ' ' ? *e : '?');
                return -1;
            }
            e++;
        }
        if (add_part(t, 0, s, (size_t)(e - s)) != 0)
            goto oom;
        s = e;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int ns_subject_parse(const char *tmpl, ns_subject **out, char *err, size_t errlen)
{
    if (!tmpl || !*tmpl) {
        snprintf(err, errlen, "subject: empty");
        return -1;
    }
    if (strlen(tmpl) > NS_TEMPLATE_MAX) {
        snprintf(err, errlen, "subject: longer than %d bytes", NS_TEMPLATE_MAX);
        return -1;
    }
    ns_subject *t = calloc(1, sizeof *t);
    if (!t || !(t->copy = strdup(tmpl))) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (scan(t, tmpl, err, errlen) != 0 || check_dots(tmpl, err, errlen) != 0) {
        ns_subject_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void ns_subject_free(ns_subject *t)
{
    if (!t)
        return;
    free(t->parts);
    free(t->copy);
    free(t);
}

size_t ns_subject_fields(const ns_subject *t)
{
    return t->nfields;
}

/* The value at a dotted path of the body; 1 found, 0 not. */
static int lookup(const sl_value *body, const char *path, size_t len, sl_value *out)
{
    sl_value cur = *body;
    while (len > 0) {
        const char *dot = memchr(path, '.', len);
        size_t klen = dot ? (size_t)(dot - path) : len;
        if (cur.type != SL_MAP || sl_map_get(&cur, path, klen, &cur) != 1)
            return 0;
        if (!dot)
            break;
        path += klen + 1;
        len -= klen + 1;
    }
    *out = cur;
    return 1;
}

static int token_char_ok(unsigned char c)
{
    return c > ' ' && c != 0x7f && c != '.' && c != '*' && c != '>';
}

/* Append the value as one token; 0, or 1 when it became "_". */
static unsigned put_token(const sl_value *v, char *dst, size_t *n, size_t cap)
{
    char num[32];
    const char *p = NULL;
    size_t len = 0;
    switch (v->type) {
    case SL_STR:
    case SL_BIN:
        p = v->v.s.ptr;
        len = v->v.s.len;
        break;
    case SL_UINT:
        len = (size_t)snprintf(num, sizeof num, "%" PRIu64, v->v.u);
        p = num;
        break;
    case SL_INT:
        len = (size_t)snprintf(num, sizeof num, "%" PRId64, v->v.i);
        p = num;
        break;
    case SL_BOOL:
        p = v->v.b ? "true" : "false";
        len = strlen(p);
        break;
    case SL_FLOAT:
        len = (size_t)snprintf(num, sizeof num, "%.17g", v->v.f);
        p = num;
        break;
    default:
        break;
    }
    unsigned missing = len == 0;
    if (missing) {
        p = "_";
        len = 1;
    }
    if (len > NS_TOKEN_MAX)
        len = NS_TOKEN_MAX;
    for (size_t i = 0; i < len && *n + 1 < cap; i++)
        dst[(*n)++] = token_char_ok((unsigned char)p[i]) ? p[i] : '_';
    return missing;
}

unsigned ns_subject_render(const ns_subject *t, const sl_value *body, char *buf, size_t cap)
{
    size_t n = 0;
    unsigned missing = 0;
    for (size_t i = 0; i < t->n; i++) {
        const part *p = &t->parts[i];
        if (!p->field) {
            size_t k = p->len < cap - 1 - n ? p->len : cap - 1 - n;
            memcpy(buf + n, p->text, k);
            n += k;
            continue;
        }
        sl_value v = {.type = SL_NIL};
        if (!lookup(body, p->text, p->len, &v))
            v.type = SL_NIL;
        missing += put_token(&v, buf, &n, cap);
    }
    buf[n] = 0;
    return missing;
}

char *ns_subject_wildcard(const ns_subject *t, char *err, size_t errlen)
{
    char *out = NULL;
    if (t->nfields == 0) {
        if (!(out = strdup(t->copy)))
            snprintf(err, errlen, "out of memory");
        return out;
    }
    /* Literal text up to the first field, cut back to its last '.'. */
    const char *first = t->parts[0].field ? t->copy : t->parts[0].text;
    size_t lit = t->parts[0].field ? 0 : t->parts[0].len;
    while (lit > 0 && first[lit - 1] != '.')
        lit--;
    if (lit == 0) {
        snprintf(err, errlen, "subject '%s' starts with a field: set stream_subjects",
                 t->copy);
        return NULL;
    }
    if (asprintf(&out, "%.*s>", (int)lit, first) < 0) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return out;
}
