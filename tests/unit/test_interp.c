/* ${VAR} interpolation. */
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "sl_test.h"

static void setup_env(void)
{
    setenv("SLT_HOST", "example.com", 1);
    setenv("SLT_EMPTY", "", 1);
    setenv("SLT_PORT", "8080", 1);
    unsetenv("SLT_UNSET");
    unsetenv("SLT_UNSET2");
}

typedef struct ok_case {
    const char *in, *out;
} ok_case;

static void test_ok(void)
{
    static const ok_case cases[] = {
        {"", ""},
        {"plain text", "plain text"},
        {"${SLT_HOST}", "example.com"},
        {"http://${SLT_HOST}:${SLT_PORT}/x", "http://example.com:8080/x"},
        {"${SLT_UNSET:-fallback}", "fallback"},
        {"${SLT_EMPTY:-fallback}", "fallback"},
        {"${SLT_HOST:-fallback}", "example.com"},
        {"${SLT_UNSET:-x}y", "xy"},
        {"${SLT_UNSET:-}", ""},
        {"${SLT_UNSET:-${SLT_HOST}}", "example.com"},
        {"${SLT_UNSET:-${SLT_UNSET2:-deep}}!", "deep!"},
        {"${SLT_UNSET:-a:b-c}", "a:b-c"},
        {"${SLT_HOST:?must be set}", "example.com"},
        {"${SLT_EMPTY}", ""},
        {"$$", "$"},
        {"cost: $$5", "cost: $5"},
        {"$${SLT_HOST}", "${SLT_HOST}"},
        {"$5 and $ alone and a$b", "$5 and $ alone and a$b"},
        {"trailing $", "trailing $"},
        {"}{", "}{"},
        /* an unused default is not evaluated, like the shell */
        {"${SLT_HOST:-${SLT_UNSET}}", "example.com"},
    };
    setup_env();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, err[256];
        size_t len = 99;
        int rc = sl_interpolate(cases[i].in, strlen(cases[i].in), &out, &len, err, sizeof err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(out, cases[i].out);
        CU_ASSERT_EQUAL(len, strlen(cases[i].out));
        if (rc != 0 || strcmp(out, cases[i].out) != 0)
            fprintf(stderr, "case %zu: '%s' -> '%s' (%s)\n", i, cases[i].in, out ? out : "", err);
        free(out);
    }
}

static void test_length_bound(void)
{
    /* Only `len` bytes are read: the reference after it is not expanded. */
    const char *in = "abc${SLT_UNSET}";
    char *out = NULL, err[128];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sl_interpolate(in, 3, &out, &len, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(out, "abc");
    free(out);
}

typedef struct bad_case {
    const char *in, *err;
} bad_case;

static void test_errors(void)
{
    static const bad_case cases[] = {
        {"${SLT_UNSET}",
         "environment variable SLT_UNSET is not set (use ${SLT_UNSET:-default} for a default)"},
        {"a ${SLT_HOST} ${SLT_UNSET} b",
         "environment variable SLT_UNSET is not set (use ${SLT_UNSET:-default} for a default)"},
        {"${SLT_UNSET:?set it to the API token}", "SLT_UNSET: set it to the API token"},
        {"${SLT_EMPTY:?needed}", "SLT_EMPTY: needed"},
        {"${SLT_UNSET:?}", "environment variable SLT_UNSET is not set or empty"},
        {"${SLT_UNSET:-${SLT_UNSET2}}",
         "environment variable SLT_UNSET2 is not set (use ${SLT_UNSET2:-default} for a default)"},
        {"${SLT_HOST", "unterminated ${SLT_HOST (missing '}')"},
        {"x ${SLT_UNSET:-abc", "unterminated ${SLT_UNSET (missing '}')"},
        {"${}", "bad variable reference '${}'"},
        {"${1ABC}", "bad variable reference '${1ABC}'"},
        {"${A B}", "bad variable reference '${A B}'"},
        {"${A-b}", "bad variable reference '${A-b}'"},
        {"${A:b}", "bad variable reference '${A:b}'"},
        {"${A.B}", "bad variable reference '${A.B}'"},
    };
    setup_env();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = (char *)"sentinel", err[256] = "";
        size_t len;
        int rc = sl_interpolate(cases[i].in, strlen(cases[i].in), &out, &len, err, sizeof err);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_PTR_NULL(out);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].err));
        if (rc != -1 || !strstr(err, cases[i].err))
            fprintf(stderr, "case %zu: '%s' gave '%s'\n", i, cases[i].in, err);
    }
}

static void test_nesting_bound(void)
{
    /* Deeply nested defaults must fail cleanly, not exhaust the stack. */
    char in[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(in, "${SLT_UNSET:-");
    strcat(in, "x");
    for (int i = 0; i < 100; i++)
        strcat(in, "}");
    char *out = NULL, err[256];
    size_t len;
    setup_env();
    CU_ASSERT_EQUAL(sl_interpolate(in, strlen(in), &out, &len, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nested deeper than"));
}

static void test_embedded_nul(void)
{
    char *out = NULL, err[64];
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(sl_interpolate("a\0b", 3, &out, &len, err, sizeof err), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(out, "a\0b", 4), 0);
    free(out);
}

static const sl_test_case cases[] = {
    {"substitutions", test_ok},
    {"reads only len bytes", test_length_bound},
    {"errors name the variable", test_errors},
    {"nesting is bounded", test_nesting_bound},
    {"embedded NUL kept", test_embedded_nul},
    {0},
};

int main(void)
{
    return sl_test_run("interp", cases);
}
