/*
 * Fuzz target: sink_oneentry's request builder (event body -> JSON request
 * body and identity header) on an arbitrary msgpack body, as any upstream
 * enricher might hand it over. An accepted body must produce JSON that is
 * NUL-free and a header without CR or LF (no header injection).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oe_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    const uint8_t *p = buf;
    sl_value body;
    if (sl_read_value(&p, buf + size, &body) == 0) {
        oe_request req = {0};
        oe_keys keys = {"guest_id", "user_token"};
        char why[256];
        int rc = oe_build(&body, &keys, &req, why, sizeof why);
        if (rc < 0)
            abort();
        if (rc == 0) {
            if (memchr(req.json.data, '\0', req.json.len) ||
                memchr(req.header.data, '\r', req.header.len) ||
                memchr(req.header.data, '\n', req.header.len))
                abort();
        }
        oe_request_free(&req);
    }
    free(buf);
    return 0;
}
