/* The --once progress line: units, percentage, rates and ETA. */
#include <string.h>

#include "progress.h"
#include "sl_test.h"

#define GIB ((uint64_t)1 << 30)

static void test_bytes(void)
{
    char b[32];
    tail_progress_bytes(b, sizeof b, 0);
    CU_ASSERT_STRING_EQUAL(b, "0 B");
    tail_progress_bytes(b, sizeof b, 1023);
    CU_ASSERT_STRING_EQUAL(b, "1023 B");
    tail_progress_bytes(b, sizeof b, 1536);
    CU_ASSERT_STRING_EQUAL(b, "1.5 KiB");
    tail_progress_bytes(b, sizeof b, 2 * GIB);
    CU_ASSERT_STRING_EQUAL(b, "2.0 GiB");
    tail_progress_bytes(b, sizeof b, UINT64_MAX);
    CU_ASSERT_STRING_EQUAL(b, "16384.0 PiB");
}

static void test_running(void)
{
    char b[160];
    /* Half of 2 GiB in 2 s: 2 s to go. */
    int n = tail_progress_format(b, sizeof b, GIB, 2 * GIB, 7800000, 2.0, 0);
    CU_ASSERT_STRING_EQUAL(b, "tail: 1.0 GiB / 2.0 GiB (50%), 7.80M lines, 3.90M lines/s, ETA 0:02");
    CU_ASSERT_EQUAL((size_t)n, strlen(b));
    /* Slow: 1 MiB of 4 GiB per 10 s is about 11.4 hours left. */
    tail_progress_format(b, sizeof b, 1 << 20, 4 * GIB, 9500, 10.0, 0);
    CU_ASSERT_STRING_EQUAL(b, "tail: 1.0 MiB / 4.0 GiB (0%), 9500 lines, 950 lines/s, ETA 11:22:30");
    /* Nothing read yet: no rate, no ETA. */
    tail_progress_format(b, sizeof b, 0, 1000, 0, 0.0, 0);
    CU_ASSERT_STRING_EQUAL(b, "tail: 0 B / 1000 B (0%), 0 lines, 0 lines/s, ETA --:--");
}

static void test_edges(void)
{
    char b[160];
    /* Files grew past what was known: never above 100%. */
    tail_progress_format(b, sizeof b, 3000, 2000, 12345, 1.0, 0);
    CU_ASSERT_STRING_EQUAL(b, "tail: 2.9 KiB / 2.9 KiB (100%), 12.3k lines, 12.3k lines/s, ETA 0:00");
    /* No files at all. */
    tail_progress_format(b, sizeof b, 0, 0, 0, 0.5, 1);
    CU_ASSERT_STRING_EQUAL(b, "tail: 0 B / 0 B (100%), 0 lines, 0 lines/s, done in 0.5 s");
    /* A short buffer is cut, the full length is still returned. */
    char s[8];
    int n = tail_progress_format(s, sizeof s, 0, 0, 0, 0.5, 1);
    CU_ASSERT_STRING_EQUAL(s, "tail: 0");
    CU_ASSERT(n > 8);
}

static void test_final(void)
{
    char b[160];
    tail_progress_format(b, sizeof b, 2 * GIB, 2 * GIB, 7800000, 1.26, 1);
    CU_ASSERT_STRING_EQUAL(b, "tail: 2.0 GiB / 2.0 GiB (100%), 7.80M lines, 6.19M lines/s, done in 1.3 s");
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"byte sizes in binary units", test_bytes},
        {"a running line: percent, rate, ETA", test_running},
        {"grown files, no files, short buffer", test_edges},
        {"the final line", test_final},
        {NULL, NULL},
    };
    return sl_test_run("tail_progress", cases);
}
