/*
 * At most one log line per interval from many threads, counting the lines
 * held back, so a flood of one error costs a counter, not the disk.
 */
#ifndef SL_THROTTLE_H
#define SL_THROTTLE_H

#include <stdatomic.h>
#include <stdint.h>

#include "sl_clock.h"

typedef struct sl_throttle {
    atomic_llong last_ms;   /* when the last line passed; 0 = never */
    atomic_ullong held;     /* lines held back since */
} sl_throttle;

/*
 * Non-zero when a line may be logged now; *held (may be NULL) then gets the
 * number of lines held back since the last one, to say so in the line.
 */
static inline int sl_throttle_pass(sl_throttle *t, int64_t interval_ms, unsigned long long *held)
{
    int64_t now = sl_mono_ms();
    long long last = atomic_load(&t->last_ms);
    if ((last && now - last < interval_ms) ||
        !atomic_compare_exchange_strong(&t->last_ms, &last, now ? now : 1)) {
        atomic_fetch_add(&t->held, 1);
        return 0;
    }
    unsigned long long n = atomic_exchange(&t->held, 0);
    if (held)
        *held = n;
    return 1;
}

#endif
