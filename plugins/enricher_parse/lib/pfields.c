/* The parsed-field list; see pfields.h. */
#include "pfields.h"

#include <stdlib.h>
#include <string.h>

static int pf_write(void *data, const char *buf, size_t len)
{
    pf_out *o = data;
    if (o->failed)
        return -1;
    if (msgpack_sbuffer_write(&o->sb, buf, len) != 0) {
        o->failed = 1;
        return -1;
    }
    return 0;
}

/* Room for n more bytes in sb, or -1 (and o->failed). */
static int reserve(pf_out *o, size_t n)
{
    msgpack_sbuffer *sb = &o->sb;
    if (o->failed)
        return -1;
    if (sb->alloc - sb->size >= n)
        return 0;
    size_t cap = sb->alloc ? sb->alloc : 1024;
    while (cap - sb->size < n) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    char *d = realloc(sb->data, cap);
    if (!d)
        goto fail;
    sb->data = d;
    sb->alloc = cap;
    return 0;
fail:
    o->failed = 1;
    return -1;
}

/* A msgpack str, header and body in one step: the packer would call the
 * write callback twice per string, and a line has a dozen of them. */
static int put_str(pf_out *o, const char *s, size_t n)
{
    if (n > UINT32_MAX || reserve(o, n + 5) != 0)
        return -1;
    uint8_t *d = (uint8_t *)o->sb.data + o->sb.size;
    size_t h;
    if (n < 32) {
        d[0] = (uint8_t)(0xa0 | n);
        h = 1;
    } else if (n < 256) {
        d[0] = 0xd9;
        d[1] = (uint8_t)n;
        h = 2;
    } else if (n < 65536) {
        d[0] = 0xda;
        d[1] = (uint8_t)(n >> 8);
        d[2] = (uint8_t)n;
        h = 3;
    } else {
        d[0] = 0xdb;
        for (int i = 0; i < 4; i++)
            d[1 + i] = (uint8_t)(n >> (24 - 8 * i));
        h = 5;
    }
    if (n)
        memcpy(d + h, s, n);
    o->sb.size += h + n;
    return 0;
}

void pf_init(pf_out *o)
{
    memset(o, 0, sizeof *o);
    msgpack_sbuffer_init(&o->sb);
    msgpack_packer_init(&o->pk, o, pf_write);
}

void pf_free(pf_out *o)
{
    msgpack_sbuffer_destroy(&o->sb);
    free(o->f);
    free(o->arena);
    memset(o, 0, sizeof *o);
}

void pf_reset(pf_out *o)
{
    msgpack_sbuffer_clear(&o->sb);
    o->failed = 0;
    o->n = 0;
    o->arena_len = 0;
}

int pf_begin(pf_out *o, const char *key, size_t klen)
{
    if (o->n == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : 16;
        pf_field *f = realloc(o->f, cap * sizeof *f);
        if (!f)
            return -1;
        o->f = f;
        o->cap = cap;
    }
    if (klen > UINT32_MAX / 2 || o->sb.size > UINT32_MAX / 2)
        return -1;
    pf_field *f = &o->f[o->n];
    f->koff = (uint32_t)o->sb.size;
    if (put_str(o, key, klen) != 0)
        return -1;
    f->klen = (uint32_t)o->sb.size - f->koff;
    f->kslen = (uint32_t)klen;
    f->kstr = (uint32_t)o->sb.size - f->kslen;
    f->voff = (uint32_t)o->sb.size;
    return 0;
}

int pf_commit(pf_out *o)
{
    if (o->failed || o->sb.size > UINT32_MAX / 2)
        return -1;
    pf_field *f = &o->f[o->n];
    f->vlen = (uint32_t)o->sb.size - f->voff;
    o->n++;
    return 0;
}

int pf_strn(pf_out *o, const char *key, size_t klen, const char *v, size_t vlen)
{
    if (pf_begin(o, key, klen) != 0 || put_str(o, v, vlen) != 0)
        return -1;
    return pf_commit(o);
}

int pf_str(pf_out *o, const char *key, const char *v, size_t vlen)
{
    return pf_strn(o, key, strlen(key), v, vlen);
}

int pf_int(pf_out *o, const char *key, int64_t v)
{
    if (pf_begin(o, key, strlen(key)) != 0)
        return -1;
    msgpack_pack_int64(&o->pk, v);
    return pf_commit(o);
}

int pf_find(const pf_out *o, const char *key, size_t klen)
{
    for (uint32_t i = o->n; i-- > 0;) {
        const pf_field *f = &o->f[i];
        if (f->kslen == klen && memcmp(o->sb.data + f->kstr, key, klen) == 0)
            return (int)i;
    }
    return -1;
}

const char *pf_key(const pf_out *o, uint32_t i, size_t *len)
{
    *len = o->f[i].kslen;
    return o->sb.data + o->f[i].kstr;
}

const uint8_t *pf_val(const pf_out *o, uint32_t i, size_t *len)
{
    *len = o->f[i].vlen;
    return (const uint8_t *)o->sb.data + o->f[i].voff;
}

uint32_t pf_replace_begin(pf_out *o)
{
    return (uint32_t)o->sb.size;
}

int pf_replace_end(pf_out *o, uint32_t i, uint32_t start)
{
    if (o->failed || o->sb.size > UINT32_MAX / 2)
        return -1;
    o->f[i].voff = start;
    o->f[i].vlen = (uint32_t)o->sb.size - start;
    return 0;
}

char *pf_arena_reserve(pf_out *o, size_t n)
{
    if (n > SIZE_MAX / 2 - o->arena_len)
        return NULL;
    if (!o->arena || o->arena_len + n > o->arena_cap) {
        size_t cap = o->arena_cap ? o->arena_cap : 1024;
        while (cap < o->arena_len + n)
            cap *= 2;
        char *a = realloc(o->arena, cap);
        if (!a)
            return NULL;
        o->arena = a;
        o->arena_cap = cap;
    }
    return o->arena + o->arena_len;
}
