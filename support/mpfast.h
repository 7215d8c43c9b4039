/*
 * The common msgpack encodings read in place, for the enrichers that walk
 * every event of the pipeline once (activity, oneentry_pages) instead of
 * calling sl_read_value for each item. Each helper recognises only the forms
 * sluice's own builder writes for the usual values and answers 0 for
 * anything else, which the caller hands to the general reader — so what is
 * accepted or rejected is always sl_read_value's decision.
 */
#ifndef SL_MPFAST_H
#define SL_MPFAST_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

/* A fixstr or str8 at p (what nearly every key and most values are): *s,
 * *n and the bytes it spans; 0 for anything else or when truncated. */
static inline size_t sl_mp_short_str(const uint8_t *p, const uint8_t *end, const char **s,
                                     size_t *n)
{
    if (p < end && (*p & 0xe0) == 0xa0) {
        *n = *p & 0x1f;
        *s = (const char *)p + 1;
        return (size_t)(end - p) > *n ? 1 + *n : 0;
    }
    if (end - p >= 2 && *p == 0xd9) {
        *n = p[1];
        *s = (const char *)p + 2;
        return (size_t)(end - p) >= 2 + *n ? 2 + *n : 0;
    }
    return 0;
}

/* A map header at p: *pairs and the header's length; 0 when p is not one. */
static inline size_t sl_mp_map_head(const uint8_t *p, const uint8_t *end, uint32_t *pairs)
{
    if (p >= end)
        return 0;
    if ((*p & 0xf0) == 0x80) {
        *pairs = *p & 0x0f;
        return 1;
    }
    if (*p == 0xde && end - p >= 3) {
        *pairs = (uint32_t)p[1] << 8 | p[2];
        return 3;
    }
    if (*p == 0xdf && end - p >= 5) {
        *pairs = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        return 5;
    }
    return 0;
}

/* Bytes of a scalar at p that needs no decoding to be skipped (a short
 * string, a number, nil, a bool); 0 for the rest. */
static inline size_t sl_mp_plain_scalar(const uint8_t *p, const uint8_t *end)
{
    static const uint8_t fixed[32] = {
        /* c0 nil, c1 never, c2 c3 bool */ 1, 0, 1, 1,
        /* c4-c9 bin, ext: variable */ 0, 0, 0, 0, 0, 0,
        /* ca cb float32/64 */ 5, 9,
        /* cc-cf uint8..64 */ 2, 3, 5, 9,
        /* d0-d3 int8..64 */ 2, 3, 5, 9,
    };
    const char *s;
    size_t n, len;
    if (p >= end)
        return 0;
    if (*p <= 0x7f || *p >= 0xe0)
        return 1;
    if ((len = sl_mp_short_str(p, end, &s, &n)))
        return len;
    if (*p >= 0xc0 && *p < 0xe0 && (len = fixed[*p - 0xc0]) && (size_t)(end - p) >= len)
        return len;
    return 0;
}

/* An event time from the timestamp forms sluice packs for times after 1970
 * (4 and 8 bytes) or an integer of nanoseconds; -1 for the rest (then the
 * general reader decides). */
static inline int sl_mp_fast_time(const sl_value *t, int64_t *ns)
{
    const int64_t NS = 1000000000LL;
    if (t->type == SL_UINT || t->type == SL_INT)
        return sl_value_to_int(t, ns);
    if (t->type != SL_EXT || t->ext_type != -1)
        return -1;
    const uint8_t *d = (const uint8_t *)t->v.s.ptr;
    uint64_t sec, nsec = 0;
    if (t->v.s.len == 4) {
        sec = (uint64_t)d[0] << 24 | (uint64_t)d[1] << 16 | (uint64_t)d[2] << 8 | d[3];
    } else if (t->v.s.len == 8) {
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | d[i];
        nsec = x >> 34;
        sec = x & ((1ULL << 34) - 1);
    } else {
        return -1;
    }
    if (nsec >= (uint64_t)NS || sec > (uint64_t)(INT64_MAX / NS) - 1)
        return -1;
    *ns = (int64_t)sec * NS + (int64_t)nsec;
    return 0;
}

#endif
