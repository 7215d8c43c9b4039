/*
 * Fault-injection scripts: "503,503,429:2,reset,slow:500,200" — one action per
 * upcoming request, consumed in order.
 */
#ifndef OE_SCRIPT_H
#define OE_SCRIPT_H

#include <stddef.h>

typedef enum oe_act_kind {
    OE_ACT_PASS,   /* a 2xx entry: handle the request normally */
    OE_ACT_STATUS, /* answer with this status and a JSON error, unchecked, unrecorded */
    OE_ACT_RESET,  /* close the connection without answering */
    OE_ACT_SLOW,   /* handle normally, after slow_ms extra milliseconds */
} oe_act_kind;

#define OE_RETRY_AFTER_MAX 64

typedef struct oe_action {
    oe_act_kind kind;
    int status;                          /* OE_ACT_STATUS */
    unsigned slow_ms;                    /* OE_ACT_SLOW */
    char retry_after[OE_RETRY_AFTER_MAX]; /* "" = no Retry-After header */
} oe_action;

/*
 * Parses a script into a malloc'd array (*out, *n; free with free()). An
 * empty string gives an empty script. "NNN:VALUE" sends Retry-After: VALUE,
 * where VALUE is delta-seconds or an HTTP-date (whose comma after the day
 * name is part of the date, not a separator). Returns 0 or -1 with err.
 */
int oe_script_parse(const char *s, oe_action **out, size_t *n, char *err, size_t errlen);

#endif
