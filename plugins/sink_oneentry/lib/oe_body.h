/*
 * OneEntry request building: one activity event (its body map) becomes the
 * JSON body of a UserActivity request plus the identity header, or a
 * rejection with a reason. Pure: no I/O, safe from any thread.
 */
#ifndef OE_BODY_H
#define OE_BODY_H

#include <stddef.h>

#include "sluice/event.h"
#include "sluice/json.h"

/* Body keys that carry the visitor's identity (renamable by options). */
typedef struct oe_keys {
    const char *guest_id;   /* default "guest_id" */
    const char *user_token; /* default "user_token" */
} oe_keys;

/* A built request. `header` is "x-guest-id: X" or "Authorization: Bearer X". */
typedef struct oe_request {
    sl_buf json;
    sl_buf header;
    int is_user; /* 1 when identified by a user token */
} oe_request;

/*
 * Validate `body` (an event's body map) and append the request into *req
 * (json and header are reset first). Returns 0, 1 when the event is
 * rejected (reason in `why`), -1 when out of memory.
 */
int oe_build(const sl_value *body, const oe_keys *keys, oe_request *req, char *why,
             size_t whylen);

/* Free the buffers of a request. */
void oe_request_free(oe_request *req);

/* Non-zero when `type` (len bytes) is one of the ten activity types. */
int oe_type_known(const char *type, size_t len);

#endif
