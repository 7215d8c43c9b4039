/* support/grow.c: doubling, jumps to a large need, and refusal on overflow. */
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"
#include "sl_test.h"

static void test_doubles_from_first(void)
{
    size_t cap = 0;
    int *v = sl_grow(NULL, 1, &cap, sizeof *v, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(cap, 8);
    CU_ASSERT_PTR_EQUAL(sl_grow(v, 8, &cap, sizeof *v, 8), v); /* room: unchanged */
    CU_ASSERT_EQUAL(cap, 8);
    for (int i = 0; i < 8; i++)
        v[i] = i;
    v = sl_grow(v, 9, &cap, sizeof *v, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(cap, 16);
    CU_ASSERT_EQUAL(v[7], 7); /* contents kept */
    v = sl_grow(v, 100, &cap, sizeof *v, 8); /* a jump: doubled until it fits */
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(cap, 128);
    free(v);
}

static void test_overflow_refused(void)
{
    size_t cap = 0;
    char *v = sl_grow(NULL, 16, &cap, 1, 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_PTR_NULL(sl_grow(v, SIZE_MAX, &cap, 1, 16));      /* count overflows */
    CU_ASSERT_PTR_NULL(sl_grow(v, SIZE_MAX / 4, &cap, 64, 16)); /* bytes overflow */
    CU_ASSERT_EQUAL(cap, 16); /* unchanged, v still the caller's */
    v[15] = 'x';
    free(v);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"doubles from the first capacity, keeps contents, jumps to a need",
         test_doubles_from_first},
        {"refuses sizes that overflow, leaving the array as it was", test_overflow_refused},
        {NULL, NULL},
    };
    return sl_test_run("grow", cases);
}
