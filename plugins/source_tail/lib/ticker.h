/*
 * A thread that calls fn(arg) every interval until stopped.
 *
 * The tail source saves its checkpoints with it. The source thread cannot
 * do that on time itself: backpressure holds it inside host->emit(), and a
 * long file keeps it in one turn, for as long as a sink is slow, while the
 * sinks' acknowledgements keep arriving on their own threads. Saving them
 * only once the source is free again would make a crash meanwhile resend
 * everything they covered.
 */
#ifndef TAIL_TICKER_H
#define TAIL_TICKER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Shortest interval: 0 asks for "as often as possible", which must not
 * become a spinning thread. */
#define TAIL_TICKER_MIN_MS 10

typedef struct tail_ticker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int64_t interval_ms;
    void (*fn)(void *arg);
    void *arg;
    int stop;    /* under mu */
    int running; /* started and not yet stopped; owner's thread only */
} tail_ticker;

/**
 * Start calling fn(arg) every interval_ms (at least TAIL_TICKER_MIN_MS),
 * the first time one interval from now. `t` must be zeroed or stopped.
 * Returns 0, or -1 with the reason in err.
 */
int tail_ticker_start(tail_ticker *t, int64_t interval_ms, void (*fn)(void *arg), void *arg,
                      char *err, size_t errlen);

/**
 * Stop at once (a wait in progress is cut short) and join: when it returns,
 * fn is not running and will not run again. A no-op on a zeroed or already
 * stopped ticker.
 */
void tail_ticker_stop(tail_ticker *t);

#endif
