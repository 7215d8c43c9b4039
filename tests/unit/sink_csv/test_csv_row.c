/* sink_csv: RFC 4180 quoting, value formatting, rows and headers. */
#include <string.h>

#include "csvrow.h"
#include "sl_test.h"

#define T0 1764427031123456789LL /* 2025-11-29T14:37:11.123456789Z */

/* One event: body {s: "a,b", q: 'say "hi"', n: -7, u: 42, f: 1.5, t: true,
 * z: nil, l: [1,2], nl: "x\ny"}. */
static sl_builder *make_event(void)
{
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_FATAL(bb != NULL);
    sl_bb_begin(bb, T0);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 9);
    sl_bb_cstr(bb, "s"), sl_bb_cstr(bb, "a,b");
    sl_bb_cstr(bb, "q"), sl_bb_cstr(bb, "say \"hi\"");
    sl_bb_cstr(bb, "n"), sl_bb_int(bb, -7);
    sl_bb_cstr(bb, "u"), sl_bb_uint(bb, 42);
    sl_bb_cstr(bb, "f"), sl_bb_double(bb, 1.5);
    sl_bb_cstr(bb, "t"), sl_bb_bool(bb, 1);
    sl_bb_cstr(bb, "z"), sl_bb_nil(bb);
    sl_bb_cstr(bb, "l"), sl_bb_array(bb, 2), sl_bb_int(bb, 1), sl_bb_int(bb, 2);
    sl_bb_cstr(bb, "nl"), sl_bb_cstr(bb, "x\ny");
    CU_ASSERT_EQUAL_FATAL(sl_bb_end(bb), 0);
    return bb;
}

static void row_is(const char *const *cols, size_t n, char delim, const char *want)
{
    sl_builder *bb = make_event();
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_event ev;
    sl_buf out = {0}, scratch = {0};
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, &ev), 1);
    CU_ASSERT_EQUAL(csv_row(&out, &ev, cols, n, delim, &scratch), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out.data);
    CU_ASSERT_EQUAL(out.len, strlen(want));
    CU_ASSERT_NSTRING_EQUAL(out.data, want, strlen(want));
    if (out.len != strlen(want) || memcmp(out.data, want, out.len))
        fprintf(stderr, "got  [%.*s]\nwant [%s]\n", (int)out.len, out.data, want);
    sl_buf_free(&out);
    sl_buf_free(&scratch);
    sl_bb_free(bb);
}

static void test_quoting(void)
{
    static const char *const cols[] = {"s", "q", "nl", "missing"};
    row_is(cols, 4, ',', "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\n");
}

static void test_types(void)
{
    static const char *const cols[] = {"n", "u", "f", "t", "z", "l"};
    row_is(cols, 6, ',', "-7,42,1.5,true,,\"[1,2]\"\n");
}

static void test_delimiter_and_time(void)
{
    static const char *const cols[] = {"@time", "s", "l"};
    row_is(cols, 3, ';', "2025-11-29T14:37:11.123456789Z;a,b;[1,2]\n");
}

static void test_header(void)
{
    static const char *const cols[] = {"id", "name, full", "@time"};
    sl_buf out = {0};
    CU_ASSERT_EQUAL(csv_header(&out, cols, 3, ','), 0);
    CU_ASSERT_NSTRING_EQUAL(out.data, "id,\"name, full\",@time\n", out.len);
    sl_buf_free(&out);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"fields quoted only when needed, quotes doubled", test_quoting},
        {"ints, floats, booleans, nil, arrays", test_types},
        {"other delimiter, @time column", test_delimiter_and_time},
        {"header row", test_header},
        {NULL, NULL},
    };
    return sl_test_run("csv_row", cases);
}
