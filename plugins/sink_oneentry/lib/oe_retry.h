/*
 * Retry policy: which HTTP statuses are retried, how long to wait before the
 * next attempt (exponential backoff with full jitter, capped), and what a
 * server's Retry-After asks for. Pure functions; the caller owns the state.
 */
#ifndef OE_RETRY_H
#define OE_RETRY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Set of HTTP statuses 100..599, one bit each. */
typedef struct oe_status_set {
    uint8_t bits[600 / 8 + 1];
} oe_status_set;

/*
 * Parse "408,429,500-599" (codes and inclusive ranges, comma separated,
 * spaces allowed) into *set. Returns 0 or -1 with the reason in err.
 */
int oe_status_set_parse(const char *spec, oe_status_set *set, char *err, size_t errlen);

/* Non-zero when status is in the set. */
int oe_status_in(const oe_status_set *set, long status);

/*
 * Parse a Retry-After value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now` (Unix seconds).
 * *ms gets the wait (0 for a date in the past). Returns 0, -1 when the value
 * is neither form.
 */
int oe_retry_after_parse(const char *value, time_t now, int64_t *ms);

/* A small xorshift generator: jitter needs speed, not cryptography. */
uint64_t oe_rand(uint64_t *state);

/*
 * Delay before retry number `attempt` (1 = first retry): uniform in
 * [0, min(cap_ms, base_ms * 2^(attempt-1))] ("full jitter", which spreads
 * the retries of many clients instead of synchronising them).
 */
int64_t oe_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng);

#endif
