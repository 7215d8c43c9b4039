/* A list of error messages, so `sluice validate` can report every problem. */
#ifndef SL_ERRS_H
#define SL_ERRS_H

#include <stddef.h>

#include "sluice/host.h"

typedef struct sl_errs {
    char **msg; /* each "file:line:col: what was wrong" or a plain sentence */
    size_t n, cap;
} sl_errs;

/** Append a message. Out of memory is remembered as a final message. */
void sl_errs_addf(sl_errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Append a message prefixed with "file:line:col: " of `at` (may be NULL). */
void sl_errs_at(sl_errs *e, const sl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Free every message; the list is empty and reusable afterwards. */
void sl_errs_free(sl_errs *e);

#endif
