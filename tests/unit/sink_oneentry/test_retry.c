/* sink_oneentry retry policy and pacing: status sets, Retry-After, backoff
 * bounds, AIMD concurrency, token bucket. */
#include <string.h>

#include "oe_pace.h"
#include "oe_retry.h"
#include "sl_test.h"

static void test_status_sets(void)
{
    oe_status_set s;
    char err[200];
    CU_ASSERT_EQUAL(oe_status_set_parse("408, 429,500-599", &s, err, sizeof err), 0);
    CU_ASSERT(oe_status_in(&s, 408) && oe_status_in(&s, 429));
    CU_ASSERT(oe_status_in(&s, 500) && oe_status_in(&s, 503) && oe_status_in(&s, 599));
    CU_ASSERT(!oe_status_in(&s, 400) && !oe_status_in(&s, 404) && !oe_status_in(&s, 200));
    CU_ASSERT(!oe_status_in(&s, 99) && !oe_status_in(&s, 600) && !oe_status_in(&s, -1));
    CU_ASSERT_EQUAL(oe_status_set_parse("", &s, err, sizeof err), 0);
    CU_ASSERT(!oe_status_in(&s, 503));
    CU_ASSERT_EQUAL(oe_status_set_parse("500-", &s, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "retryable_status"));
    CU_ASSERT_EQUAL(oe_status_set_parse("599-500", &s, err, sizeof err), -1);
    CU_ASSERT_EQUAL(oe_status_set_parse("42", &s, err, sizeof err), -1);
    CU_ASSERT_EQUAL(oe_status_set_parse("429;503", &s, err, sizeof err), -1);
}

static void test_retry_after(void)
{
    int64_t ms = -1;
    CU_ASSERT_EQUAL(oe_retry_after_parse("2", 0, &ms), 0);
    CU_ASSERT_EQUAL(ms, 2000);
    CU_ASSERT_EQUAL(oe_retry_after_parse(" 120 ", 0, &ms), 0);
    CU_ASSERT_EQUAL(ms, 120000);
    CU_ASSERT_EQUAL(oe_retry_after_parse("99999999999999999999", 0, &ms), -1);
    CU_ASSERT_EQUAL(oe_retry_after_parse("9999999", 0, &ms), 0);
    CU_ASSERT_EQUAL(ms, 86400000); /* capped at a day */
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    CU_ASSERT_EQUAL(oe_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470, &ms), 0);
    CU_ASSERT_EQUAL(ms, 10000);
    CU_ASSERT_EQUAL(oe_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490, &ms), 0);
    CU_ASSERT_EQUAL(ms, 0);
    CU_ASSERT_EQUAL(oe_retry_after_parse("soon", 0, &ms), -1);
    CU_ASSERT_EQUAL(oe_retry_after_parse("2x", 0, &ms), -1);
    CU_ASSERT_EQUAL(oe_retry_after_parse("", 0, &ms), -1);
}

static void test_backoff_bounds(void)
{
    uint64_t rng = 12345;
    int64_t max_seen[8] = {0};
    for (int round = 0; round < 2000; round++)
        for (int a = 1; a <= 7; a++) {
            int64_t d = oe_backoff_ms(a, 100, 1000, &rng);
            int64_t ceiling = a == 1 ? 100 : a == 2 ? 200 : a == 3 ? 400 : a == 4 ? 800 : 1000;
            CU_ASSERT(d >= 0 && d <= ceiling);
            if (d > max_seen[a])
                max_seen[a] = d;
        }
    /* Full jitter actually spreads up to the ceiling. */
    CU_ASSERT(max_seen[1] > 80 && max_seen[7] > 800);
    CU_ASSERT(oe_backoff_ms(1000, 100, 30000, &rng) <= 30000);
}

static void window(oe_aimd *a, double ms)
{
    int n = oe_aimd_limit(a) < 16 ? 16 : oe_aimd_limit(a);
    for (int i = 0; i < n; i++)
        oe_aimd_record(a, ms, OE_OUT_OK);
}

static void test_aimd(void)
{
    oe_aimd a;
    oe_aimd_init(&a, 1, 8, 1, 256);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 8);
    /* Slow start: doubling per window, capped. */
    for (int w = 0; w < 6; w++)
        window(&a, 20.0);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 256);
    /* Latency more than 1.5x and 5 ms above the best: multiplicative decrease. */
    window(&a, 45.0);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 179);
    /* Then additive increase while latency holds (jitter within 5 ms is fine). */
    window(&a, 20.0);
    window(&a, 24.0);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 181);
    /* A burst of 429s in one window is one decrease. */
    int before = oe_aimd_limit(&a);
    oe_aimd_record(&a, 20.0, OE_OUT_SLOW_DOWN);
    oe_aimd_record(&a, 20.0, OE_OUT_SLOW_DOWN);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), (int)(before * 0.7));
    /* Sub-millisecond loopback jitter never counts as congestion. */
    oe_aimd_init(&a, 1, 4, 1, 64);
    for (int w = 0; w < 20; w++)
        window(&a, w % 2 ? 0.1 : 2.0);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 64);
    /* Bounds. */
    for (int i = 0; i < 1000; i++)
        oe_aimd_record(&a, 20.0, OE_OUT_FAILED);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 1);
    oe_aimd_init(&a, 0, 16, 1, 64);
    for (int i = 0; i < 100; i++)
        oe_aimd_record(&a, 500.0, OE_OUT_SLOW_DOWN);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 16); /* fixed stays fixed */
}

/* record N completions of which every K-th failed (K 0: none). */
static void mixed(oe_aimd *a, int n, int k)
{
    for (int i = 1; i <= n; i++)
        oe_aimd_record(a, 20.0, k && i % k == 0 ? OE_OUT_FAILED : OE_OUT_OK);
}

static void test_aimd_failures(void)
{
    oe_aimd a;
    /* A few failed requests (1 in 10) are no congestion: the limit still
     * climbs to the top and stays there. */
    oe_aimd_init(&a, 1, 8, 1, 256);
    for (int w = 0; w < 30; w++)
        mixed(&a, oe_aimd_limit(&a) < 16 ? 16 : oe_aimd_limit(&a), 10);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 256);
    /* One failure alone does nothing at once... */
    oe_aimd_record(&a, 20.0, OE_OUT_FAILED);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 256);
    /* ...but a window where more than a quarter failed is one decrease
     * at its end, however many failed. */
    mixed(&a, 255, 2);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 179);
    /* A quarter exactly is not more than a quarter: +1 (no slow start now). */
    mixed(&a, 179, 4);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 180);
    /* A window of nothing but failures decreases once, not per failure. */
    for (int i = 0; i < 180; i++)
        oe_aimd_record(&a, 20.0, OE_OUT_FAILED);
    CU_ASSERT_EQUAL(oe_aimd_limit(&a), 126);
}

static void test_health(void)
{
    oe_health h = {0};
    CU_ASSERT_FALSE(oe_health_failing(&h));
    oe_health_record(&h, 1);
    CU_ASSERT_TRUE(oe_health_failing(&h)); /* 1 of 1 */
    oe_health_record(&h, 0);
    CU_ASSERT_FALSE(oe_health_failing(&h)); /* half is not most */
    /* 10 % failures over many requests: never "failing". */
    for (int i = 1; i <= 1000; i++) {
        oe_health_record(&h, i % 10 == 0);
        CU_ASSERT_FALSE(oe_health_failing(&h));
    }
    /* An outage: failing once 17 of the last 32 failed (the 10 % before
     * left 3 in the memory), and the memory is only 32 long: as many
     * successes end it. */
    int n = 0;
    while (!oe_health_failing(&h) && n < 100)
        oe_health_record(&h, 1), n++;
    CU_ASSERT_EQUAL(n, 15);
    for (int i = 0; i < 32; i++)
        oe_health_record(&h, 0);
    CU_ASSERT_FALSE(oe_health_failing(&h));
}

static void test_rate(void)
{
    oe_rate r;
    int64_t t = 1000000000LL;
    oe_rate_init(&r, 10, t);
    int allowed = 0;
    /* Over 1 simulated second starting with one token: 1 + 10 starts. */
    for (int64_t ns = 0; ns <= 1000000000LL; ns += 1000000LL)
        if (oe_rate_take(&r, t + ns) == 0)
            allowed++;
    CU_ASSERT(allowed >= 10 && allowed <= 11);
    CU_ASSERT(oe_rate_take(&r, t + 1000000000LL) > 0);
    oe_rate_init(&r, 0, t);
    CU_ASSERT_EQUAL(oe_rate_take(&r, t), 0);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"retryable status sets", test_status_sets},
        {"Retry-After seconds and HTTP-date", test_retry_after},
        {"backoff is full jitter under the cap", test_backoff_bounds},
        {"adaptive concurrency AIMD", test_aimd},
        {"AIMD: a few failures are no congestion", test_aimd_failures},
        {"health: most recent requests failing", test_health},
        {"rate limit token bucket", test_rate},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_retry", cases);
}
