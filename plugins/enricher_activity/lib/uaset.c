/* Case-insensitive substring sets; see uaset.h. */
#include "uaset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static inline unsigned key2(const char *p)
{
    return (unsigned)lower((unsigned char)p[0]) << 8 | lower((unsigned char)p[1]);
}

/* Bucket of a two-byte key: any spread will do, buckets are short. */
static inline unsigned bucket_of(unsigned k)
{
    return (k ^ (k >> 7)) & (UASET_BUCKETS - 1);
}

typedef struct item {
    char *p;
    uint32_t len;
    unsigned b;
} item;

static int by_bucket(const void *a, const void *b)
{
    const item *x = a, *y = b;
    return (x->b > y->b) - (x->b < y->b);
}

static int fill(uaset *s, item *it, size_t n)
{
    qsort(it, n, sizeof *it, by_bucket);
    size_t j = 0;
    for (unsigned b = 0; b <= UASET_BUCKETS; b++) {
        while (j < n && it[j].b < b)
            j++;
        s->bucket[b] = (uint16_t)j;
    }
    for (size_t i = 0; i < n; i++) {
        s->pat[i] = it[i].p;
        s->len[i] = it[i].len;
    }
    s->n = n;
    return 0;
}

int uaset_init(uaset *s, const char *const *list, size_t n, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (n > 65535) {
        snprintf(err, errlen, "too many patterns (%zu, at most 65535)", n);
        return -1;
    }
    item *it = calloc(n ? n : 1, sizeof *it);
    s->pat = calloc(n ? n : 1, sizeof *s->pat);
    s->len = calloc(n ? n : 1, sizeof *s->len);
    if (!it || !s->pat || !s->len)
        goto oom;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]);
        if (len == 0 || len > UINT32_MAX) {
            snprintf(err, errlen, "user-agent pattern %zu is empty", i + 1);
            goto fail;
        }
        if (len == 1) {
            s->single[lower((unsigned char)list[i][0])] = 1;
            s->has_single = 1;
            continue;
        }
        if (!(it[m].p = malloc(len + 1)))
            goto oom;
        for (size_t k = 0; k <= len; k++)
            it[m].p[k] = (char)lower((unsigned char)list[i][k]);
        it[m].len = (uint32_t)len;
        unsigned k2 = key2(it[m].p);
        it[m].b = bucket_of(k2);
        s->bigram[k2 / 64] |= (uint64_t)1 << (k2 % 64);
        m++;
    }
    fill(s, it, m);
    free(it);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    for (size_t i = 0; it && i < n; i++)
        free(it[i].p);
    free(it);
    free(s->pat);
    free(s->len);
    memset(s, 0, sizeof *s);
    return -1;
}

/* Pattern (lower case) at t, compared ignoring the case of t. */
static int same(const char *t, const char *pat, uint32_t len)
{
    for (uint32_t i = 2; i < len; i++)
        if (lower((unsigned char)t[i]) != (unsigned char)pat[i])
            return 0;
    return 1;
}

int uaset_match(const uaset *s, const char *t, size_t n)
{
    if (!t)
        return 0;
    for (size_t i = 0; s->has_single && i < n; i++)
        if (s->single[lower((unsigned char)t[i])])
            return 1;
    if (s->n == 0)
        return 0;
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned k = key2(t + i);
        if (!(s->bigram[k / 64] >> (k % 64) & 1))
            continue;
        unsigned b = bucket_of(k);
        for (unsigned j = s->bucket[b]; j < s->bucket[b + 1]; j++)
            if (s->len[j] <= n - i && key2(s->pat[j]) == k && same(t + i, s->pat[j], s->len[j]))
                return 1;
    }
    return 0;
}

void uaset_free(uaset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->pat[i]);
    free(s->pat);
    free(s->len);
    memset(s, 0, sizeof *s);
}
