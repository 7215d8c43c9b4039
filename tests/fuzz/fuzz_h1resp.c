/*
 * Fuzz target: the built-in HTTP client's answer parser (oe_h1resp) on
 * whatever a server might send. The first 7 bytes choose up to three cut
 * points; the rest is what arrives on the connection. It is fed as oe_h1.c
 * feeds it (re-feed from the same start on 0, advance on k, stop on -1,
 * reset after each answer, oe_h1resp_eof at the end), once in one piece and
 * once arriving in pieces at the cuts, each piece in a buffer of exactly the
 * bytes received so far (so ASan sees a read past them). Aborts on a broken
 * invariant, or when the two ways end differently: the answers must not
 * depend on how the bytes were split.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oe_h1resp.h"

#define PREFIX 7
#define NCUTS 3

enum { END_CLEAN, END_REFUSED, END_CUT };

typedef struct outcome {
    uint64_t digest; /* of every answer: status, close, Retry-After, body, bytes */
    size_t answers;
    int end;
    size_t used;     /* bytes consumed, unless refused */
    char err[128];
} outcome;

static oe_h1resp resp;

static void mix(outcome *o, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        o->digest = (o->digest ^ b[i]) * 1099511628211ULL;
}

static void check_fields(void)
{
    if (resp.body_len >= OE_H1_BODY_MAX || resp.body[resp.body_len] != 0 ||
        !memchr(resp.retry_after, 0, sizeof resp.retry_after))
        abort();
}

/* A complete answer that took `bytes` bytes of the connection. */
static void answer(outcome *o, size_t bytes)
{
    check_fields();
    if (resp.status < 200 || resp.status > 599 || !bytes || !oe_h1resp_started(&resp))
        abort();
    mix(o, &resp.status, sizeof resp.status);
    mix(o, &resp.close, sizeof resp.close);
    mix(o, resp.retry_after, strlen(resp.retry_after) + 1);
    mix(o, &resp.body_len, sizeof resp.body_len);
    mix(o, resp.body, resp.body_len);
    mix(o, &bytes, sizeof bytes);
    o->answers++;
}

/* The connection brings data[0, len), first up to each of cuts[] (ascending). */
static void run(const char *data, size_t len, const size_t *cuts, size_t ncuts, outcome *o)
{
    size_t have = 0, pos = 0, start = 0;
    char *win = NULL;
    memset(o, 0, sizeof *o);
    o->digest = 14695981039346656037ULL;
    oe_h1resp_reset(&resp);
    for (size_t c = 0; c <= ncuts; c++) {
        size_t to = c < ncuts ? cuts[c] : len;
        if (to <= have)
            continue;
        free(win);
        if (!(win = malloc(to)))
            abort();
        memcpy(win, data, to);
        have = to;
        while (pos < have) {
            int done = -1;
            size_t given = have - pos;
            long k = oe_h1resp_feed(&resp, win + pos, given, &done, o->err, sizeof o->err);
            if (k < 0) {
                if (strncmp(o->err, "invalid HTTP answer: ", 21) != 0)
                    abort();
                o->end = END_REFUSED;
                free(win);
                return;
            }
            if ((size_t)k > given || (done != 0 && done != 1))
                abort();
            check_fields();
            if (k > 0 && !oe_h1resp_started(&resp))
                abort();
            pos += (size_t)k;
            if (done) {
                answer(o, pos - start);
                start = pos;
                oe_h1resp_reset(&resp);
                if (oe_h1resp_started(&resp))
                    abort();
            } else if (!k) {
                break; /* wait for more bytes, re-feed from pos */
            }
        }
    }
    free(win);
    int started = oe_h1resp_started(&resp);
    if (oe_h1resp_eof(&resp)) {
        if (!started || !resp.close)
            abort();
        answer(o, pos - start);
        o->end = END_CLEAN;
    } else {
        o->end = started || pos < len ? END_CUT : END_CLEAN;
    }
    o->used = pos;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < PREFIX)
        return 0;
    const char *s = (const char *)data + PREFIX;
    size_t len = size - PREFIX, cuts[NCUTS], ncuts = data[0] % (NCUTS + 1);
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = ((size_t)data[1 + 2 * i] | (size_t)data[2 + 2 * i] << 8) % (len + 1);
    qsort(cuts, ncuts, sizeof *cuts, cmp_size);

    static outcome whole, pieces;
    run(s, len, NULL, 0, &whole);
    run(s, len, cuts, ncuts, &pieces);
    if (whole.end != pieces.end || whole.answers != pieces.answers ||
        whole.digest != pieces.digest || strcmp(whole.err, pieces.err) != 0 ||
        (whole.end != END_REFUSED && whole.used != pieces.used))
        abort();
    return 0;
}
