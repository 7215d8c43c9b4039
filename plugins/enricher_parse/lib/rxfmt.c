/* The regex format; see rxfmt.h. */
#include "rxfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rxfmt_init(rxfmt *r, const char *pattern, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    uint32_t count = 0, esize = 0;
    PCRE2_SPTR table;
    memset(r, 0, sizeof *r);
    r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "pattern: %s at offset %zu", (const char *)msg, (size_t)off);
        return -1;
    }
    /* Without JIT (some hardened kernels refuse executable memory) the
     * interpreter still gives the same answers, only slower. */
    r->jit = pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE) == 0;
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &table);
    if (count == 0) {
        snprintf(err, errlen, "pattern: no named group (?<name>...), so no field to extract");
        rxfmt_free(r);
        return -1;
    }
    r->groups = calloc(count, sizeof *r->groups);
    r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
    r->mc = sl_rx_context();
    if (!r->groups || !r->md || !r->mc) {
        snprintf(err, errlen, "out of memory");
        rxfmt_free(r);
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR e = table + (size_t)i * esize;
        r->groups[i].num = (uint32_t)e[0] << 8 | e[1];
        r->groups[i].name = (const char *)e + 2;
    }
    r->ngroups = count;
    return 0;
}

void rxfmt_free(rxfmt *r)
{
    pcre2_match_data_free(r->md);
    pcre2_match_context_free(r->mc);
    pcre2_code_free(r->re);
    free(r->groups);
    memset(r, 0, sizeof *r);
}

int rxfmt_fields(rxfmt *r, const char *s, size_t n, pf_out *o, char *err, size_t errlen)
{
    int rc = r->jit ? pcre2_jit_match(r->re, (PCRE2_SPTR)s, n, 0, 0, r->md, r->mc)
                    : pcre2_match(r->re, (PCRE2_SPTR)s, n, 0, 0, r->md, r->mc);
    if (rc < 0) {
        if (rc == PCRE2_ERROR_NOMATCH) {
            snprintf(err, errlen, "regex: the line does not match the pattern");
        } else if (sl_rx_result(rc) == SL_RX_LIMIT) {
            r->limit_hits++;
            snprintf(err, errlen, "regex: the line costs the pattern more than %u matching "
                     "steps; taken as no match", SL_RX_MATCH_LIMIT);
        } else {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(rc, msg, sizeof msg);
            snprintf(err, errlen, "regex: %s", (const char *)msg);
        }
        return -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
    for (uint32_t i = 0; i < r->ngroups; i++) {
        uint32_t g = r->groups[i].num;
        if (g >= (uint32_t)rc || ov[2 * g] == PCRE2_UNSET)
            continue; /* an optional group that did not take part */
        if (pf_str(o, r->groups[i].name, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}
