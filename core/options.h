/*
 * A component's options checked against its plugin's option table: unknown
 * keys (with a "did you mean"), types, required options, choices. Defaults are
 * applied, values parsed once, and served to the plugin through the host API.
 */
#ifndef SL_OPTIONS_H
#define SL_OPTIONS_H

#include <stdint.h>

#include "config.h"

typedef struct sl_opt_value {
    const sl_option *def; /* the table entry */
    const sl_node *node;  /* the user's node; NULL when defaulted/absent */
    const char *str;      /* scalar text (user's or default), NULL if none */
    int64_t i;            /* INT, SIZE (bytes), DURATION (ms); BOOL as 0/1 */
    double d;             /* DOUBLE (also set for INT/SIZE/DURATION) */
    int set;              /* written by the user */
    sl_node *owned;       /* a LIST default parsed from its text; freed here */
} sl_opt_value;

typedef struct sl_options {
    sl_opt_value *v;
    size_t n;
} sl_options;

/*
 * Check `c`'s mapping against `p`'s table (entries are p->option_size apart;
 * a descriptor whose struct_size does not reach `options` has none).
 * Returns 0, or -1 with every problem in errs. *out is always freeable.
 */
int sl_options_resolve(const sl_component_spec *c, const sl_plugin *p,
                       sl_options *out, sl_errs *errs);

/* Entry `name`, or NULL when the plugin declares no such option. */
const sl_opt_value *sl_options_find(const sl_options *o, const char *name);

void sl_options_free(sl_options *o);

/*
 * Range of an option value, as the option table declares it (min, max,
 * SL_OPT_F_NONEMPTY): NULL when v is allowed, else what is wrong ("must be
 * at least 1"), written into buf. v holds the parsed value (str, i, d, node).
 */
const char *sl_option_range_problem(const sl_option *o, const sl_opt_value *v, char *buf,
                                    size_t len);

/* Parse a bound (min/max text) of option o as its type: 0 or -1. */
int sl_option_bound(const sl_option *o, const char *text, double *out);

/* Entry i of a plugin's option table honouring option_size, NULL past end. */
const sl_option *sl_plugin_option(const sl_plugin *p, size_t i);

/* Scalar parsers shared with the service settings. Return 0 or -1. */
int sl_parse_int(const char *s, int64_t *out);
int sl_parse_bool(const char *s, int *out);
int sl_parse_double(const char *s, double *out);
int sl_parse_size(const char *s, int64_t *out);        /* 64KiB, 8MiB, 1GB */
int sl_parse_duration_ms(const char *s, int64_t *out); /* 250ms, 5s, 2m, 1h */

/* Levenshtein distance of two names, for "did you mean" hints (also graph.c). */
size_t sl_edit_distance(const char *a, const char *b);

#endif
