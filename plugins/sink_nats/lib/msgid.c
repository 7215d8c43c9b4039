#include "msgid.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "siphash.h"

/* Not a secret: the hash only has to spread, not to hide. */
static const uint8_t id_key[16] = "sluice-nats-id1";

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A meta string (or "" when absent or not a string), cut at 64 bytes. */
static int meta_str(const sl_value *meta, const char *key, const char **p, int *len)
{
    sl_value v;
    *p = "";
    *len = 0;
    if (sl_map_gets(meta, key, &v) != 1 || (v.type != SL_STR && v.type != SL_BIN))
        return 0;
    *p = v.v.s.ptr;
    *len = v.v.s.len > 64 ? 64 : (int)v.v.s.len;
    return 1;
}

static int meta_uint(const sl_value *meta, const char *key, uint64_t *out)
{
    sl_value v;
    int64_t i;
    if (sl_map_gets(meta, key, &v) != 1)
        return 0;
    if (v.type == SL_UINT) {
        *out = v.v.u;
        return 1;
    }
    if (sl_value_to_int(&v, &i) == 0 && i >= 0) {
        *out = (uint64_t)i;
        return 1;
    }
    return 0;
}

/* Hash of path, time and body: what tells two lines at one position apart.
 * Time and path key the hash of the body, so nothing is copied. */
static uint64_t content_hash(const sl_event *ev)
{
    uint8_t pre[8 + 64], key[16], h[16];
    const char *path;
    int plen;
    meta_str(&ev->meta, "path", &path, &plen);
    uint64_t t = (uint64_t)ev->time_ns;
    for (int i = 0; i < 8; i++)
        pre[i] = (uint8_t)(t >> (8 * i));
    memcpy(pre + 8, path, (size_t)plen);
    siphash128(id_key, pre, 8 + (size_t)plen, key);
    siphash128(key, ev->body.raw, ev->body.raw_len, h);
    return le64(h) ^ le64(h + 8);
}

size_t ns_msgid(const char *prefix, const sl_event *ev, char *buf, size_t cap)
{
    uint64_t ino, off;
    const char *src;
    int slen;
    int n;
    if (meta_uint(&ev->meta, "offset", &off)) {
        if (!meta_uint(&ev->meta, "inode", &ino))
            ino = 0;
        meta_str(&ev->meta, "source", &src, &slen);
        n = snprintf(buf, cap, "%s:%.*s:%" PRIu64 ":%" PRIu64 ":%016" PRIx64, prefix, slen, src,
                     ino, off, content_hash(ev));
    } else {
        uint8_t h[16];
        siphash128(id_key, ev->raw, ev->raw_len, h);
        n = snprintf(buf, cap, "%s:%016" PRIx64 "%016" PRIx64, prefix, le64(h), le64(h + 8));
    }
    if (n < 0)
        n = 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
