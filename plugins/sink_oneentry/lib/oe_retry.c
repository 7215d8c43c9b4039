#include "oe_retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_bit(oe_status_set *s, long code)
{
    s->bits[code / 8] |= (uint8_t)(1u << (code % 8));
}

int oe_status_in(const oe_status_set *s, long status)
{
    if (status < 100 || status > 599)
        return 0;
    return (s->bits[status / 8] >> (status % 8)) & 1;
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One status code at *p; advances *p. Returns 0 or -1. */
static int parse_code(const char **p, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (end == *p || errno || v < 100 || v > 599)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

int oe_status_set_parse(const char *spec, oe_status_set *set, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    const char *p = skip_space(spec ? spec : "");
    if (!*p)
        return 0; /* empty: retry nothing by status */
    for (;;) {
        long lo, hi;
        const char *at = p;
        if (parse_code(&p, &lo) != 0)
            goto bad;
        hi = lo;
        p = skip_space(p);
        if (*p == '-') {
            p = skip_space(p + 1);
            if (parse_code(&p, &hi) != 0 || hi < lo)
                goto bad;
            p = skip_space(p);
        }
        for (long c = lo; c <= hi; c++)
            set_bit(set, c);
        if (!*p)
            return 0;
        if (*p != ',')
            goto bad;
        p = skip_space(p + 1);
        continue;
    bad:
        snprintf(err, errlen, "retryable_status: expected codes 100-599 or ranges like "
                 "500-599, comma separated; bad at '%.20s'", at);
        return -1;
    }
}

int oe_retry_after_parse(const char *value, time_t now, int64_t *ms)
{
    const char *p = skip_space(value ? value : "");
    if (isdigit((unsigned char)*p)) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(p, &end, 10);
        if (errno || *skip_space(end))
            return -1;
        /* A day is plenty; a huge value must not overflow the arithmetic. */
        *ms = s > 86400 ? 86400000LL : (int64_t)s * 1000;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(p, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *skip_space(end))
        return -1;
    time_t at = timegm(&tm);
    if (at == (time_t)-1)
        return -1;
    int64_t d = (int64_t)at - (int64_t)now;
    *ms = d <= 0 ? 0 : (d > 86400 ? 86400000LL : d * 1000);
    return 0;
}

uint64_t oe_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t oe_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng)
{
    if (base_ms < 1)
        base_ms = 1;
    int64_t ceiling = base_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    return (int64_t)(oe_rand(rng) % (uint64_t)(ceiling + 1));
}
