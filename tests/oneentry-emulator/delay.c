#include "delay.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"

typedef struct entry {
    uint64_t due;
    uint64_t seq; /* ties broken by arrival, so equal deadlines wake in order */
    void *item;
} entry;

struct oe_delay {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    pthread_t thread;
    oe_wake_fn wake;
    entry *heap;
    size_t len, cap;
    uint64_t seq;
    int stopping;
};

uint64_t oe_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int earlier(const entry *a, const entry *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void sift_up(entry *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&h[i], &h[parent]))
            return;
        entry t = h[i];
        h[i] = h[parent];
        h[parent] = t;
        i = parent;
    }
}

static void sift_down(entry *h, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && earlier(&h[l], &h[m]))
            m = l;
        if (r < len && earlier(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        entry t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static entry pop(oe_delay *d)
{
    entry top = d->heap[0];
    d->heap[0] = d->heap[--d->len];
    sift_down(d->heap, d->len, 0);
    return top;
}

static void *run(void *arg)
{
    oe_delay *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        if (d->len == 0 && d->stopping)
            break;
        if (d->len == 0) {
            pthread_cond_wait(&d->cv, &d->mu);
            continue;
        }
        uint64_t now = oe_now_ns();
        if (d->heap[0].due > now && !d->stopping) {
            struct timespec ts = {(time_t)(d->heap[0].due / 1000000000u),
                                  (long)(d->heap[0].due % 1000000000u)};
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
            continue;
        }
        entry e = pop(d);
        /* wake outside the lock: it may take the server's own locks */
        pthread_mutex_unlock(&d->mu);
        d->wake(e.item);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

oe_delay *oe_delay_start(oe_wake_fn wake, char *err, size_t errlen)
{
    oe_delay *d = calloc(1, sizeof *d);
    pthread_condattr_t ca;
    int rc;
    if (!d) {
        snprintf(err, errlen, "delay: out of memory");
        return NULL;
    }
    d->wake = wake;
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&d->thread, NULL, run, d);
    if (rc != 0) {
        snprintf(err, errlen, "delay: cannot start timer thread: %s", strerror(rc));
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return NULL;
    }
    return d;
}

int oe_delay_add(oe_delay *d, uint64_t due_ns, void *item)
{
    int rc = 0;
    pthread_mutex_lock(&d->mu);
    if (d->stopping) {
        rc = -1;
    } else {
        entry *nh = sl_grow(d->heap, d->len + 1, &d->cap, sizeof *nh, 256);
        if (nh)
            d->heap = nh;
        else
            rc = -1;
    }
    if (rc == 0) {
        d->heap[d->len] = (entry){due_ns, d->seq++, item};
        sift_up(d->heap, d->len++);
        /* only a new earliest deadline changes what the thread waits for */
        if (d->heap[0].seq == d->seq - 1)
            pthread_cond_signal(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

void oe_delay_stop(oe_delay *d)
{
    int joined;
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    joined = d->stopping;
    d->stopping = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (!joined)
        pthread_join(d->thread, NULL);
}

void oe_delay_free(oe_delay *d)
{
    if (!d)
        return;
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->heap);
    free(d);
}
