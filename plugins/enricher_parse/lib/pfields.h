/*
 * Parsed fields of one line: a list of (key, value) pairs that is reused
 * from line to line.
 *
 * Every format parser fills the same list, so casting, time extraction and
 * the final merge with the event body are written once. A value is kept in
 * the form it was found in (a span of text, a number, a boolean) and packed
 * once, straight into the output event, by pf_pack_value: no intermediate
 * encoding and no checked copy of it. Only containers (a query map, a JSON
 * object or array) are encoded ahead, into a scratch sl_builder of loose
 * values, and copied from there.
 *
 * Keys and text values are pointers, not copies: into the line (which lives
 * as long as the input batch), into string literals, or into the arena,
 * whose memory never moves until pf_reset. So a field stays valid until the
 * next line.
 */
#ifndef PFIELDS_H
#define PFIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

typedef enum pf_kind {
    PF_STR = 1,  /* text: v.s */
    PF_INT,      /* v.i */
    PF_UINT,     /* v.u, for integers above INT64_MAX */
    PF_DOUBLE,   /* v.d */
    PF_BOOL,     /* v.b */
    PF_NIL,
    PF_ENC,      /* one encoded value in the scratch builder: v.enc */
} pf_kind;

typedef struct pf_field {
    const char *key;
    uint32_t klen;
    pf_kind kind;
    union {
        struct {
            const char *p;
            size_t n;
        } s;
        int64_t i;
        uint64_t u;
        double d;
        int b;
        struct {
            size_t off, len;
        } enc;
    } v;
} pf_field;

/* A block of the arena; blocks are kept and reused from line to line. */
typedef struct pf_chunk {
    struct pf_chunk *next;
    size_t cap, len;
    char data[];
} pf_chunk;

typedef struct pf_out {
    sl_builder *sb;        /* scratch: encoded containers, as loose values */
    int failed;            /* a pack into sb failed since pf_reset (the
                              builder does not remember it for loose values) */
    pf_field *f;
    uint32_t n, cap;
    pf_chunk *arena;       /* decoded strings; the chunk in use */
    pf_chunk *chunks;      /* every chunk, first to last */
} pf_out;

/* 0, or -1 when out of memory (pf_free is still safe). */
int pf_init(pf_out *o);
void pf_free(pf_out *o);
/* Forget the fields of the previous line, keep the memory. */
void pf_reset(pf_out *o);

/* Fields of the simple kinds. key (klen bytes) and text must stay valid
 * until pf_reset. Each returns 0 or -1 (out of memory). */
int pf_strn(pf_out *o, const char *key, size_t klen, const char *v, size_t vlen);
int pf_str(pf_out *o, const char *key, const char *v, size_t vlen);
#define PF_STR(o, lit, v, vlen) pf_strn((o), lit, sizeof lit - 1, (v), (vlen))
int pf_int(pf_out *o, const char *key, int64_t v);
int pf_intn(pf_out *o, const char *key, size_t klen, int64_t v);
int pf_uintn(pf_out *o, const char *key, size_t klen, uint64_t v);
int pf_doublen(pf_out *o, const char *key, size_t klen, double v);
int pf_booln(pf_out *o, const char *key, size_t klen, int v);
int pf_niln(pf_out *o, const char *key, size_t klen);

/* An encoded field: pf_begin, then exactly one value packed into o->sb
 * (note each pack's result with pf_note), then pf_commit. 0 or -1. */
int pf_begin(pf_out *o, const char *key, size_t klen);
int pf_commit(pf_out *o);

/* Keep the result of a pack into o->sb: a failure fails the line. */
static inline int pf_note(pf_out *o, int rc)
{
    if (rc != 0)
        o->failed = 1;
    return rc;
}

/* Index of the field named key (last one wins), or -1. */
int pf_find(const pf_out *o, const char *key, size_t klen);

/* Key bytes of field i. */
static inline const char *pf_key(const pf_out *o, uint32_t i, size_t *len)
{
    *len = o->f[i].klen;
    return o->f[i].key;
}

/* Field i's value as read from a batch: text points at the field's text;
 * raw/raw_len are set only for an encoded value. 0 or -1. */
int pf_get(const pf_out *o, uint32_t i, sl_value *v);

/* Pack field i's value into bb (an event's body, or any builder). 0 or -1.
 * Inline: it runs for every field of every line. */
static inline int pf_pack_value(const pf_out *o, uint32_t i, sl_builder *bb)
{
    const pf_field *f = &o->f[i];
    switch (f->kind) {
    case PF_STR: return sl_bb_str(bb, f->v.s.p, f->v.s.n);
    case PF_INT: return sl_bb_int(bb, f->v.i);
    case PF_UINT: return sl_bb_uint(bb, f->v.u);
    case PF_DOUBLE: return sl_bb_double(bb, f->v.d);
    case PF_BOOL: return sl_bb_bool(bb, f->v.b);
    case PF_NIL: return sl_bb_nil(bb);
    case PF_ENC:
        return sl_bb_raw(bb, sl_bb_data(o->sb, NULL) + f->v.enc.off, f->v.enc.len, 1);
    }
    return -1;
}

/* Replace field i's value (casts). Text must stay valid until pf_reset. */
void pf_set_str(pf_out *o, uint32_t i, const char *s, size_t n);
void pf_set_int(pf_out *o, uint32_t i, int64_t v);
void pf_set_uint(pf_out *o, uint32_t i, uint64_t v);
void pf_set_double(pf_out *o, uint32_t i, double v);
void pf_set_bool(pf_out *o, uint32_t i, int v);

/* Room for n arena bytes that never move until pf_reset: returns a pointer
 * to them, or NULL. Bytes are used by pf_arena_use; a later reserve may hand
 * out the unused rest again. */
char *pf_arena_reserve(pf_out *o, size_t n);
/* Mark the first n bytes of the last reservation as taken. */
void pf_arena_use(pf_out *o, size_t n);
/* A copy of s[0..n) in the arena, or NULL. */
const char *pf_arena_copy(pf_out *o, const char *s, size_t n);

#endif
