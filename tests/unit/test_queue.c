/* Bounded byte queue: FIFO order, the byte bound, blocking and wake-ups. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "queue.h"
#include "sl_test.h"

static void test_fifo(void)
{
    sl_queue q;
    sl_queue_init(&q, 1000);
    int items[5];
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(sl_queue_push(&q, &items[i], 10), 0);
    for (int i = 0; i < 5; i++) {
        void *it;
        size_t b;
        CU_ASSERT_EQUAL(sl_queue_pop(&q, 0, &it, &b), 1);
        CU_ASSERT_PTR_EQUAL(it, &items[i]);
        CU_ASSERT_EQUAL(b, 10);
    }
    CU_ASSERT_EQUAL(sl_queue_bytes(&q), 50); /* popped but not released */
    sl_queue_release(&q, 50);
    CU_ASSERT_EQUAL(sl_queue_bytes(&q), 0);
    void *it;
    size_t b;
    CU_ASSERT_EQUAL(sl_queue_pop(&q, 10, &it, &b), 0); /* timeout */
    sl_queue_close(&q);
    CU_ASSERT_EQUAL(sl_queue_pop(&q, 10, &it, &b), -1);
    CU_ASSERT_EQUAL(sl_queue_push(&q, &items[0], 1), -1);
    sl_queue_destroy(&q);
}

typedef struct {
    sl_queue *q;
    atomic_int pushed;
    int total;
    size_t each;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->total; i++) {
        if (sl_queue_push(p->q, (void *)(intptr_t)(i + 1), p->each) < 0)
            break;
        atomic_fetch_add(&p->pushed, 1);
    }
    return NULL;
}

/* A consumer that takes nothing: the producer must stall at the bound. */
static void test_bound_blocks_producer(void)
{
    sl_queue q;
    sl_queue_init(&q, 1000);
    producer p = {.q = &q, .total = 1000, .each = 100};
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    SL_WAIT_UNTIL(atomic_load(&p.pushed) >= 10);
    sl_test_sleep_ms(50); /* room for an 11th push, which must not happen */
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 10);
    CU_ASSERT(sl_queue_bytes(&q) <= 1000);
    /* Popping alone does not make room: the bytes are still in flight. */
    void *it;
    size_t b;
    CU_ASSERT_EQUAL(sl_queue_pop(&q, 0, &it, &b), 1);
    sl_test_sleep_ms(50);
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 10);
    sl_queue_release(&q, b);
    SL_WAIT_UNTIL(atomic_load(&p.pushed) >= 11);
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 11);
    /* Drain everything and check order and the peak. */
    int expect = 2;
    while (atomic_load(&p.pushed) < 1000 || sl_queue_bytes(&q) > 0) {
        if (sl_queue_pop(&q, 100, &it, &b) == 1) {
            CU_ASSERT_EQUAL((intptr_t)it, expect);
            expect++;
            sl_queue_release(&q, b);
        }
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(expect, 1001);
    CU_ASSERT(sl_queue_peak_bytes(&q) <= 1000);
    sl_queue_destroy(&q);
}

/* One batch bigger than the whole bound still passes, alone. */
static void test_oversized_alone(void)
{
    sl_queue q;
    sl_queue_init(&q, 100);
    int a;
    CU_ASSERT_EQUAL(sl_queue_push(&q, &a, 5000), 0);
    producer p = {.q = &q, .total = 1, .each = 1};
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    sl_test_sleep_ms(100);
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 0);
    void *it;
    size_t b;
    sl_queue_pop(&q, 0, &it, &b);
    sl_queue_release(&q, b);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 1);
    sl_queue_release(&q, 1);
    sl_queue_destroy(&q);
}

/* Abort wakes a blocked producer and makes it fail. */
static void test_abort_wakes(void)
{
    sl_queue q;
    sl_queue_init(&q, 10);
    producer p = {.q = &q, .total = 5, .each = 10};
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    SL_WAIT_UNTIL(atomic_load(&p.pushed) >= 1);
    sl_test_sleep_ms(50); /* room for a 2nd push, which must block */
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 1);
    sl_queue_abort(&q);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(atomic_load(&p.pushed), 1);
    void *it;
    size_t b;
    CU_ASSERT_EQUAL(sl_queue_pop(&q, 0, &it, &b), -1);
    sl_queue_destroy(&q);
}

static const sl_test_case cases[] = {
    {"fifo order, release, close", test_fifo},
    {"byte bound blocks the producer", test_bound_blocks_producer},
    {"oversized batch passes alone", test_oversized_alone},
    {"abort wakes a blocked producer", test_abort_wakes},
    {0},
};

int main(void) { return sl_test_run("queue", cases); }
