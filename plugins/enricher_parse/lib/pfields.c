/* The parsed-field list; see pfields.h. */
#include "pfields.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_MIN 1024

int pf_init(pf_out *o)
{
    memset(o, 0, sizeof *o);
    o->sb = sl_bb_new();
    return o->sb ? 0 : -1;
}

void pf_free(pf_out *o)
{
    sl_bb_free(o->sb);
    free(o->f);
    for (pf_chunk *c = o->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    memset(o, 0, sizeof *o);
}

void pf_reset(pf_out *o)
{
    sl_bb_reset(o->sb);
    o->failed = 0;
    o->n = 0;
    for (pf_chunk *c = o->chunks; c; c = c->next)
        c->len = 0;
    o->arena = o->chunks;
}

/* The next free slot of the list, or NULL. */
static pf_field *slot(pf_out *o, const char *key, size_t klen, pf_kind kind)
{
    if (o->n == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : 16;
        pf_field *f = cap > o->cap ? realloc(o->f, cap * sizeof *f) : NULL;
        if (!f)
            return NULL;
        o->f = f;
        o->cap = cap;
    }
    if (klen > UINT32_MAX)
        return NULL;
    pf_field *f = &o->f[o->n++];
    f->key = key;
    f->klen = (uint32_t)klen;
    f->kind = kind;
    return f;
}

int pf_strn(pf_out *o, const char *key, size_t klen, const char *v, size_t vlen)
{
    pf_field *f = vlen <= UINT32_MAX ? slot(o, key, klen, PF_STR) : NULL;
    if (!f)
        return -1;
    f->v.s.p = v;
    f->v.s.n = vlen;
    return 0;
}

int pf_str(pf_out *o, const char *key, const char *v, size_t vlen)
{
    return pf_strn(o, key, strlen(key), v, vlen);
}

int pf_intn(pf_out *o, const char *key, size_t klen, int64_t v)
{
    pf_field *f = slot(o, key, klen, PF_INT);
    if (!f)
        return -1;
    f->v.i = v;
    return 0;
}

int pf_int(pf_out *o, const char *key, int64_t v)
{
    return pf_intn(o, key, strlen(key), v);
}

int pf_uintn(pf_out *o, const char *key, size_t klen, uint64_t v)
{
    pf_field *f = slot(o, key, klen, PF_UINT);
    if (!f)
        return -1;
    f->v.u = v;
    return 0;
}

int pf_doublen(pf_out *o, const char *key, size_t klen, double v)
{
    pf_field *f = slot(o, key, klen, PF_DOUBLE);
    if (!f)
        return -1;
    f->v.d = v;
    return 0;
}

int pf_booln(pf_out *o, const char *key, size_t klen, int v)
{
    pf_field *f = slot(o, key, klen, PF_BOOL);
    if (!f)
        return -1;
    f->v.b = v != 0;
    return 0;
}

int pf_niln(pf_out *o, const char *key, size_t klen)
{
    return slot(o, key, klen, PF_NIL) ? 0 : -1;
}

/* pf_begin takes the slot but counts the field only at pf_commit, so a
 * value that failed half way is never read. */
int pf_begin(pf_out *o, const char *key, size_t klen)
{
    if (o->failed || !slot(o, key, klen, PF_ENC))
        return -1;
    o->n--;
    o->f[o->n].v.enc.off = sl_bb_size(o->sb);
    return 0;
}

int pf_commit(pf_out *o)
{
    if (o->failed)
        return -1;
    pf_field *f = &o->f[o->n];
    f->v.enc.len = sl_bb_size(o->sb) - f->v.enc.off;
    o->n++;
    return 0;
}

int pf_find(const pf_out *o, const char *key, size_t klen)
{
    for (uint32_t i = o->n; i-- > 0;) {
        const pf_field *f = &o->f[i];
        if (f->klen == klen && memcmp(f->key, key, klen) == 0)
            return (int)i;
    }
    return -1;
}

int pf_get(const pf_out *o, uint32_t i, sl_value *v)
{
    const pf_field *f = &o->f[i];
    memset(v, 0, sizeof *v);
    switch (f->kind) {
    case PF_STR:
        v->type = SL_STR;
        v->v.s.ptr = f->v.s.p;
        v->v.s.len = (uint32_t)f->v.s.n;
        return 0;
    case PF_INT:
        /* as the reader reports it: a number >= 0 is SL_UINT */
        if (f->v.i >= 0) {
            v->type = SL_UINT;
            v->v.u = (uint64_t)f->v.i;
        } else {
            v->type = SL_INT;
            v->v.i = f->v.i;
        }
        return 0;
    case PF_UINT: v->type = SL_UINT; v->v.u = f->v.u; return 0;
    case PF_DOUBLE: v->type = SL_FLOAT; v->v.f = f->v.d; return 0;
    case PF_BOOL: v->type = SL_BOOL; v->v.b = f->v.b; return 0;
    case PF_NIL: v->type = SL_NIL; return 0;
    case PF_ENC: {
        const uint8_t *p = sl_bb_data(o->sb, NULL) + f->v.enc.off;
        return sl_read_value(&p, p + f->v.enc.len, v);
    }
    }
    return -1;
}

void pf_set_str(pf_out *o, uint32_t i, const char *s, size_t n)
{
    o->f[i].kind = PF_STR;
    o->f[i].v.s.p = s;
    o->f[i].v.s.n = n;
}

void pf_set_int(pf_out *o, uint32_t i, int64_t v)
{
    o->f[i].kind = PF_INT;
    o->f[i].v.i = v;
}

void pf_set_uint(pf_out *o, uint32_t i, uint64_t v)
{
    o->f[i].kind = PF_UINT;
    o->f[i].v.u = v;
}

void pf_set_double(pf_out *o, uint32_t i, double v)
{
    o->f[i].kind = PF_DOUBLE;
    o->f[i].v.d = v;
}

void pf_set_bool(pf_out *o, uint32_t i, int v)
{
    o->f[i].kind = PF_BOOL;
    o->f[i].v.b = v != 0;
}

/* A new last chunk of at least n bytes (each one at least twice the last,
 * so a few chunks serve any line and are then reused). */
static pf_chunk *add_chunk(pf_out *o, size_t n)
{
    pf_chunk *last = o->chunks;
    while (last && last->next)
        last = last->next;
    size_t cap = last && last->cap <= SIZE_MAX / 4 ? 2 * last->cap : ARENA_MIN;
    if (cap < n)
        cap = n;
    if (cap > SIZE_MAX - sizeof(pf_chunk))
        return NULL;
    pf_chunk *c = malloc(sizeof *c + cap);
    if (!c)
        return NULL;
    c->next = NULL;
    c->cap = cap;
    c->len = 0;
    if (last)
        last->next = c;
    else
        o->chunks = c;
    return c;
}

char *pf_arena_reserve(pf_out *o, size_t n)
{
    pf_chunk *c = o->arena;
    /* Chunks after the one in use are empty this line: take the first
     * that is big enough, or a new one. */
    while (c && c->cap - c->len < n)
        c = c->next;
    if (!c && !(c = add_chunk(o, n)))
        return NULL;
    o->arena = c;
    return c->data + c->len;
}

void pf_arena_use(pf_out *o, size_t n)
{
    o->arena->len += n;
}

const char *pf_arena_copy(pf_out *o, const char *s, size_t n)
{
    char *d = pf_arena_reserve(o, n);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    pf_arena_use(o, n);
    return d;
}
