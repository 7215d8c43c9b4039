/* The dead-letter record of a rejected activity; see act.h. */
#include "act.h"

#include <string.h>

#include "sluice/json.h"

int act_reject_line(sl_buf *out, int64_t now_ns, const act_rule *r, const act_reject *rej,
                    int64_t event_ns, const sl_value *body)
{
    size_t len0 = out->len;
    int rc = sl_buf_puts(out, "{\"time\":\"") || sl_json_rfc3339(out, now_ns) ||
             sl_buf_puts(out, "\",\"reason\":") ||
             sl_json_str(out, rej->why, strlen(rej->why)) ||
             sl_buf_puts(out, ",\"code\":") || sl_json_str(out, rej->code, strlen(rej->code)) ||
             sl_buf_puts(out, ",\"rule\":") || sl_json_str(out, r->label, strlen(r->label)) ||
             sl_buf_puts(out, ",\"event_time\":\"") || sl_json_rfc3339(out, event_ns) ||
             sl_buf_puts(out, "\",\"event\":");
    /* A body JSON cannot express (nested too deep) is still recorded, as a note. */
    if (!rc && sl_json_value(out, body) != 0)
        rc = sl_buf_puts(out, "\"(not representable as JSON)\"");
    rc = rc || sl_buf_puts(out, "}\n");
    if (rc)
        out->len = len0; /* no half line */
    return rc ? -1 : 0;
}
