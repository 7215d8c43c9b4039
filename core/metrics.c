#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

void sl_metrics_init(sl_metrics *m)
{
    *m = (sl_metrics){0};
    pthread_mutex_init(&m->mu, NULL);
}

void sl_metrics_destroy(sl_metrics *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->c[i]->name);
        free(m->c[i]);
    }
    free(m->c);
    pthread_mutex_destroy(&m->mu);
}

static sl_counter *find(sl_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->c[i]->name, name) == 0)
            return m->c[i];
    return NULL;
}

static sl_counter *add_entry(sl_metrics *m, const char *name, int gauge)
{
    sl_counter **nc = sl_grow(m->c, m->n + 1, &m->cap, sizeof *nc, 8);
    if (!nc)
        return NULL;
    m->c = nc;
    sl_counter *c = calloc(1, sizeof *c);
    char *dup = strdup(name);
    if (!c || !dup) {
        free(c);
        free(dup);
        return NULL;
    }
    c->name = dup;
    c->gauge = gauge;
    atomic_init(&c->value, 0);
    m->c[m->n++] = c;
    return c;
}

sl_counter *sl_metrics_entry(sl_metrics *m, const char *name, int gauge)
{
    pthread_mutex_lock(&m->mu);
    sl_counter *c = find(m, name);
    if (!c)
        c = add_entry(m, name, gauge);
    else if (c->gauge != gauge)
        c = NULL;
    pthread_mutex_unlock(&m->mu);
    return c;
}

void sl_counter_add(sl_counter *c, uint64_t delta)
{
    if (c)
        atomic_fetch_add_explicit(&c->value, delta, memory_order_relaxed);
}

void sl_counter_set(sl_counter *c, int64_t value)
{
    if (c)
        atomic_store_explicit(&c->value, (uint64_t)value, memory_order_relaxed);
}

void sl_metrics_add(sl_metrics *m, const char *name, uint64_t delta)
{
    sl_counter_add(sl_metrics_entry(m, name, 0), delta);
}

void sl_metrics_set(sl_metrics *m, const char *name, int64_t value)
{
    sl_counter_set(sl_metrics_entry(m, name, 1), value);
}

void sl_metrics_each(sl_metrics *m, void (*fn)(const sl_counter *c, void *arg), void *arg)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++)
        fn(m->c[i], arg);
    pthread_mutex_unlock(&m->mu);
}

uint64_t sl_metrics_get(sl_metrics *m, const char *name)
{
    pthread_mutex_lock(&m->mu);
    sl_counter *c = find(m, name);
    uint64_t v = c ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
    pthread_mutex_unlock(&m->mu);
    return v;
}
