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

static int to_int(msgpack_packer *pk, const sl_value *v)
{
    int64_t i;
    if (v->type == SL_UINT)
        return msgpack_pack_uint64(pk, v->v.u);
    if (v->type == SL_BOOL)
        return msgpack_pack_int(pk, v->v.b);
    if (sl_value_to_int(v, &i) != 0)
        return -1;
    return msgpack_pack_int64(pk, i);
}

static int to_float(msgpack_packer *pk, const sl_value *v)
{
    double d;
    switch (v->type) {
    case SL_UINT: return msgpack_pack_double(pk, (double)v->v.u);
    case SL_INT: return msgpack_pack_double(pk, (double)v->v.i);
    case SL_FLOAT: return msgpack_pack_double(pk, v->v.f);
    case SL_STR:
        if (str_to_double(v->v.s.ptr, v->v.s.len, &d) != 0)
            return -1;
        return msgpack_pack_double(pk, d);
    default: return -1;
    }
}

static int to_bool(msgpack_packer *pk, const sl_value *v)
{
    int b;
    if (v->type == SL_BOOL)
        b = v->v.b;
    else if (v->type == SL_UINT && v->v.u <= 1)
        b = (int)v->v.u;
    else if (v->type != SL_STR || str_to_bool(v->v.s.ptr, v->v.s.len, &b) != 0)
        return -1;
    return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

static int to_string(msgpack_packer *pk, const sl_value *v)
{
    char tmp[64];
    int n;
    switch (v->type) {
    case SL_STR: return sl_pack_str(pk, v->v.s.ptr, v->v.s.len);
    case SL_UINT: n = snprintf(tmp, sizeof tmp, "%" PRIu64, v->v.u); break;
    case SL_INT: n = snprintf(tmp, sizeof tmp, "%" PRId64, v->v.i); break;
    case SL_FLOAT: n = snprintf(tmp, sizeof tmp, "%.17g", v->v.f); break;
    case SL_BOOL: n = snprintf(tmp, sizeof tmp, "%s", v->v.b ? "true" : "false"); break;
    default: return -1;
    }
    return sl_pack_str(pk, tmp, (size_t)n);
}

int cast_field(pf_out *o, uint32_t i, cast_type t, char *err, size_t errlen)
{
    static const char *names[] = {"", "an int", "a float", "a bool", "a string"};
    size_t vlen, klen;
    const uint8_t *src = pf_val(o, i, &vlen);
    /* The new value is packed into the buffer the old one lives in, which
     * may move: read the old one from a copy. */
    uint8_t *vp = (uint8_t *)pf_arena_reserve(o, vlen);
    sl_value v;
    if (!vp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(vp, src, vlen);
    const uint8_t *rp = vp;
    if (sl_read_value(&rp, vp + vlen, &v) != 0) {
        snprintf(err, errlen, "types: unreadable value");
        return -1;
    }
    uint32_t start = pf_replace_begin(o);
    int rc = t == CAST_INT ? to_int(&o->pk, &v) : t == CAST_FLOAT ? to_float(&o->pk, &v)
           : t == CAST_BOOL ? to_bool(&o->pk, &v) : to_string(&o->pk, &v);
    if (rc == 0 && pf_replace_end(o, i, start) == 0)
        return 0;
    o->sb.size = start; /* drop a partial encoding */
    const char *k = pf_key(o, i, &klen);
    if (o->failed)
        snprintf(err, errlen, "out of memory");
    else if (v.type == SL_STR)
        snprintf(err, errlen, "types: field '%.*s' is not %s: '%.*s'", (int)(klen > 64 ? 64 : klen),
                 k, names[t], (int)(v.v.s.len > 64 ? 64 : v.v.s.len), v.v.s.ptr);
    else
        snprintf(err, errlen, "types: field '%.*s' cannot be %s", (int)(klen > 64 ? 64 : klen),
                 k, names[t]);
    return -1;
}
