/* Shared CUnit runner: a test file defines its suites and calls sl_test_run. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <time.h>

typedef struct sl_test_case {
    const char *name;
    void (*fn)(void);
} sl_test_case;

static inline long long sl_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sl_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* How long a test waits for something that must happen. Generous: only a
 * bug reaches it, so it costs nothing on a healthy run. */
#define SL_TEST_WAIT_MS 30000

/*
 * SL_WAIT_UNTIL(cond): poll cond every millisecond until it holds or
 * SL_TEST_WAIT_MS passed; assert it afterwards. A test never sleeps for a
 * while and then asserts that something happened: on a busy machine it may
 * not have happened yet. (Sleeping and then asserting that something did
 * NOT happen is fine: load can only hide a bug there, never invent one.)
 */
#define SL_WAIT_UNTIL(cond)                                                                   \
    for (long long sl_deadline_ = sl_test_now_ms() + SL_TEST_WAIT_MS;                         \
         !(cond) && sl_test_now_ms() < sl_deadline_;)                                         \
        sl_test_sleep_ms(1)

/* Runs one suite of NULL-terminated cases; exit code = failures (capped). */
static inline int sl_test_run(const char *suite, const sl_test_case *cases)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (const sl_test_case *c = cases; s && c->name; c++)
        CU_add_test(s, c->name, c->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "%s: no test ran\n", suite);
        return 2;
    }
    return failed ? 1 : 0;
}

#endif
