/* A log line through format, casts, time and request split; see pline.h. */
#include "pline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfmt.h"
#include "sluice/event.h"
#include "urlq.h"

int pline_format_parse(const char *name, pline_format *out)
{
    static const char *names[] = {"nginx_combined", "apache_combined", "common",
                                  "json", "regex", "logfmt"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (pline_format)i;
            return 0;
        }
    return -1;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

int pline_init(pline *p, pline_format f, const char *pattern, const char *time_format,
               const char *time_key, const char *request_key, char *err, size_t errlen)
{
    int oom = 0;
    memset(p, 0, sizeof *p);
    p->format = f;
    p->time_key = dup_or_null(time_key && *time_key ? time_key : NULL, &oom);
    p->request_key = dup_or_null(request_key && *request_key ? request_key : NULL, &oom);
    p->time_fmt_text = dup_or_null(time_format ? time_format : "auto", &oom);
    if (oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ptime_fmt_parse(p->time_fmt_text, &p->time_fmt) != 0) {
        snprintf(err, errlen, "time_format: '%s' is not auto, clf, iso8601, epoch, epoch_ms "
                 "or a strptime format with %%", time_format);
        return -1;
    }
    if (f == PL_REGEX) {
        if (!pattern || !*pattern) {
            snprintf(err, errlen, "pattern: required with format: regex");
            return -1;
        }
        return rxfmt_init(&p->rx, pattern, err, errlen);
    }
    return 0;
}

int pline_add_cast(pline *p, const char *field, const char *type, char *err, size_t errlen)
{
    cast_type t;
    if (cast_type_parse(type, &t) != 0) {
        snprintf(err, errlen, "types: '%s' for field '%s' is not int, float, bool or string",
                 type, field);
        return -1;
    }
    pline_cast *c = realloc(p->casts, (p->ncasts + 1) * sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->casts = c;
    if (!(c[p->ncasts].field = strdup(field))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c[p->ncasts++].type = t;
    return 0;
}

void pline_free(pline *p)
{
    if (p->format == PL_REGEX)
        rxfmt_free(&p->rx);
    jsonmp_free(&p->js);
    for (size_t i = 0; i < p->ncasts; i++)
        free(p->casts[i].field);
    free(p->casts);
    free(p->time_fmt_text);
    free(p->time_key);
    free(p->request_key);
    memset(p, 0, sizeof *p);
}

static int apply_casts(pline *p, pf_out *o, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->ncasts; i++) {
        int f = pf_find(o, p->casts[i].field, strlen(p->casts[i].field));
        if (f >= 0 && cast_field(o, (uint32_t)f, p->casts[i].type, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The time field of a json/regex/logfmt line, if there is one. */
static int field_time(pline *p, pf_out *o, int64_t *ns, int *has, char *err, size_t errlen)
{
    int f = p->time_key ? pf_find(o, p->time_key, strlen(p->time_key)) : -1;
    if (f < 0)
        return 0;
    sl_value v;
    char num[32];
    const char *s;
    size_t n;
    if (pf_get(o, (uint32_t)f, &v) != 0)
        goto bad;
    if (v.type == SL_STR) {
        s = v.v.s.ptr;
        n = v.v.s.len;
    } else if (v.type == SL_UINT) { /* epoch numbers in JSON logs */
        n = (size_t)snprintf(num, sizeof num, "%" PRIu64, v.v.u);
        s = num;
    } else if (v.type == SL_FLOAT && v.v.f >= 0 && v.v.f < 1e18) {
        n = (size_t)snprintf(num, sizeof num, "%.6f", v.v.f);
        s = num;
    } else {
        goto bad;
    }
    if (ptime_parse(&p->time_fmt, s, n, ns) != 0) {
        snprintf(err, errlen, "time: cannot parse '%.*s' as %s", (int)(n > 40 ? 40 : n), s,
                 p->time_fmt_text);
        return -1;
    }
    *has = 1;
    return 0;
bad:
    snprintf(err, errlen, "time: field '%s' is not a string or a number", p->time_key);
    return -1;
}

/* Split the request_key field of json/regex/logfmt lines like a request. */
static int split_request(pline *p, pf_out *o, char *err, size_t errlen)
{
    int f = p->request_key ? pf_find(o, p->request_key, strlen(p->request_key)) : -1;
    sl_value v;
    if (f < 0 || pf_get(o, (uint32_t)f, &v) != 0 || v.type != SL_STR)
        return 0; /* absent or not text: left as it is */
    /* urlq's fields point into the text: keep a copy of text that lives in
     * the scratch builder, which later fields may move. */
    const char *s = v.v.s.ptr;
    if (o->f[f].kind != PF_STR && !(s = pf_arena_copy(o, s, v.v.s.len)))
        goto oom;
    if (urlq_request(o, s, v.v.s.len) < 0)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int by_format(pline *p, const char *s, size_t n, pf_out *o, int64_t *ns, int *has,
                     char *err, size_t errlen)
{
    switch (p->format) {
    case PL_NGINX_COMBINED:
    case PL_APACHE_COMBINED:
    case PL_COMMON:
        *has = 1;
        return clf_parse(p->format == PL_COMMON ? CLF_COMMON : CLF_COMBINED, s, n, o, ns,
                         err, errlen);
    case PL_JSON: return jsonmp_fields(&p->js, s, n, o, err, errlen);
    case PL_REGEX: return rxfmt_fields(&p->rx, s, n, o, err, errlen);
    case PL_LOGFMT: return logfmt_fields(s, n, o, err, errlen);
    }
    snprintf(err, errlen, "unknown format");
    return -1;
}

int pline_parse(pline *p, const char *s, size_t n, pf_out *o, int64_t *time_ns,
                int *has_time, char *err, size_t errlen)
{
    int clf = p->format <= PL_COMMON;
    pf_reset(o);
    *has_time = 0;
    if (by_format(p, s, n, o, time_ns, has_time, err, errlen) != 0)
        return -1;
    if (p->ncasts && apply_casts(p, o, err, errlen) != 0)
        return -1;
    if (!clf && field_time(p, o, time_ns, has_time, err, errlen) != 0)
        return -1;
    if (!clf && split_request(p, o, err, errlen) != 0)
        return -1;
    return 0;
}

uint64_t pline_take_limit_hits(pline *p)
{
    if (p->format != PL_REGEX)
        return 0;
    uint64_t n = p->rx.limit_hits;
    p->rx.limit_hits = 0;
    return n;
}
