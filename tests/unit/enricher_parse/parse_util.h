/* Test helper: parsed fields rendered as one JSON object, to compare whole. */
#ifndef PARSE_UTIL_H
#define PARSE_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "pfields.h"
#include "sluice/event.h"
#include "sluice/json.h"

/* Field i's value packed as the plugin packs it, read back into *v (which
 * points into bb until bb changes). 0 or -1. */
static inline int field_value(const pf_out *o, uint32_t i, sl_builder *bb, sl_value *v)
{
    size_t len;
    sl_bb_reset(bb);
    if (pf_pack_value(o, i, bb) != 0)
        return -1;
    const uint8_t *p = sl_bb_data(bb, &len);
    return sl_read_value(&p, p + len, v) == 0 && p == sl_bb_data(bb, NULL) + len ? 0 : -1;
}

/* {"key":value,...} of every field in order; caller frees. NULL on error. */
static inline char *fields_json(const pf_out *o)
{
    sl_buf b = {0};
    sl_builder *bb = sl_bb_new();
    int rc = !bb || sl_buf_puts(&b, "{");
    for (uint32_t i = 0; !rc && i < o->n; i++) {
        size_t kn;
        const char *k = pf_key(o, i, &kn);
        sl_value val;
        if (i)
            rc |= sl_buf_puts(&b, ",");
        rc |= sl_json_str(&b, k, kn);
        rc |= sl_buf_puts(&b, ":");
        rc |= field_value(o, i, bb, &val) || sl_json_value(&b, &val);
    }
    rc |= sl_buf_append(&b, "}", 2);
    sl_bb_free(bb);
    if (rc) {
        sl_buf_free(&b);
        return NULL;
    }
    return b.data;
}

#endif
