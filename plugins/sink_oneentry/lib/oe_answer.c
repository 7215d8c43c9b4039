/*
 * The message of an error answer, found without a JSON parser: the body is
 * untrusted and only one string of it is wanted. Decoding the escapes keeps
 * the text readable once host->dead_letter escapes the reason again.
 */
#include "oe_answer.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unescape.h"

/* Output that stops, silently, at the first piece that does not fit (a
 * shorter one after it would skip text). */
typedef struct out {
    char *p;
    size_t len, cap;
    int full;
} out;

static int put(out *o, const char *s, size_t n)
{
    if (o->full || o->len + n > o->cap) {
        o->full = 1;
        return -1;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    return 0;
}

/* A code point as UTF-8; NUL and surrogates become U+FFFD. */
static int put_cp(out *o, uint32_t c)
{
    char b[4];
    if (c == 0 || sl_is_surrogate(c) || c > 0x10FFFF)
        c = 0xFFFD;
    return put(o, b, sl_utf8_put(c, b));
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* One escape at *p (the backslash); appends its character. -1 if bad. */
static int escape(out *o, const char **p, const char *end)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (end - *p < 2)
        return -1;
    char c = (*p)[1];
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        *p += 2;
        put(o, &to[k - from], 1);
        return 0;
    }
    uint32_t cp;
    int used = c == 'u' ? sl_json_uescape(*p + 2, end, &cp) : -1;
    if (used < 0)
        return -1;
    *p += 2 + used;
    put_cp(o, cp); /* a lone surrogate: U+FFFD */
    return 0;
}

/* The JSON string at *p (its opening quote), decoded into o; *p moved past
 * the closing quote. -1 when it is not a complete string. */
static int json_string(out *o, const char **p, const char *end)
{
    const char *q = *p + 1;
    while (q < end && *q != '"') {
        if (*q == '\\') {
            if (escape(o, &q, end) != 0)
                return -1;
        } else {
            if (*q)
                put(o, q, 1);
            q++;
        }
    }
    if (q >= end)
        return -1;
    *p = q + 1;
    return 0;
}

/* An array of strings at *p: the items joined with "; ". */
static int json_string_array(out *o, const char *p, const char *end)
{
    p = skip_ws(p + 1, end);
    for (int n = 0; p < end && *p == '"'; n++) {
        if ((n && put(o, "; ", 2) != 0) || json_string(o, &p, end) != 0)
            return n ? 0 : -1;
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return 0;
        p = skip_ws(p + 1, end);
    }
    return -1;
}

/* The "message" member of a JSON error object in [p, end). */
static int json_message(out *o, const char *p, const char *end)
{
    static const char key[] = "\"message\"";
    if (p >= end || *p != '{')
        return -1;
    const char *k = memmem(p, (size_t)(end - p), key, sizeof key - 1);
    if (!k)
        return -1;
    const char *v = skip_ws(k + sizeof key - 1, end);
    if (v >= end || *v != ':')
        return -1;
    v = skip_ws(v + 1, end);
    if (v < end && *v == '"')
        return json_string(o, &v, end);
    if (v < end && *v == '[')
        return json_string_array(o, v, end);
    return -1;
}

/* Drop an incomplete UTF-8 sequence a cut left at the end. */
static void trim_partial_utf8(out *o)
{
    size_t i = o->len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)o->p[i - 1] & 0xC0) == 0x80)
        i--, back++;
    if (i == 0 || ((unsigned char)o->p[i - 1] & 0x80) == 0)
        return;
    unsigned char lead = (unsigned char)o->p[i - 1];
    size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (back < need)
        o->len = i - 1;
}

size_t oe_answer_message(const char *body, size_t len, char *buf, size_t outlen)
{
    if (!outlen)
        return 0;
    out o = {buf, 0, outlen - 1 < OE_ANSWER_MESSAGE_MAX ? outlen - 1 : OE_ANSWER_MESSAGE_MAX, 0};
    const char *p = body ? skip_ws(body, body + len) : NULL, *end = body ? body + len : NULL;
    if (p && json_message(&o, p, end) != 0) {
        o.len = 0; /* not an error object: the text as it is */
        o.full = 0;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
                           end[-1] == '\n'))
            end--;
        for (; p < end && o.len < o.cap; p++)
            if (*p)
                o.p[o.len++] = *p;
    }
    if (o.len == o.cap)
        trim_partial_utf8(&o); /* cut short: not in the middle of a character */
    buf[o.len] = 0;
    return o.len;
}

void oe_answer_reason(char *buf, size_t outlen, const char *what, long status,
                      const char *body, size_t len)
{
    char msg[OE_ANSWER_MESSAGE_MAX + 1];
    size_t n = oe_answer_message(body, len, msg, sizeof msg);
    snprintf(buf, outlen, n ? "%s (HTTP %ld): %s" : "%s (HTTP %ld)", what, status, msg);
}
