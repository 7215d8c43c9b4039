/*
 * The probing of a hash table whose slots the caller defines: open
 * addressing with linear probing, at most half full, and backward-shift
 * deletion, so a table that entries come and go from keeps no tombstones.
 * Each slot is a struct of the caller's that begins with `uint64_t hash`
 * (0 = empty); the caller computes the hash (keyed, where keys come from
 * outside) and says when a slot's key equals the one sought. The sink's
 * per-visitor order, the Pages enricher's handle tables and the lookup
 * enricher's table are this.
 * Not thread-safe: one owner at a time.
 */
#ifndef SL_OATAB_H
#define SL_OATAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_oatab {
    void *slots;  /* cap slots of esize bytes */
    size_t cap;   /* 0 or a power of two */
    size_t n;     /* occupied slots */
    size_t esize; /* bytes a slot, hash first */
} sl_oatab;

/* Does the slot's key equal `key`? Asked only of slots whose hash matches. */
typedef int (*sl_oatab_eq)(const void *slot, const void *key);

/* An empty table of esize-byte slots (no memory until the first insert). */
void sl_oatab_init(sl_oatab *t, size_t esize);

/* Frees the slots, not what they point to (free that first). */
void sl_oatab_free(sl_oatab *t);

/* Slot i of the table (0 <= i < cap), occupied or not: for walks. */
static inline void *sl_oatab_slot(const sl_oatab *t, size_t i)
{
    return (char *)t->slots + i * t->esize;
}

static inline uint64_t sl_oatab_hash_of(const void *slot)
{
    return *(const uint64_t *)slot;
}

/* 0 marks an empty slot, so a key that hashes to 0 is stored as 1. */
static inline uint64_t sl_oatab_norm(uint64_t h)
{
    return h ? h : 1;
}

/* The slot of (h, key), or the empty slot where it would go; the table
 * must have slots (cap > 0). Inline so that `eq` inlines at each caller. */
static inline void *sl_oatab_probe(const sl_oatab *t, uint64_t h, sl_oatab_eq eq, const void *key)
{
    size_t mask = t->cap - 1;
    h = sl_oatab_norm(h);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        void *s = sl_oatab_slot(t, i);
        uint64_t sh = sl_oatab_hash_of(s);
        if (!sh || (sh == h && eq(s, key)))
            return s;
    }
}

/* The occupied slot of (h, key), or NULL. */
static inline void *sl_oatab_get(const sl_oatab *t, uint64_t h, sl_oatab_eq eq, const void *key)
{
    if (!t->n)
        return NULL;
    void *s = sl_oatab_probe(t, h, eq, key);
    return sl_oatab_hash_of(s) ? s : NULL;
}

/*
 * The slot of (h, key): the occupied one (*added = 0), or a new one whose
 * hash is set and the rest zeroed (*added = 1: the caller fills it in).
 * NULL when out of memory, the table unchanged. An insert may move every
 * slot: pointers into the table are valid until the next insert or remove.
 */
void *sl_oatab_insert(sl_oatab *t, uint64_t h, sl_oatab_eq eq, const void *key, int *added);

/* Empties an occupied slot (after the caller freed what it owns); later
 * slots of its probe run shift back into the hole. */
void sl_oatab_remove(sl_oatab *t, void *slot);

#endif
