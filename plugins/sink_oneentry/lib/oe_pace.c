#include "oe_pace.h"

#define TOLERANCE 1.5  /* mean latency this much above the best = congestion */
#define SLACK_MS 5.0   /* ... and at least this much: loopback jitter is not congestion */
#define MIN_WINDOW 16  /* completions averaged before a decision, whatever the limit */
#define BACKOFF 0.7    /* multiplicative decrease */
#define FORGET 1.02    /* best latency drifts up 2% a window, to re-learn */
#define FAIL_RATIO 0.25 /* a window with more failures than this is overload */

void oe_aimd_init(oe_aimd *a, int adaptive, int initial, int min, int max)
{
    *a = (oe_aimd){.limit = initial, .min = min < 1 ? 1 : min, .max = max,
                   .adaptive = adaptive, .slow_start = 1};
    if (a->max < a->min)
        a->max = a->min;
    if (a->limit < a->min)
        a->limit = a->min;
    if (a->limit > a->max)
        a->limit = a->max;
}

int oe_aimd_limit(const oe_aimd *a)
{
    return (int)a->limit;
}

static void decrease(oe_aimd *a)
{
    a->limit *= BACKOFF;
    if (a->limit < a->min)
        a->limit = a->min;
    a->decreased = 1;
    a->slow_start = 0;
}

static int window_overloaded(const oe_aimd *a, double mean)
{
    if (a->n_failed > a->n * FAIL_RATIO)
        return 1;
    return a->n_ok && mean > a->best_ms * TOLERANCE && mean - a->best_ms >= SLACK_MS;
}

static void end_window(oe_aimd *a)
{
    double mean = a->n_ok ? a->sum_ms / a->n_ok : 0;
    if (a->n_ok && (a->best_ms <= 0 || mean < a->best_ms))
        a->best_ms = mean;
    if (!a->decreased) {
        if (window_overloaded(a, mean)) {
            decrease(a);
        } else if (a->n_ok) {
            /* Slow start doubles until the first sign of congestion, so a
             * fast server is reached in a few windows; then +1 a window. */
            a->limit = a->slow_start ? a->limit * 2 : a->limit + 1;
            if (a->limit > a->max)
                a->limit = a->max;
        }
    }
    a->best_ms *= FORGET;
    a->sum_ms = 0;
    a->n = 0;
    a->n_ok = 0;
    a->n_failed = 0;
    a->decreased = 0;
}

void oe_aimd_record(oe_aimd *a, double latency_ms, oe_outcome out)
{
    if (!a->adaptive)
        return;
    if (out == OE_OUT_SLOW_DOWN && !a->decreased)
        decrease(a);
    if (out == OE_OUT_FAILED)
        a->n_failed++;
    if (out == OE_OUT_OK) {
        a->sum_ms += latency_ms;
        a->n_ok++;
    }
    a->n++;
    if (a->n >= (int)a->limit && a->n >= MIN_WINDOW)
        end_window(a);
}

void oe_health_record(oe_health *h, int failed)
{
    h->failed = h->failed << 1 | (failed ? 1u : 0u);
    if (h->n < 32)
        h->n++;
}

int oe_health_failing(const oe_health *h)
{
    return h->n && __builtin_popcount(h->failed) * 2 > h->n;
}

void oe_rate_init(oe_rate *r, double rate, int64_t now_ns)
{
    *r = (oe_rate){.rate = rate > 0 ? rate : 0, .tokens = rate > 0 ? 1 : 0, .last_ns = now_ns};
}

int64_t oe_rate_take(oe_rate *r, int64_t now_ns)
{
    if (r->rate <= 0)
        return 0;
    double burst = r->rate < 1 ? 1 : r->rate;
    r->tokens += (double)(now_ns - r->last_ns) / 1e9 * r->rate;
    r->last_ns = now_ns;
    if (r->tokens > burst)
        r->tokens = burst;
    if (r->tokens >= 1) {
        r->tokens -= 1;
        return 0;
    }
    int64_t ms = (int64_t)((1 - r->tokens) / r->rate * 1000) + 1;
    return ms;
}
