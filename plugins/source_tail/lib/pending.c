#include "pending.h"

#include <stdlib.h>
#include <string.h>

void tail_pending_init(tail_pending *p)
{
    memset(p, 0, sizeof *p);
}

void tail_pending_free(tail_pending *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}

int tail_pending_push(tail_pending *p, const tail_inflight *e)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 64;
        tail_inflight *nv = malloc(ncap * sizeof *nv);
        if (!nv)
            return -1;
        for (size_t i = 0; i < p->n; i++)
            nv[i] = p->v[(p->head + i) % p->cap];
        free(p->v);
        p->v = nv;
        p->head = 0;
        p->cap = ncap;
    }
    p->v[(p->head + p->n) % p->cap] = *e;
    p->n++;
    return 0;
}

int tail_pending_pop(tail_pending *p, tail_inflight *out)
{
    if (p->n == 0)
        return -1;
    *out = p->v[p->head];
    p->head = (p->head + 1) % p->cap;
    p->n--;
    return 0;
}

int tail_pending_drop_back(tail_pending *p)
{
    if (p->n == 0)
        return -1;
    p->n--;
    return 0;
}
