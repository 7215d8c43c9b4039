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
    OE_OUT_OK = 0,       /* answered, not an overload signal */
    OE_OUT_OVERLOAD = 1, /* 429 or 503: the server asks us to slow down */
    OE_OUT_ERROR = 2,    /* connection error or timeout */
} oe_outcome;

/*
 * Adaptive concurrency. Every window of max(limit, 16) completions, compare
 * the window's mean latency with the best recently seen: while it stays
 * within 1.5 x best (or within 5 ms of it) the limit grows (doubling until
 * the first decrease, then by one: additive increase); above, or on any
 * overload signal, it shrinks to 0.7 x (multiplicative decrease, at most
 * once per window so one burst of 429s is one decrease).
 */
typedef struct oe_aimd {
    double limit;           /* current limit (fractional, read with oe_aimd_limit) */
    int min, max;           /* bounds */
    int adaptive;           /* 0 = limit stays fixed */
    double best_ms;         /* lowest window mean seen, slowly forgotten */
    double sum_ms;          /* latency sum of the current window */
    int n;                  /* completions in the current window */
    int n_ok;               /* of which answered without overload */
    int overloaded;         /* an overload signal arrived in this window */
    int decreased;          /* already decreased in this window */
    int slow_start;         /* doubling until the first decrease */
} oe_aimd;

void oe_aimd_init(oe_aimd *a, int adaptive, int initial, int min, int max);
void oe_aimd_record(oe_aimd *a, double latency_ms, oe_outcome out);
int oe_aimd_limit(const oe_aimd *a);

/* Token bucket: `rate` starts per second (0 = unlimited), burst of one second. */
typedef struct oe_rate {
    double rate, tokens;
    int64_t last_ns;
} oe_rate;

void oe_rate_init(oe_rate *r, double rate, int64_t now_ns);
/* Take one token: 0 when allowed now, else the ms to wait (nothing taken). */
int64_t oe_rate_take(oe_rate *r, int64_t now_ns);

#endif
