/* enricher_lookup's table: parsing CSV and key=value text, hashing. */
#include "lktable.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* FNV-1a: short keys, no adversary choosing them (the file is the user's). */
static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

typedef struct lk_key {
    const char *k;
    size_t n;
} lk_key;

static int same(const void *slot, const void *key)
{
    const lk_entry *e = slot;
    const lk_key *q = key;
    return e->key_len == q->n && memcmp(e->key, q->k, q->n) == 0;
}

/* Insert copies of key and value; a duplicate key takes the new value. */
static int put(lk_table *t, const char *k, size_t klen, const char *v, size_t vlen)
{
    char *val = strndup(v, vlen);
    if (!val)
        return -1;
    lk_key q = {k, klen};
    int added;
    lk_entry *e = sl_oatab_insert(&t->tab, hash(k, klen), same, &q, &added);
    if (!e) {
        free(val);
        return -1;
    }
    if (!added) {
        free(e->value);
        e->value = val;
        return 0;
    }
    if (!(e->key = strndup(k, klen))) {
        sl_oatab_remove(&t->tab, e);
        free(val);
        return -1;
    }
    e->key_len = klen;
    e->value = val;
    return 0;
}

const char *lk_get(const lk_table *t, const char *key, size_t len)
{
    if (!t->tab.n)
        return NULL;
    lk_key q = {key, len};
    const lk_entry *e = sl_oatab_get(&t->tab, hash(key, len), same, &q);
    return e ? e->value : NULL;
}

void lk_free(lk_table *t)
{
    for (size_t i = 0; i < t->tab.cap; i++) {
        lk_entry *e = sl_oatab_slot(&t->tab, i);
        free(e->key);
        free(e->value);
    }
    sl_oatab_free(&t->tab);
}

/* ---- parsing ---- */

typedef struct field {
    char buf[4096];
    size_t len;
} field;

/*
 * Read one CSV field at *p (not past end) into f, leave *p on the ',' or
 * line end that ended it. Returns 0, or -1 with a reason.
 */
static int csv_field(const char **p, const char *end, field *f, const char **why)
{
    const char *s = *p;
    f->len = 0;
    int quoted = s < end && *s == '"';
    if (quoted)
        s++;
    while (s < end) {
        char c = *s;
        if (quoted && c == '"') {
            if (s + 1 < end && s[1] == '"') {
                s++;
            } else {
                quoted = 2; /* closed */
                s++;
                break;
            }
        } else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
            break;
        }
        if (f->len + 1 >= sizeof f->buf)
            return *why = "field longer than 4095 bytes", -1;
        f->buf[f->len++] = c;
        s++;
    }
    if (quoted == 1)
        return *why = "unterminated quoted field", -1;
    if (quoted == 2 && s < end && *s != ',' && *s != '\n' && *s != '\r')
        return *why = "text after a closing quote", -1;
    *p = s;
    return 0;
}

static const char *skip_to_next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

/* One CSV record: key,value[,more]. Blank lines are skipped (returns 1). */
static int csv_line(lk_table *t, const char **p, const char *end, const char **why)
{
    const char *s = *p;
    field k, v; /* init runs on the main thread: 8 KiB of stack is fine */
    if (*s == '\n' || *s == '\r') {
        *p = skip_to_next_line(s, end);
        return 1;
    }
    if (csv_field(&s, end, &k, why) < 0)
        return -1;
    if (s >= end || *s != ',')
        return *why = "expected key,value", -1;
    s++;
    if (csv_field(&s, end, &v, why) < 0)
        return -1;
    *p = skip_to_next_line(s, end); /* further columns are ignored */
    if (k.len == 0)
        return *why = "empty key", -1;
    return put(t, k.buf, k.len, v.buf, v.len) < 0 ? (*why = "out of memory", -1) : 0;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

static int kv_line(lk_table *t, const char **p, const char *end, const char **why)
{
    const char *s = *p, *next = skip_to_next_line(s, end);
    const char *e = next > s && next[-1] == '\n' ? next - 1 : next;
    *p = next;
    trim(&s, &e);
    if (s == e || *s == '#')
        return 1;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq)
        return *why = "expected key=value", -1;
    const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (ks == ke)
        return *why = "empty key", -1;
    return put(t, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs)) < 0 ? (*why = "out of memory", -1)
                                                                     : 0;
}

int lk_parse(lk_table *t, const char *text, size_t len, lk_format fmt, int skip_header,
             const char *name, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int line = 1;
    sl_oatab_init(&t->tab, sizeof(lk_entry));
    if (skip_header && fmt == LK_CSV) {
        p = skip_to_next_line(p, end);
        line++;
    }
    for (; p < end; line++) {
        const char *why = NULL;
        int r = fmt == LK_CSV ? csv_line(t, &p, end, &why) : kv_line(t, &p, end, &why);
        if (r < 0) {
            snprintf(err, errlen, "%s:%d: %s", name, line, why);
            lk_free(t);
            return -1;
        }
    }
    return 0;
}

int lk_load_file(lk_table *t, const char *path, lk_format fmt, int skip_header, char *err,
                 size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *nt = sl_grow(text, len + n, &cap, 1, sizeof chunk);
        if (!nt) {
            free(text);
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        text = nt;
        memcpy(text + len, chunk, n);
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    int rc = lk_parse(t, text ? text : "", len, fmt, skip_header, path, err, errlen);
    free(text);
    return rc;
}
