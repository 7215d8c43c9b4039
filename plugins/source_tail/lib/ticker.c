#include "ticker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sl_clock.h"

static void *ticker_main(void *p)
{
    tail_ticker *t = p;
    struct timespec next = sl_deadline_in(t->interval_ms);
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        if (pthread_cond_timedwait(&t->wake, &t->mu, &next) != ETIMEDOUT)
            continue; /* stopped, or woken spuriously: same deadline */
        /* fn may take long (fsync); stop() must not wait for the lock meanwhile. */
        pthread_mutex_unlock(&t->mu);
        t->fn(t->arg);
        pthread_mutex_lock(&t->mu);
        next = sl_deadline_in(t->interval_ms);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int tail_ticker_start(tail_ticker *t, int64_t interval_ms, void (*fn)(void *arg), void *arg,
                      char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->interval_ms = interval_ms < TAIL_TICKER_MIN_MS ? TAIL_TICKER_MIN_MS : interval_ms;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_init(&t->mu, NULL);
    /* Monotonic: a wall clock set back would otherwise delay a save. */
    sl_cond_init_monotonic(&t->wake);
    int rc = pthread_create(&t->th, NULL, ticker_main, t);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->mu);
        return -1;
    }
    t->running = 1;
    return 0;
}

void tail_ticker_stop(tail_ticker *t)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->th, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->mu);
    t->running = 0;
}
