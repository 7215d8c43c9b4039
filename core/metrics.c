#include "metrics.h"

#include <stdlib.h>
#include <string.h>

void sl_metrics_init(sl_metrics *m)
{
    *m = (sl_metrics){0};
    pthread_mutex_init(&m->mu, NULL);
}

void sl_metrics_destroy(sl_metrics *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->c[i].name);
    free(m->c);
    pthread_mutex_destroy(&m->mu);
}

static sl_counter *find(sl_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->c[i].name, name) == 0)
            return &m->c[i];
    return NULL;
}

/* The entry for `name`, created when missing; NULL on out of memory. */
static sl_counter *find_or_add(sl_metrics *m, const char *name, int gauge)
{
    sl_counter *c = find(m, name);
    if (c)
        return c;
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 8;
        sl_counter *nc = realloc(m->c, ncap * sizeof *nc);
        if (!nc)
            return NULL;
        m->c = nc;
        m->cap = ncap;
    }
    char *dup = strdup(name);
    if (!dup)
        return NULL;
    c = &m->c[m->n++];
    *c = (sl_counter){.name = dup, .gauge = gauge};
    return c;
}

void sl_metrics_add(sl_metrics *m, const char *name, uint64_t delta)
{
    pthread_mutex_lock(&m->mu);
    sl_counter *c = find_or_add(m, name, 0);
    if (c)
        c->value += delta;
    pthread_mutex_unlock(&m->mu);
}

void sl_metrics_set(sl_metrics *m, const char *name, int64_t value)
{
    pthread_mutex_lock(&m->mu);
    sl_counter *c = find_or_add(m, name, 1);
    if (c)
        c->value = (uint64_t)value;
    pthread_mutex_unlock(&m->mu);
}

void sl_metrics_each(sl_metrics *m, void (*fn)(const sl_counter *c, void *arg), void *arg)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++)
        fn(&m->c[i], arg);
    pthread_mutex_unlock(&m->mu);
}

uint64_t sl_metrics_get(sl_metrics *m, const char *name)
{
    pthread_mutex_lock(&m->mu);
    sl_counter *c = find(m, name);
    uint64_t v = c ? c->value : 0;
    pthread_mutex_unlock(&m->mu);
    return v;
}
