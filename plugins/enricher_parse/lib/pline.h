/*
 * One log line to parsed fields, whatever the format: the format's parser,
 * then `types` casting, the time field into a timestamp, and (for formats
 * other than common/combined, which do it themselves) the request line split
 * into method, path, query and protocol.
 */
#ifndef PLINE_H
#define PLINE_H

#include <stddef.h>
#include <stdint.h>

#include "cast.h"
#include "clf.h"
#include "jsonmp.h"
#include "pfields.h"
#include "ptime.h"
#include "rxfmt.h"

typedef enum pline_format {
    PL_NGINX_COMBINED = 0,
    PL_APACHE_COMBINED,
    PL_COMMON,
    PL_JSON,
    PL_REGEX,
    PL_LOGFMT,
} pline_format;

typedef struct pline_cast {
    char *field;
    cast_type type;
} pline_cast;

typedef struct pline {
    pline_format format;
    rxfmt rx;               /* PL_REGEX */
    jsonmp js;              /* PL_JSON scratch */
    pline_cast *casts;
    size_t ncasts;
    ptime_fmt time_fmt;
    char *time_fmt_text;    /* owns what time_fmt.strptime_fmt points at */
    char *time_key;         /* NULL: the format's own (common/combined) or none */
    char *request_key;      /* field split like a request line; NULL = none */
} pline;

/* "nginx_combined", "apache_combined", "common", "json", "regex", "logfmt". */
int pline_format_parse(const char *name, pline_format *out);

/*
 * Set up a parser. `pattern` is needed for regex; `time_format` may be NULL
 * (auto). time_key / request_key may be NULL. Add casts with pline_add_cast.
 * Returns 0, or -1 with the reason in err (then call pline_free).
 */
int pline_init(pline *p, pline_format f, const char *pattern, const char *time_format,
               const char *time_key, const char *request_key, char *err, size_t errlen);
int pline_add_cast(pline *p, const char *field, const char *type, char *err, size_t errlen);
void pline_free(pline *p);

/*
 * Parse s[0..n) into o (reset first). *time_ns receives the line's time and
 * *has_time is set when the line had one. Returns 0, or -1 with the reason.
 */
int pline_parse(pline *p, const char *s, size_t n, pf_out *o, int64_t *time_ns,
                int *has_time, char *err, size_t errlen);

/* Lines that cost the regex format more than rxlimit.h allows, since the
 * last call (they did not parse). 0 for the other formats. */
uint64_t pline_take_limit_hits(pline *p);

#endif
