/* A pull scanner over JSON text; see jscan.h. */
#include "jscan.h"

#include <stdio.h>
#include <string.h>

#include "unescape.h"

#define MAX_DEPTH 1024 /* of a skipped value; deeper text is refused */

static int fail(sl_jscan *j, const char *why)
{
    if (!j->why) {
        j->why = why;
        j->at = (size_t)(j->p - j->start);
    }
    return -1;
}

void sl_jscan_init(sl_jscan *j, const char *text, size_t len)
{
    j->start = j->p = text;
    j->end = text + len;
    j->why = NULL;
    j->at = 0;
    j->first = 0;
}

static void skip_ws(sl_jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

int sl_jscan_peek(sl_jscan *j)
{
    skip_ws(j);
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

int sl_jscan_enter(sl_jscan *j, char open)
{
    if (sl_jscan_peek(j) != open)
        return fail(j, open == '[' ? "expected an array" : "expected an object");
    j->p++;
    j->first = 1;
    return 0;
}

int sl_jscan_more(sl_jscan *j, char close)
{
    int c = sl_jscan_peek(j);
    if (c == close) {
        j->p++;
        j->first = 0;
        return 0;
    }
    if (!j->first) {
        if (c != ',')
            return fail(j, "expected ',' or the end of the container");
        j->p++;
        c = sl_jscan_peek(j);
        if (c == close)
            return fail(j, "trailing comma");
    }
    j->first = 0;
    return c < 0 ? fail(j, "unexpected end of text") : 1;
}

/* One escape after the backslash at *pp: its bytes into out (up to 4). */
static int escape(const char **pp, const char *end, char out[4], size_t *n)
{
    const char *p = *pp;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (p >= end)
        return -1;
    const char *e = *p ? strchr(from, *p) : NULL;
    if (e) {
        out[0] = to[e - from];
        *n = 1;
        *pp = p + 1;
        return 0;
    }
    uint32_t cp;
    int used;
    /* strict: a surrogate outside a pair is an error, as in RFC 8259's
     * "sequences of Unicode characters" */
    if (*p != 'u' || (used = sl_json_uescape(p + 1, end, &cp)) < 0 || sl_is_surrogate(cp))
        return -1;
    *n = sl_utf8_put(cp, out);
    *pp = p + 1 + used;
    return 0;
}

/* A string at j->p (its opening quote), decoded into buf when buf is set. */
static int scan_string(sl_jscan *j, char *buf, size_t cap, size_t *len)
{
    const char *p = j->p + 1;
    size_t n = 0;
    for (;;) {
        if (p >= j->end)
            return fail(j, "unterminated string");
        unsigned char c = (unsigned char)*p;
        char tmp[4];
        size_t k = 1;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(j, "control character in a string");
        if (c == '\\') {
            p++;
            if (escape(&p, j->end, tmp, &k) < 0)
                return fail(j, "bad escape in a string");
        } else {
            tmp[0] = (char)c;
            p++;
        }
        if (buf) {
            if (n + k >= cap)
                return 1; /* too long for buf: nothing consumed */
            memcpy(buf + n, tmp, k);
        }
        n += k;
    }
    if (buf)
        buf[n] = 0;
    if (len)
        *len = n;
    j->p = p + 1;
    return 0;
}

int sl_jscan_string(sl_jscan *j, char *buf, size_t cap, size_t *len)
{
    if (sl_jscan_peek(j) != '"')
        return 1;
    return scan_string(j, buf, cap, len);
}

int sl_jscan_key(sl_jscan *j, char *buf, size_t cap, size_t *len)
{
    if (sl_jscan_peek(j) != '"')
        return fail(j, "expected a key");
    int r = scan_string(j, buf, cap, len);
    if (r == 1) { /* longer than buf: none the caller knows */
        if (scan_string(j, NULL, 0, NULL) < 0)
            return -1;
        buf[0] = 0;
        if (len)
            *len = 0;
    }
    if (r < 0)
        return -1;
    if (sl_jscan_peek(j) != ':')
        return fail(j, "expected ':'");
    j->p++;
    return r;
}

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A number's extent; *integral tells whether it had no fraction/exponent. */
static int scan_number(sl_jscan *j, const char **stop, int *integral)
{
    const char *p = j->p, *end = j->end;
    *integral = 1;
    if (p < end && *p == '-')
        p++;
    if (!is_digit(p, end))
        return fail(j, "bad number");
    if (*p == '0')
        p++;
    else
        while (is_digit(p, end))
            p++;
    if (p < end && *p == '.') {
        *integral = 0;
        if (!is_digit(++p, end))
            return fail(j, "bad number");
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integral = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return fail(j, "bad number");
        while (is_digit(p, end))
            p++;
    }
    *stop = p;
    return 0;
}

int sl_jscan_int(sl_jscan *j, int64_t *out)
{
    int c = sl_jscan_peek(j), integral;
    const char *stop;
    if (c != '-' && (c < '0' || c > '9'))
        return 1;
    const char *save = j->p;
    if (scan_number(j, &stop, &integral) < 0)
        return -1;
    if (!integral)
        return 1;
    int neg = *save == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (const char *p = save + neg; p < stop; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10)
            return 1; /* a number, just not one that fits */
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    j->p = stop;
    return 0;
}

static int literal(sl_jscan *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return fail(j, "unexpected character");
    j->p += n;
    return 0;
}

/* One scalar (not a container) at j->p. */
static int skip_scalar(sl_jscan *j, int c)
{
    const char *stop;
    int integral;
    switch (c) {
    case '"': return scan_string(j, NULL, 0, NULL);
    case 't': return literal(j, "true");
    case 'f': return literal(j, "false");
    case 'n': return literal(j, "null");
    case -1: return fail(j, "unexpected end of text");
    default:
        if (scan_number(j, &stop, &integral) < 0)
            return -1;
        j->p = stop;
        return 0;
    }
}

/* After a value inside a container: ',' (then a value) or the close. */
static int after_value(sl_jscan *j, unsigned char *stack, int *depth, int *want_key)
{
    int c = sl_jscan_peek(j);
    char close = stack[*depth - 1] ? '}' : ']';
    if (c == ',') {
        j->p++;
        *want_key = stack[*depth - 1];
        return 0;
    }
    if (c != close)
        return fail(j, "expected ',' or the end of the container");
    j->p++;
    (*depth)--;
    return 1;
}

int sl_jscan_skip(sl_jscan *j, const char **raw, size_t *raw_len)
{
    unsigned char stack[MAX_DEPTH]; /* 1 = object, 0 = array */
    int depth = 0, want_key = 0;
    (void)sl_jscan_peek(j);
    const char *from = j->p;
    for (;;) {
        int c = sl_jscan_peek(j);
        if (want_key) {
            if (c != '"' || scan_string(j, NULL, 0, NULL) < 0 || sl_jscan_peek(j) != ':')
                return fail(j, "expected a key");
            j->p++;
            want_key = 0;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH)
                return fail(j, "nested too deeply");
            j->p++;
            stack[depth++] = c == '{';
            int next = sl_jscan_peek(j);
            if (next == (c == '{' ? '}' : ']')) {
                j->p++;
                depth--;
            } else {
                want_key = c == '{';
                continue;
            }
        } else if (skip_scalar(j, c) < 0) {
            return -1;
        }
        /* a value is complete: close what it completes */
        int r = 0;
        while (depth > 0 && (r = after_value(j, stack, &depth, &want_key)) == 1) {}
        if (depth > 0 && r < 0)
            return -1;
        if (depth == 0)
            break;
    }
    if (raw)
        *raw = from;
    if (raw_len)
        *raw_len = (size_t)(j->p - from);
    return 0;
}

int sl_jscan_end(sl_jscan *j)
{
    return sl_jscan_peek(j) < 0 ? 0 : fail(j, "text after the value");
}

void sl_jscan_error(const sl_jscan *j, char *buf, size_t len)
{
    snprintf(buf, len, "%s at byte %zu", j->why ? j->why : "malformed JSON", j->at);
}
