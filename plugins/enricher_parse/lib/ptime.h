/*
 * Log timestamps to nanoseconds since the Unix epoch, without libc's
 * locale-dependent and slow mktime/strptime on the hot path.
 */
#ifndef PTIME_H
#define PTIME_H

#include <stddef.h>
#include <stdint.h>

typedef enum ptime_kind {
    PTIME_AUTO = 0,  /* detect clf, iso8601 or epoch from the text */
    PTIME_CLF,       /* 10/Oct/2000:13:55:36 -0700 (nginx $time_local, Apache %t) */
    PTIME_ISO8601,   /* 2000-10-10T13:55:36[.fff][Z|+07:00|+0700] */
    PTIME_EPOCH,     /* seconds, optional fraction: 971186136.25 */
    PTIME_EPOCH_MS,  /* integer milliseconds */
    PTIME_STRPTIME,  /* any strptime(3) format; %z honoured */
} ptime_kind;

typedef struct ptime_fmt {
    ptime_kind kind;
    const char *strptime_fmt; /* PTIME_STRPTIME only; owned by the caller */
} ptime_fmt;

/* "auto", "clf" (or "nginx"), "iso8601", "epoch", "epoch_ms", or a format
 * containing '%' for strptime. Returns 0 or -1. */
int ptime_fmt_parse(const char *name, ptime_fmt *out);

/* Parse s[0..n) as f says. Returns 0 with *ns set, or -1. */
int ptime_parse(const ptime_fmt *f, const char *s, size_t n, int64_t *ns);

/* Seconds since the epoch of a proleptic Gregorian UTC date and time. */
int64_t ptime_civil_to_epoch(int64_t y, unsigned mon, unsigned d, unsigned h,
                             unsigned mi, unsigned s);

#endif
