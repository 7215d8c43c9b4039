#include "pack.h"

#include <stdlib.h>
#include <string.h>

void tail_pack_init(tail_pack *k, int invalid_as_bin)
{
    memset(k, 0, sizeof *k);
    k->invalid_as_bin = invalid_as_bin;
}

void tail_pack_free(tail_pack *k)
{
    free(k->prefix);
    memset(k, 0, sizeof *k);
}

int tail_pack_prefix(tail_pack *k, int64_t time_ns, const char *source, const char *path,
                     uint64_t ino)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_array(&pk, 3);
    rc |= sl_pack_time(&pk, time_ns);
    rc |= msgpack_pack_map(&pk, 4);
    rc |= sl_pack_cstr(&pk, "source");
    rc |= sl_pack_cstr(&pk, source);
    rc |= sl_pack_cstr(&pk, "path");
    rc |= sl_pack_cstr(&pk, path);
    rc |= sl_pack_cstr(&pk, "inode");
    rc |= msgpack_pack_uint64(&pk, ino);
    rc |= sl_pack_cstr(&pk, "offset");
    if (rc != 0) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    free(k->prefix);
    k->prefix_len = sb.size;
    k->prefix_cap = sb.alloc;
    k->prefix = msgpack_sbuffer_release(&sb);
    return 0;
}

/* Make room for n more bytes in the builder. 0 or -1. */
static int reserve(msgpack_sbuffer *sb, size_t n)
{
    if (sb->alloc - sb->size >= n)
        return 0;
    size_t cap = sb->alloc ? sb->alloc * 2 : 64 * 1024;
    while (cap - sb->size < n)
        cap *= 2;
    char *nd = realloc(sb->data, cap);
    if (!nd)
        return -1;
    sb->data = nd;
    sb->alloc = cap;
    return 0;
}

static char *put_be(char *w, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *w++ = (char)(v >> (8 * i));
    return w;
}

/* msgpack str or bin header for len bytes. */
static char *put_head(char *w, size_t len, int bin)
{
    if (!bin && len < 32) {
        *w++ = (char)(0xa0 | len);
    } else if (len <= 0xff) {
        *w++ = (char)(bin ? 0xc4 : 0xd9);
        w = put_be(w, len, 1);
    } else if (len <= 0xffff) {
        *w++ = (char)(bin ? 0xc5 : 0xda);
        w = put_be(w, len, 2);
    } else {
        *w++ = (char)(bin ? 0xc6 : 0xdb);
        w = put_be(w, len, 4);
    }
    return w;
}

int tail_pack_line(tail_pack *k, sl_batch_builder *bb, uint64_t offset, const char *p,
                   size_t len)
{
    static const char body_key[] = "\x81\xa7message";
    if (len > UINT32_MAX)
        return -1;
    int bin = k->invalid_as_bin && !tail_utf8_valid(p, len);
    size_t need = k->prefix_len + 9 + (sizeof body_key - 1) + 5 + len;
    if (reserve(&bb->sbuf, need) != 0)
        return -1;
    char *w = bb->sbuf.data + bb->sbuf.size;
    memcpy(w, k->prefix, k->prefix_len);
    w += k->prefix_len;
    *w++ = (char)0xcf; /* uint 64: fixed width keeps this branch-free */
    w = put_be(w, offset, 8);
    memcpy(w, body_key, sizeof body_key - 1);
    w += sizeof body_key - 1;
    w = put_head(w, len, bin);
    memcpy(w, p, len);
    w += len;
    bb->sbuf.size = (size_t)(w - bb->sbuf.data);
    bb->count++;
    return 0;
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
