#include "ackmeta.h"

#include <string.h>

#define ACK_PREFIX "$JS.ACK."
#define MAX_TOKENS 12

static int number(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int nsrc_ackmeta_parse(const char *reply, nsrc_ackmeta *m)
{
    const char *tok[MAX_TOKENS];
    size_t len[MAX_TOKENS];
    size_t nt = 0;
    if (!reply || strncmp(reply, ACK_PREFIX, sizeof ACK_PREFIX - 1) != 0)
        return -1;
    const char *p = reply + sizeof ACK_PREFIX - 1;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (nt == MAX_TOKENS)
            return -1;
        tok[nt] = p;
        len[nt] = dot ? (size_t)(dot - p) : strlen(p);
        nt++;
        if (!dot)
            break;
        p = dot + 1;
    }
    /* v1: 7 tokens; v2: domain and account hash first, maybe a random
     * token last (9 or 10). */
    size_t b;
    if (nt == 7)
        b = 0;
    else if (nt == 9 || nt == 10)
        b = 2;
    else
        return -1;
    uint64_t tm;
    if (len[b] == 0 || number(tok[b + 2], len[b + 2], &m->delivered) != 0 ||
        number(tok[b + 3], len[b + 3], &m->stream_seq) != 0 ||
        number(tok[b + 4], len[b + 4], &m->consumer_seq) != 0 ||
        number(tok[b + 5], len[b + 5], &tm) != 0 ||
        number(tok[b + 6], len[b + 6], &m->pending) != 0 || tm > INT64_MAX)
        return -1;
    m->stream = tok[b];
    m->stream_len = len[b];
    m->time_ns = (int64_t)tm;
    return 0;
}

uint64_t nsrc_delivery_rewind(uint64_t *last, uint64_t consumer_seq)
{
    uint64_t before = *last;
    *last = consumer_seq;
    return before && consumer_seq <= before ? before - consumer_seq + 1 : 0;
}
