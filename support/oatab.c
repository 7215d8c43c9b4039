/* Open-addressing probing over the caller's slots; see oatab.h. */
#include "oatab.h"

#include <stdlib.h>
#include <string.h>

#define OATAB_MIN_CAP 64

void sl_oatab_init(sl_oatab *t, size_t esize)
{
    *t = (sl_oatab){.esize = esize};
}

void sl_oatab_free(sl_oatab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}

/* The first empty slot of h's probe run (rehashing: keys are distinct). */
static void *empty_for(const sl_oatab *t, uint64_t h)
{
    size_t mask = t->cap - 1;
    size_t i = (size_t)h & mask;
    while (sl_oatab_hash_of(sl_oatab_slot(t, i)))
        i = (i + 1) & mask;
    return sl_oatab_slot(t, i);
}

static int grow(sl_oatab *t)
{
    size_t cap = t->cap ? t->cap * 2 : OATAB_MIN_CAP;
    if (cap > SIZE_MAX / 2 / t->esize)
        return -1;
    sl_oatab old = *t;
    if (!(t->slots = calloc(cap, t->esize))) {
        t->slots = old.slots;
        return -1;
    }
    t->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        const void *s = sl_oatab_slot(&old, i);
        uint64_t h = sl_oatab_hash_of(s);
        if (h)
            memcpy(empty_for(t, h), s, t->esize);
    }
    free(old.slots);
    return 0;
}

void *sl_oatab_insert(sl_oatab *t, uint64_t h, sl_oatab_eq eq, const void *key, int *added)
{
    *added = 0;
    if ((t->n + 1) * 2 > t->cap && grow(t) < 0) /* at most half full */
        return NULL;
    void *s = sl_oatab_probe(t, h, eq, key);
    if (sl_oatab_hash_of(s))
        return s;
    memset(s, 0, t->esize);
    *(uint64_t *)s = sl_oatab_norm(h);
    t->n++;
    *added = 1;
    return s;
}

/* Backward shift: each later slot of the probe run moves into the hole
 * unless its home slot lies cyclically in (hole, j], where a lookup from
 * its home still reaches it. */
void sl_oatab_remove(sl_oatab *t, void *slot)
{
    size_t mask = t->cap - 1;
    size_t hole = (size_t)((char *)slot - (char *)t->slots) / t->esize;
    for (size_t j = (hole + 1) & mask; sl_oatab_hash_of(sl_oatab_slot(t, j)); j = (j + 1) & mask) {
        size_t home = (size_t)sl_oatab_hash_of(sl_oatab_slot(t, j)) & mask;
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            memcpy(sl_oatab_slot(t, hole), sl_oatab_slot(t, j), t->esize);
            hole = j;
        }
    }
    memset(sl_oatab_slot(t, hole), 0, t->esize);
    t->n--;
}
