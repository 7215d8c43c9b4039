/*
 * Field type casting (`types: {status: int, rt: float}`) on parsed fields.
 */
#ifndef CAST_H
#define CAST_H

#include <stddef.h>

#include "pfields.h"

typedef enum cast_type {
    CAST_INT = 1,
    CAST_FLOAT,
    CAST_BOOL,
    CAST_STRING,
} cast_type;

/* "int"/"integer", "float"/"double", "bool"/"boolean", "string". 0 or -1. */
int cast_type_parse(const char *name, cast_type *out);

/*
 * Convert field i to type t. Strings are parsed strictly (the whole text);
 * numbers and booleans convert where it is exact. Returns 0, or -1 with the
 * reason (naming the field and value) in err.
 */
int cast_field(pf_out *o, uint32_t i, cast_type t, char *err, size_t errlen);

#endif
