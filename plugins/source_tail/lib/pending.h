/*
 * Batches emitted and not yet acknowledged, oldest first. The core
 * acknowledges in emit order, so a FIFO is all the bookkeeping needed:
 * push before emit (acked() may run before emit returns), pop on acked().
 */
#ifndef TAIL_PENDING_H
#define TAIL_PENDING_H

#include <stddef.h>
#include <stdint.h>

typedef struct tail_inflight {
    uint64_t seq;       /* number emit() gives the batch */
    uint32_t slot;      /* checkpoint slot of the batch's file */
    uint32_t gen;       /* the slot's generation when emitted */
    uint64_t end;       /* offset just past the batch's last line */
    uint32_t tail_len;  /* hash of the bytes before `end` */
    uint64_t tail_hash;
} tail_inflight;

typedef struct tail_pending {
    tail_inflight *v;
    size_t head, n, cap;
} tail_pending;

void tail_pending_init(tail_pending *p);
void tail_pending_free(tail_pending *p);

/** Append at the back. 0 or -1 (out of memory). */
int tail_pending_push(tail_pending *p, const tail_inflight *e);

/** Remove the front into *out. 0, or -1 when empty. */
int tail_pending_pop(tail_pending *p, tail_inflight *out);

/** Remove the back (a batch emit() refused). 0, or -1 when empty. */
int tail_pending_drop_back(tail_pending *p);

#endif
