#include "pack.h"

#include <string.h>

int tail_pack_init(tail_pack *k, int invalid_as_bin)
{
    memset(k, 0, sizeof *k);
    k->invalid_as_bin = invalid_as_bin;
    k->meta = sl_bb_new();
    return k->meta ? 0 : -1;
}

void tail_pack_free(tail_pack *k)
{
    sl_bb_free(k->meta);
    memset(k, 0, sizeof *k);
}

int tail_pack_prefix(tail_pack *k, int64_t time_ns, const char *source, const char *path,
                     uint64_t ino)
{
    sl_builder *m = k->meta;
    sl_bb_reset(m);
    int rc = sl_bb_cstr(m, "source");
    rc |= sl_bb_cstr(m, source);
    rc |= sl_bb_cstr(m, "path");
    rc |= sl_bb_cstr(m, path);
    rc |= sl_bb_cstr(m, "inode");
    rc |= sl_bb_uint(m, ino);
    rc |= sl_bb_cstr(m, "offset");
    k->time_ns = time_ns;
    return rc ? -1 : 0;
}

int tail_pack_line(tail_pack *k, sl_builder *bb, uint64_t offset, const char *p, size_t len)
{
    int bin = k->invalid_as_bin && !tail_utf8_valid(p, len);
    /* A failed call fails the open event: sl_bb_end() then drops it. */
    sl_bb_begin(bb, k->time_ns);
    sl_bb_map(bb, 4);
    sl_bb_append_values(bb, k->meta);
    sl_bb_uint(bb, offset);
    sl_bb_map(bb, 1);
    sl_bb_str(bb, "message", 7);
    if (bin)
        sl_bb_bin(bb, p, len);
    else
        sl_bb_str(bb, p, len);
    return sl_bb_end(bb);
}

/* Length of the well-formed sequence at s (2..4 bytes), 0 when malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

int tail_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        /* Access logs are nearly all ASCII: test 8 bytes at a time. */
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq(s + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}
