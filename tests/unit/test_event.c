/* Unit tests for libsluice: the msgpack reader, events, batches, the builder. */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sluice/event.h"
#include "sluice/json.h"
#include "sluice_priv.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* A heap copy of exactly n bytes, so ASan flags any read past the end. */
static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    CU_ASSERT_FATAL(d != NULL);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Read one value from exactly n bytes; returns sl_read_value's result. */
static int read_exact(const void *bytes, size_t n, sl_value *v)
{
    uint8_t *d = dup_exact(bytes, n);
    const uint8_t *p = d;
    int r = sl_read_value(&p, d + n, v);
    if (r == 0)
        CU_ASSERT(p == d + v->raw_len);
    free(d);
    return r;
}

/* Read from a literal in place, when the value is inspected afterwards. */
static int read_lit(const void *bytes, size_t n, sl_value *v)
{
    const uint8_t *p = bytes;
    return sl_read_value(&p, p + n, v);
}

static const char BODY_STR[] = "a\0b\xff\xfe end";
static const uint8_t BIN[] = {0x00, 0xc1, 0xff, 0x80};

/* Packs the event used by most tests: everything the reader must survive. */
static void pack_rich_event(sl_builder *bb, int64_t t)
{
    sl_builder *pk = bb;
    sl_bb_begin(bb, t);
    sl_bb_map(pk, 1);
    sl_bb_cstr(pk, "source");
    sl_bb_cstr(pk, "gen");
    sl_bb_map(pk, 8);
    sl_bb_cstr(pk, "s");
    sl_bb_str(pk, BODY_STR, sizeof BODY_STR - 1);
    sl_bb_cstr(pk, "bin");
    sl_bb_bin(pk, BIN, sizeof BIN);
    sl_bb_cstr(pk, "u");
    sl_bb_uint(pk, UINT64_MAX);
    sl_bb_cstr(pk, "i");
    sl_bb_int(pk, INT64_MIN);
    sl_bb_cstr(pk, "f");
    sl_bb_double(pk, -1.25e300);
    sl_bb_cstr(pk, "f32");
    sl_bb_raw(pk, "\xca\x3f\x00\x00\x00", 5, 1); /* float 32 */
    sl_bb_cstr(pk, "nested");
    sl_bb_map(pk, 2);
    sl_bb_cstr(pk, "arr");
    sl_bb_array(pk, 3);
    sl_bb_int(pk, 1);
    sl_bb_int(pk, -1);
    sl_bb_map(pk, 1);
    sl_bb_cstr(pk, "k");
    sl_bb_nil(pk);
    sl_bb_cstr(pk, "t");
    sl_bb_bool(pk, 1);
    sl_bb_cstr(pk, "empty");
    sl_bb_array(pk, 0);
    sl_bb_end(bb);
}

/* ------------------------------------------------------------------ */
/* round trips                                                         */
/* ------------------------------------------------------------------ */

static void test_roundtrip_rich(void)
{
    sl_builder *bb = sl_bb_new();
    pack_rich_event(bb, 1764428231123456789LL);
    sl_batch b = sl_bb_batch(bb);
    CU_ASSERT_EQUAL(b.count, 1);
    char err[128];
    CU_ASSERT_EQUAL(sl_batch_validate(&b, err, sizeof err), 0);

    sl_batch_iter it;
    sl_event ev;
    sl_value v, w, x;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(ev.time_ns, 1764428231123456789LL);
    CU_ASSERT(ev.raw == b.data && ev.raw_len == b.len);
    CU_ASSERT_EQUAL(ev.meta.type, SL_MAP);
    CU_ASSERT_EQUAL(sl_map_gets(&ev.meta, "source", &v), 1);
    CU_ASSERT(sl_value_eq(&v, "gen"));

    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "s", &v), 1);
    CU_ASSERT_EQUAL(v.type, SL_STR);
    CU_ASSERT_EQUAL(v.v.s.len, sizeof BODY_STR - 1);
    CU_ASSERT(memcmp(v.v.s.ptr, BODY_STR, sizeof BODY_STR - 1) == 0);

    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "bin", &v), 1);
    CU_ASSERT_EQUAL(v.type, SL_BIN);
    CU_ASSERT_EQUAL(v.v.s.len, sizeof BIN);
    CU_ASSERT(memcmp(v.v.s.ptr, BIN, sizeof BIN) == 0);

    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "u", &v), 1);
    CU_ASSERT(v.type == SL_UINT && v.v.u == UINT64_MAX);
    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "i", &v), 1);
    CU_ASSERT(v.type == SL_INT && v.v.i == INT64_MIN);
    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "f", &v), 1);
    CU_ASSERT(v.type == SL_FLOAT && v.v.f == -1.25e300);
    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "f32", &v), 1);
    CU_ASSERT(v.type == SL_FLOAT && v.v.f == 0.5);

    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "nested", &v), 1);
    CU_ASSERT(v.type == SL_MAP && v.v.n == 2);
    CU_ASSERT_EQUAL(sl_map_gets(&v, "t", &w), 1);
    CU_ASSERT(w.type == SL_BOOL && w.v.b == 1);
    CU_ASSERT_EQUAL(sl_map_gets(&v, "arr", &w), 1);
    CU_ASSERT(w.type == SL_ARRAY && w.v.n == 3);
    sl_iter ai;
    CU_ASSERT_EQUAL(sl_iter_init(&ai, &w), 0);
    CU_ASSERT_EQUAL(sl_iter_next(&ai, NULL, &x), 1);
    CU_ASSERT(x.type == SL_UINT && x.v.u == 1);
    CU_ASSERT_EQUAL(sl_iter_next(&ai, NULL, &x), 1);
    CU_ASSERT(x.type == SL_INT && x.v.i == -1);
    CU_ASSERT_EQUAL(sl_iter_next(&ai, NULL, &x), 1);
    CU_ASSERT(x.type == SL_MAP && x.v.n == 1);
    sl_value nil;
    CU_ASSERT_EQUAL(sl_map_gets(&x, "k", &nil), 1);
    CU_ASSERT_EQUAL(nil.type, SL_NIL);
    CU_ASSERT_EQUAL(sl_iter_next(&ai, NULL, &x), 0);

    CU_ASSERT_EQUAL(sl_map_gets(&ev.body, "empty", &v), 1);
    CU_ASSERT(v.type == SL_ARRAY && v.v.n == 0 && v.raw_len == 1);
    CU_ASSERT_EQUAL(sl_iter_init(&ai, &v), 0);
    CU_ASSERT_EQUAL(sl_iter_next(&ai, NULL, &x), 0);

    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 0);
    sl_bb_free(bb);
}

/* Copying values verbatim with sl_pack_value reproduces the same bytes. */
static void test_pack_value_verbatim(void)
{
    sl_builder *a = sl_bb_new(), *c = sl_bb_new();
    pack_rich_event(a, -5);
    sl_batch b = sl_bb_batch(a);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(ev.time_ns, -5);
    sl_bb_begin(c, ev.time_ns);
    CU_ASSERT_EQUAL(sl_bb_value(c, &ev.meta), 0);
    CU_ASSERT_EQUAL(sl_bb_value(c, &ev.body), 0);
    sl_bb_end(c);
    sl_bb_append_event(c, &ev);
    sl_batch b2 = sl_bb_batch(c);
    CU_ASSERT_EQUAL(b2.count, 2);
    CU_ASSERT_EQUAL(b2.len, 2 * b.len);
    CU_ASSERT(memcmp(b2.data, b.data, b.len) == 0);
    CU_ASSERT(memcmp(b2.data + b.len, b.data, b.len) == 0);
    CU_ASSERT_EQUAL(sl_batch_validate(&b2, NULL, 0), 0);

    sl_value none = {0};
    CU_ASSERT_EQUAL(sl_bb_value(c, &none), -1);

    sl_bb_reset(c);
    b2 = sl_bb_batch(c);
    CU_ASSERT(b2.count == 0 && b2.len == 0);
    CU_ASSERT_EQUAL(sl_batch_validate(&b2, NULL, 0), 0);
    sl_bb_free(a);
    sl_bb_free(c);
}

/* ------------------------------------------------------------------ */
/* every format family                                                 */
/* ------------------------------------------------------------------ */

typedef struct fmt_case {
    const char *bytes;
    size_t len;
    sl_type type;
} fmt_case;

#define FC(lit, t) {lit, sizeof(lit) - 1, t}

static void test_all_formats(void)
{
    static const fmt_case cases[] = {
        FC("\x00", SL_UINT), FC("\x7f", SL_UINT), FC("\xe0", SL_INT), FC("\xff", SL_INT),
        FC("\xc0", SL_NIL), FC("\xc2", SL_BOOL), FC("\xc3", SL_BOOL),
        FC("\xcc\xff", SL_UINT), FC("\xcd\xff\xff", SL_UINT),
        FC("\xce\xff\xff\xff\xff", SL_UINT), FC("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", SL_UINT),
        FC("\xd0\x80", SL_INT), FC("\xd1\x80\x00", SL_INT),
        FC("\xd2\x80\x00\x00\x00", SL_INT), FC("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", SL_INT),
        FC("\xd0\x05", SL_UINT), /* a positive int8 reads as SL_UINT */
        FC("\xca\x3f\xc0\x00\x00", SL_FLOAT), FC("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", SL_FLOAT),
        FC("\xa3" "abc", SL_STR), FC("\xd9\x03" "abc", SL_STR), FC("\xda\x00\x03" "abc", SL_STR),
        FC("\xdb\x00\x00\x00\x03" "abc", SL_STR),
        FC("\xc4\x03" "abc", SL_BIN), FC("\xc5\x00\x03" "abc", SL_BIN),
        FC("\xc6\x00\x00\x00\x03" "abc", SL_BIN),
        FC("\x92\x01\xa1x", SL_ARRAY), FC("\xdc\x00\x02\x01\xa1x", SL_ARRAY),
        FC("\xdd\x00\x00\x00\x02\x01\xa1x", SL_ARRAY),
        FC("\x81\xa1k\x01", SL_MAP), FC("\xde\x00\x01\xa1k\x01", SL_MAP),
        FC("\xdf\x00\x00\x00\x01\xa1k\x01", SL_MAP),
        FC("\xd4\x05" "a", SL_EXT), FC("\xd5\x05" "ab", SL_EXT), FC("\xd6\x05" "abcd", SL_EXT),
        FC("\xd7\x05" "abcdefgh", SL_EXT), FC("\xd8\x05" "abcdefghijklmnop", SL_EXT),
        FC("\xc7\x03\x05" "abc", SL_EXT), FC("\xc8\x00\x03\x05" "abc", SL_EXT),
        FC("\xc9\x00\x00\x00\x03\x05" "abc", SL_EXT),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_value v;
        int r = read_exact(cases[i].bytes, cases[i].len, &v);
        CU_ASSERT_EQUAL(r, 0);
        if (r != 0) {
            fprintf(stderr, "format case %zu failed\n", i);
            continue;
        }
        CU_ASSERT_EQUAL(v.type, cases[i].type);
        CU_ASSERT_EQUAL(v.raw_len, cases[i].len);
        /* The exact-size copy is gone: check payloads by their offset. */
        if (v.type == SL_STR || v.type == SL_BIN || v.type == SL_EXT) {
            size_t off = (size_t)((const uint8_t *)v.v.s.ptr - v.raw);
            CU_ASSERT(off + v.v.s.len == cases[i].len);
            CU_ASSERT(memcmp(cases[i].bytes + off, "abcdefghijklmnop", v.v.s.len) == 0);
            if (v.type != SL_EXT)
                CU_ASSERT_EQUAL(v.v.s.len, 3);
        }
        if (v.type == SL_EXT)
            CU_ASSERT_EQUAL(v.ext_type, 5);
        /* Every strict prefix is truncated. */
        for (size_t k = 0; k < cases[i].len; k++)
            CU_ASSERT_EQUAL(read_exact(cases[i].bytes, k, &v), -1);
    }

    sl_value v;
    CU_ASSERT_EQUAL(read_exact("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, &v), 0);
    CU_ASSERT_EQUAL(v.v.i, INT64_MIN);
    CU_ASSERT_EQUAL(read_exact("\xd1\x80\x00", 3, &v), 0);
    CU_ASSERT_EQUAL(v.v.i, -32768);
    CU_ASSERT_EQUAL(read_exact("\xff", 1, &v), 0);
    CU_ASSERT_EQUAL(v.v.i, -1);
    CU_ASSERT_EQUAL(read_exact("\xca\x3f\xc0\x00\x00", 5, &v), 0);
    CU_ASSERT_EQUAL(v.v.f, 1.5);
    CU_ASSERT_EQUAL(read_exact("\xc3", 1, &v), 0);
    CU_ASSERT_EQUAL(v.v.b, 1);
    CU_ASSERT_EQUAL(read_exact("\xdc\x00\x02\x01\xa1x", 6, &v), 0);
    CU_ASSERT_EQUAL(v.v.n, 2);
    CU_ASSERT_EQUAL(read_exact("\xa0", 1, &v), 0); /* empty string */
    CU_ASSERT(v.type == SL_STR && v.v.s.len == 0);
}

static void test_invalid_c1(void)
{
    sl_value v;
    CU_ASSERT_EQUAL(read_exact("\xc1", 1, &v), -1);
    CU_ASSERT_EQUAL(read_exact("\x92\x01\xc1", 3, &v), -1);
    CU_ASSERT_EQUAL(read_exact("\x81\xc1\x01", 3, &v), -1);
    /* Empty input and end < p. */
    uint8_t b = 0;
    const uint8_t *p = &b;
    CU_ASSERT_EQUAL(sl_read_value(&p, &b, &v), -1);
    p = &b + 1;
    CU_ASSERT_EQUAL(sl_read_value(&p, &b, &v), -1);
}

/* ------------------------------------------------------------------ */
/* hostile input                                                       */
/* ------------------------------------------------------------------ */

static void test_huge_length_claims(void)
{
    sl_value v;
    static const fmt_case claims[] = {
        FC("\xdf\xff\xff\xff\xff\x01\x02\x03\x04\x05", SL_MAP),
        FC("\xdd\xff\xff\xff\xff\x01\x02\x03\x04\x05", SL_ARRAY),
        FC("\xdb\xff\xff\xff\xff" "abcde", SL_STR),
        FC("\xc6\xff\xff\xff\xff" "abcde", SL_BIN),
        FC("\xc9\xff\xff\xff\xff\x05" "abcd", SL_EXT),
        FC("\xde\xff\xff\x01", SL_MAP),
        /* a map of maps each claiming 2^32-1 pairs */
        FC("\x81\xdf\xff\xff\xff\xff\xdf\xff\xff\xff\xff", SL_MAP),
    };
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++)
        CU_ASSERT_EQUAL(read_exact(claims[i].bytes, claims[i].len, &v), -1);
}

static void test_deep_nesting_bomb(void)
{
    const size_t depth = 1000000;
    uint8_t *buf = malloc(depth + 1);
    CU_ASSERT_FATAL(buf != NULL);
    memset(buf, 0x91, depth); /* [[[[...]]]] */
    buf[depth] = 0x01;
    sl_value v;
    const uint8_t *p = buf;
    /* Valid msgpack: read iteratively, no stack blow-up. */
    CU_ASSERT_EQUAL(sl_read_value(&p, buf + depth + 1, &v), 0);
    CU_ASSERT_EQUAL(v.raw_len, depth + 1);
    /* JSON refuses it (depth limit) instead of recursing a million times. */
    sl_buf out = {0};
    CU_ASSERT_EQUAL(sl_json_value(&out, &v), -1);
    CU_ASSERT_EQUAL(out.len, 0);
    sl_buf_free(&out);
    /* Without its innermost item it is truncated. */
    p = buf;
    CU_ASSERT_EQUAL(sl_read_value(&p, buf + depth, &v), -1);
    CU_ASSERT(p == buf);
    /* Maps nested the same way: each level claims a key and a value. */
    memset(buf, 0x81, depth + 1);
    p = buf;
    CU_ASSERT_EQUAL(sl_read_value(&p, buf + depth + 1, &v), -1);
    free(buf);
}

/* Every strict prefix of a valid batch fails cleanly, on exact-size buffers. */
static void test_truncated_every_offset(void)
{
    sl_builder *bb = sl_bb_new();
    pack_rich_event(bb, 1764428231123456789LL);
    sl_batch full = sl_bb_batch(bb);
    for (size_t k = 0; k < full.len; k++) {
        uint8_t *d = dup_exact(full.data, k);
        sl_batch b = {d, k, 1};
        char err[128];
        CU_ASSERT_EQUAL(sl_batch_validate(&b, err, sizeof err), -1);
        const uint8_t *p = d;
        sl_event ev;
        CU_ASSERT_EQUAL(sl_event_parse(&p, d + k, &ev), -1);
        CU_ASSERT(p == d);
        sl_value v;
        p = d;
        CU_ASSERT_EQUAL(sl_read_value(&p, d + k, &v), -1);
        sl_batch_iter it;
        sl_batch_iter_init(&it, &b);
        CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), -1);
        free(d);
    }
    sl_bb_free(bb);
}

/* Random byte flips of a valid event never crash the reader or JSON. */
static void test_mutation_fuzz(void)
{
    sl_builder *bb = sl_bb_new();
    pack_rich_event(bb, 42);
    sl_batch full = sl_bb_batch(bb);
    unsigned seed = 12345;
    sl_buf out = {0};
    for (int round = 0; round < 20000; round++) {
        uint8_t *d = dup_exact(full.data, full.len);
        int flips = 1 + (int)(seed % 4);
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245u + 12345u;
            d[(seed >> 8) % full.len] = (uint8_t)(seed >> 20);
        }
        sl_batch b = {d, full.len, 1};
        sl_batch_iter it;
        sl_event ev;
        sl_batch_iter_init(&it, &b);
        if (sl_batch_next(&it, &ev) == 1) {
            out.len = 0;
            (void)sl_json_event_line(&out, &ev, "time", SL_TIME_RFC3339);
        }
        (void)sl_batch_validate(&b, NULL, 0);
        free(d);
    }
    sl_buf_free(&out);
    sl_bb_free(bb);
    CU_PASS("no crash");
}

/* ------------------------------------------------------------------ */
/* timestamps                                                          */
/* ------------------------------------------------------------------ */

static void check_time(int64_t ns, size_t expect_payload)
{
    sl_builder *bb = sl_bb_new();
    sl_bb_begin(bb, ns);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 0);
    sl_bb_end(bb);
    sl_batch b = sl_bb_batch(bb);
    const uint8_t *p = b.data + 1; /* skip the 0x93 array header */
    sl_value t;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, b.data + b.len, &t), 0);
    CU_ASSERT_EQUAL(t.type, SL_EXT);
    CU_ASSERT_EQUAL(t.ext_type, -1);
    CU_ASSERT_EQUAL(t.v.s.len, expect_payload);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(ev.time_ns, ns);
    sl_bb_free(bb);
}

static void test_timestamps_widths(void)
{
    check_time(0, 4);
    check_time(1000000000LL, 4);
    check_time(4294967295LL * 1000000000LL, 4);        /* max uint32 seconds */
    check_time(1500000000LL, 8);                       /* 1.5 s */
    check_time(1764428231123456789LL, 8);
    check_time(4294967296LL * 1000000000LL, 8);        /* 2^32 s, needs 34 bits */
}

static void test_timestamps_negative(void)
{
    check_time(-1, 12);
    check_time(-1000000000LL, 12);
    check_time(-1500000000LL, 12);
    check_time(INT64_MIN, 12);
    check_time(INT64_MAX, 8);
}

static int parse_event_bytes(const void *bytes, size_t n, sl_event *ev)
{
    uint8_t *d = dup_exact(bytes, n);
    const uint8_t *p = d;
    int r = sl_event_parse(&p, d + n, ev);
    free(d);
    return r;
}

static void test_timestamps_decode(void)
{
    sl_event ev;
    /* 8-byte form: nsec=1 (<<34), sec=2 */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xd7\xff\x00\x00\x00\x04\x00\x00\x00\x02\x80\x80", 13, &ev), 0);
    CU_ASSERT_EQUAL(ev.time_ns, 2000000001LL);
    /* 12-byte form: nsec=5, sec=-2 */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xc7\x0c\xff\x00\x00\x00\x05"
                                      "\xff\xff\xff\xff\xff\xff\xff\xfe\x80\x80", 18, &ev), 0);
    CU_ASSERT_EQUAL(ev.time_ns, -1999999995LL);
    /* nsec >= 1e9 is malformed, in both forms that carry it */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xc7\x0c\xff\x3b\x9a\xca\x00"
                                      "\x00\x00\x00\x00\x00\x00\x00\x01\x80\x80", 18, &ev), -1);
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xd7\xff\xee\x6b\x28\x00\x00\x00\x00\x01\x80\x80", 13, &ev), -1);
    /* 12-byte seconds beyond the int64 nanosecond range */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xc7\x0c\xff\x00\x00\x00\x00"
                                      "\x7f\xff\xff\xff\xff\xff\xff\xff\x80\x80", 18, &ev), -1);
    /* wrong ext type, wrong size */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xd6\x01\x00\x00\x00\x01\x80\x80", 9, &ev), -1);
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xd5\xff\x00\x01\x80\x80", 7, &ev), -1);
    /* 4-byte form */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xd6\xff\x00\x00\x00\x03\x80\x80", 9, &ev), 0);
    CU_ASSERT_EQUAL(ev.time_ns, 3000000000LL);
    /* integer nanoseconds are accepted too */
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\x07\x80\x80", 4, &ev), 0);
    CU_ASSERT_EQUAL(ev.time_ns, 7);
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xff\x80\x80", 4, &ev), 0);
    CU_ASSERT_EQUAL(ev.time_ns, -1);
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\xcf\xff\xff\xff\xff\xff\xff\xff\xff\x80\x80", 12, &ev), -1);
}

static void test_now(void)
{
    int64_t a = sl_now_ns();
    CU_ASSERT(a > 1600000000LL * 1000000000LL);
    CU_ASSERT(sl_now_ns() >= a);
}

/* ------------------------------------------------------------------ */
/* lookups and conversions                                             */
/* ------------------------------------------------------------------ */

static void test_map_get(void)
{
    sl_value m, v;
    /* {"a":1, "a":2, 3:4, "":5, "a\0b":6} */
    static const char bytes[] = "\x85\xa1" "a\x01\xa1" "a\x02\x03\x04\xa0\x05\xa3" "a\0b\x06";
    CU_ASSERT_EQUAL_FATAL(read_exact(bytes, sizeof bytes - 1, &m), 0);
    uint8_t *d = dup_exact(bytes, sizeof bytes - 1);
    const uint8_t *p = d;
    CU_ASSERT_EQUAL_FATAL(sl_read_value(&p, d + sizeof bytes - 1, &m), 0);
    CU_ASSERT_EQUAL(sl_map_gets(&m, "a", &v), 1);
    CU_ASSERT_EQUAL(v.v.u, 1); /* first match */
    CU_ASSERT_EQUAL(sl_map_gets(&m, "", &v), 1);
    CU_ASSERT_EQUAL(v.v.u, 5);
    CU_ASSERT_EQUAL(sl_map_get(&m, "a\0b", 3, &v), 1);
    CU_ASSERT_EQUAL(v.v.u, 6);
    CU_ASSERT_EQUAL(sl_map_gets(&m, "b", &v), 0);
    CU_ASSERT_EQUAL(sl_map_gets(&m, "3", &v), 0); /* integer keys never match */
    CU_ASSERT_EQUAL(sl_map_gets(&m, "a", NULL), 1);
    sl_value notmap;
    CU_ASSERT_EQUAL(read_exact("\x91\x01", 2, &notmap), 0);
    CU_ASSERT_EQUAL(sl_map_gets(&notmap, "a", &v), 0);
    free(d);

    /* A hand-made map value whose bytes are broken after the header. */
    static const uint8_t broken[] = {0x82, 0xa1, 'x', 0x01, 0xc1, 0x01};
    sl_value bm = {.type = SL_MAP, .raw = broken, .raw_len = sizeof broken};
    bm.v.n = 2;
    CU_ASSERT_EQUAL(sl_map_gets(&bm, "y", &v), -1);
    CU_ASSERT_EQUAL(sl_map_gets(&bm, "x", &v), 1);
}

static void test_value_eq(void)
{
    sl_value v;
    CU_ASSERT_EQUAL(read_lit("\xa3" "abc", 4, &v), 0);
    CU_ASSERT(sl_value_eq(&v, "abc"));
    CU_ASSERT(!sl_value_eq(&v, "ab"));
    CU_ASSERT(!sl_value_eq(&v, "abcd"));
    CU_ASSERT_EQUAL(read_lit("\xc4\x02" "hi", 4, &v), 0);
    CU_ASSERT(sl_value_eq(&v, "hi"));
    CU_ASSERT_EQUAL(read_lit("\x01", 1, &v), 0);
    CU_ASSERT(!sl_value_eq(&v, "1"));
    CU_ASSERT_EQUAL(read_lit("\xa0", 1, &v), 0);
    CU_ASSERT(sl_value_eq(&v, ""));
}

static int to_int(const char *bytes, size_t n, int64_t *out)
{
    sl_value v;
    uint8_t *d = dup_exact(bytes, n);
    const uint8_t *p = d;
    int r = sl_read_value(&p, d + n, &v);
    if (r == 0)
        r = sl_value_to_int(&v, out);
    free(d);
    return r;
}

static int str_to_int(const char *s, int64_t *out)
{
    char buf[64];
    size_t n = strlen(s);
    buf[0] = (char)(0xa0 | n);
    memcpy(buf + 1, s, n);
    return to_int(buf, n + 1, out);
}

static void test_value_to_int(void)
{
    int64_t i = 0;
    CU_ASSERT(to_int("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9, &i) == 0 && i == INT64_MAX);
    CU_ASSERT_EQUAL(to_int("\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9, &i), -1);
    CU_ASSERT(to_int("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, &i) == 0 && i == INT64_MIN);
    CU_ASSERT(to_int("\xe0", 1, &i) == 0 && i == -32);
    CU_ASSERT(to_int("\xcb\x40\x08\x00\x00\x00\x00\x00\x00", 9, &i) == 0 && i == 3); /* 3.0 */
    CU_ASSERT_EQUAL(to_int("\xcb\x40\x0c\x00\x00\x00\x00\x00\x00", 9, &i), -1);      /* 3.5 */
    CU_ASSERT_EQUAL(to_int("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9, &i), -1);      /* NaN */
    CU_ASSERT_EQUAL(to_int("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", 9, &i), -1);      /* +Inf */
    CU_ASSERT_EQUAL(to_int("\xcb\x43\xe0\x00\x00\x00\x00\x00\x00", 9, &i), -1);      /* 2^63 */
    CU_ASSERT(to_int("\xcb\xc3\xe0\x00\x00\x00\x00\x00\x00", 9, &i) == 0 && i == INT64_MIN); /* -2^63 */
    CU_ASSERT(to_int("\xca\xc0\x00\x00\x00", 5, &i) == 0 && i == -2);                /* float32 -2 */
    CU_ASSERT(str_to_int("123", &i) == 0 && i == 123);
    CU_ASSERT(str_to_int("-42", &i) == 0 && i == -42);
    CU_ASSERT(str_to_int("+7", &i) == 0 && i == 7);
    CU_ASSERT(str_to_int("9223372036854775807", &i) == 0 && i == INT64_MAX);
    CU_ASSERT(str_to_int("-9223372036854775808", &i) == 0 && i == INT64_MIN);
    CU_ASSERT_EQUAL(str_to_int("9223372036854775808", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("-9223372036854775809", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("99999999999999999999", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("-", &i), -1);
    CU_ASSERT_EQUAL(str_to_int(" 1", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("1 ", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("12a", &i), -1);
    CU_ASSERT_EQUAL(str_to_int("1.0", &i), -1);
    CU_ASSERT_EQUAL(to_int("\xc3", 1, &i), -1);  /* bool */
    CU_ASSERT_EQUAL(to_int("\xc0", 1, &i), -1);  /* nil */
    CU_ASSERT_EQUAL(to_int("\xc4\x01" "1", 3, &i), -1); /* bin is not a string */
}

/* ------------------------------------------------------------------ */
/* batches                                                             */
/* ------------------------------------------------------------------ */

static void pack_simple(sl_builder *bb, int64_t t, int seq)
{
    sl_bb_begin(bb, t);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "seq");
    sl_bb_int(bb, seq);
    sl_bb_end(bb);
}

static void test_batch_iteration(void)
{
    sl_builder *bb = sl_bb_new();
    for (int i = 0; i < 1000; i++)
        pack_simple(bb, (int64_t)i * 1000000007LL - 5000000000LL, i);
    sl_batch b = sl_bb_batch(bb);
    CU_ASSERT_EQUAL(b.count, 1000);
    CU_ASSERT_EQUAL(sl_batch_validate(&b, NULL, 0), 0);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    int n = 0, r;
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        sl_value v;
        int64_t seq;
        CU_ASSERT_EQUAL(ev.time_ns, (int64_t)n * 1000000007LL - 5000000000LL);
        CU_ASSERT(sl_map_gets(&ev.body, "seq", &v) == 1 && sl_value_to_int(&v, &seq) == 0 && seq == n);
        n++;
    }
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(n, 1000);

    /* count says fewer events than the bytes hold: iteration stops at count */
    sl_batch short_b = b;
    short_b.count = 2;
    sl_batch_iter_init(&it, &short_b);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 0);

    /* an empty batch */
    sl_batch empty = {NULL, 0, 0};
    sl_batch_iter_init(&it, &empty);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 0);
    CU_ASSERT_EQUAL(sl_batch_validate(&empty, NULL, 0), 0);
    sl_batch lying = {NULL, 0, 2};
    sl_batch_iter_init(&it, &lying);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), -1);
    sl_bb_free(bb);
}

static void expect_invalid(const void *bytes, size_t n, uint32_t count, const char *reason)
{
    uint8_t *d = dup_exact(bytes, n);
    sl_batch b = {d, n, count};
    char err[160] = "";
    CU_ASSERT_EQUAL(sl_batch_validate(&b, err, sizeof err), -1);
    if (!strstr(err, reason)) {
        fprintf(stderr, "\nexpected \"%s\" in \"%s\"\n", reason, err);
        CU_FAIL("reason");
    }
    free(d);
}

static void test_event_shape(void)
{
    sl_event ev;
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\x00\x80\x80", 4, &ev), 0);
    expect_invalid("\x80", 1, 1, "event 0: not an array");
    expect_invalid("\x92\x00\x80", 3, 1, "event 0: array does not have 3 items");
    expect_invalid("\x94\x00\x80\x80\x80", 5, 1, "event 0: array does not have 3 items");
    expect_invalid("\x93\x00\x80\x90", 4, 1, "event 0: body is not a map");
    expect_invalid("\x93\x00\xc0\x80", 4, 1, "event 0: meta is not a map");
    expect_invalid("\x93\xa1x\x80\x80", 5, 1, "event 0: timestamp is neither");
    expect_invalid("\x93\x00\x80", 3, 1, "event 0: truncated");
    expect_invalid("\xc1", 1, 1, "event 0: truncated or invalid msgpack");
    CU_ASSERT_EQUAL(parse_event_bytes("\x92\x00\x80", 3, &ev), -1);
    CU_ASSERT_EQUAL(parse_event_bytes("\x93\x00\x80\x90", 4, &ev), -1);
}

static void test_batch_validate_reasons(void)
{
    sl_builder *bb = sl_bb_new();
    for (int i = 0; i < 3; i++)
        pack_simple(bb, 1, i);
    /* event 3: body is an array (the builder refuses to write one, so the
     * bytes are appended by hand) */
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 0);
    sl_bb_array(bb, 0);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    sl_batch b = sl_bb_batch(bb);
    CU_ASSERT_EQUAL(b.count, 3);
    uint8_t *bad = malloc(b.len + 4);
    CU_ASSERT_FATAL(bad != NULL);
    memcpy(bad, b.data, b.len);
    memcpy(bad + b.len, "\x93\x01\x80\x90", 4);
    expect_invalid(bad, b.len + 4, 4, "event 3: body is not a map");
    free(bad);

    sl_bb_reset(bb);
    for (int i = 0; i < 10; i++)
        pack_simple(bb, 1, i);
    b = sl_bb_batch(bb);
    uint8_t *d = malloc(b.len + 5);
    CU_ASSERT_FATAL(d != NULL);
    memcpy(d, b.data, b.len);
    memset(d + b.len, 0xc0, 5);
    expect_invalid(d, b.len + 5, 10, "trailing 5 bytes after 10 events");
    expect_invalid(d, b.len, 11, "batch ends after 10 of 11 events");
    free(d);

    sl_batch nodata = {NULL, 3, 1};
    char err[100];
    CU_ASSERT_EQUAL(sl_batch_validate(&nodata, err, sizeof err), -1);
    /* A tiny error buffer truncates, never overflows. */
    char tiny[4];
    CU_ASSERT_EQUAL(sl_batch_validate(&nodata, tiny, sizeof tiny), -1);
    CU_ASSERT_EQUAL(strlen(tiny), 3);
    sl_bb_free(bb);
}

static void test_pack_str(void)
{
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_EQUAL(sl_bb_str(bb, "a\0b", 3), 0);
    CU_ASSERT_EQUAL(sl_bb_cstr(bb, ""), 0);
    CU_ASSERT_EQUAL(sl_bb_str(bb, NULL, 0), 0);
    CU_ASSERT_EQUAL(sl_bb_str(bb, NULL, 1), -1);
    size_t len;
    const uint8_t *data = sl_bb_data(bb, &len);
    CU_ASSERT_EQUAL(len, 6);
    CU_ASSERT(memcmp(data, "\xa3" "a\0b\xa0\xa0", 6) == 0);
    /* Loose values are a scratch buffer, not a batch. */
    CU_ASSERT_PTR_NOT_NULL(sl__bb_problem(bb));
    CU_ASSERT_EQUAL(sl_bb_begin(bb, 1), -1);
    sl_bb_free(bb);
}

/* ------------------------------------------------------------------ */
/* the builder's guarantees                                            */
/* ------------------------------------------------------------------ */

/* The bytes of the builder's complete events, validated. */
static void expect_valid(sl_builder *bb, uint32_t count)
{
    sl_batch b = sl_bb_batch(bb);
    char err[128] = "";
    CU_ASSERT_EQUAL(b.count, count);
    CU_ASSERT_EQUAL(sl_batch_validate(&b, err, sizeof err), 0);
    if (err[0])
        fprintf(stderr, "    %s\n", err);
}

static void test_builder_incomplete_dropped(void)
{
    sl_builder *bb = sl_bb_new();
    pack_simple(bb, 1, 0);
    size_t good = sl_bb_size(bb);
    /* meta only */
    CU_ASSERT_EQUAL(sl_bb_begin(bb, 2), 0);
    sl_bb_map(bb, 0);
    CU_ASSERT(sl_bb_open(bb));
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    CU_ASSERT(!sl_bb_open(bb));
    CU_ASSERT_EQUAL(sl_bb_size(bb), good);
    /* a map missing a value */
    sl_bb_begin(bb, 2);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "k");
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    /* one value too many: refused at once, the event is dropped at end */
    sl_bb_begin(bb, 2);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 0);
    CU_ASSERT_EQUAL(sl_bb_nil(bb), -1);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    /* meta that is not a map */
    sl_bb_begin(bb, 2);
    sl_bb_cstr(bb, "meta");
    sl_bb_map(bb, 0);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    CU_ASSERT_EQUAL(sl__bb_dropped(bb), 4);
    expect_valid(bb, 1);
    CU_ASSERT_PTR_NULL(sl__bb_problem(bb));
    sl_bb_free(bb);
}

static void test_builder_left_open(void)
{
    sl_builder *bb = sl_bb_new();
    pack_simple(bb, 1, 0);
    sl_bb_begin(bb, 2);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 0);
    /* sl_bb_end forgotten: the batch view stops before the open event, and
     * the core is told */
    expect_valid(bb, 1);
    CU_ASSERT_PTR_NOT_NULL(sl__bb_problem(bb));
    /* a nested begin poisons the open event */
    CU_ASSERT_EQUAL(sl_bb_begin(bb, 3), -1);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    CU_ASSERT_PTR_NULL(sl__bb_problem(bb));
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1); /* nothing open */
    sl_bb_free(bb);
}

static void test_builder_mark_rollback(void)
{
    sl_builder *bb = sl_bb_new();
    pack_simple(bb, 1, 0);
    sl_bb_mark m = sl_bb_get_mark(bb);
    pack_simple(bb, 1, 1);
    pack_simple(bb, 1, 2);
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 0);
    sl_bb_rollback(bb, m);
    CU_ASSERT(!sl_bb_open(bb));
    expect_valid(bb, 1);
    pack_simple(bb, 1, 3);
    expect_valid(bb, 2);
    sl_bb_free(bb);
}

static void test_builder_raw(void)
{
    sl_builder *scratch = sl_bb_new(), *bb = sl_bb_new();
    sl_bb_cstr(scratch, "k1");
    sl_bb_int(scratch, -7);
    sl_bb_cstr(scratch, "k2");
    sl_bb_array(scratch, 2);
    sl_bb_nil(scratch);
    sl_bb_bool(scratch, 0);
    size_t len;
    const uint8_t *d = sl_bb_data(scratch, &len);
    sl_bb_begin(bb, 5);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 2);
    CU_ASSERT_EQUAL(sl_bb_raw(bb, d, len, 5), -1); /* not 5 values */
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    sl_bb_begin(bb, 5);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 2);
    CU_ASSERT_EQUAL(sl_bb_raw(bb, d, len, 4), 0);
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    CU_ASSERT_EQUAL(sl_bb_raw(bb, d, len - 1, 4), -1); /* cut short */
    expect_valid(bb, 1);
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_event ev;
    sl_value v;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT(sl_map_gets(&ev.body, "k1", &v) == 1 && v.type == SL_INT && v.v.i == -7);
    CU_ASSERT(sl_map_gets(&ev.body, "k2", &v) == 1 && v.type == SL_ARRAY && v.v.n == 2);
    sl_bb_free(scratch);
    sl_bb_free(bb);
}

/* A copy's body header takes the smallest form for its count. */
static void test_builder_copy_sizes(void)
{
    for (uint32_t n = 14; n <= 17; n++) {
        sl_builder *src = sl_bb_new(), *bb = sl_bb_new();
        sl_bb_begin(src, 1);
        sl_bb_map(src, 0);
        sl_bb_map(src, n);
        for (uint32_t i = 0; i < n; i++) {
            char k[8];
            snprintf(k, sizeof k, "k%u", i);
            sl_bb_cstr(src, k);
            sl_bb_uint(src, i);
        }
        CU_ASSERT_EQUAL_FATAL(sl_bb_end(src), 0);
        sl_batch in = sl_bb_batch(src);
        sl_batch_iter it;
        sl_event ev;
        sl_batch_iter_init(&it, &in);
        CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
        CU_ASSERT_EQUAL(sl_bb_copy_event(bb, &ev, NULL, 0, 1), 0);
        sl_bb_cstr(bb, "x");
        sl_bb_nil(bb);
        CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
        expect_valid(bb, 1);
        sl_batch out = sl_bb_batch(bb);
        /* the same bytes as packing n + 1 pairs directly, less nothing */
        CU_ASSERT_EQUAL(out.len, in.len + 3 + (n + 1 == 16 ? 2 : 0));
        sl_batch_iter_init(&it, &out);
        CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
        CU_ASSERT_EQUAL(ev.body.v.n, n + 1);
        sl_bb_free(src);
        sl_bb_free(bb);
    }
}

static void test_builder_append_values(void)
{
    sl_builder *scratch = sl_bb_new(), *bb = sl_bb_new();
    sl_bb_cstr(scratch, "source");
    sl_bb_cstr(scratch, "t");
    sl_bb_cstr(scratch, "list");
    sl_bb_array(scratch, 2);
    sl_bb_int(scratch, 1);
    /* the array owes one more item: not whole, refused */
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 2);
    CU_ASSERT_EQUAL(sl_bb_append_values(bb, scratch), -1);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    sl_bb_int(scratch, 2);
    /* 4 values now: too many for a map that owes 2 */
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 1);
    CU_ASSERT_EQUAL(sl_bb_append_values(bb, scratch), -1);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 2);
    CU_ASSERT_EQUAL(sl_bb_append_values(bb, scratch), 0);
    sl_bb_map(bb, 0);
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    expect_valid(bb, 1);
    /* after a rollback into loose values the count is unknown: refused */
    sl_bb_reset(scratch);
    sl_bb_cstr(scratch, "a");
    sl_bb_mark m = sl_bb_get_mark(scratch);
    sl_bb_cstr(scratch, "b");
    sl_bb_rollback(scratch, m);
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 0);
    CU_ASSERT_EQUAL(sl_bb_append_values(bb, scratch), -1);
    sl_bb_abort(bb);
    sl_bb_free(scratch);
    sl_bb_free(bb);
}

static void test_builder_begin_from(void)
{
    sl_builder *src = sl_bb_new(), *bb = sl_bb_new();
    sl_bb_begin(src, 5);
    sl_bb_map(src, 1);
    sl_bb_cstr(src, "source");
    sl_bb_cstr(src, "s");
    sl_bb_map(src, 0);
    CU_ASSERT_EQUAL_FATAL(sl_bb_end(src), 0);
    sl_batch in = sl_bb_batch(src);
    sl_batch_iter it;
    sl_event ev, out;
    sl_value v;
    sl_batch_iter_init(&it, &in);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(sl_bb_begin_from(bb, &ev, 9), 0);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "k");
    sl_bb_bool(bb, 1);
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    expect_valid(bb, 1);
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &out), 1);
    CU_ASSERT_EQUAL(out.time_ns, 9);
    CU_ASSERT(sl_map_gets(&out.meta, "source", &v) == 1 && sl_value_eq(&v, "s"));
    sl_bb_free(src);
    sl_bb_free(bb);
}

static void test_builder_copy_event(void)
{
    sl_builder *src = sl_bb_new(), *bb = sl_bb_new();
    sl_bb_begin(src, 77);
    sl_bb_map(src, 1);
    sl_bb_cstr(src, "source");
    sl_bb_cstr(src, "s");
    sl_bb_map(src, 3);
    sl_bb_cstr(src, "a");
    sl_bb_int(src, 1);
    sl_bb_cstr(src, "b");
    sl_bb_int(src, 2);
    sl_bb_cstr(src, "c");
    sl_bb_int(src, 3);
    CU_ASSERT_EQUAL_FATAL(sl_bb_end(src), 0);
    sl_batch in = sl_bb_batch(src);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &in);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    const sl_edit edits[] = {
        {"a", 1, SL_EDIT_REMOVE, NULL, 0},
        {"b", 1, SL_EDIT_RENAME, "bee", 3},
    };
    CU_ASSERT_EQUAL(sl_bb_copy_event(bb, &ev, edits, 2, 1), 0);
    sl_bb_cstr(bb, "d");
    sl_bb_cstr(bb, "new");
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    /* room for an extra pair that never comes: the event is incomplete */
    CU_ASSERT_EQUAL(sl_bb_copy_event(bb, &ev, NULL, 0, 1), 0);
    CU_ASSERT_EQUAL(sl_bb_end(bb), -1);
    expect_valid(bb, 1);
    sl_batch out = sl_bb_batch(bb);
    sl_event oe;
    sl_value v, meta;
    sl_batch_iter_init(&it, &out);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &oe), 1);
    CU_ASSERT_EQUAL(oe.time_ns, 77);
    CU_ASSERT(sl_map_gets(&oe.meta, "source", &meta) == 1 && sl_value_eq(&meta, "s"));
    CU_ASSERT_EQUAL(oe.body.v.n, 3);
    CU_ASSERT_EQUAL(sl_map_gets(&oe.body, "a", &v), 0);
    CU_ASSERT(sl_map_gets(&oe.body, "bee", &v) == 1 && v.v.u == 2);
    CU_ASSERT(sl_map_gets(&oe.body, "c", &v) == 1 && v.v.u == 3);
    CU_ASSERT(sl_map_gets(&oe.body, "d", &v) == 1 && sl_value_eq(&v, "new"));
    sl_bb_free(src);
    sl_bb_free(bb);
}

/* The core takes a batch's bytes in an allocation the size of its contents:
 * queues count what a batch holds, so slack would be memory nobody counts. */
static void test_builder_take_right_sized(void)
{
    sl_builder *bb = sl_bb_new();
    for (int i = 0; i < 200; i++)
        pack_simple(bb, 1, i);
    sl_bb_reset(bb);
    pack_simple(bb, 1, 0);
    size_t one = sl_bb_size(bb);
    sl_batch b;
    uint8_t *data = sl__bb_take(bb, &b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    CU_ASSERT_EQUAL(b.len, one);
    CU_ASSERT_EQUAL(b.count, 1);
    CU_ASSERT(malloc_usable_size(data) < one + 64);
    CU_ASSERT_EQUAL(sl_bb_count(bb), 0);
    CU_ASSERT_EQUAL(sl_bb_size(bb), 0);
    free(data);
    pack_simple(bb, 1, 1); /* usable after the take */
    expect_valid(bb, 1);
    sl_bb_free(bb);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"roundtrip_rich_event", test_roundtrip_rich},
        {"pack_value_verbatim", test_pack_value_verbatim},
        {"all_format_families", test_all_formats},
        {"invalid_c1", test_invalid_c1},
        {"huge_length_claims", test_huge_length_claims},
        {"deep_nesting_bomb", test_deep_nesting_bomb},
        {"truncated_every_offset", test_truncated_every_offset},
        {"mutation_fuzz", test_mutation_fuzz},
        {"timestamp_widths", test_timestamps_widths},
        {"timestamp_negative", test_timestamps_negative},
        {"timestamp_decode", test_timestamps_decode},
        {"now", test_now},
        {"map_get", test_map_get},
        {"value_eq", test_value_eq},
        {"value_to_int", test_value_to_int},
        {"batch_iteration", test_batch_iteration},
        {"event_shape", test_event_shape},
        {"batch_validate_reasons", test_batch_validate_reasons},
        {"pack_str", test_pack_str},
        {"builder_incomplete_dropped", test_builder_incomplete_dropped},
        {"builder_left_open", test_builder_left_open},
        {"builder_mark_rollback", test_builder_mark_rollback},
        {"builder_raw", test_builder_raw},
        {"builder_copy_event", test_builder_copy_event},
        {"builder_append_values", test_builder_append_values},
        {"builder_copy_sizes", test_builder_copy_sizes},
        {"builder_begin_from", test_builder_begin_from},
        {"builder_take_right_sized", test_builder_take_right_sized},
        {0},
    };
    return sl_test_run("event", cases);
}
