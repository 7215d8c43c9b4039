/*
 * Bounded FIFO between the threads that route batches and one sink thread.
 * The bound is in bytes and covers both queued batches and those the sink
 * has taken but not yet acknowledged, so an asynchronous sink cannot grow
 * memory past it either. A push that would exceed the bound blocks: that is
 * the backpressure that slows sources down to the pace of the slowest sink.
 */
#ifndef SL_QUEUE_H
#define SL_QUEUE_H

#include <pthread.h>
#include <stddef.h>

typedef struct sl_qnode {
    struct sl_qnode *next;
    void *item;
    size_t bytes;
} sl_qnode;

typedef struct sl_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    sl_qnode *head, *tail;
    size_t items;     /* queued, not yet popped */
    size_t bytes;     /* queued + popped-but-unreleased */
    size_t max_bytes;
    size_t peak_bytes;
    int closed;       /* no more pushes are coming; pop drains then ends */
    int aborted;      /* pushes fail at once, blocked pushers wake up */
} sl_queue;

int sl_queue_init(sl_queue *q, size_t max_bytes);
/* Frees queued nodes (not their items). */
void sl_queue_destroy(sl_queue *q);

/*
 * Append item accounting `bytes`. Blocks while the queue is non-empty and the
 * bytes would pass the bound (a single batch larger than the bound still goes
 * through alone, so it cannot wedge the pipeline). Returns 0, or -1 when the
 * queue is aborted or closed, or out of memory.
 */
int sl_queue_push(sl_queue *q, void *item, size_t bytes);

/*
 * Take the oldest item, waiting up to timeout_ms (-1 = forever). Returns 1
 * with *item and *bytes set, 0 on timeout, -1 when the queue is closed and
 * empty (or aborted). The bytes stay accounted until sl_queue_release.
 */
int sl_queue_pop(sl_queue *q, int timeout_ms, void **item, size_t *bytes);

/* Give back bytes of a popped item once the sink is done with it. */
void sl_queue_release(sl_queue *q, size_t bytes);

void sl_queue_close(sl_queue *q);
void sl_queue_abort(sl_queue *q);

size_t sl_queue_bytes(sl_queue *q);
size_t sl_queue_peak_bytes(sl_queue *q);

#endif
