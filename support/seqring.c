#include "seqring.h"

#include <stdlib.h>

int sl_seqring_init(sl_seqring *r, size_t cap)
{
    *r = (sl_seqring){.base = 1, .next = 1, .cap = cap ? cap : 64};
    r->slot = calloc(r->cap, sizeof *r->slot);
    return r->slot ? 0 : -1;
}

void sl_seqring_free(sl_seqring *r)
{
    free(r->slot);
    r->slot = NULL;
}

/* Double the ring, unrolling it so the front is at index 0. */
static int grow(sl_seqring *r)
{
    size_t ncap = r->cap * 2;
    void **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < r->cap; i++)
        ns[i] = r->slot[(r->head + i) % r->cap];
    free(r->slot);
    r->slot = ns;
    r->head = 0;
    r->cap = ncap;
    return 0;
}

uint64_t sl_seqring_push(sl_seqring *r, void *v)
{
    if (r->next - r->base == r->cap && grow(r) != 0)
        return 0;
    uint64_t seq = r->next++;
    r->slot[(r->head + (seq - r->base)) % r->cap] = v;
    return seq;
}

void **sl_seqring_at(sl_seqring *r, uint64_t seq)
{
    if (seq < r->base || seq >= r->next)
        return NULL;
    return &r->slot[(r->head + (seq - r->base)) % r->cap];
}

uint64_t sl_seqring_drop_front(sl_seqring *r, int nonnull)
{
    while (r->base < r->next && (r->slot[r->head] != NULL) == (nonnull != 0)) {
        r->slot[r->head] = NULL;
        r->head = (r->head + 1) % r->cap;
        r->base++;
    }
    return r->base;
}
