/*
 * The OneEntry UserActivity request contract (as docs/oneentry-contract.md
 * and this folder's README.md describe it), as pure functions over headers
 * and body so it can be unit-tested without a server. Each check returns 0, or -1 with a message for the client.
 */
#ifndef OE_CONTRACT_H
#define OE_CONTRACT_H

#include <stddef.h>

/* Content-Type must be application/json; parameters (charset) are allowed. */
int oe_check_content_type(const char *value, char *err, size_t errlen);

/*
 * Exactly one identity: "Authorization: Bearer <token>" or "x-guest-id".
 * On success writes "bearer:<token>" or "guest:<id>" to who (cap bytes).
 * Either header may be NULL (absent).
 */
int oe_check_identity(const char *authorization, const char *guest_id,
                      char *who, size_t cap, char *err, size_t errlen);

/*
 * The body: a JSON object with a known type, the field that type requires,
 * fields of the documented JSON types, no unknown or duplicate keys.
 */
int oe_check_body(const char *body, size_t len, char *err, size_t errlen);

/*
 * A request target in absolute form ("http://host:port/path"), as a client
 * writes it to a proxy, reduced to the path a server routes on. Servers must
 * accept that form (RFC 9112 3.2.2), and it is how the tests see that the
 * sink went through a proxy. Returns the path inside target ("/" when the
 * URL has none), or NULL when target is not an http(s) absolute URL.
 */
const char *oe_origin_path(const char *target);

#endif
