/* Named counters of one component (events in/out, errors, plugin counters). */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_counter {
    char *name;
    uint64_t value; /* a gauge stores its int64_t here */
    int gauge;
} sl_counter;

typedef struct sl_metrics {
    pthread_mutex_t mu;
    sl_counter *c;
    size_t n, cap;
} sl_metrics;

void sl_metrics_init(sl_metrics *m);
void sl_metrics_destroy(sl_metrics *m);
/* Add delta to counter `name`, creating it at 0 first. */
void sl_metrics_add(sl_metrics *m, const char *name, uint64_t delta);
/* Set gauge `name` (created on first use). */
void sl_metrics_set(sl_metrics *m, const char *name, int64_t value);
/* Call fn for every counter and gauge, under the lock (keep fn quick). */
void sl_metrics_each(sl_metrics *m, void (*fn)(const sl_counter *c, void *arg), void *arg);
/* Current value of `name`, 0 when it does not exist. */
uint64_t sl_metrics_get(sl_metrics *m, const char *name);

#endif
