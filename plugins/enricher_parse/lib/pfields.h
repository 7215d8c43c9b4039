/*
 * Parsed fields of one line: a list of (key, value) pairs, both already
 * msgpack-encoded in one scratch buffer that is reused from line to line.
 *
 * Every format parser fills the same list, so casting, time extraction and
 * the final merge with the event body are written once. Encoding a value
 * once into scratch and copying it into the batch costs one memcpy of a few
 * hundred bytes per line, far less than any tree would.
 */
#ifndef PFIELDS_H
#define PFIELDS_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

typedef struct pf_field {
    uint32_t koff, klen;   /* encoded key in sb */
    uint32_t kstr, kslen;  /* the key's bytes in sb (inside the encoding) */
    uint32_t voff, vlen;   /* encoded value in sb */
} pf_field;

typedef struct pf_out {
    msgpack_sbuffer sb;
    msgpack_packer pk;     /* packs into sb; stops after a write failed */
    int failed;            /* a write into sb ran out of memory */
    pf_field *f;
    uint32_t n, cap;
    char *arena;           /* decoded strings; reserved up front per line */
    size_t arena_len, arena_cap;
} pf_out;

void pf_init(pf_out *o);
void pf_free(pf_out *o);
/* Forget the fields of the previous line, keep the memory. */
void pf_reset(pf_out *o);

/* Start a field: packs the key; the caller packs exactly one value with
 * o->pk, then calls pf_commit. Returns 0 or -1 (out of memory). */
int pf_begin(pf_out *o, const char *key, size_t klen);
int pf_commit(pf_out *o);

/* One-call helpers for the common value kinds. */
int pf_str(pf_out *o, const char *key, const char *v, size_t vlen);
int pf_int(pf_out *o, const char *key, int64_t v);
/* pf_str with the key's length given (the parsers' keys are literals). */
int pf_strn(pf_out *o, const char *key, size_t klen, const char *v, size_t vlen);
#define PF_STR(o, lit, v, vlen) pf_strn((o), lit, sizeof lit - 1, (v), (vlen))

/* Index of the field named key (last one wins), or -1. */
int pf_find(const pf_out *o, const char *key, size_t klen);

/* Key bytes and encoded value of field i. */
const char *pf_key(const pf_out *o, uint32_t i, size_t *len);
const uint8_t *pf_val(const pf_out *o, uint32_t i, size_t *len);

/* Replace field i's value: the caller packs one value, then pf_replace_end. */
uint32_t pf_replace_begin(pf_out *o);
int pf_replace_end(pf_out *o, uint32_t i, uint32_t start);

/* Make room for n more arena bytes; pointers into the arena stay valid
 * until the next reserve. Returns a pointer to the free space or NULL. */
char *pf_arena_reserve(pf_out *o, size_t n);

#endif
