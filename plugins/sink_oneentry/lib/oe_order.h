/*
 * Per-visitor ordering: at most one event per identity (guest id or user
 * token) is being delivered at a time, and the others of that identity wait
 * behind it in arrival order, so concurrency and retries never reorder one
 * visitor's events (the recommendation engine reads them as a sequence).
 *
 * An identity is "held" by its oldest unfinished event from the moment the
 * event is picked for sending until it is finished (delivered,
 * dead-lettered, spooled or abandoned); later events of the identity queue
 * behind it and are handed out one at a time by oe_order_release.
 *
 * Identities are attacker-chosen strings (cookies, log fields), so the
 * table hashes them with a keyed SipHash under a random key: no input can be
 * crafted to collide. Not thread-safe: one owner thread.
 */
#ifndef OE_ORDER_H
#define OE_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "oatab.h"

typedef struct oe_order_slot oe_order_slot;

typedef struct oe_order {
    sl_oatab tab;     /* of oe_order_slot: one per held identity */
    size_t waiting;   /* items queued behind a holder, all identities */
    uint8_t key[16];      /* SipHash key */
} oe_order;

/* An empty table with its hash key (random when it can): call before use. */
void oe_order_init(oe_order *o);
void oe_order_free(oe_order *o);

/*
 * `item` (whose identity is the string `id`, which must stay valid while
 * the item is held or queued) asks to go. 1: it may, and now holds `id`;
 * 0: an earlier item of `id` is unfinished and `item` is queued behind it;
 * -1: out of memory, nothing recorded (the caller sends it unordered).
 */
int oe_order_claim(oe_order *o, const char *id, void *item);

/*
 * The holder of `id` is finished. Returns the next queued item of `id`,
 * which now holds it (hand it out before anything else of its identity),
 * or NULL when none waits and `id` is free.
 */
void *oe_order_release(oe_order *o, const char *id);

/* The item holding `id`, or NULL when `id` is free. */
void *oe_order_holder(const oe_order *o, const char *id);

/* The same three with the identity's hash given: oe_order_hash(o, id),
 * computed once per item (SipHash was the sink's costliest function). */
uint64_t oe_order_hash(const oe_order *o, const char *id);
int oe_order_claim_h(oe_order *o, const char *id, uint64_t h, void *item);
void *oe_order_release_h(oe_order *o, const char *id, uint64_t h);
void *oe_order_holder_h(const oe_order *o, const char *id, uint64_t h);

/* Identities held. */
static inline size_t oe_order_held(const oe_order *o)
{
    return o->tab.n;
}

/* Items queued behind holders, all identities. */
static inline size_t oe_order_waiting(const oe_order *o)
{
    return o->waiting;
}

#endif
