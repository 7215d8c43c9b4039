/*
 * A growable ring of slots numbered by sequence: numbers are handed out in
 * order (1, 2, 3, ...), slots are filled or cleared in any order, and the
 * front moves past the slots that are settled. The engine's acknowledgement
 * tracker (settled = done) and its sink tickets (settled = taken) are both
 * this. Not thread-safe: the owner holds its lock.
 */
#ifndef SL_SEQRING_H
#define SL_SEQRING_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_seqring {
    void **slot;    /* slot[(seq - base + head) % cap] */
    size_t head, cap;
    uint64_t base;  /* lowest number not yet dropped */
    uint64_t next;  /* the number the next push gets */
} sl_seqring;

/* Empty ring whose first number is 1. Returns 0 or -1 (out of memory). */
int sl_seqring_init(sl_seqring *r, size_t cap);
void sl_seqring_free(sl_seqring *r);

/* Append a slot holding v; its number, or 0 when out of memory. */
uint64_t sl_seqring_push(sl_seqring *r, void *v);

/* The slot of seq, or NULL when seq was dropped or not handed out. */
void **sl_seqring_at(sl_seqring *r, uint64_t seq);

/* Drop the front slots while they are non-NULL (nonnull != 0) or NULL
 * (nonnull == 0), clearing them. Returns the new base. */
uint64_t sl_seqring_drop_front(sl_seqring *r, int nonnull);

/* Numbers handed out and not dropped. */
static inline uint64_t sl_seqring_live(const sl_seqring *r) { return r->next - r->base; }

#endif
