/* Line splitting of the tail source: offsets, CRLF, partial lines, limits. */
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "sl_test.h"

typedef struct got {
    char text[16][64];
    uint64_t start[16], end[16];
    int status[16];
    int n;
    int stop_after; /* stop the feed after this many lines (0 = never) */
} got;

static int collect(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                   int status)
{
    got *g = ud;
    if (g->n >= 16 || len >= 64)
        return -5;
    memcpy(g->text[g->n], p, len);
    g->text[g->n][len] = '\0';
    g->start[g->n] = start;
    g->end[g->n] = end;
    g->status[g->n] = status;
    g->n++;
    return g->stop_after && g->n == g->stop_after ? 7 : 0;
}

static void test_offsets_and_crlf(void)
{
    tail_lines l;
    got g = {0};
    tail_lines_init(&l, 100, 0, 1000);
    const char *in = "ab\ncd\r\n\nlast";
    CU_ASSERT_EQUAL(tail_lines_feed(&l, in, strlen(in), collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 3);
    CU_ASSERT_STRING_EQUAL(g.text[0], "ab");
    CU_ASSERT_EQUAL(g.start[0], 1000);
    CU_ASSERT_EQUAL(g.end[0], 1003);
    CU_ASSERT_STRING_EQUAL(g.text[1], "cd");
    CU_ASSERT_EQUAL(g.start[1], 1003);
    CU_ASSERT_EQUAL(g.end[1], 1007);
    CU_ASSERT_STRING_EQUAL(g.text[2], "");
    CU_ASSERT_EQUAL(g.end[2], 1008);
    CU_ASSERT(tail_lines_partial(&l));
    /* The held "last" completes across chunks, "\r" split from its "\n". */
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "-x\r", 3, collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 3);
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "\nz", 2, collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 4);
    CU_ASSERT_STRING_EQUAL(g.text[3], "last-x");
    CU_ASSERT_EQUAL(g.start[3], 1008);
    CU_ASSERT_EQUAL(g.end[3], 1016);
    /* finish hands over the unterminated tail, ending at the end fed. */
    CU_ASSERT_EQUAL(tail_lines_finish(&l, collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 5);
    CU_ASSERT_STRING_EQUAL(g.text[4], "z");
    CU_ASSERT_EQUAL(g.start[4], 1016);
    CU_ASSERT_EQUAL(g.end[4], 1017);
    CU_ASSERT(!tail_lines_partial(&l));
    CU_ASSERT_EQUAL(tail_lines_finish(&l, collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 5);
    tail_lines_free(&l);
}

static void test_long_lines(void)
{
    tail_lines l;
    got g = {0};
    tail_lines_init(&l, 4, 0, 0);
    /* Exactly max_line plus "\r\n" is not truncated; longer lines are, even
     * when they arrive in pieces. */
    const char *in = "abcd\r\nabcdefgh\nxy";
    CU_ASSERT_EQUAL(tail_lines_feed(&l, in, strlen(in), collect, &g), 0);
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "zzzzzzzzzz", 10, collect, &g), 0);
    CU_ASSERT(l.hold_cap <= 5); /* memory bounded by max_line + 1 */
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "\n", 1, collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 3);
    CU_ASSERT_STRING_EQUAL(g.text[0], "abcd");
    CU_ASSERT_EQUAL(g.status[0], LINE_WHOLE);
    CU_ASSERT_STRING_EQUAL(g.text[1], "abcd");
    CU_ASSERT_EQUAL(g.status[1], LINE_TRUNCATED);
    CU_ASSERT_STRING_EQUAL(g.text[2], "xyzz");
    CU_ASSERT_EQUAL(g.status[2], LINE_TRUNCATED);
    CU_ASSERT_EQUAL(g.end[2], 28);
    tail_lines_free(&l);

    got s = {0};
    tail_lines_init(&l, 4, 1, 0);
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "abcdefg\nok\n", 11, collect, &s), 0);
    CU_ASSERT_EQUAL(s.n, 2);
    CU_ASSERT_EQUAL(s.status[0], LINE_SKIPPED);
    CU_ASSERT_STRING_EQUAL(s.text[0], "");
    CU_ASSERT_EQUAL(s.end[0], 8); /* a skipped line still moves the offset */
    CU_ASSERT_STRING_EQUAL(s.text[1], "ok");
    tail_lines_free(&l);
}

static void test_stop_and_reset(void)
{
    tail_lines l;
    got g = {.stop_after = 1};
    tail_lines_init(&l, 100, 0, 0);
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "a\nb\n", 4, collect, &g), 7);
    CU_ASSERT_EQUAL(g.n, 1);
    tail_lines_feed(&l, "partial", 7, collect, &g);
    tail_lines_reset(&l, 0); /* truncation: the held bytes are gone */
    CU_ASSERT(!tail_lines_partial(&l));
    g.stop_after = 0;
    CU_ASSERT_EQUAL(tail_lines_feed(&l, "new\n", 4, collect, &g), 0);
    CU_ASSERT_EQUAL(g.n, 2);
    CU_ASSERT_STRING_EQUAL(g.text[1], "new");
    CU_ASSERT_EQUAL(g.start[1], 0);
    CU_ASSERT_EQUAL(g.end[1], 4);
    tail_lines_free(&l);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"offsets, CRLF, held partial line, finish", test_offsets_and_crlf},
        {"long lines truncated or skipped, bounded memory", test_long_lines},
        {"callback stops the feed; reset drops the partial line", test_stop_and_reset},
        {NULL, NULL},
    };
    return sl_test_run("tail_lines", cases);
}
