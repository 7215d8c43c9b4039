/*
 * Hand-written parser of the NCSA log formats nginx and Apache write by
 * default: common ("%h %l %u %t \"%r\" %>s %b") and combined (common plus
 * "\"%{Referer}i\" \"%{User-agent}i\""). One pass, no regex, no copies
 * except for quoted fields that contain escapes.
 */
#ifndef CLF_H
#define CLF_H

#include <stddef.h>
#include <stdint.h>

#include "pfields.h"

typedef enum clf_kind {
    CLF_COMMON = 0,
    CLF_COMBINED = 1,
} clf_kind;

/*
 * Parse one line into fields: remote_addr, remote_user, time (as logged),
 * method, path, query, protocol (a text that is not a request line is kept
 * whole as `request`), status (int),
 * body_bytes_sent (int; "-" is 0), and for combined http_referer and
 * http_user_agent. Quoted fields are unescaped (\xHH from nginx, \" and \\
 * from Apache). Text after the last field is ignored, so formats that append
 * fields still parse. *time_ns receives the parsed time.
 * Returns 0, or -1 with the reason in err.
 */
int clf_parse(clf_kind kind, const char *s, size_t n, pf_out *o, int64_t *time_ns,
              char *err, size_t errlen);

/* Unescape a quoted log field into out (room for n bytes); returns its length. */
size_t clf_unescape(const char *s, size_t n, char *out);

#endif
