/*
 * The `regex` format: a PCRE2 pattern (JIT-compiled when the platform
 * allows) whose named groups become fields. A line that costs the pattern
 * more than rxlimit.h's limits does not parse, and is counted.
 */
#ifndef RXFMT_H
#define RXFMT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "pfields.h"
#include "rxlimit.h"

typedef struct rxfmt_group {
    const char *name; /* points into the compiled pattern's name table */
    uint32_t num;
} rxfmt_group;

typedef struct rxfmt {
    pcre2_code *re;
    pcre2_match_data *md;
    rxfmt_group *groups;
    uint32_t ngroups;
    int jit;
    pcre2_match_context *mc; /* the limits */
    uint64_t limit_hits;     /* lines that hit them; the plugin takes them */
} rxfmt;

/* Compile; a pattern without named groups is refused. 0 or -1 with err. */
int rxfmt_init(rxfmt *r, const char *pattern, char *err, size_t errlen);
void rxfmt_free(rxfmt *r);

/* Match s[0..n); each named group that took part becomes a string field.
 * Returns 0, or -1 with the reason in err (a line that hit the limits is
 * also counted in limit_hits). */
int rxfmt_fields(rxfmt *r, const char *s, size_t n, pf_out *o, char *err, size_t errlen);

#endif
