/*
 * Fuzz target: every enricher_parse format on arbitrary lines. The first
 * byte picks the format; the rest is the line. Parsers are built once and
 * reused from line to line, as the plugin does, so state left behind by a
 * bad line is exercised too.
 *
 * Every field a successful parse produces must be one complete msgpack value
 * (the plugin copies them into the batch verbatim) that encodes to JSON.
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

static void check_fields(const pf_out *o)
{
    sl_buf js = {0};
    for (uint32_t i = 0; i < o->n; i++) {
        size_t klen, vlen;
        (void)pf_key(o, i, &klen);
        const uint8_t *v = pf_val(o, i, &vlen);
        const uint8_t *p = v;
        sl_value val;
        if (sl_read_value(&p, v + vlen, &val) != 0 || p != v + vlen)
            die("field", "value is not one complete msgpack value");
        js.len = 0;
        if (sl_json_value(&js, &val) != 0)
            die("field", "value does not encode to JSON");
    }
    sl_buf_free(&js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pline parsers[NFORMATS];
    static pf_out out;
    static int ready;
    if (!ready) {
        for (int f = 0; f < NFORMATS; f++)
            setup(&parsers[f], (pline_format)f);
        pf_init(&out);
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
        check_fields(&out);
    free(line);
    return 0;
}
