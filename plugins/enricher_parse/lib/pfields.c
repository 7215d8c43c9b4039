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
    if (msgpack_pack_str_with_body(&o->pk, key, klen) != 0)
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

int pf_str(pf_out *o, const char *key, const char *v, size_t vlen)
{
    if (pf_begin(o, key, strlen(key)) != 0 || vlen > UINT32_MAX)
        return -1;
    msgpack_pack_str_with_body(&o->pk, v, vlen);
    return pf_commit(o);
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
