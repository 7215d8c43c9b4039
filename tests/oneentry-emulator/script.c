#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict unsigned decimal in [lo, hi] from exactly s[0..len). */
static int parse_uint(const char *s, size_t len, unsigned long lo, unsigned long hi,
                      unsigned long *out)
{
    unsigned long v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t k = 0; k < len; k++) {
        if (!isdigit((unsigned char)s[k]))
            return -1;
        v = v * 10 + (unsigned long)(s[k] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/*
 * Length of the Retry-After value starting at v: up to the next comma, except
 * that an HTTP-date ("Wed, 21 Oct 2015 ...") keeps the comma after its day name.
 */
static size_t retry_after_len(const char *v)
{
    size_t k = 0;
    while (isalpha((unsigned char)v[k]))
        k++;
    if (k > 0 && v[k] == ',')
        k++;
    else
        k = 0;
    while (v[k] && v[k] != ',')
        k++;
    return k;
}

static int parse_status(const char *e, size_t len, oe_action *a, size_t *used,
                        char *err, size_t errlen)
{
    unsigned long st;
    size_t digits = 0;
    while (digits < len && isdigit((unsigned char)e[digits]))
        digits++;
    if (parse_uint(e, digits, 200, 599, &st) < 0 || digits != 3) {
        snprintf(err, errlen, "script: bad entry '%.*s' (want NNN, NNN:RETRY-AFTER, reset or "
                 "slow:MS; status 200-599)", (int)len, e);
        return -1;
    }
    a->kind = st < 300 ? OE_ACT_PASS : OE_ACT_STATUS;
    a->status = (int)st;
    *used = digits;
    if (e[digits] != ':')
        return 0;
    size_t rlen = retry_after_len(e + digits + 1);
    if (st < 300 || rlen == 0 || rlen >= OE_RETRY_AFTER_MAX) {
        snprintf(err, errlen, "script: bad Retry-After in '%.*s'", (int)(digits + 1 + rlen), e);
        return -1;
    }
    memcpy(a->retry_after, e + digits + 1, rlen);
    a->retry_after[rlen] = '\0';
    *used = digits + 1 + rlen;
    return 0;
}

/* One entry at e; *used = its length (up to, not including, the separator). */
static int parse_entry(const char *e, oe_action *a, size_t *used, char *err, size_t errlen)
{
    size_t len = strcspn(e, ",");
    memset(a, 0, sizeof *a);
    if (len == 5 && strncmp(e, "reset", 5) == 0) {
        a->kind = OE_ACT_RESET;
        *used = len;
        return 0;
    }
    if (len > 5 && strncmp(e, "slow:", 5) == 0) {
        unsigned long ms;
        if (parse_uint(e + 5, len - 5, 0, 3600000, &ms) < 0) {
            snprintf(err, errlen, "script: bad entry '%.*s' (slow:MS, 0-3600000)", (int)len, e);
            return -1;
        }
        a->kind = OE_ACT_SLOW;
        a->slow_ms = (unsigned)ms;
        *used = len;
        return 0;
    }
    return parse_status(e, len, a, used, err, errlen);
}

int oe_script_parse(const char *s, oe_action **out, size_t *n, char *err, size_t errlen)
{
    size_t cap = 1;
    for (const char *c = s; *c; c++)
        cap += *c == ',';
    oe_action *acts = calloc(cap, sizeof *acts);
    if (!acts) {
        snprintf(err, errlen, "script: out of memory");
        return -1;
    }
    size_t count = 0;
    const char *e = s;
    while (*e) {
        size_t used;
        if (parse_entry(e, &acts[count], &used, err, errlen) < 0) {
            free(acts);
            return -1;
        }
        count++;
        e += used;
        if (*e == ',' && e[1] == '\0') {
            snprintf(err, errlen, "script: trailing comma");
            free(acts);
            return -1;
        }
        if (*e == ',')
            e++;
        else if (*e) {
            snprintf(err, errlen, "script: unexpected '%s'", e);
            free(acts);
            return -1;
        }
    }
    *out = acts;
    *n = count;
    return 0;
}

#define FAIL_USAGE "want PCT:STATUS[:RETRY_AFTER], e.g. 3:503 or 0.5:429:2"

/* "D[DD][.DDDDDD]" up to the colon, in units of 1e-8; *used = its length. */
static int parse_pct(const char *s, uint32_t *out, size_t *used)
{
    size_t whole = strspn(s, "0123456789"), frac = 0;
    unsigned long w, f = 0;
    if (parse_uint(s, whole, 0, 100, &w) < 0)
        return -1;
    if (s[whole] == '.') {
        frac = strspn(s + whole + 1, "0123456789");
        if (parse_uint(s + whole + 1, frac, 0, 999999, &f) < 0 || frac > 6)
            return -1;
        for (size_t k = frac; k < 6; k++)
            f *= 10;
    }
    unsigned long v = w * 1000000ul + f;
    if (v > OE_FAIL_SCALE)
        return -1;
    *out = (uint32_t)v;
    *used = whole + (frac ? frac + 1 : 0);
    return 0;
}

/* A header value sent verbatim: printable ASCII, no edge spaces, fits. */
static int retry_after_ok(const char *v)
{
    size_t len = strlen(v);
    if (len == 0 || len >= OE_RETRY_AFTER_MAX || v[0] == ' ' || v[len - 1] == ' ')
        return 0;
    for (size_t k = 0; k < len; k++)
        if (v[k] < 0x20 || v[k] > 0x7e)
            return 0;
    return 1;
}

int oe_fail_parse(const char *spec, oe_fail *out, char *err, size_t errlen)
{
    oe_fail f;
    size_t used;
    unsigned long st;
    memset(&f, 0, sizeof f);
    if (!*spec) {
        *out = f;
        return 0;
    }
    if (parse_pct(spec, &f.chance, &used) < 0 || spec[used] != ':') {
        snprintf(err, errlen, "fail: bad percentage in '%s' (0-100, at most 6 decimals; "
                 FAIL_USAGE ")", spec);
        return -1;
    }
    const char *s = spec + used + 1;
    size_t digits = strspn(s, "0123456789");
    if (digits != 3 || parse_uint(s, 3, 300, 599, &st) < 0 || (s[3] && s[3] != ':')) {
        snprintf(err, errlen, "fail: bad status in '%s' (300-599; " FAIL_USAGE ")", spec);
        return -1;
    }
    f.status = (int)st;
    if (s[3] == ':') {
        if (!retry_after_ok(s + 4)) {
            snprintf(err, errlen, "fail: bad Retry-After in '%s' (printable, 1-%d characters)",
                     spec, OE_RETRY_AFTER_MAX - 1);
            return -1;
        }
        strcpy(f.retry_after, s + 4);
    }
    *out = f;
    return 0;
}

/* splitmix64 (Steele, Lea, Flood 2014): the n-th output of the stream that
 * starts at seed, computed directly, with good statistics in every bit. */
static uint64_t splitmix64(uint64_t seed, uint64_t n)
{
    uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

int oe_fail_draw(const oe_fail *f, uint64_t seed, uint64_t n)
{
    /* the modulo's bias, 2^64 mod 1e8 over 2^64, is below 1e-11 */
    return f->chance > 0 && splitmix64(seed, n) % OE_FAIL_SCALE < f->chance;
}
