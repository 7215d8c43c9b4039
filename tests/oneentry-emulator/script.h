/*
 * Fault-injection scripts: "503,503,429:2,reset,slow:500,200" — one action per
 * upcoming request, consumed in order — and random failures, "3:503:1": a
 * status for a given share of the requests the script leaves alone.
 */
#ifndef OE_SCRIPT_H
#define OE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

typedef enum oe_act_kind {
    OE_ACT_PASS,   /* a 2xx entry: handle the request normally */
    OE_ACT_STATUS, /* answer with this status and a JSON error, unchecked, unrecorded */
    OE_ACT_RESET,  /* close the connection without answering */
    OE_ACT_SLOW,   /* handle normally, after slow_ms extra milliseconds */
} oe_act_kind;

#define OE_RETRY_AFTER_MAX 64

typedef struct oe_action {
    oe_act_kind kind;
    int status;                          /* OE_ACT_STATUS */
    unsigned slow_ms;                    /* OE_ACT_SLOW */
    char retry_after[OE_RETRY_AFTER_MAX]; /* "" = no Retry-After header */
} oe_action;

/*
 * Parses a script into a malloc'd array (*out, *n; free with free()). An
 * empty string gives an empty script. "NNN:VALUE" sends Retry-After: VALUE,
 * where VALUE is delta-seconds or an HTTP-date (whose comma after the day
 * name is part of the date, not a separator). Returns 0 or -1 with err.
 */
int oe_script_parse(const char *s, oe_action **out, size_t *n, char *err, size_t errlen);

/* Probabilities are integers in units of 1e-8 (a millionth of a percent), so
 * "0.5" is exact and the draw needs no floating point. */
#define OE_FAIL_SCALE 100000000u

typedef struct oe_fail {
    uint32_t chance;                      /* 0..OE_FAIL_SCALE; 0 = off */
    int status;                           /* 300-599 */
    char retry_after[OE_RETRY_AFTER_MAX]; /* "" = no Retry-After header */
} oe_fail;

/*
 * Parses "PCT:STATUS[:RETRY_AFTER]": PCT a percentage 0-100 with at most six
 * decimals, STATUS 300-599, RETRY_AFTER anything printable, sent verbatim
 * (so an HTTP-date keeps its colons and comma). "" turns failures off.
 * Returns 0, or -1 with err and *out unchanged.
 */
int oe_fail_parse(const char *spec, oe_fail *out, char *err, size_t errlen);

/*
 * Whether draw number n of the stream seeded with seed fails under f. Each
 * draw is a pure function of (seed, n), so concurrent threads need only an
 * atomic counter, and one seed gives one sequence of outcomes.
 */
int oe_fail_draw(const oe_fail *f, uint64_t seed, uint64_t n);

#endif
