/*
 * Fuzz target: the event helpers of sluice/event.h and sluice/json.h on
 * arbitrary msgpack, as a plugin's output reaches the core. The first byte
 * is the batch's event count, the rest its bytes.
 *
 * Beyond "no crash", the readers must agree with each other: a batch that
 * sl_batch_validate accepts yields exactly `count` events through
 * sl_batch_next, each spanning its bytes; a value re-packed with
 * sl_pack_value reads back to the same encoding.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sluice/event.h"
#include "sluice/json.h"

#define MAX_WALK_DEPTH 32

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Visit every item below v with sl_iter, as a sink walking a body would. */
static void walk(const sl_value *v, int depth)
{
    if ((v->type != SL_ARRAY && v->type != SL_MAP) || depth > MAX_WALK_DEPTH)
        return;
    sl_iter it;
    if (sl_iter_init(&it, v) != 0)
        return;
    sl_value k, val;
    int r;
    while ((r = sl_iter_next(&it, v->type == SL_MAP ? &k : NULL, &val)) == 1) {
        check(val.raw >= v->raw && val.raw + val.raw_len <= v->raw + v->raw_len);
        int64_t i;
        (void)sl_value_to_int(&val, &i);
        walk(&val, depth + 1);
    }
}

/* Through a scratch builder and back: the builder takes exactly one value. */
static void repack(const sl_value *v)
{
    sl_builder *sb = sl_bb_new();
    if (sb && sl_bb_value(sb, v) == 0) {
        size_t len;
        const uint8_t *p = sl_bb_data(sb, &len), *end = p + len;
        sl_value back;
        check(sl_read_value(&p, end, &back) == 0 && p == end);
        check(back.type == v->type && back.raw_len == v->raw_len);
    }
    sl_bb_free(sb);
}

/* Every value of the buffer, one after another, to JSON and back to msgpack. */
static void values(const uint8_t *p, const uint8_t *end)
{
    sl_buf js = {0};
    sl_value v;
    while (p < end && sl_read_value(&p, end, &v) == 0) {
        check(v.raw_len > 0 && p <= end);
        js.len = 0;
        (void)sl_json_value(&js, &v);
        walk(&v, 0);
        repack(&v);
        sl_value got;
        (void)sl_map_gets(&v, "a", &got);
        (void)sl_value_eq(&v, "a");
    }
    sl_buf_free(&js);
}

static void events(const sl_batch *b)
{
    static const sl_time_format fmts[] = {SL_TIME_RFC3339, SL_TIME_UNIX, SL_TIME_UNIX_MS,
                                          SL_TIME_UNIX_NS};
    char err[256];
    int valid = sl_batch_validate(b, err, sizeof err) == 0;
    sl_batch_iter it;
    sl_batch_iter_init(&it, b);
    sl_event ev;
    sl_buf line = {0};
    uint32_t n = 0;
    size_t bytes = 0;
    int r;
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        check(ev.meta.type == SL_MAP && ev.body.type == SL_MAP);
        n++;
        bytes += ev.raw_len;
        line.len = 0;
        (void)sl_json_event_line(&line, &ev, n % 2 ? "time" : NULL, fmts[n % 4]);
        walk(&ev.meta, 0);
        walk(&ev.body, 0);
    }
    sl_buf_free(&line);
    if (valid)
        check(r == 0 && n == b->count && bytes == b->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* A private copy, so a read past the end is caught by ASan. */
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    sl_batch b = {buf, size - 1, data[0]};
    events(&b);
    values(buf, buf + size - 1);
    free(buf);
    return 0;
}
