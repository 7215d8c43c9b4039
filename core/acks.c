#include "acks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_clock.h"

int sl_acks_init(sl_acks *a, sl_acked_fn fn, void *fn_state)
{
    memset(a, 0, sizeof *a);
    a->next = a->base = 1;
    a->fn = fn;
    a->fn_state = fn_state;
    a->cap = 64;
    a->done = calloc(a->cap, 1);
    if (!a->done)
        return -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->report_mu, NULL);
    sl_cond_init_monotonic(&a->idle);
    return 0;
}

void sl_acks_destroy(sl_acks *a)
{
    if (!a->done)
        return;
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->report_mu);
    pthread_cond_destroy(&a->idle);
    free(a->done);
    a->done = NULL;
}

void sl_acks_set_callback(sl_acks *a, sl_acked_fn fn, void *fn_state)
{
    pthread_mutex_lock(&a->mu);
    a->fn = fn;
    a->fn_state = fn_state;
    pthread_mutex_unlock(&a->mu);
}

/* Double the ring, unrolling it so the oldest slot is at index 0. */
static int grow(sl_acks *a)
{
    size_t ncap = a->cap * 2;
    uint8_t *nd = calloc(ncap, 1);
    if (!nd)
        return -1;
    for (size_t i = 0; i < a->cap; i++)
        nd[i] = a->done[(a->head + i) % a->cap];
    free(a->done);
    a->done = nd;
    a->head = 0;
    a->cap = ncap;
    return 0;
}

uint64_t sl_acks_begin(sl_acks *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t seq = 0;
    if (a->next - a->base < a->cap || grow(a) == 0)
        seq = a->next++;
    pthread_mutex_unlock(&a->mu);
    return seq;
}

void sl_acks_complete(sl_acks *a, uint64_t seq)
{
    pthread_mutex_lock(&a->mu);
    if (seq < a->base || seq >= a->next) {
        pthread_mutex_unlock(&a->mu);
        return; /* unknown or already reported: never report twice */
    }
    a->done[(a->head + (seq - a->base)) % a->cap] = 1;
    uint64_t from = a->base;
    while (a->base < a->next && a->done[a->head]) {
        a->done[a->head] = 0;
        a->head = (a->head + 1) % a->cap;
        a->base++;
    }
    uint64_t to = a->base;
    sl_acked_fn fn = a->fn;
    void *st = a->fn_state;
    /* Taking report_mu before dropping mu keeps reports in seq order across
     * threads, while the callback itself runs without mu so it may emit. */
    pthread_mutex_lock(&a->report_mu);
    if (a->base == a->next)
        pthread_cond_broadcast(&a->idle);
    pthread_mutex_unlock(&a->mu);
    for (uint64_t s = from; fn && s < to; s++)
        fn(st, s);
    pthread_mutex_unlock(&a->report_mu);
}

uint64_t sl_acks_in_flight(sl_acks *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t n = a->next - a->base;
    pthread_mutex_unlock(&a->mu);
    return n;
}

int sl_acks_wait_idle(sl_acks *a, const struct timespec *deadline)
{
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    while (a->base != a->next && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&a->idle, &a->mu, deadline);
    int idle = a->base == a->next;
    pthread_mutex_unlock(&a->mu);
    if (idle) {
        /* The last callbacks may still be running under report_mu. */
        pthread_mutex_lock(&a->report_mu);
        pthread_mutex_unlock(&a->report_mu);
    }
    return idle ? 0 : -1;
}
