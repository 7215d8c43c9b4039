/*
 * HTTP request lines and query strings, as they appear in access logs.
 */
#ifndef URLQ_H
#define URLQ_H

#include <stddef.h>

#include "pfields.h"

/* Most query parameters decoded per request; later ones are not parsed
 * (a hostile query string cannot make a line cost quadratic time). */
#define URLQ_MAX_PARAMS 128

/*
 * Percent-decode s[0..n) into out (room for n bytes): %XX becomes the byte
 * (also %00), '+' a space when plus_space, an invalid escape ("%zz", a
 * trailing "%") stays as written. Returns the decoded length.
 */
size_t urlq_decode(const char *s, size_t n, char *out, int plus_space);

/*
 * Add fields for a request line "METHOD target PROTOCOL": method, path (as
 * logged, not decoded), query (a map of decoded parameters, only when the
 * target has a '?'; a repeated key becomes an array of its values in order),
 * protocol. Returns 0, 1 when the text is not a request line ("-", TLS
 * bytes sent to a plain port; nothing added), or -1 (out of memory).
 * The fields point into s, which must stay valid until pf_reset.
 */
int urlq_request(pf_out *o, const char *s, size_t n);

/* Add the field `key` (a string that outlives the line) holding the query
 * map of qs[0..n). 0 or -1. */
int urlq_query_field(pf_out *o, const char *key, const char *qs, size_t n);

#endif
