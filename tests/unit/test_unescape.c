/*
 * support/unescape.c: hex digits, JSON \u escapes with their surrogate
 * pairs (and the lone surrogates each reader then rejects or replaces), and
 * UTF-8 at every length boundary.
 */
#include <string.h>

#include "sl_test.h"
#include "unescape.h"

static int uesc(const char *digits, uint32_t *cp)
{
    return sl_json_uescape(digits, digits + strlen(digits), cp);
}

static void test_hexval(void)
{
    const char *lower = "0123456789abcdef", *upper = "0123456789ABCDEF";
    for (int i = 0; i < 16; i++) {
        CU_ASSERT_EQUAL(sl_hexval(lower[i]), i);
        CU_ASSERT_EQUAL(sl_hexval(upper[i]), i);
    }
    CU_ASSERT_EQUAL(sl_hexval('g'), -1);
    CU_ASSERT_EQUAL(sl_hexval('/'), -1);
    CU_ASSERT_EQUAL(sl_hexval(':'), -1);
    CU_ASSERT_EQUAL(sl_hexval('@'), -1);
    CU_ASSERT_EQUAL(sl_hexval((char)0xE9), -1); /* a high byte as a signed char */
}

static void test_uescape(void)
{
    uint32_t cp = 0;
    CU_ASSERT_EQUAL(uesc("00e9rest", &cp), 4);
    CU_ASSERT_EQUAL(cp, 0xE9);
    CU_ASSERT_EQUAL(uesc("D83D\\uDE00", &cp), 10); /* a pair: U+1F600 */
    CU_ASSERT_EQUAL(cp, 0x1F600);
    CU_ASSERT_EQUAL(uesc("d83d\\ude00", &cp), 10);
    CU_ASSERT_EQUAL(cp, 0x1F600);
    CU_ASSERT_EQUAL(uesc("DBFF\\uDFFF", &cp), 10);
    CU_ASSERT_EQUAL(cp, 0x10FFFF);
    /* lone surrogates come back as they are, 4 bytes read */
    CU_ASSERT_EQUAL(uesc("D83D", &cp), 4);
    CU_ASSERT_EQUAL(cp, 0xD83D);
    CU_ASSERT_EQUAL(uesc("D83D\\u0041", &cp), 4); /* not a low one after it */
    CU_ASSERT_EQUAL(cp, 0xD83D);
    CU_ASSERT_EQUAL(uesc("D83D\\uDE0", &cp), 4);  /* a truncated low one */
    CU_ASSERT_EQUAL(uesc("D83Dx\\uDE00", &cp), 4);
    CU_ASSERT_EQUAL(uesc("DE00\\uD83D", &cp), 4); /* a low one first */
    CU_ASSERT_EQUAL(cp, 0xDE00);
    CU_ASSERT(sl_is_surrogate(cp));
    /* too short or not hex */
    CU_ASSERT_EQUAL(uesc("12", &cp), -1);
    CU_ASSERT_EQUAL(uesc("12g4", &cp), -1);
    CU_ASSERT_EQUAL(uesc("", &cp), -1);
}

static void test_utf8(void)
{
    static const struct {
        uint32_t cp;
        const char *bytes;
    } cases[] = {
        {0x41, "A"},
        {0x7F, "\x7F"},
        {0x80, "\xC2\x80"},
        {0x7FF, "\xDF\xBF"},
        {0x800, "\xE0\xA0\x80"},
        {0xFFFD, "\xEF\xBF\xBD"},
        {0xFFFF, "\xEF\xBF\xBF"},
        {0x10000, "\xF0\x90\x80\x80"},
        {0x1F600, "\xF0\x9F\x98\x80"},
        {0x10FFFF, "\xF4\x8F\xBF\xBF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[4];
        size_t n = sl_utf8_put(cases[i].cp, out);
        CU_ASSERT_EQUAL(n, strlen(cases[i].bytes));
        CU_ASSERT(memcmp(out, cases[i].bytes, n) == 0);
    }
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"hex digit values, both cases, and non-digits", test_hexval},
        {"\\u escapes: pairs, lone surrogates, short or bad digits", test_uescape},
        {"UTF-8 at every length boundary", test_utf8},
        {NULL, NULL},
    };
    return sl_test_run("unescape", cases);
}
