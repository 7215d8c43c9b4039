/* The checkpoint ticker: it ticks, and stop() ends it at once and for good. */
#include <pthread.h>
#include <string.h>

#include "sl_test.h"
#include "ticker.h"

#define HOUR_MS (3600 * 1000)

typedef struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
} counter;

static void counter_init(counter *c)
{
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->n = 0;
}

static void counter_free(counter *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static void tick(void *arg)
{
    counter *c = arg;
    pthread_mutex_lock(&c->mu);
    c->n++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int count(counter *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits for ticks without a deadline: a ticker that never ticks hangs the
 * test until CTest's timeout, which is the failure. */
static void wait_ticks(counter *c, int n)
{
    pthread_mutex_lock(&c->mu);
    while (c->n < n)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void test_ticks_until_stopped(void)
{
    counter c;
    tail_ticker t;
    char err[128] = "";
    counter_init(&c);
    memset(&t, 0, sizeof t);
    CU_ASSERT_EQUAL_FATAL(tail_ticker_start(&t, 1, tick, &c, err, sizeof err), 0);
    wait_ticks(&c, 3);
    tail_ticker_stop(&t);
    int at_stop = count(&c);
    CU_ASSERT(at_stop >= 3);
    /* Joined: nothing can tick any more, so the count is final. */
    CU_ASSERT_EQUAL(count(&c), at_stop);
    CU_ASSERT_EQUAL(t.running, 0);
    counter_free(&c);
}

static void test_stop_cuts_the_wait_short(void)
{
    counter c;
    tail_ticker t;
    char err[128] = "";
    counter_init(&c);
    memset(&t, 0, sizeof t);
    /* An hour-long interval: stop() returning at all shows it does not wait
     * for the tick, and no tick came before it. */
    CU_ASSERT_EQUAL_FATAL(tail_ticker_start(&t, HOUR_MS, tick, &c, err, sizeof err), 0);
    tail_ticker_stop(&t);
    CU_ASSERT_EQUAL(count(&c), 0);
    counter_free(&c);
}

static void test_stop_is_idempotent(void)
{
    tail_ticker t;
    counter c;
    char err[128] = "";
    memset(&t, 0, sizeof t);
    tail_ticker_stop(&t); /* never started */
    counter_init(&c);
    CU_ASSERT_EQUAL_FATAL(tail_ticker_start(&t, HOUR_MS, tick, &c, err, sizeof err), 0);
    tail_ticker_stop(&t);
    tail_ticker_stop(&t);
    /* A stopped ticker starts again (the tail source's run() may). */
    CU_ASSERT_EQUAL_FATAL(tail_ticker_start(&t, 1, tick, &c, err, sizeof err), 0);
    wait_ticks(&c, 1);
    tail_ticker_stop(&t);
    counter_free(&c);
}

static void test_zero_interval_is_clamped(void)
{
    tail_ticker t;
    counter c;
    char err[128] = "";
    counter_init(&c);
    memset(&t, 0, sizeof t);
    CU_ASSERT_EQUAL_FATAL(tail_ticker_start(&t, 0, tick, &c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(t.interval_ms, TAIL_TICKER_MIN_MS);
    wait_ticks(&c, 2);
    tail_ticker_stop(&t);
    counter_free(&c);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"ticks until stopped", test_ticks_until_stopped},
        {"stop cuts the wait short", test_stop_cuts_the_wait_short},
        {"stop is idempotent, start again works", test_stop_is_idempotent},
        {"interval 0 is clamped, not a spin", test_zero_interval_is_clamped},
        {NULL, NULL},
    };
    return sl_test_run("tail_ticker", cases);
}
