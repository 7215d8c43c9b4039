/* Test helper: parsed fields rendered as one JSON object, to compare whole. */
#ifndef PARSE_UTIL_H
#define PARSE_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "pfields.h"
#include "sluice/json.h"

/* {"key":value,...} of every field in order; caller frees. NULL on error. */
static inline char *fields_json(const pf_out *o)
{
    sl_buf b = {0};
    int rc = sl_buf_puts(&b, "{");
    for (uint32_t i = 0; i < o->n; i++) {
        size_t kn, vn;
        const char *k = pf_key(o, i, &kn);
        const uint8_t *v = pf_val(o, i, &vn);
        sl_value val;
        if (i)
            rc |= sl_buf_puts(&b, ",");
        rc |= sl_json_str(&b, k, kn);
        rc |= sl_buf_puts(&b, ":");
        rc |= sl_read_value(&v, v + vn, &val);
        rc |= sl_json_value(&b, &val);
    }
    rc |= sl_buf_append(&b, "}", 2);
    if (rc) {
        sl_buf_free(&b);
        return NULL;
    }
    return b.data;
}

#endif
