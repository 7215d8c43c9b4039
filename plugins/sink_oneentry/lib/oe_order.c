#include "oe_order.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "siphash.h"

typedef struct queued {
    void *item;
    const char *id;
} queued;

/* One held identity and the items queued behind its holder (a ring). */
struct oe_order_slot {
    uint64_t hash;  /* 0: empty slot (sl_oatab) */
    const char *id; /* the holder's id string */
    void *holder;
    queued *q;
    uint32_t qhead, qlen, qcap; /* qcap is 0 or a power of two */
};

void oe_order_init(oe_order *o)
{
    memset(o, 0, sizeof *o);
    sl_oatab_init(&o->tab, sizeof(oe_order_slot));
    if (getrandom(o->key, sizeof o->key, GRND_NONBLOCK) == (ssize_t)sizeof o->key)
        return;
    /* No entropy yet (early boot): a per-process key still beats a fixed one. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t a = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)o, b = (uint64_t)ts.tv_sec;
    memcpy(o->key, &a, 8);
    memcpy(o->key + 8, &b, 8);
}

void oe_order_free(oe_order *o)
{
    for (size_t i = 0; i < o->tab.cap; i++)
        free(((oe_order_slot *)sl_oatab_slot(&o->tab, i))->q);
    sl_oatab_free(&o->tab);
    o->waiting = 0;
}

uint64_t oe_order_hash(const oe_order *o, const char *id)
{
    uint8_t out[16];
    uint64_t h;
    siphash128(o->key, id, strlen(id), out);
    memcpy(&h, out, sizeof h);
    return h;
}

static int same_id(const void *slot, const void *id)
{
    return strcmp(((const oe_order_slot *)slot)->id, id) == 0;
}

static int enqueue(oe_order *o, oe_order_slot *s, const char *id, void *item)
{
    if (s->qlen == s->qcap) {
        uint32_t ncap = s->qcap ? s->qcap * 2 : 4;
        queued *nq = malloc(ncap * sizeof *nq);
        if (!nq)
            return -1;
        for (uint32_t k = 0; k < s->qlen; k++) /* unroll the ring */
            nq[k] = s->q[(s->qhead + k) & (s->qcap - 1)];
        free(s->q);
        s->q = nq;
        s->qcap = ncap;
        s->qhead = 0;
    }
    s->q[(s->qhead + s->qlen++) & (s->qcap - 1)] = (queued){item, id};
    o->waiting++;
    return 0;
}

int oe_order_claim(oe_order *o, const char *id, void *item)
{
    return oe_order_claim_h(o, id, oe_order_hash(o, id), item);
}

int oe_order_claim_h(oe_order *o, const char *id, uint64_t h, void *item)
{
    int added;
    oe_order_slot *s = sl_oatab_insert(&o->tab, h, same_id, id, &added);
    if (!s)
        return -1;
    if (!added)
        return enqueue(o, s, id, item) < 0 ? -1 : 0;
    s->id = id;
    s->holder = item;
    return 1;
}

void *oe_order_holder(const oe_order *o, const char *id)
{
    return oe_order_holder_h(o, id, oe_order_hash(o, id));
}

void *oe_order_holder_h(const oe_order *o, const char *id, uint64_t h)
{
    oe_order_slot *s = sl_oatab_get(&o->tab, h, same_id, id);
    return s ? s->holder : NULL;
}

void *oe_order_release(oe_order *o, const char *id)
{
    return oe_order_release_h(o, id, oe_order_hash(o, id));
}

void *oe_order_release_h(oe_order *o, const char *id, uint64_t h)
{
    oe_order_slot *s = sl_oatab_get(&o->tab, h, same_id, id);
    if (!s)
        return NULL;
    if (!s->qlen) {
        free(s->q);
        sl_oatab_remove(&o->tab, s);
        return NULL;
    }
    queued next = s->q[s->qhead];
    s->qhead = (s->qhead + 1) & (s->qcap - 1);
    s->qlen--;
    o->waiting--;
    s->id = next.id; /* the holder's string: the old one may be freed now */
    s->holder = next.item;
    return next.item;
}
