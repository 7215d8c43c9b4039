/*
 * PCRE2 matching at a bounded cost per subject.
 *
 * Rule and format regexes are written by users, the subjects by visitors:
 * `(a|aa)+$` against a 40-character path runs until PCRE2's built-in limit
 * of 10 million steps, 36 ms with JIT and 160 ms without, for every such
 * line. Under these limits the same line costs about 0.3 ms (JIT) or 1.5 ms,
 * while the patterns access logs need stay far below them (a combined-log
 * regex over a 64 KiB line takes well under a thousand steps).
 *
 * A subject that hits a limit counts as no match; callers count such hits
 * (regex_limit_hits) and warn, so a rule that is too costly shows.
 *
 * Header-only, for the plugins that link PCRE2 (8-bit code units).
 */
#ifndef SL_RXLIMIT_H
#define SL_RXLIMIT_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>

/* Steps of the backtracking matcher (JIT counts in its own way, same order). */
#define SL_RX_MATCH_LIMIT 100000u
/* Nested backtracking frames of the interpreter (JIT ignores it, and is
 * bounded by its 32 KiB stack instead): caps the heap a match may take. */
#define SL_RX_DEPTH_LIMIT 10000u

/* What sl_rx_match found. */
enum { SL_RX_NOMATCH = 0, SL_RX_MATCH = 1, SL_RX_LIMIT = 2 };

/* A match context with the limits above; NULL when out of memory. Read-only
 * while matching, so one may serve every regex of an instance. */
static inline pcre2_match_context *sl_rx_context(void)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (mc) {
        pcre2_set_match_limit(mc, SL_RX_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, SL_RX_DEPTH_LIMIT);
    }
    return mc;
}

/* A PCRE2 return code in SL_RX_* terms. Other errors (none expected from
 * checked patterns) are no match, as they always were. */
static inline int sl_rx_result(int rc)
{
    if (rc >= 0)
        return SL_RX_MATCH;
    switch (rc) {
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
        return SL_RX_LIMIT;
    default:
        return SL_RX_NOMATCH;
    }
}

/*
 * Match s[0..n) with the limits of mc (from sl_rx_context); `jit` says
 * whether pcre2_jit_compile succeeded for re. pcre2_jit_match honours the
 * match context's match limit (not its depth limit, which only the
 * interpreter has). Returns SL_RX_MATCH (md holds the groups),
 * SL_RX_NOMATCH or SL_RX_LIMIT.
 */
static inline int sl_rx_match(const pcre2_code *re, int jit, pcre2_match_context *mc,
                              pcre2_match_data *md, const char *s, size_t n)
{
    int rc = jit ? pcre2_jit_match(re, (PCRE2_SPTR)s, n, 0, 0, md, mc)
                 : pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, mc);
    return sl_rx_result(rc);
}

#endif
