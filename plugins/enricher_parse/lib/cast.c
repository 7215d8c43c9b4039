/* Type casting; see cast.h. */
#include "cast.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/event.h"

int cast_type_parse(const char *name, cast_type *out)
{
    static const struct { const char *n; cast_type t; } names[] = {
        {"int", CAST_INT}, {"integer", CAST_INT}, {"float", CAST_FLOAT},
        {"double", CAST_FLOAT}, {"bool", CAST_BOOL}, {"boolean", CAST_BOOL},
        {"string", CAST_STRING},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].n) == 0) {
            *out = names[i].t;
            return 0;
        }
    return -1;
}

static int str_to_double(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *e;
    errno = 0;
    double d = strtod(tmp, &e);
    if (*e || errno == ERANGE || !isfinite(d) || tmp[0] == ' ')
        return -1;
    *out = d;
    return 0;
}

static int str_to_bool(const char *s, size_t n, int *out)
{
    static const char *yes[] = {"true", "1", "yes", "on"}, *no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
            return *out = 1, 0;
        if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
            return *out = 0, 0;
    }
    return -1;
}

static int to_int(pf_out *o, uint32_t i, const sl_value *v)
{
    int64_t n;
    if (v->type == SL_UINT) {
        pf_set_uint(o, i, v->v.u);
        return 0;
    }
    if (v->type == SL_BOOL) {
        pf_set_int(o, i, v->v.b);
        return 0;
    }
    if (sl_value_to_int(v, &n) != 0)
        return -1;
    pf_set_int(o, i, n);
    return 0;
}

static int to_float(pf_out *o, uint32_t i, const sl_value *v)
{
    double d;
    switch (v->type) {
    case SL_UINT: d = (double)v->v.u; break;
    case SL_INT: d = (double)v->v.i; break;
    case SL_FLOAT: d = v->v.f; break;
    case SL_STR:
        if (str_to_double(v->v.s.ptr, v->v.s.len, &d) != 0)
            return -1;
        break;
    default: return -1;
    }
    pf_set_double(o, i, d);
    return 0;
}

static int to_bool(pf_out *o, uint32_t i, const sl_value *v)
{
    int b;
    if (v->type == SL_BOOL)
        b = v->v.b;
    else if (v->type == SL_UINT && v->v.u <= 1)
        b = (int)v->v.u;
    else if (v->type != SL_STR || str_to_bool(v->v.s.ptr, v->v.s.len, &b) != 0)
        return -1;
    pf_set_bool(o, i, b);
    return 0;
}

/* -1 not convertible, -2 out of memory. */
static int to_string(pf_out *o, uint32_t i, const sl_value *v)
{
    char tmp[64];
    int n;
    const char *s;
    switch (v->type) {
    case SL_STR:
        if (o->f[i].kind == PF_STR)
            return 0;
        /* encoded text lives in the scratch builder, which may move */
        if (!(s = pf_arena_copy(o, v->v.s.ptr, v->v.s.len)))
            return -2;
        pf_set_str(o, i, s, v->v.s.len);
        return 0;
    case SL_UINT: n = snprintf(tmp, sizeof tmp, "%" PRIu64, v->v.u); break;
    case SL_INT: n = snprintf(tmp, sizeof tmp, "%" PRId64, v->v.i); break;
    case SL_FLOAT: n = snprintf(tmp, sizeof tmp, "%.17g", v->v.f); break;
    case SL_BOOL: n = snprintf(tmp, sizeof tmp, "%s", v->v.b ? "true" : "false"); break;
    default: return -1;
    }
    /* The field points at its text: keep it in the arena for the line. */
    s = pf_arena_copy(o, tmp, (size_t)n);
    if (!s)
        return -2;
    pf_set_str(o, i, s, (size_t)n);
    return 0;
}

int cast_field(pf_out *o, uint32_t i, cast_type t, char *err, size_t errlen)
{
    static const char *names[] = {"", "an int", "a float", "a bool", "a string"};
    size_t klen;
    sl_value v;
    /* v points at the old value (text in the line or the arena, or the
     * scratch builder), which setting the new one leaves in place. */
    if (pf_get(o, i, &v) != 0) {
        snprintf(err, errlen, "types: unreadable value");
        return -1;
    }
    int rc = t == CAST_INT ? to_int(o, i, &v) : t == CAST_FLOAT ? to_float(o, i, &v)
           : t == CAST_BOOL ? to_bool(o, i, &v) : to_string(o, i, &v);
    if (rc == 0)
        return 0;
    const char *k = pf_key(o, i, &klen);
    if (rc == -2)
        snprintf(err, errlen, "out of memory");
    else if (v.type == SL_STR)
        snprintf(err, errlen, "types: field '%.*s' is not %s: '%.*s'", (int)(klen > 64 ? 64 : klen),
                 k, names[t], (int)(v.v.s.len > 64 ? 64 : v.v.s.len), v.v.s.ptr);
    else
        snprintf(err, errlen, "types: field '%.*s' cannot be %s", (int)(klen > 64 ? 64 : klen),
                 k, names[t]);
    return -1;
}
