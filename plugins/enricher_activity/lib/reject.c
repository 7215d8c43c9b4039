/* The reason a rejected activity is set aside with; see act.h. */
#include "act.h"

#include <stdio.h>

void act_reject_reason(char *buf, size_t len, const act_rule *r, const act_reject *rej)
{
    snprintf(buf, len, "%s: %s (%s)", rej->code, rej->why, r->label);
}
