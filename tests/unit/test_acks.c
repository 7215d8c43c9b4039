/* In-order, exactly-once acknowledgement reporting. */
#include <pthread.h>
#include <stdlib.h>

#include "acks.h"
#include "sl_clock.h"
#include "sl_test.h"

typedef struct {
    uint64_t seen[20001];
    uint64_t last;
    int order_errors;
    size_t n;
} recorder;

static void rec(void *st, uint64_t seq)
{
    recorder *r = st;
    if (seq != r->last + 1)
        r->order_errors++;
    r->last = seq;
    if (seq < 20001)
        r->seen[seq]++;
    r->n++;
}

static void test_in_order(void)
{
    recorder *r = calloc(1, sizeof *r);
    sl_acks a;
    CU_ASSERT_EQUAL(sl_acks_init(&a, rec, r), 0);
    uint64_t s1 = sl_acks_begin(&a), s2 = sl_acks_begin(&a), s3 = sl_acks_begin(&a);
    CU_ASSERT_EQUAL(s1, 1);
    CU_ASSERT_EQUAL(s3, 3);
    sl_acks_complete(&a, s3);
    CU_ASSERT_EQUAL(r->n, 0); /* 1 and 2 still open */
    sl_acks_complete(&a, s1);
    CU_ASSERT_EQUAL(r->n, 1);
    sl_acks_complete(&a, s1); /* twice: ignored */
    CU_ASSERT_EQUAL(r->n, 1);
    CU_ASSERT_EQUAL(sl_acks_in_flight(&a), 2);
    sl_acks_complete(&a, s2);
    CU_ASSERT_EQUAL(r->n, 3);
    CU_ASSERT_EQUAL(r->order_errors, 0);
    CU_ASSERT_EQUAL(sl_acks_in_flight(&a), 0);
    sl_acks_complete(&a, 99); /* never begun: ignored */
    CU_ASSERT_EQUAL(r->n, 3);
    sl_acks_destroy(&a);
    free(r);
}

/* More in flight than the initial ring: it must grow and keep order. */
static void test_growth_reverse(void)
{
    recorder *r = calloc(1, sizeof *r);
    sl_acks a;
    sl_acks_init(&a, rec, r);
    enum { N = 5000 };
    for (int i = 0; i < N; i++)
        sl_acks_begin(&a);
    for (uint64_t s = N; s >= 2; s--)
        sl_acks_complete(&a, s);
    CU_ASSERT_EQUAL(r->n, 0);
    sl_acks_complete(&a, 1);
    CU_ASSERT_EQUAL(r->n, N);
    CU_ASSERT_EQUAL(r->order_errors, 0);
    for (int i = 1; i <= N; i++)
        CU_ASSERT_EQUAL_FATAL(r->seen[i], 1);
    sl_acks_destroy(&a);
    free(r);
}

typedef struct {
    sl_acks *a;
    uint64_t from, to, step;
} completer;

static void *complete_some(void *arg)
{
    completer *c = arg;
    for (uint64_t s = c->from; s <= c->to; s += c->step)
        sl_acks_complete(c->a, s);
    return NULL;
}

/* Four threads completing interleaved seqs: still each once, in order. */
static void test_concurrent(void)
{
    recorder *r = calloc(1, sizeof *r);
    sl_acks a;
    sl_acks_init(&a, rec, r);
    enum { N = 20000 };
    for (int i = 0; i < N; i++)
        sl_acks_begin(&a);
    pthread_t t[4];
    completer c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = (completer){&a, (uint64_t)i + 1, N, 4};
        pthread_create(&t[i], NULL, complete_some, &c[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct timespec d = sl_deadline_in(1000);
    CU_ASSERT_EQUAL(sl_acks_wait_idle(&a, &d), 0);
    CU_ASSERT_EQUAL(r->n, N);
    CU_ASSERT_EQUAL(r->order_errors, 0);
    sl_acks_destroy(&a);
    free(r);
}

static void test_wait_idle_timeout(void)
{
    sl_acks a;
    sl_acks_init(&a, NULL, NULL);
    sl_acks_begin(&a);
    struct timespec d = sl_deadline_in(50);
    CU_ASSERT_EQUAL(sl_acks_wait_idle(&a, &d), -1);
    sl_acks_destroy(&a);
}

static const sl_test_case cases[] = {
    {"reports in order, once", test_in_order},
    {"ring grows, reverse completion", test_growth_reverse},
    {"concurrent completion", test_concurrent},
    {"wait_idle times out", test_wait_idle_timeout},
    {0},
};

int main(void) { return sl_test_run("acks", cases); }
