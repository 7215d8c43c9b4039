/*
 * enricher_lookup's table: key -> value strings read from a CSV or
 * key=value file, loaded once at init and then only read (so lookups need no
 * lock). Pure logic, unit-tested without the core.
 */
#ifndef LKTABLE_H
#define LKTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "oatab.h"

typedef enum lk_format { LK_CSV = 1, LK_KV = 2 } lk_format;

typedef struct lk_entry {
    uint64_t hash;     /* 0 = empty slot (sl_oatab) */
    char *key, *value; /* NUL-terminated, owned */
    size_t key_len;
} lk_entry;

typedef struct lk_table {
    sl_oatab tab; /* of lk_entry */
} lk_table;

/*
 * Parse `len` bytes of text into t (zero it first). CSV: each line
 * key,value[,ignored...], fields optionally "quoted" with "" for a quote;
 * with skip_header the first line is a header. key=value: whitespace around
 * key and value trimmed, blank lines and lines starting with # skipped. A
 * later duplicate key replaces the earlier one. `name` prefixes errors.
 * Returns 0, or -1 with "name:line: reason" in err (t is then freed).
 */
int lk_parse(lk_table *t, const char *text, size_t len, lk_format fmt, int skip_header,
             const char *name, char *err, size_t errlen);

/* Read and parse a whole file; same contract as lk_parse. */
int lk_load_file(lk_table *t, const char *path, lk_format fmt, int skip_header, char *err,
                 size_t errlen);

/* The value of key (len bytes), or NULL. */
const char *lk_get(const lk_table *t, const char *key, size_t len);

void lk_free(lk_table *t);

/* Keys in the table. */
static inline size_t lk_count(const lk_table *t)
{
    return t->tab.n;
}

#endif
