/*
 * Pacing: how many requests may be in flight (fixed, or adaptive AIMD) and
 * how many may start per second (token bucket). Pure state machines driven
 * by the caller's clock, so tests can replay any history.
 */
#ifndef OE_PACE_H
#define OE_PACE_H

#include <stdint.h>

/* Outcome of one request, as the limiter sees it. */
typedef enum oe_outcome {
    OE_OUT_OK = 0,        /* answered, and not a failure */
    OE_OUT_SLOW_DOWN = 1, /* 429: the server asks us, in so many words, to slow down */
    OE_OUT_FAILED = 2,    /* a 5xx, connection error or timeout: retried */
} oe_outcome;

/*
 * Adaptive concurrency. Every window of max(limit, 16) completions the
 * limit grows (doubling until the first decrease, then by one: additive
 * increase) unless the window says the server is overloaded, in which case
 * it shrinks to 0.7 x (multiplicative decrease), at most once per window:
 *   - a 429 (at once: it is the server's own word);
 *   - more than a quarter of the window's requests failed: one failure
 *     among many successes is that request's bad luck, not congestion,
 *     and must not throttle every other request (3 % of 503s used to
 *     bring the limit down to 1);
 *   - the window's mean latency above 1.5 x the best recently seen (and
 *     at least 5 ms above it): queueing at the server.
 */
typedef struct oe_aimd {
    double limit;           /* current limit (fractional, read with oe_aimd_limit) */
    int min, max;           /* bounds */
    int adaptive;           /* 0 = limit stays fixed */
    double best_ms;         /* lowest window mean seen, slowly forgotten */
    double sum_ms;          /* latency sum of the current window */
    int n;                  /* completions in the current window */
    int n_ok;               /* of which answered without failure */
    int n_failed;           /* of which failed (OE_OUT_FAILED) */
    int decreased;          /* already decreased in this window */
    int slow_start;         /* doubling until the first decrease */
} oe_aimd;

void oe_aimd_init(oe_aimd *a, int adaptive, int initial, int min, int max);
void oe_aimd_record(oe_aimd *a, double latency_ms, oe_outcome out);
int oe_aimd_limit(const oe_aimd *a);

/*
 * Are most recent requests failing? The last 32 outcomes, one bit each:
 * what tells an outage (or a server shedding most of its load) from a few
 * unlucky requests, for the decisions that stop everything (spooling,
 * pausing on a 503's Retry-After).
 */
typedef struct oe_health {
    uint32_t failed; /* bit i: the i-th most recent outcome failed */
    int n;           /* outcomes recorded, up to 32 */
} oe_health;

void oe_health_record(oe_health *h, int failed);
/* More than half of the recorded outcomes failed (none recorded: no). */
int oe_health_failing(const oe_health *h);

/* Token bucket: `rate` starts per second (0 = unlimited), burst of one second. */
typedef struct oe_rate {
    double rate, tokens;
    int64_t last_ns;
} oe_rate;

void oe_rate_init(oe_rate *r, double rate, int64_t now_ns);
/* Take one token: 0 when allowed now, else the ms to wait (nothing taken). */
int64_t oe_rate_take(oe_rate *r, int64_t now_ns);

#endif
