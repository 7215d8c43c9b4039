#include "progress.h"

#include <stdio.h>

void tail_progress_bytes(char *buf, size_t len, uint64_t n)
{
    static const char *unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (n < 1024) {
        snprintf(buf, len, "%u B", (unsigned)n);
        return;
    }
    double v = (double)n / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof unit / sizeof *unit) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* "950", "12.3k", "6.19M": counts at a glance. */
static void count_str(char *buf, size_t len, double n)
{
    if (n < 10000)
        snprintf(buf, len, "%.0f", n);
    else if (n < 1e6)
        snprintf(buf, len, "%.1fk", n / 1e3);
    else
        snprintf(buf, len, "%.2fM", n / 1e6);
}

/* "0:07", "1:02:03"; "--:--" when no rate is known yet. */
static void eta_str(char *buf, size_t len, double secs)
{
    if (secs < 0 || secs > 360000.0) {
        snprintf(buf, len, "--:--");
        return;
    }
    unsigned s = (unsigned)(secs + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%u:%02u", s / 60, s % 60);
}

int tail_progress_format(char *buf, size_t len, uint64_t done, uint64_t total, uint64_t lines,
                         double secs, int final)
{
    char d[32], t[32], l[32], r[32], e[32];
    if (done > total)
        total = done; /* the files grew after we looked */
    unsigned pct = total ? (unsigned)(done * 100.0 / (double)total) : 100;
    tail_progress_bytes(d, sizeof d, done);
    tail_progress_bytes(t, sizeof t, total);
    count_str(l, sizeof l, (double)lines);
    count_str(r, sizeof r, secs > 0 ? (double)lines / secs : 0);
    if (final)
        return snprintf(buf, len, "tail: %s / %s (%u%%), %s lines, %s lines/s, done in %.1f s",
                        d, t, pct, l, r, secs);
    double bps = secs > 0 ? (double)done / secs : 0;
    eta_str(e, sizeof e, bps > 0 ? (double)(total - done) / bps : -1);
    return snprintf(buf, len, "tail: %s / %s (%u%%), %s lines, %s lines/s, ETA %s", d, t, pct,
                    l, r, e);
}
