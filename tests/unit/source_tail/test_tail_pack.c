/* The tail source's event packer produces well-formed events. */
#include <stdlib.h>
#include <string.h>

#include "pack.h"
#include "sl_test.h"

static void check_event(const sl_event *ev, uint64_t off, const char *msg, size_t len,
                        sl_type type)
{
    sl_value v;
    CU_ASSERT_EQUAL(ev->time_ns, 1700000000123456789LL);
    CU_ASSERT_EQUAL(sl_map_gets(&ev->meta, "source", &v), 1);
    CU_ASSERT(sl_value_eq(&v, "src"));
    CU_ASSERT_EQUAL(sl_map_gets(&ev->meta, "path", &v), 1);
    CU_ASSERT(sl_value_eq(&v, "/var/log/x.log"));
    CU_ASSERT_EQUAL(sl_map_gets(&ev->meta, "inode", &v), 1);
    CU_ASSERT_EQUAL(v.v.u, 4242);
    CU_ASSERT_EQUAL(sl_map_gets(&ev->meta, "offset", &v), 1);
    CU_ASSERT_EQUAL(v.type, SL_UINT);
    CU_ASSERT_EQUAL(v.v.u, off);
    CU_ASSERT_EQUAL(sl_map_gets(&ev->body, "message", &v), 1);
    CU_ASSERT_EQUAL(v.type, type);
    CU_ASSERT_EQUAL(v.v.s.len, len);
    CU_ASSERT(len == 0 || memcmp(v.v.s.ptr, msg, len) == 0);
}

static void test_sizes_and_bin(void)
{
    tail_pack k;
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_FATAL(bb != NULL);
    CU_ASSERT_EQUAL_FATAL(tail_pack_init(&k, 1), 0);
    CU_ASSERT_EQUAL(tail_pack_prefix(&k, 1700000000123456789LL, "src", "/var/log/x.log", 4242), 0);
    size_t sizes[] = {0, 5, 31, 32, 255, 256, 65535, 65536, 200000};
    char *big = malloc(200000);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'q', 200000);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        CU_ASSERT_EQUAL(tail_pack_line(&k, bb, (uint64_t)i << 40, big, sizes[i]), 0);
    const char bad[] = "caf\xc3 \xff";
    CU_ASSERT_EQUAL(tail_pack_line(&k, bb, 7, bad, sizeof bad - 1), 0);

    sl_batch b = sl_bb_batch(bb);
    char err[128];
    CU_ASSERT_EQUAL_FATAL(sl_batch_validate(&b, err, sizeof err), 0);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
        check_event(&ev, (uint64_t)i << 40, big, sizes[i], SL_STR);
    }
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    check_event(&ev, 7, bad, sizeof bad - 1, SL_BIN);
    CU_ASSERT_EQUAL(sl_batch_next(&it, &ev), 0);
    free(big);
    sl_bb_free(bb);
    tail_pack_free(&k);
}

static void test_utf8(void)
{
    CU_ASSERT(tail_utf8_valid("plain ascii text, long enough for words", 39));
    CU_ASSERT(tail_utf8_valid("unicode \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", 19));
    CU_ASSERT(!tail_utf8_valid("\xc0\xaf", 2));         /* overlong */
    CU_ASSERT(!tail_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CU_ASSERT(!tail_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    CU_ASSERT(!tail_utf8_valid("12345678\xe2\x9c", 10)); /* truncated at the end */
    CU_ASSERT(!tail_utf8_valid("\x80", 1));
}

static void test_keep_invalid(void)
{
    tail_pack k;
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_FATAL(bb != NULL);
    CU_ASSERT_EQUAL_FATAL(tail_pack_init(&k, 0), 0);
    CU_ASSERT_EQUAL(tail_pack_prefix(&k, 1700000000123456789LL, "src", "/var/log/x.log", 4242), 0);
    CU_ASSERT_EQUAL(tail_pack_line(&k, bb, 1, "\xff\xfe", 2), 0);
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    check_event(&ev, 1, "\xff\xfe", 2, SL_STR);
    sl_bb_free(bb);
    tail_pack_free(&k);
}

/* A new prefix (another file) changes the meta of later events only; the
 * builder holds no open event or loose value between lines. */
static void test_prefix_switch(void)
{
    tail_pack k;
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_FATAL(bb != NULL);
    CU_ASSERT_EQUAL_FATAL(tail_pack_init(&k, 1), 0);
    CU_ASSERT_EQUAL(tail_pack_prefix(&k, 1, "src", "/a.log", 1), 0);
    CU_ASSERT_EQUAL(tail_pack_line(&k, bb, 0, "x", 1), 0);
    CU_ASSERT_EQUAL(tail_pack_prefix(&k, 2, "src", "/a-much-longer-path/b.log", 2), 0);
    CU_ASSERT_EQUAL(tail_pack_line(&k, bb, 2, "y", 1), 0);
    CU_ASSERT(!sl_bb_open(bb));
    CU_ASSERT_EQUAL(sl_bb_count(bb), 2);
    sl_batch b = sl_bb_batch(bb);
    size_t all;
    sl_bb_data(bb, &all);
    CU_ASSERT_EQUAL(b.len, all); /* nothing loose after the events */
    sl_batch_iter it;
    sl_event ev;
    sl_value v;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(sl_map_gets(&ev.meta, "path", &v), 1);
    CU_ASSERT(sl_value_eq(&v, "/a.log"));
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(ev.time_ns, 2);
    CU_ASSERT_EQUAL(sl_map_gets(&ev.meta, "path", &v), 1);
    CU_ASSERT(sl_value_eq(&v, "/a-much-longer-path/b.log"));
    sl_bb_free(bb);
    tail_pack_free(&k);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"every string size class and a bin line decode back", test_sizes_and_bin},
        {"UTF-8 validation", test_utf8},
        {"invalid_utf8: keep packs str byte for byte", test_keep_invalid},
        {"a new prefix applies to later lines only", test_prefix_switch},
        {NULL, NULL},
    };
    return sl_test_run("tail_pack", cases);
}
