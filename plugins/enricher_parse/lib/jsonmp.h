/*
 * One JSON object (a line of a JSON log) into parsed fields: each top-level
 * member becomes a field, nested objects and arrays are kept as maps and
 * arrays (encoded into the fields' scratch builder). Strict RFC 8259: no
 * comments, no trailing commas, no NaN.
 */
#ifndef JSONMP_H
#define JSONMP_H

#include <stddef.h>
#include <stdint.h>

#include "pfields.h"

/* Deepest nesting accepted (the line's object is level 1); deeper input is an error, not a stack overflow. */
#define JSONMP_MAX_DEPTH 64

/* Reusable scratch: the item counts of containers, found in a first pass
 * because an encoded container starts with its size. */
typedef struct jsonmp {
    uint32_t *counts;
    size_t cap;
} jsonmp;

void jsonmp_free(jsonmp *j);

/* Parse s[0..n) (one object, surrounding whitespace allowed) into fields.
 * Returns 0, or -1 with the reason (and byte offset) in err. */
int jsonmp_fields(jsonmp *j, const char *s, size_t n, pf_out *o, char *err, size_t errlen);

#endif
