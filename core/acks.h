/*
 * Per-source acknowledgement tracking. Batches get increasing sequence
 * numbers; they complete in any order (several sinks, retries), but the
 * source is told in emit order, exactly once each, so a checkpoint can only
 * move past data that every sink has taken.
 */
#ifndef SL_ACKS_H
#define SL_ACKS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "seqring.h"

typedef void (*sl_acked_fn)(void *state, uint64_t seq);

typedef struct sl_acks {
    pthread_mutex_t mu;
    pthread_mutex_t report_mu; /* serialises callbacks, in seq order */
    pthread_cond_t idle;  /* signalled when nothing is in flight */
    sl_seqring ring;      /* a slot per batch; non-NULL once complete */
    int ready;            /* initialised */
    sl_acked_fn fn;       /* may be NULL */
    void *fn_state;
} sl_acks;

int sl_acks_init(sl_acks *a, sl_acked_fn fn, void *fn_state);
void sl_acks_destroy(sl_acks *a);
void sl_acks_set_callback(sl_acks *a, sl_acked_fn fn, void *fn_state);

/* Assign the next sequence number (first is 1). Returns 0 on out of memory. */
uint64_t sl_acks_begin(sl_acks *a);

/* Mark seq complete; reports every newly contiguous seq to the callback.
 * The callback must not call sl_acks_complete on the same tracker. */
void sl_acks_complete(sl_acks *a, uint64_t seq);

/* Batches begun and not yet reported. */
uint64_t sl_acks_in_flight(sl_acks *a);

/* Wait until nothing is in flight or until the CLOCK_MONOTONIC deadline.
 * Returns 0 when idle, -1 on timeout. */
int sl_acks_wait_idle(sl_acks *a, const struct timespec *deadline);

#endif
