/*
 * Every check of a plugin descriptor and its option table, in one place:
 * the loader refuses a plugin on the first error, `sluice plugins check`
 * lists them all with the warnings. So `run` and `check` never disagree.
 */
#ifndef SL_DESCRIPTOR_H
#define SL_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/plugin.h"

/* The smallest descriptor the core can read: everything up to option_size. */
#define SL_PLUGIN_MIN_SIZE (offsetof(sl_plugin, option_size) + sizeof(uint32_t))

typedef struct sl_problems {
    int errors, warnings;
    /* Called for each problem; NULL only counts. */
    void (*fn)(void *arg, int is_error, const char *msg);
    void *arg;
} sl_problems;

void sl_problem(sl_problems *r, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Check the descriptor copy d (fields past real_size read as zero): ABI
 * version, size, name, kind, callbacks, option table. Returns the number of
 * errors (warnings only count in r).
 */
int sl_descriptor_check(const sl_plugin *d, uint32_t real_size, sl_problems *r);

#endif
