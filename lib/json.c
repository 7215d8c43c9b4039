/*
 * sluice JSON output. Choices the header leaves open, fixed here:
 *
 *  - Strings: '"', '\\' and control characters are escaped (\b \f \n \r \t,
 *    others as \u00XX); U+2028/U+2029 become \u2028/\u2029 so the output is
 *    also safe inside JavaScript; DEL and '/' are kept. Each maximal ill-formed
 *    UTF-8 subsequence (overlong, surrogate, above U+10FFFF, truncated, stray
 *    continuation byte) becomes one U+FFFD, as Unicode recommends.
 *  - Floats: the shortest of %.15g/%.16g/%.17g (for float32: %.6g..%.9g)
 *    that reads back to the same value, so 0.1 prints as 0.1, not
 *    0.10000000000000001, and nothing is lost. A float with no fraction or
 *    exponent gets ".0" (3.0 stays 3.0) so consumers keep it a float.
 *    NaN and infinities become null.
 *  - Map keys that are not strings are written as their JSON text, quoted:
 *    {1: true} -> {"1":true}, {[1,2]: 0} -> {"[1,2]":0}.
 *  - A timestamp extension becomes an RFC 3339 string; any other extension,
 *    or a timestamp extension with a bad size or nanoseconds >= 1e9, null.
 *  - Nesting deeper than SL_JSON_MAX_DEPTH (100) containers fails with -1,
 *    and so do non-string keys nested inside non-string keys more than
 *    SL_JSON_MAX_KEY_NESTING (4) times (each level doubles the escaping).
 *  - On failure the output buffer is restored to its length before the call.
 */
#include "sluice/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SL_JSON_MAX_DEPTH 100
#define SL_JSON_MAX_KEY_NESTING 4
#define NS_PER_SEC 1000000000LL

/* ------------------------------------------------------------------ */
/* Buffer                                                              */
/* ------------------------------------------------------------------ */

int sl_buf_reserve(sl_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int sl_buf_append(sl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (sl_buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int sl_buf_puts(sl_buf *b, const char *s)
{
    return sl_buf_append(b, s, strlen(s));
}

void sl_buf_free(sl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

/*
 * Length of the well-formed UTF-8 sequence at s (1..4), or 0 when the bytes
 * are ill-formed; then *bad gets the length of the maximal ill-formed
 * subpart to replace with one U+FFFD (at least 1).
 */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t *bad)
{
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0) lo = 0xa0;      /* overlong */
        else if (c == 0xed) hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0) lo = 0x90;      /* overlong */
        else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
    } else {
        *bad = 1; /* stray continuation, C0/C1 overlong lead, F5..FF */
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < n; i++) {
        uint8_t b = s[i];
        uint8_t l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
        if (b < l || b > h)
            break;
    }
    if (i == need)
        return need;
    *bad = i;
    return 0;
}

static int put_escape(sl_buf *out, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '"': e[1] = '"'; break;
    case '\\': e[1] = '\\'; break;
    case '\b': e[1] = 'b'; break;
    case '\f': e[1] = 'f'; break;
    case '\n': e[1] = 'n'; break;
    case '\r': e[1] = 'r'; break;
    case '\t': e[1] = 't'; break;
    default:
        e[1] = 'u'; e[2] = '0'; e[3] = '0';
        e[4] = hex[c >> 4]; e[5] = hex[c & 15];
        n = 6;
    }
    return sl_buf_append(out, e, n);
}

int sl_json_str(sl_buf *out, const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t start = out->len, i = 0, run = 0;
    if (!s && len > 0)
        return -1;
    /* Most strings need no escaping: reserve once, copy safe runs whole. */
    if (sl_buf_reserve(out, len + 2) != 0 || sl_buf_append(out, "\"", 1) != 0)
        goto fail;
    while (i < len) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t bad = 0, n = c < 0x80 ? 1 : utf8_seq(s + i, len - i, &bad);
        if (n > 1 && !(n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
                       (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))) {
            i += n; /* valid multibyte: kept as is */
            continue;
        }
        if (sl_buf_append(out, s + run, i - run) != 0)
            goto fail;
        if (n == 1) {
            if (put_escape(out, c) != 0)
                goto fail;
            i += 1;
        } else if (n == 3) {
            if (sl_buf_puts(out, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029") != 0)
                goto fail;
            i += 3;
        } else {
            if (sl_buf_append(out, "\xef\xbf\xbd", 3) != 0)
                goto fail;
            i += bad;
        }
        run = i;
    }
    if (sl_buf_append(out, s + run, i - run) != 0 || sl_buf_append(out, "\"", 1) != 0)
        goto fail;
    return 0;
fail:
    out->len = start;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Numbers and times                                                   */
/* ------------------------------------------------------------------ */

/* Decimal digits by hand: snprintf was a visible share of the CPU of
 * sinks that encode every event (the OneEntry sink's ids). */
static int put_digits(sl_buf *out, uint64_t u, int neg)
{
    char tmp[24];
    size_t at = sizeof tmp;
    do
        tmp[--at] = (char)('0' + u % 10);
    while ((u /= 10));
    if (neg)
        tmp[--at] = '-';
    return sl_buf_append(out, tmp + at, sizeof tmp - at);
}

static int put_fmt_u64(sl_buf *out, uint64_t u)
{
    return put_digits(out, u, 0);
}

static int put_fmt_i64(sl_buf *out, int64_t i)
{
    /* the magnitude in unsigned arithmetic: -INT64_MIN does not fit */
    return put_digits(out, i < 0 ? 0 - (uint64_t)i : (uint64_t)i, i < 0);
}

/* Shortest %.Ng (N in lo..hi) that reads back to d (as float if is_f32). */
static int format_double(char *tmp, size_t cap, double d, int is_f32)
{
    int lo = is_f32 ? 6 : 15, hi = is_f32 ? 9 : 17, n = 0;
    for (int prec = lo; prec <= hi; prec++) {
        n = snprintf(tmp, cap, "%.*g", prec, d);
        /* A locale with a decimal comma must not leak into JSON. */
        for (char *c = tmp; *c; c++)
            if (*c == ',')
                *c = '.';
        double back = strtod(tmp, NULL);
        if (is_f32 ? (float)back == (float)d : back == d)
            break;
    }
    return n;
}

static int put_double(sl_buf *out, const sl_value *v)
{
    double d = v->v.f;
    char tmp[40];
    if (!isfinite(d))
        return sl_buf_puts(out, "null");
    int n = format_double(tmp, sizeof tmp - 2, d, v->raw && v->raw[0] == 0xca);
    if (n <= 0 || (size_t)n >= sizeof tmp - 2)
        return -1;
    if (!strpbrk(tmp, ".eE")) {
        tmp[n++] = '.';
        tmp[n++] = '0';
    }
    return sl_buf_append(out, tmp, (size_t)n);
}

/* Floor division of nanoseconds into seconds and [0, 1e9) nanoseconds. */
static void split_ns(int64_t ns, int64_t *sec, int64_t *nsec)
{
    *sec = ns / NS_PER_SEC;
    *nsec = ns % NS_PER_SEC;
    if (*nsec < 0) {
        *nsec += NS_PER_SEC;
        *sec -= 1;
    }
}

int sl_json_rfc3339(sl_buf *out, int64_t time_ns)
{
    int64_t sec, nsec;
    struct tm tm;
    char tmp[64];
    split_ns(time_ns, &sec, &nsec);
    time_t t = (time_t)sec;
    if (!gmtime_r(&t, &tm))
        return -1;
    /* The int64 nanosecond range is years 1677..2262: always 4 digits. */
    int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)nsec);
    if (n <= 0 || (size_t)n >= sizeof tmp)
        return -1;
    return sl_buf_append(out, tmp, (size_t)n);
}

/* Decode a timestamp extension payload; duplicated from event.c on purpose
 * so the two modules stay independent (it is a dozen lines). */
static int ts_payload(const sl_value *v, int64_t *out)
{
    const uint8_t *d = (const uint8_t *)v->v.s.ptr;
    uint64_t sec_u = 0;
    int64_t sec;
    uint32_t nsec = 0;
    switch (v->v.s.len) {
    case 4:
        sec = (int64_t)((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]);
        break;
    case 8:
        for (int i = 0; i < 8; i++)
            sec_u = sec_u << 8 | d[i];
        nsec = (uint32_t)(sec_u >> 34);
        sec = (int64_t)(sec_u & 0x3ffffffffULL);
        break;
    case 12:
        nsec = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        for (int i = 4; i < 12; i++)
            sec_u = sec_u << 8 | d[i];
        sec = (int64_t)sec_u;
        break;
    default:
        return -1;
    }
    if (nsec >= NS_PER_SEC)
        return -1;
    if (sec >= 0) {
        if (sec > (INT64_MAX - (int64_t)nsec) / NS_PER_SEC)
            return -1;
        *out = sec * NS_PER_SEC + (int64_t)nsec;
        return 0;
    }
    int64_t hi = sec + 1, lo = (int64_t)nsec - NS_PER_SEC;
    if (hi < INT64_MIN / NS_PER_SEC || hi * NS_PER_SEC < INT64_MIN - lo)
        return -1;
    *out = hi * NS_PER_SEC + lo;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static int json_value(sl_buf *out, const sl_value *v, int depth, int keys);

/*
 * A map key: strings as they are, anything else as its quoted JSON text.
 * Each key nested inside a non-string key doubles the escaping, so that
 * nesting is capped at SL_JSON_MAX_KEY_NESTING to keep the output linear.
 */
static int json_key(sl_buf *out, const sl_value *k, int depth, int keys)
{
    if (k->type == SL_STR || k->type == SL_BIN)
        return sl_json_str(out, k->v.s.ptr, k->v.s.len);
    if (keys >= SL_JSON_MAX_KEY_NESTING)
        return -1;
    sl_buf tmp = {0};
    int r = json_value(&tmp, k, depth, keys + 1);
    if (r == 0)
        r = sl_json_str(out, tmp.data ? tmp.data : "", tmp.len);
    sl_buf_free(&tmp);
    return r;
}

/* The items of a container, comma-separated, without the brackets;
 * *first says whether nothing was written before them. */
static int json_items(sl_buf *out, const sl_value *v, int depth, int keys, int *first)
{
    sl_iter it;
    sl_value k, val;
    int r, is_map = v->type == SL_MAP;
    if (depth >= SL_JSON_MAX_DEPTH || sl_iter_init(&it, v) != 0)
        return -1;
    while ((r = sl_iter_next(&it, &k, &val)) == 1) {
        if (!*first && sl_buf_append(out, ",", 1) != 0)
            return -1;
        *first = 0;
        if (is_map && (json_key(out, &k, depth + 1, keys) != 0 ||
                       sl_buf_append(out, ":", 1) != 0))
            return -1;
        if (json_value(out, &val, depth + 1, keys) != 0)
            return -1;
    }
    return r == 0 ? 0 : -1;
}

static int json_container(sl_buf *out, const sl_value *v, int depth, int keys)
{
    int first = 1, is_map = v->type == SL_MAP;
    if (sl_buf_append(out, is_map ? "{" : "[", 1) != 0 ||
        json_items(out, v, depth, keys, &first) != 0)
        return -1;
    return sl_buf_append(out, is_map ? "}" : "]", 1);
}

static int json_value(sl_buf *out, const sl_value *v, int depth, int keys)
{
    int64_t ns;
    switch (v->type) {
    case SL_NIL: return sl_buf_puts(out, "null");
    case SL_BOOL: return sl_buf_puts(out, v->v.b ? "true" : "false");
    case SL_UINT: return put_fmt_u64(out, v->v.u);
    case SL_INT: return put_fmt_i64(out, v->v.i);
    case SL_FLOAT: return put_double(out, v);
    case SL_STR:
    case SL_BIN: return sl_json_str(out, v->v.s.ptr, v->v.s.len);
    case SL_ARRAY:
    case SL_MAP: return json_container(out, v, depth, keys);
    case SL_EXT:
        if (v->ext_type != -1 || ts_payload(v, &ns) != 0)
            return sl_buf_puts(out, "null");
        if (sl_buf_append(out, "\"", 1) != 0 || sl_json_rfc3339(out, ns) != 0)
            return -1;
        return sl_buf_append(out, "\"", 1);
    }
    return -1;
}

/* The same walk as json_value without writing: the nesting limits only. */
static int encodable(const sl_value *v, int depth, int keys)
{
    if (v->type != SL_ARRAY && v->type != SL_MAP)
        return 1;
    sl_iter it;
    sl_value k, val;
    int r;
    if (depth >= SL_JSON_MAX_DEPTH || sl_iter_init(&it, v) != 0)
        return 0;
    while ((r = sl_iter_next(&it, &k, &val)) == 1) {
        if (v->type == SL_MAP && k.type != SL_STR && k.type != SL_BIN &&
            (keys >= SL_JSON_MAX_KEY_NESTING || !encodable(&k, depth + 1, keys + 1)))
            return 0;
        if (!encodable(&val, depth + 1, keys))
            return 0;
    }
    return r == 0;
}

int sl_json_encodable(const sl_value *v)
{
    return v && encodable(v, 0, 0);
}

int sl_json_value(sl_buf *out, const sl_value *v)
{
    size_t start = out->len;
    if (!v || json_value(out, v, 0, 0) != 0) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

int sl_time_format_parse(const char *name, sl_time_format *out)
{
    static const struct { const char *name; sl_time_format fmt; } names[] = {
        {"rfc3339", SL_TIME_RFC3339}, {"iso8601", SL_TIME_RFC3339},
        {"unix", SL_TIME_UNIX}, {"unix_ms", SL_TIME_UNIX_MS},
        {"unix_ns", SL_TIME_UNIX_NS},
    };
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            if (out)
                *out = names[i].fmt;
            return 0;
        }
    }
    return -1;
}

static int put_time(sl_buf *out, int64_t ns, sl_time_format fmt)
{
    int64_t sec, nsec;
    char tmp[48];
    int n;
    switch (fmt) {
    case SL_TIME_RFC3339:
        if (sl_buf_append(out, "\"", 1) != 0 || sl_json_rfc3339(out, ns) != 0)
            return -1;
        return sl_buf_append(out, "\"", 1);
    case SL_TIME_UNIX: {
        /* Exact decimal from the integer, never through a double. */
        uint64_t mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
        n = snprintf(tmp, sizeof tmp, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "",
                     mag / (uint64_t)NS_PER_SEC, mag % (uint64_t)NS_PER_SEC);
        return sl_buf_append(out, tmp, (size_t)n);
    }
    case SL_TIME_UNIX_MS:
        /* Floor, so -1 ns is -1 ms (just before the epoch), like the seconds. */
        split_ns(ns, &sec, &nsec);
        return put_fmt_i64(out, sec * 1000 + nsec / 1000000);
    case SL_TIME_UNIX_NS:
        return put_fmt_i64(out, ns);
    }
    return -1;
}

static int event_line(sl_buf *out, const sl_event *ev, const char *time_key,
                      sl_time_format fmt)
{
    int with_time = time_key && *time_key;
    int first = 1;
    if (with_time && ev->body.type == SL_MAP) {
        int r = sl_map_gets(&ev->body, time_key, NULL);
        if (r < 0)
            return -1;
        with_time = r == 0;
    }
    if (sl_buf_append(out, "{", 1) != 0)
        return -1;
    if (with_time) {
        if (sl_json_str(out, time_key, strlen(time_key)) != 0 ||
            sl_buf_append(out, ":", 1) != 0 || put_time(out, ev->time_ns, fmt) != 0)
            return -1;
        first = 0;
    }
    if (ev->body.type == SL_MAP) {
        if (json_items(out, &ev->body, 0, 0, &first) != 0)
            return -1;
    } else {
        if (!first && sl_buf_append(out, ",", 1) != 0)
            return -1;
        if (sl_buf_puts(out, "\"body\":") != 0 || json_value(out, &ev->body, 0, 0) != 0)
            return -1;
    }
    return sl_buf_append(out, "}\n", 2);
}

int sl_json_event_line(sl_buf *out, const sl_event *ev, const char *time_key,
                       sl_time_format fmt)
{
    size_t start = out->len;
    if (!ev || event_line(out, ev, time_key, fmt) != 0) {
        out->len = start;
        return -1;
    }
    return 0;
}

uint32_t sl_json_batch_lines(sl_buf *out, const sl_batch *b, const char *time_key,
                             sl_time_format fmt, uint32_t *skipped)
{
    sl_batch_iter it;
    sl_event ev;
    uint32_t done = 0, seen = 0;
    int r;
    sl_batch_iter_init(&it, b);
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        seen++;
        if (sl_json_event_line(out, &ev, time_key, fmt) == 0)
            done++;
    }
    if (skipped)
        *skipped = (seen - done) + (r < 0 ? b->count - seen : 0);
    return done;
}
