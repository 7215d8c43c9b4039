/*
 * Delayed wake-ups without blocking server threads: a request that must wait
 * (added latency, slow:N) is suspended and its connection handed here; one
 * timer thread wakes each item when its time comes. So 20 ms of latency costs
 * no worker thread, and the ceiling at 20 ms is set by concurrency, not by
 * the pool size.
 */
#ifndef OE_DELAY_H
#define OE_DELAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct oe_delay oe_delay;
typedef void (*oe_wake_fn)(void *item);

/* Monotonic clock in nanoseconds. */
uint64_t oe_now_ns(void);

/* Starts the timer thread; wake(item) is called from it. NULL + err on failure. */
oe_delay *oe_delay_start(oe_wake_fn wake, char *err, size_t errlen);

/* Wake item at due_ns (oe_now_ns clock). Returns 0, or -1 (out of memory or stopping). */
int oe_delay_add(oe_delay *d, uint64_t due_ns, void *item);

/*
 * Wakes every pending item now and joins the thread; later oe_delay_add
 * calls fail, so their callers wake items themselves. Idempotent.
 */
void oe_delay_stop(oe_delay *d);

/* Frees a stopped d. */
void oe_delay_free(oe_delay *d);

#endif
