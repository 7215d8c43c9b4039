/*
 * Fuzz target: every enricher_parse format on arbitrary lines. The first
 * byte picks the format; the rest is the line. Parsers are built once and
 * reused from line to line, as the plugin does, so state left behind by a
 * bad line is exercised too.
 *
 * Every field a successful parse produces must pack (as the plugin packs it,
 * pf_pack_value) into one complete value that encodes to JSON, and all of
 * them together into a well-formed event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pline.h"
#include "sluice/event.h"
#include "sluice/json.h"

#define NFORMATS 6

static const char *const rx_pattern =
    "^(?<ip>\\S+) \\[(?<time>[^\\]]+)\\] \"(?<request>[^\"]*)\" (?<status>\\d+)"
    "(?: (?<bytes>\\d+|-))?(?: \"(?<ua>[^\"]*)\")?$";

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_parse: %s: %s\n", what, err);
    abort();
}

static void setup(pline *p, pline_format f)
{
    char err[256] = "";
    int keyed = f == PL_JSON || f == PL_REGEX || f == PL_LOGFMT;
    if (pline_init(p, f, f == PL_REGEX ? rx_pattern : NULL,
                   f == PL_REGEX ? "%d/%b/%Y:%H:%M:%S %z" : NULL, keyed ? "time" : NULL,
                   keyed ? "request" : NULL, err, sizeof err) != 0)
        die("pline_init", err);
    if (!keyed)
        return;
    static const char *const casts[][2] = {
        {"status", "int"}, {"bytes", "int"}, {"f", "float"}, {"b", "bool"}, {"s", "string"}};
    for (size_t i = 0; i < sizeof casts / sizeof casts[0]; i++)
        if (pline_add_cast(p, casts[i][0], casts[i][1], err, sizeof err) != 0)
            die("pline_add_cast", err);
}

static void check_fields(const pf_out *o, sl_builder *bb)
{
    sl_buf js = {0};
    for (uint32_t i = 0; i < o->n; i++) {
        size_t klen, vlen;
        (void)pf_key(o, i, &klen);
        sl_bb_reset(bb);
        if (pf_pack_value(o, i, bb) != 0)
            die("field", "value does not pack");
        const uint8_t *v = sl_bb_data(bb, &vlen), *p = v;
        sl_value val;
        if (sl_read_value(&p, v + vlen, &val) != 0 || p != v + vlen)
            die("field", "value is not one complete msgpack value");
        js.len = 0;
        if (sl_json_value(&js, &val) != 0)
            die("field", "value does not encode to JSON");
    }
    sl_buf_free(&js);
    /* the whole body, as the plugin writes it */
    sl_bb_reset(bb);
    sl_bb_begin(bb, 0);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, o->n);
    for (uint32_t i = 0; i < o->n; i++) {
        size_t klen;
        const char *k = pf_key(o, i, &klen);
        sl_bb_str(bb, k, klen);
        pf_pack_value(o, i, bb);
    }
    if (sl_bb_end(bb) != 0 || sl_bb_count(bb) != 1)
        die("event", "the fields do not make an event");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pline parsers[NFORMATS];
    static pf_out out;
    static sl_builder *bb;
    static int ready;
    if (!ready) {
        for (int f = 0; f < NFORMATS; f++)
            setup(&parsers[f], (pline_format)f);
        if (pf_init(&out) != 0 || !(bb = sl_bb_new()))
            die("setup", "out of memory");
        ready = 1;
    }
    if (size < 1)
        return 0;
    pline *p = &parsers[data[0] % NFORMATS];
    /* A private copy of exactly the line, so a read past it is caught. */
    size_t n = size - 1;
    char *line = malloc(n ? n : 1);
    if (!line)
        return 0;
    memcpy(line, data + 1, n);
    int64_t ns = 0;
    int has_time = 0;
    char err[256];
    if (pline_parse(p, line, n, &out, &ns, &has_time, err, sizeof err) == 0)
        check_fields(&out, bb);
    free(line);
    return 0;
}
