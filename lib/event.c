/*
 * sluice events: a bounds-checked msgpack reader (the builder is in
 * builder.c). See include/sluice/event.h for the contract.
 *
 * The reader never builds an object tree and never recurses: the size of a
 * container is found by skipping its children with a counter of pending
 * items, so hostile nesting costs time proportional to its bytes, not stack.
 */
#include "sluice_priv.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL

/* ------------------------------------------------------------------ */
/* Big-endian loads (the caller has checked the bounds)                */
/* ------------------------------------------------------------------ */

static uint16_t load16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t load64(const uint8_t *p)
{
    return (uint64_t)load32(p) << 32 | load32(p + 4);
}

static void store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void store64(uint8_t *p, uint64_t v)
{
    store32(p, (uint32_t)(v >> 32));
    store32(p + 4, (uint32_t)v);
}

/* ------------------------------------------------------------------ */
/* Reading one header                                                  */
/* ------------------------------------------------------------------ */

/*
 * Decode the value starting at p into *out, except that a container's
 * raw_len covers only its header. *children receives how many encoded items
 * follow as part of this value (array items, or 2 per map pair).
 * Returns 0, or -1 when truncated or invalid.
 */
static int read_head(const uint8_t *p, const uint8_t *end, sl_value *out,
                     uint64_t *children)
{
    size_t avail = (size_t)(end - p);
    if (avail < 1)
        return -1;
    uint8_t c = p[0];
    size_t hl = 1;     /* header bytes, including c */
    size_t plen = 0;   /* payload bytes after the header */
    uint64_t n = 0;    /* child items */

    memset(out, 0, sizeof *out);
    out->raw = p;

    if (c <= 0x7f) {
        out->type = SL_UINT;
        out->v.u = c;
    } else if (c >= 0xe0) {
        out->type = SL_INT;
        out->v.i = (int8_t)c;
    } else if (c >= 0xa0 && c <= 0xbf) {
        out->type = SL_STR;
        plen = c & 0x1f;
    } else if (c >= 0x90 && c <= 0x9f) {
        out->type = SL_ARRAY;
        out->v.n = c & 0x0f;
        n = out->v.n;
    } else if (c >= 0x80 && c <= 0x8f) {
        out->type = SL_MAP;
        out->v.n = c & 0x0f;
        n = 2 * (uint64_t)out->v.n;
    } else {
        static const uint8_t extra[32] = {
            /* c0 nil, c1 never, c2 false, c3 true */ 0, 0, 0, 0,
            /* c4-c6 bin8/16/32 */ 1, 2, 4,
            /* c7-c9 ext8/16/32 */ 2, 3, 5,
            /* ca cb float32/64 */ 4, 8,
            /* cc-cf uint8..64 */ 1, 2, 4, 8,
            /* d0-d3 int8..64 */ 1, 2, 4, 8,
            /* d4-d8 fixext1..16 (type byte) */ 1, 1, 1, 1, 1,
            /* d9-db str8/16/32 */ 1, 2, 4,
            /* dc dd array16/32 */ 2, 4,
            /* de df map16/32 */ 2, 4,
        };
        if (c == 0xc1)
            return -1;
        hl = 1 + (size_t)extra[c - 0xc0];
        if (avail < hl)
            return -1;
        const uint8_t *q = p + 1;
        switch (c) {
        case 0xc0: out->type = SL_NIL; break;
        case 0xc2: out->type = SL_BOOL; out->v.b = 0; break;
        case 0xc3: out->type = SL_BOOL; out->v.b = 1; break;
        case 0xc4: out->type = SL_BIN; plen = q[0]; break;
        case 0xc5: out->type = SL_BIN; plen = load16(q); break;
        case 0xc6: out->type = SL_BIN; plen = load32(q); break;
        case 0xc7: out->type = SL_EXT; plen = q[0]; out->ext_type = (int8_t)q[1]; break;
        case 0xc8: out->type = SL_EXT; plen = load16(q); out->ext_type = (int8_t)q[2]; break;
        case 0xc9: out->type = SL_EXT; plen = load32(q); out->ext_type = (int8_t)q[4]; break;
        case 0xca: {
            uint32_t bits = load32(q);
            float f;
            memcpy(&f, &bits, sizeof f);
            out->type = SL_FLOAT;
            out->v.f = f;
            break;
        }
        case 0xcb: {
            uint64_t bits = load64(q);
            double d;
            memcpy(&d, &bits, sizeof d);
            out->type = SL_FLOAT;
            out->v.f = d;
            break;
        }
        case 0xcc: out->type = SL_UINT; out->v.u = q[0]; break;
        case 0xcd: out->type = SL_UINT; out->v.u = load16(q); break;
        case 0xce: out->type = SL_UINT; out->v.u = load32(q); break;
        case 0xcf: out->type = SL_UINT; out->v.u = load64(q); break;
        case 0xd0: out->v.i = (int8_t)q[0]; goto signed_int;
        case 0xd1: out->v.i = (int16_t)load16(q); goto signed_int;
        case 0xd2: out->v.i = (int32_t)load32(q); goto signed_int;
        case 0xd3: out->v.i = (int64_t)load64(q); goto signed_int;
        signed_int:
            /* Non-negative values are SL_UINT whatever their encoding, so
             * consumers test one type for "a number >= 0". */
            if (out->v.i >= 0) {
                out->type = SL_UINT;
                out->v.u = (uint64_t)out->v.i;
            } else {
                out->type = SL_INT;
            }
            break;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            out->type = SL_EXT;
            plen = (size_t)1 << (c - 0xd4);
            out->ext_type = (int8_t)q[0];
            break;
        case 0xd9: out->type = SL_STR; plen = q[0]; break;
        case 0xda: out->type = SL_STR; plen = load16(q); break;
        case 0xdb: out->type = SL_STR; plen = load32(q); break;
        case 0xdc: out->type = SL_ARRAY; out->v.n = load16(q); n = out->v.n; break;
        case 0xdd: out->type = SL_ARRAY; out->v.n = load32(q); n = out->v.n; break;
        case 0xde: out->type = SL_MAP; out->v.n = load16(q); n = 2 * (uint64_t)out->v.n; break;
        case 0xdf: out->type = SL_MAP; out->v.n = load32(q); n = 2 * (uint64_t)out->v.n; break;
        default: return -1;
        }
    }

    if (plen > avail - hl)
        return -1;
    if (out->type == SL_STR || out->type == SL_BIN || out->type == SL_EXT) {
        out->v.s.ptr = (const char *)(p + hl);
        out->v.s.len = (uint32_t)plen;
    }
    out->raw_len = hl + plen;
    *children = n;
    return 0;
}

/* Size of the header of a container whose first byte is c. */
static size_t container_head_len(uint8_t c)
{
    if ((c >= 0x80 && c <= 0x9f))
        return 1;
    if (c == 0xdc || c == 0xde)
        return 3;
    return 5;
}

/*
 * Length of the item at p (header and payload, children excluded) and how
 * many child items follow it, without decoding the value: the hot loop of
 * skipping nested containers. Returns 0, or -1 when truncated or invalid.
 */
static int skip_head(const uint8_t *p, const uint8_t *end, size_t *len, uint64_t *children)
{
    size_t avail = (size_t)(end - p);
    if (avail < 1)
        return -1;
    uint8_t c = p[0];
    *children = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
        *len = 1;
        return 0;
    }
    if (c >= 0xa0 && c <= 0xbf) {
        *len = 1 + (size_t)(c & 0x1f);
        return *len <= avail ? 0 : -1;
    }
    if (c >= 0x80 && c <= 0x9f) {
        *children = (uint64_t)(c & 0x0f) << (c <= 0x8f); /* map: 2 per pair */
        *len = 1;
        return 0;
    }
    /* Longer strings and binaries, and fixed-size numbers: length only. */
    size_t plen;
    switch (c) {
    case 0xd9: case 0xc4: /* str8, bin8 */
        if (avail < 2)
            return -1;
        plen = p[1];
        *len = 2 + plen;
        return *len <= avail ? 0 : -1;
    case 0xda: case 0xc5: /* str16, bin16 */
        if (avail < 3)
            return -1;
        plen = load16(p + 1);
        *len = 3 + plen;
        return *len <= avail ? 0 : -1;
    case 0xcc: case 0xd0: *len = 2; return avail >= 2 ? 0 : -1;
    case 0xcd: case 0xd1: *len = 3; return avail >= 3 ? 0 : -1;
    case 0xce: case 0xd2: case 0xca: *len = 5; return avail >= 5 ? 0 : -1;
    case 0xcf: case 0xd3: case 0xcb: *len = 9; return avail >= 9 ? 0 : -1;
    default: break;
    }
    /* Everything else is rare enough for the full decoder. */
    sl_value v;
    if (read_head(p, end, &v, children) != 0)
        return -1;
    *len = v.raw_len;
    return 0;
}

int sl_read_value(const uint8_t **p, const uint8_t *end, sl_value *out)
{
    if (!p || !*p || !end || *p > end || !out)
        return -1;
    uint64_t pending;
    if (read_head(*p, end, out, &pending) != 0)
        return -1;
    const uint8_t *q = *p + out->raw_len;
    /* Every item takes at least one byte, so more pending items than bytes
     * left is a truncation we can report before walking anything; checking
     * it each step also keeps `pending` far from overflowing. */
    while (pending > 0) {
        if (pending > (uint64_t)(end - q))
            return -1;
        size_t len;
        uint64_t grand;
        if (skip_head(q, end, &len, &grand) != 0)
            return -1;
        q += len;
        pending = pending - 1 + grand;
    }
    out->raw_len = (size_t)(q - *p);
    *p = q;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Containers                                                          */
/* ------------------------------------------------------------------ */

int sl_iter_init(sl_iter *it, const sl_value *container)
{
    if (!it || !container || !container->raw)
        return -1;
    if (container->type != SL_ARRAY && container->type != SL_MAP)
        return -1;
    size_t hl = container_head_len(container->raw[0]);
    if (hl > container->raw_len)
        return -1;
    it->p = container->raw + hl;
    it->end = container->raw + container->raw_len;
    it->left = container->v.n;
    it->is_map = container->type == SL_MAP;
    return 0;
}

int sl_iter_next(sl_iter *it, sl_value *key, sl_value *val)
{
    sl_value k, v;
    if (it->left == 0)
        return 0;
    if (it->is_map && sl_read_value(&it->p, it->end, &k) != 0)
        return -1;
    if (sl_read_value(&it->p, it->end, &v) != 0)
        return -1;
    it->left--;
    if (key)
        *key = it->is_map ? k : (sl_value){.type = SL_NIL};
    if (val)
        *val = v;
    return 1;
}

int sl_map_get(const sl_value *map, const char *key, size_t keylen, sl_value *out)
{
    sl_iter it;
    sl_value k, v;
    int r;
    if (!map || map->type != SL_MAP || sl_iter_init(&it, map) != 0)
        return 0;
    while ((r = sl_iter_next(&it, &k, &v)) == 1) {
        if (k.type == SL_STR && k.v.s.len == keylen &&
            (keylen == 0 || memcmp(k.v.s.ptr, key, keylen) == 0)) {
            if (out)
                *out = v;
            return 1;
        }
    }
    return r;
}

int sl_map_gets(const sl_value *map, const char *key, sl_value *out)
{
    return sl_map_get(map, key, key ? strlen(key) : 0, out);
}

int sl_value_eq(const sl_value *v, const char *s)
{
    if (!v || !s || (v->type != SL_STR && v->type != SL_BIN))
        return 0;
    size_t n = strlen(s);
    return v->v.s.len == n && (n == 0 || memcmp(v->v.s.ptr, s, n) == 0);
}

/* Decimal integer with an optional sign, nothing else (no spaces). */
static int parse_decimal(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -1;
    /* Accumulate the magnitude as unsigned so INT64_MIN parses exactly. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (acc > (limit - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return 0;
}

int sl_value_to_int(const sl_value *v, int64_t *out)
{
    if (!v || !out)
        return -1;
    switch (v->type) {
    case SL_UINT:
        if (v->v.u > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v->v.u;
        return 0;
    case SL_INT:
        *out = v->v.i;
        return 0;
    case SL_FLOAT: {
        double f = v->v.f;
        /* 2^63 is exactly representable; INT64_MAX is not. NaN fails both. */
        if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
            return -1;
        int64_t i = (int64_t)f;
        if ((double)i != f)
            return -1;
        *out = i;
        return 0;
    }
    case SL_STR:
        return parse_decimal(v->v.s.ptr, v->v.s.len, out);
    default:
        return -1;
    }
}

/* ------------------------------------------------------------------ */
/* Timestamps                                                          */
/* ------------------------------------------------------------------ */

/* sec * 1e9 + nsec without overflow; INT64_MIN itself is representable. */
static int ts_combine(int64_t sec, uint32_t nsec, int64_t *out)
{
    if (sec >= 0) {
        if (sec > (INT64_MAX - (int64_t)nsec) / NS_PER_SEC)
            return -1;
        *out = sec * NS_PER_SEC + (int64_t)nsec;
        return 0;
    }
    /* (sec + 1) * 1e9 - (1e9 - nsec): both terms stay in range separately. */
    int64_t hi = sec + 1;
    int64_t lo = (int64_t)nsec - NS_PER_SEC;
    if (hi < INT64_MIN / NS_PER_SEC)
        return -1;
    int64_t base = hi * NS_PER_SEC;
    if (base < INT64_MIN - lo)
        return -1;
    *out = base + lo;
    return 0;
}

/* Decode a timestamp extension payload (type -1) into nanoseconds. */
static int ts_decode(const sl_value *v, int64_t *out)
{
    const uint8_t *d = (const uint8_t *)v->v.s.ptr;
    int64_t sec;
    uint32_t nsec;
    if (v->type != SL_EXT || v->ext_type != -1)
        return -1;
    switch (v->v.s.len) {
    case 4:
        sec = load32(d);
        nsec = 0;
        break;
    case 8: {
        uint64_t w = load64(d);
        nsec = (uint32_t)(w >> 34);
        sec = (int64_t)(w & 0x3ffffffffULL);
        break;
    }
    case 12:
        nsec = load32(d);
        sec = (int64_t)load64(d + 4);
        break;
    default:
        return -1;
    }
    if (nsec >= NS_PER_SEC)
        return -1;
    return ts_combine(sec, nsec, out);
}

size_t sl__time_encode(int64_t time_ns, uint8_t buf[12])
{
    int64_t sec = time_ns / NS_PER_SEC;
    int64_t nsec = time_ns % NS_PER_SEC;
    if (nsec < 0) { /* floor division: nsec is always in [0, 1e9) */
        nsec += NS_PER_SEC;
        sec -= 1;
    }
    if (sec >= 0 && sec <= 0xffffffffLL && nsec == 0) {
        store32(buf, (uint32_t)sec);
        return 4;
    }
    if (sec >= 0 && sec < (1LL << 34)) {
        store64(buf, (uint64_t)nsec << 34 | (uint64_t)sec);
        return 8;
    }
    store32(buf, (uint32_t)nsec);
    store64(buf + 4, (uint64_t)sec);
    return 12;
}

int64_t sl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Events and batches                                                  */
/* ------------------------------------------------------------------ */

/* Why an event is not well-formed; indexes ev_reasons[]. */
enum ev_error {
    EV_OK = 0, EV_TRUNCATED, EV_NOT_ARRAY, EV_ARITY, EV_TIME_TYPE,
    EV_TIME_VALUE, EV_META, EV_BODY,
};

static const char *const ev_reasons[] = {
    "ok",
    "truncated or invalid msgpack",
    "not an array",
    "array does not have 3 items",
    "timestamp is neither a timestamp extension nor an integer",
    "timestamp out of range or nanoseconds >= 1e9",
    "meta is not a map",
    "body is not a map",
};

static enum ev_error event_parse(const uint8_t **p, const uint8_t *end, sl_event *ev)
{
    sl_value head, t;
    uint64_t items;
    const uint8_t *start = *p;
    /* Read the array header, then each of the three items once: the event
     * is walked a single time, which is most of what reading costs. */
    if (read_head(start, end, &head, &items) != 0)
        return EV_TRUNCATED;
    if (head.type != SL_ARRAY)
        return sl_read_value(p, end, &head) != 0 ? EV_TRUNCATED : EV_NOT_ARRAY;
    if (head.v.n != 3)
        return sl_read_value(p, end, &head) != 0 ? EV_TRUNCATED : EV_ARITY;
    const uint8_t *q = start + head.raw_len;
    if (sl_read_value(&q, end, &t) != 0 || sl_read_value(&q, end, &ev->meta) != 0 ||
        sl_read_value(&q, end, &ev->body) != 0)
        return EV_TRUNCATED;
    *p = q;
    if (t.type == SL_EXT) {
        if (t.ext_type != -1)
            return EV_TIME_TYPE;
        if (ts_decode(&t, &ev->time_ns) != 0)
            return EV_TIME_VALUE;
    } else if (t.type == SL_UINT || t.type == SL_INT) {
        if (sl_value_to_int(&t, &ev->time_ns) != 0)
            return EV_TIME_VALUE;
    } else {
        return EV_TIME_TYPE;
    }
    if (ev->meta.type != SL_MAP)
        return EV_META;
    if (ev->body.type != SL_MAP)
        return EV_BODY;
    ev->raw = start;
    ev->raw_len = (size_t)(q - start);
    return EV_OK;
}

int sl_event_parse(const uint8_t **p, const uint8_t *end, sl_event *ev)
{
    sl_event tmp;
    const uint8_t *q;
    if (!p || !*p || !end || !ev)
        return -1;
    q = *p;
    if (event_parse(&q, end, &tmp) != EV_OK)
        return -1;
    *ev = tmp;
    *p = q;
    return 0;
}

void sl_batch_iter_init(sl_batch_iter *it, const sl_batch *b)
{
    it->p = b->data;
    it->end = b->data ? b->data + b->len : NULL;
    it->left = b->count; /* no data but a count: sl_batch_next reports -1 */
}

int sl_batch_next(sl_batch_iter *it, sl_event *ev)
{
    if (it->left == 0)
        return 0;
    if (sl_event_parse(&it->p, it->end, ev) != 0)
        return -1;
    it->left--;
    return 1;
}

int sl_batch_validate(const sl_batch *b, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!b) {
        snprintf(err, errlen, "no batch");
        return -1;
    }
    if (!b->data && (b->len > 0 || b->count > 0)) {
        snprintf(err, errlen, "batch has no data but claims %zu bytes, %u events",
                 b->len, b->count);
        return -1;
    }
    const uint8_t *p = b->data, *end = b->data ? b->data + b->len : NULL;
    for (uint32_t i = 0; i < b->count; i++) {
        sl_event ev;
        if (p == end) {
            snprintf(err, errlen, "batch ends after %u of %u events", i, b->count);
            return -1;
        }
        const uint8_t *at = p;
        enum ev_error e = event_parse(&p, end, &ev);
        if (e != EV_OK) {
            snprintf(err, errlen, "event %u: %s (at byte %zu)", i,
                     ev_reasons[e], (size_t)(at - b->data));
            return -1;
        }
    }
    if (p != end) {
        snprintf(err, errlen, "trailing %zu bytes after %u events",
                 (size_t)(end - p), b->count);
        return -1;
    }
    return 0;
}
