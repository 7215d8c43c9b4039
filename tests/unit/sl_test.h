/* Shared CUnit runner: a test file defines its suites and calls sl_test_run. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <CUnit/Basic.h>
#include <stdio.h>

typedef struct sl_test_case {
    const char *name;
    void (*fn)(void);
} sl_test_case;

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
