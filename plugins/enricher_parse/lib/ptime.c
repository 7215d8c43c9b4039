/* Timestamp parsing; see ptime.h. */
#include "ptime.h"

#include <string.h>
#include <time.h>

#define NS 1000000000LL

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil): branch-light and
 * exact over the whole int range, unlike timegm's TZ-environment dance. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int64_t ptime_civil_to_epoch(int64_t y, unsigned mon, unsigned d, unsigned h,
                             unsigned mi, unsigned s)
{
    return days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
}

static int leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_civil(int64_t y, unsigned mon, unsigned d, unsigned h, unsigned mi,
                       unsigned s)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
        return 0;
    return d <= mdays[mon - 1] + (mon == 2 && leap(y));
}

/* n decimal digits at s; -1 when any is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int month_of(const char *m)
{
    /* English abbreviations only: nginx and Apache never localise them. */
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (memcmp(names + 3 * i, m, 3) == 0)
            return i + 1;
    return -1;
}

/* "+0700", "-07:00", "Z": seconds east of UTC; *used gets the length. */
static int parse_offset(const char *s, size_t n, int *off, size_t *used)
{
    if (n >= 1 && s[0] == 'Z') {
        *off = 0;
        *used = 1;
        return 0;
    }
    if (n < 5 || (s[0] != '+' && s[0] != '-'))
        return -1;
    int colon = s[3] == ':';
    if (colon && n < 6)
        return -1;
    int hh = digits(s + 1, 2), mm = digits(s + 3 + colon, 2);
    if (hh < 0 || mm < 0 || hh > 14 || mm > 59)
        return -1;
    *off = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    *used = 5 + (size_t)colon;
    return 0;
}

/* Seconds (plus a fraction) as nanoseconds, or -1 when that leaves int64
 * (years outside about 1678..2262): a log line can claim any year. */
static int to_ns(int64_t t, int64_t frac, int64_t *ns)
{
    if (t > (INT64_MAX - frac) / NS || t < INT64_MIN / NS + 1)
        return -1;
    *ns = t * NS + frac;
    return 0;
}

static int parse_clf(const char *s, size_t n, int64_t *ns)
{
    /* dd/Mon/yyyy:hh:mm:ss +zzzz */
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' ||
        s[17] != ':' || s[20] != ' ')
        return -1;
    int d = digits(s, 2), mon = month_of(s + 3), y = digits(s + 7, 4);
    int h = digits(s + 12, 2), mi = digits(s + 15, 2), sec = digits(s + 18, 2);
    int off;
    size_t used;
    if (d < 0 || mon < 0 || y < 0 || h < 0 || mi < 0 || sec < 0 ||
        !valid_civil(y, (unsigned)mon, (unsigned)d, (unsigned)h, (unsigned)mi, (unsigned)sec) ||
        parse_offset(s + 21, 5, &off, &used) != 0)
        return -1;
    int64_t t = ptime_civil_to_epoch(y, (unsigned)mon, (unsigned)d, (unsigned)h,
                                     (unsigned)mi, (unsigned)sec) - off;
    return to_ns(t, 0, ns);
}

/* ".123456" -> nanoseconds; *used counts the dot and digits. */
static int64_t fraction(const char *s, size_t n, size_t *used)
{
    int64_t ns = 0, scale = NS / 10;
    size_t i = 1;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        ns += (s[i] - '0') * scale;
        scale /= 10;
    }
    *used = i;
    return ns;
}

static int parse_iso(const char *s, size_t n, int64_t *ns)
{
    /* yyyy-mm-ddThh:mm:ss (a space for T is accepted, as many loggers write) */
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits(s, 4), mon = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mon < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 ||
        !valid_civil(y, (unsigned)mon, (unsigned)d, (unsigned)h, (unsigned)mi, (unsigned)sec))
        return -1;
    size_t i = 19, used = 0;
    int64_t frac = 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        frac = fraction(s + i, n - i, &used);
        if (used == 1)
            return -1;
        i += used;
    }
    int off = 0; /* no zone: UTC, the only reading that does not depend on the host */
    if (i < n) {
        if (s[i] == 'z')
            used = 1;
        else if (parse_offset(s + i, n - i, &off, &used) != 0)
            return -1;
        i += used;
    }
    if (i != n)
        return -1;
    int64_t t = ptime_civil_to_epoch(y, (unsigned)mon, (unsigned)d, (unsigned)h,
                                     (unsigned)mi, (unsigned)sec) - off;
    return to_ns(t, frac, ns);
}

/* Integer part digits, optional fraction; *ndig gets the integer digits. */
static int parse_number(const char *s, size_t n, int64_t *ip, int64_t *frac_ns, size_t *ndig)
{
    size_t i = 0;
    int64_t v = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return -1; /* a 19-digit number may still not fit */
        v = v * 10 + (s[i] - '0');
    }
    *ndig = i;
    *frac_ns = 0;
    if (i == 0)
        return -1;
    if (i < n && s[i] == '.') {
        size_t used;
        *frac_ns = fraction(s + i, n - i, &used);
        i += used;
    }
    *ip = v;
    return i == n ? 0 : -1;
}

static int parse_epoch(const char *s, size_t n, int64_t scale_ns, int64_t *ns)
{
    int64_t ip, frac;
    size_t nd;
    if (parse_number(s, n, &ip, &frac, &nd) != 0)
        return -1;
    int64_t part = scale_ns == NS ? frac : frac / (NS / scale_ns);
    if (ip > (INT64_MAX - part) / scale_ns)
        return -1;
    *ns = ip * scale_ns + part;
    return 0;
}

static int parse_epoch_auto(const char *s, size_t n, int64_t *ns)
{
    int64_t ip, frac;
    size_t nd;
    if (parse_number(s, n, &ip, &frac, &nd) != 0)
        return -1;
    /* The digit count tells the unit for any date between 1973 and 5138. */
    int64_t scale = nd <= 11 ? NS : nd <= 14 ? 1000000 : nd <= 17 ? 1000 : 1;
    return parse_epoch(s, n, scale, ns);
}

static int parse_strptime(const char *fmt, const char *s, size_t n, int64_t *ns)
{
    char tmp[128];
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(tmp, fmt, &tm);
    if (!end || *end)
        return -1;
    if (!valid_civil(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday,
                     (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec))
        return -1;
    int64_t t = ptime_civil_to_epoch(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1,
                                     (unsigned)tm.tm_mday, (unsigned)tm.tm_hour,
                                     (unsigned)tm.tm_min, (unsigned)tm.tm_sec) - tm.tm_gmtoff;
    return to_ns(t, 0, ns);
}

int ptime_fmt_parse(const char *name, ptime_fmt *out)
{
    static const struct { const char *name; ptime_kind k; } names[] = {
        {"auto", PTIME_AUTO}, {"clf", PTIME_CLF}, {"nginx", PTIME_CLF},
        {"iso8601", PTIME_ISO8601}, {"rfc3339", PTIME_ISO8601},
        {"epoch", PTIME_EPOCH}, {"epoch_ms", PTIME_EPOCH_MS},
    };
    out->strptime_fmt = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            out->kind = names[i].k;
            return 0;
        }
    if (!strchr(name, '%'))
        return -1;
    out->kind = PTIME_STRPTIME;
    out->strptime_fmt = name;
    return 0;
}

int ptime_parse(const ptime_fmt *f, const char *s, size_t n, int64_t *ns)
{
    switch (f->kind) {
    case PTIME_CLF: return parse_clf(s, n, ns);
    case PTIME_ISO8601: return parse_iso(s, n, ns);
    case PTIME_EPOCH: return parse_epoch(s, n, NS, ns);
    case PTIME_EPOCH_MS: return parse_epoch(s, n, 1000000, ns);
    case PTIME_STRPTIME: return parse_strptime(f->strptime_fmt, s, n, ns);
    case PTIME_AUTO: break;
    }
    if (n == 26 && s[2] == '/')
        return parse_clf(s, n, ns);
    if (n >= 19 && s[4] == '-')
        return parse_iso(s, n, ns);
    return parse_epoch_auto(s, n, ns);
}
