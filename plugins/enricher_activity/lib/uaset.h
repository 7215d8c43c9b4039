/*
 * A set of case-insensitive (ASCII) substrings, searched for in one scan of
 * a text: the bot list and per-rule user-agent excludes.
 *
 * Why not one PCRE2 alternation: with ~40 caseless literals the JIT still
 * tries every branch at every offset of a ~120-byte user agent, which was
 * a fifth of the whole parse -> activity pipeline. Here each offset costs
 * one lookup of its two lower-cased bytes in a bitmap of the patterns'
 * first two bytes; only a hit compares whole patterns.
 *
 * Matching reads the set and writes nothing, so one set may be searched
 * from several threads at once.
 */
#ifndef UASET_H
#define UASET_H

#include <stddef.h>
#include <stdint.h>

#define UASET_BUCKETS 256

typedef struct uaset {
    char **pat;                       /* lower-cased, sorted by bucket */
    uint32_t *len;
    size_t n;
    uint16_t bucket[UASET_BUCKETS + 1]; /* patterns of bucket b: [bucket[b], bucket[b+1]) */
    uint64_t bigram[65536 / 64];      /* first two bytes of some pattern */
    uint8_t single[256];              /* one-byte patterns */
    int has_single;
} uaset;

/* Build from n patterns (empty ones are refused). 0 or -1 with err. */
int uaset_init(uaset *s, const char *const *list, size_t n, char *err, size_t errlen);
/* 1 when some pattern occurs in t[0..n), ignoring ASCII case. */
int uaset_match(const uaset *s, const char *t, size_t n);
void uaset_free(uaset *s);

#endif
