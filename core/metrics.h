/*
 * Counters and gauges of one component (events in/out, errors, plugin
 * metrics). An entry never moves once made, so a plugin keeps a pointer to
 * it (the sl_metric handle of host.h) and adds to it with one atomic
 * operation; only registration and listing take the lock.
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_counter {
    char *name;
    _Atomic uint64_t value; /* a gauge stores its int64_t here */
    int gauge;
} sl_counter;

typedef struct sl_metrics {
    pthread_mutex_t mu;
    sl_counter **c; /* each entry allocated on its own: stable addresses */
    size_t n, cap;
} sl_metrics;

void sl_metrics_init(sl_metrics *m);
void sl_metrics_destroy(sl_metrics *m);
/* The entry `name` of the given kind, made at 0 when missing. NULL on out of
 * memory or when `name` exists as the other kind. */
sl_counter *sl_metrics_entry(sl_metrics *m, const char *name, int gauge);
/* Add delta to counter `name`, creating it at 0 first. */
void sl_metrics_add(sl_metrics *m, const char *name, uint64_t delta);
/* Set gauge `name` (created on first use). */
void sl_metrics_set(sl_metrics *m, const char *name, int64_t value);
/* Lock-free updates of an entry (NULL is ignored). */
void sl_counter_add(sl_counter *c, uint64_t delta);
void sl_counter_set(sl_counter *c, int64_t value);
/* Call fn for every counter and gauge, under the lock (keep fn quick). */
void sl_metrics_each(sl_metrics *m, void (*fn)(const sl_counter *c, void *arg), void *arg);
/* Current value of `name`, 0 when it does not exist. */
uint64_t sl_metrics_get(sl_metrics *m, const char *name);

#endif
