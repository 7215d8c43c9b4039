/*
 * The events file: one JSON line per accepted event,
 * {"auth":"bearer:<tok>"|"guest:<id>","body":<body as received>}, each line
 * written with a single write(2) on an O_APPEND descriptor so lines from
 * concurrent server threads never interleave and a test can count them live.
 */
#ifndef OE_EVENTS_H
#define OE_EVENTS_H

#include <stddef.h>

#include "sluice/json.h"

/* Opens (creates 0644, appends to) path. Returns an fd, or -1 with err. */
int oe_events_open(const char *path, char *err, size_t errlen);

/*
 * Formats the line into scratch (reused by the caller) and appends it. Raw
 * CR/LF in the body — in valid JSON only whitespace between tokens — become
 * spaces so the record stays one line. Returns 0, or -1 with err.
 */
int oe_events_append(int fd, sl_buf *scratch, const char *who, const char *body,
                     size_t len, char *err, size_t errlen);

#endif
