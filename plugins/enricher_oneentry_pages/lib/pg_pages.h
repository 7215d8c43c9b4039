/*
 * What the Pages API answers, read into the page map, and the map as the
 * file kept in the component's state directory (so a start during an
 * outage still resolves). Pure: no I/O.
 *
 * A page object has at least "id" (a number) and "pageUrl" (the handle);
 * only those two are read. The saved file is
 *   {"version":1,"pages":{"en_US":[{"id":12,"pageUrl":"t-shirts"},...],...}}
 * so each language's list reads like an answer of the list endpoint.
 */
#ifndef PG_PAGES_H
#define PG_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "pg_tab.h"
#include "sluice/json.h"

/* Largest page id: JavaScript numbers (OneEntry's side) are exact to 2^53-1. */
#define PG_MAX_ID 9007199254740991LL

/*
 * The page objects of a list answer (a JSON array) into map under lang.
 * Objects without an id in range or without a pageUrl are skipped and
 * counted in *skipped (may be NULL). 0, or -1 with err (malformed JSON, out
 * of memory); the pages read before an error stay in the map.
 */
int pg_read_list(const char *json, size_t n, pg_tab *map, unsigned lang, size_t *skipped,
                 char *err, size_t errlen);

/* One page object (the by-handle answer): its id. 0, or -1 with err. */
int pg_read_page(const char *json, size_t n, int64_t *id, char *err, size_t errlen);

/* The "message" of an error answer ({"statusCode":404,"message":"..."}),
 * into buf; "" when there is none. */
void pg_read_message(const char *json, size_t n, char *buf, size_t cap);

/* The map as the saved file (appended to out). codes[i] names language i. */
int pg_save_encode(const pg_tab *map, const char *const *codes, size_t ncodes, sl_buf *out);

/*
 * A saved file into map; languages not in codes are ignored (the
 * configuration changed since). 0, or -1 with err.
 */
int pg_save_decode(const char *json, size_t n, const char *const *codes, size_t ncodes,
                   pg_tab *map, char *err, size_t errlen);

#endif
