/*
 * logfmt lines (key=value key2="quoted value" flag) into parsed fields.
 * Values are strings; a bare key is `true`. Quoted values understand \" \\
 * \n \t \r.
 */
#ifndef LOGFMT_H
#define LOGFMT_H

#include <stddef.h>

#include "pfields.h"

/* Returns 0, or -1 with the reason in err (no pair at all is an error). */
int logfmt_fields(const char *s, size_t n, pf_out *o, char *err, size_t errlen);

#endif
