#include "queue.h"

#include <errno.h>
#include <stdlib.h>

#include "sl_clock.h"

int sl_queue_init(sl_queue *q, size_t max_bytes)
{
    *q = (sl_queue){.max_bytes = max_bytes ? max_bytes : 1};
    pthread_mutex_init(&q->mu, NULL);
    sl_cond_init_monotonic(&q->not_empty);
    sl_cond_init_monotonic(&q->not_full);
    return 0;
}

void sl_queue_destroy(sl_queue *q)
{
    for (sl_qnode *n = q->head, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    q->head = q->tail = NULL;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

int sl_queue_push(sl_queue *q, void *item, size_t bytes)
{
    sl_qnode *n = malloc(sizeof *n);
    if (!n)
        return -1;
    *n = (sl_qnode){.item = item, .bytes = bytes};
    pthread_mutex_lock(&q->mu);
    while (!q->aborted && !q->closed && q->bytes > 0 && q->bytes + bytes > q->max_bytes)
        pthread_cond_wait(&q->not_full, &q->mu);
    if (q->aborted || q->closed) {
        pthread_mutex_unlock(&q->mu);
        free(n);
        return -1;
    }
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    q->items++;
    q->bytes += bytes;
    if (q->bytes > q->peak_bytes)
        q->peak_bytes = q->bytes;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

int sl_queue_pop(sl_queue *q, int timeout_ms, void **item, size_t *bytes)
{
    struct timespec deadline = sl_deadline_in(timeout_ms < 0 ? 0 : timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->closed && !q->aborted && rc != ETIMEDOUT) {
        if (timeout_ms < 0)
            pthread_cond_wait(&q->not_empty, &q->mu);
        else
            rc = pthread_cond_timedwait(&q->not_empty, &q->mu, &deadline);
    }
    sl_qnode *n = q->aborted ? NULL : q->head;
    if (!n) {
        int ended = q->closed || q->aborted;
        pthread_mutex_unlock(&q->mu);
        return ended ? -1 : 0;
    }
    q->head = n->next;
    if (!q->head)
        q->tail = NULL;
    q->items--;
    pthread_mutex_unlock(&q->mu);
    *item = n->item;
    *bytes = n->bytes;
    free(n);
    return 1;
}

void sl_queue_release(sl_queue *q, size_t bytes)
{
    pthread_mutex_lock(&q->mu);
    q->bytes = bytes > q->bytes ? 0 : q->bytes - bytes;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

void sl_queue_close(sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

void sl_queue_abort(sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->aborted = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

size_t sl_queue_bytes(sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t b = q->bytes;
    pthread_mutex_unlock(&q->mu);
    return b;
}

size_t sl_queue_peak_bytes(sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t b = q->peak_bytes;
    pthread_mutex_unlock(&q->mu);
    return b;
}
