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
    const char *id; /* NULL: empty slot; else the holder's id string */
    void *holder;
    uint64_t hash;
    queued *q;
    uint32_t qhead, qlen, qcap; /* qcap is 0 or a power of two */
};

void oe_order_init(oe_order *o)
{
    memset(o, 0, sizeof *o);
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
    for (size_t i = 0; i < o->cap; i++)
        free(o->slots[i].q);
    free(o->slots);
    o->slots = NULL;
    o->cap = o->used = o->waiting = 0;
}

uint64_t oe_order_hash(const oe_order *o, const char *id)
{
    uint8_t out[16];
    uint64_t h;
    siphash128(o->key, id, strlen(id), out);
    memcpy(&h, out, sizeof h);
    return h;
}

/* The slot holding `id`, or the empty slot where it would go. */
static oe_order_slot *find(const oe_order *o, const char *id, uint64_t h)
{
    size_t mask = o->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        oe_order_slot *s = &o->slots[i];
        if (!s->id || (s->hash == h && strcmp(s->id, id) == 0))
            return s;
    }
}

static int grow(oe_order *o)
{
    size_t ncap = o->cap ? o->cap * 2 : 64;
    oe_order_slot *old = o->slots, *nv = calloc(ncap, sizeof *nv);
    if (!nv)
        return -1;
    size_t ocap = o->cap;
    o->slots = nv;
    o->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].id)
            *find(o, old[i].id, old[i].hash) = old[i];
    free(old);
    return 0;
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
    if ((o->used + 1) * 2 > o->cap && grow(o) < 0)
        return -1;
    oe_order_slot *s = find(o, id, h);
    if (s->id)
        return enqueue(o, s, id, item) < 0 ? -1 : 0;
    *s = (oe_order_slot){.id = id, .holder = item, .hash = h};
    o->used++;
    return 1;
}

/* Empty slot i, shifting later members of its probe run back so lookups
 * never stop early at the hole (no tombstones to accumulate). */
static void remove_at(oe_order *o, size_t i)
{
    size_t mask = o->cap - 1;
    free(o->slots[i].q);
    for (size_t j = (i + 1) & mask; o->slots[j].id; j = (j + 1) & mask) {
        size_t home = o->slots[j].hash & mask;
        /* Move j into the hole unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            o->slots[i] = o->slots[j];
            i = j;
        }
    }
    o->slots[i] = (oe_order_slot){0};
    o->used--;
}

void *oe_order_holder(const oe_order *o, const char *id)
{
    return oe_order_holder_h(o, id, oe_order_hash(o, id));
}

void *oe_order_holder_h(const oe_order *o, const char *id, uint64_t h)
{
    return o->cap ? find(o, id, h)->holder : NULL;
}

void *oe_order_release(oe_order *o, const char *id)
{
    return oe_order_release_h(o, id, oe_order_hash(o, id));
}

void *oe_order_release_h(oe_order *o, const char *id, uint64_t h)
{
    if (!o->cap)
        return NULL;
    oe_order_slot *s = find(o, id, h);
    if (!s->id)
        return NULL;
    if (!s->qlen) {
        remove_at(o, (size_t)(s - o->slots));
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
