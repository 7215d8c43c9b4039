#include "acks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_clock.h"

/* What a completed batch's slot holds: any non-NULL pointer would do. */
static char done_mark;

int sl_acks_init(sl_acks *a, sl_acked_fn fn, void *fn_state)
{
    memset(a, 0, sizeof *a);
    a->fn = fn;
    a->fn_state = fn_state;
    if (sl_seqring_init(&a->ring, 64) != 0)
        return -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->report_mu, NULL);
    sl_cond_init_monotonic(&a->idle);
    a->ready = 1;
    return 0;
}

void sl_acks_destroy(sl_acks *a)
{
    if (!a->ready)
        return;
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->report_mu);
    pthread_cond_destroy(&a->idle);
    sl_seqring_free(&a->ring);
    a->ready = 0;
}

void sl_acks_set_callback(sl_acks *a, sl_acked_fn fn, void *fn_state)
{
    pthread_mutex_lock(&a->mu);
    a->fn = fn;
    a->fn_state = fn_state;
    pthread_mutex_unlock(&a->mu);
}

uint64_t sl_acks_begin(sl_acks *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t seq = sl_seqring_push(&a->ring, NULL);
    pthread_mutex_unlock(&a->mu);
    return seq;
}

void sl_acks_complete(sl_acks *a, uint64_t seq)
{
    pthread_mutex_lock(&a->mu);
    void **slot = sl_seqring_at(&a->ring, seq);
    if (!slot) {
        pthread_mutex_unlock(&a->mu);
        return; /* unknown or already reported: never report twice */
    }
    *slot = &done_mark;
    uint64_t from = a->ring.base;
    uint64_t to = sl_seqring_drop_front(&a->ring, 1);
    sl_acked_fn fn = a->fn;
    void *st = a->fn_state;
    /* Taking report_mu before dropping mu keeps reports in seq order across
     * threads, while the callback itself runs without mu so it may emit. */
    pthread_mutex_lock(&a->report_mu);
    if (sl_seqring_live(&a->ring) == 0)
        pthread_cond_broadcast(&a->idle);
    pthread_mutex_unlock(&a->mu);
    for (uint64_t s = from; fn && s < to; s++)
        fn(st, s);
    pthread_mutex_unlock(&a->report_mu);
}

uint64_t sl_acks_in_flight(sl_acks *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t n = sl_seqring_live(&a->ring);
    pthread_mutex_unlock(&a->mu);
    return n;
}

int sl_acks_wait_idle(sl_acks *a, const struct timespec *deadline)
{
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    while (sl_seqring_live(&a->ring) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&a->idle, &a->mu, deadline);
    int idle = sl_seqring_live(&a->ring) == 0;
    pthread_mutex_unlock(&a->mu);
    if (idle) {
        /* The last callbacks may still be running under report_mu. */
        pthread_mutex_lock(&a->report_mu);
        pthread_mutex_unlock(&a->report_mu);
    }
    return idle ? 0 : -1;
}
