/*
 * Dead-letter file: events that can never be delivered, one JSON line each:
 *   {"time":"<when rejected>","reason":"...","status":400|null,
 *    "message":"<server's message>"|null,"event":{<the event's body>}}
 * Opened O_APPEND and written with one write() per line, so the file is
 * never rewritten and concurrent writers never interleave within a line.
 */
#ifndef OE_DEADLETTER_H
#define OE_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

typedef struct oe_deadletter {
    int fd;
    char *path;
} oe_deadletter;

/* Open (creating, mode 0600) the file at path. 0 or -1 with err. */
int oe_deadletter_open(oe_deadletter *d, const char *path, char *err, size_t errlen);

/*
 * Append one record. `status` 0 = no HTTP status (null); `message` may be
 * NULL, or msglen bytes of the server's answer (a JSON error object's
 * "message" is extracted; other text is kept as is, truncated to 1 KiB).
 * Returns 0 or -1 with err.
 */
int oe_deadletter_write(oe_deadletter *d, const sl_value *body, const char *reason,
                        long status, const char *message, size_t msglen, char *err,
                        size_t errlen);

void oe_deadletter_close(oe_deadletter *d);

#endif
