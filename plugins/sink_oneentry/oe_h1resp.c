#include "oe_h1resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { S_HEAD, S_LEN, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_END, S_TRAILER, S_TO_EOF, S_DONE };

#define LINE_MAX_LEN 1024 /* a chunk-size or trailer line longer than this is refused */

void oe_h1resp_reset(oe_h1resp *r)
{
    r->state = S_HEAD;
    r->left = 0;
    r->status = 0;
    r->close = 0;
    r->retry_after[0] = 0;
    r->body[0] = 0;
    r->body_len = 0;
}

int oe_h1resp_started(const oe_h1resp *r)
{
    /* status is set by every head consumed, an interim 1xx one included:
     * after a 100 Continue the server has seen the request. */
    return r->state != S_HEAD || r->status != 0;
}

static long fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "invalid HTTP answer: %s", why);
    return -1;
}

/* Length of the head (through its empty line) at p, 0 when incomplete. */
static size_t head_len(const char *p, size_t n)
{
    for (const char *nl = memchr(p, '\n', n); nl;
         nl = memchr(nl + 1, '\n', n - (size_t)(nl + 1 - p))) {
        size_t at = (size_t)(nl - p) + 1;
        if (at < n && p[at] == '\n')
            return at + 1;
        if (at + 1 < n && p[at] == '\r' && p[at + 1] == '\n')
            return at + 2;
        if (at >= n - 1)
            break;
    }
    return 0;
}

/* The value of header line [p, e) if its name is `name`, else NULL. */
static const char *header_value(const char *p, const char *e, const char *name, const char **ve)
{
    size_t nl = strlen(name);
    if ((size_t)(e - p) <= nl || p[nl] != ':' || strncasecmp(p, name, nl) != 0)
        return NULL;
    const char *v = p + nl + 1;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *ve = e;
    return v;
}

/* Is `tok` one of the comma-separated tokens of [v, e)? */
static int has_token(const char *v, const char *e, const char *tok)
{
    size_t tl = strlen(tok);
    while (v < e) {
        while (v < e && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
        const char *t = v;
        while (v < e && *v != ',')
            v++;
        const char *te = v;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if ((size_t)(te - t) == tl && strncasecmp(t, tok, tl) == 0)
            return 1;
    }
    return 0;
}

/* Is `tok` the last of the comma-separated tokens of [v, e)? */
static int last_token_is(const char *v, const char *e, const char *tok)
{
    const char *c = e;
    while (c > v && c[-1] != ',')
        c--;
    return has_token(c, e, tok);
}

typedef struct head_info {
    int64_t length; /* -1 none */
    int chunked, other_coding, keep_alive;
} head_info;

static int parse_length(const char *v, const char *e, int64_t *out)
{
    int64_t n = 0;
    if (v == e)
        return -1;
    for (; v < e; v++) {
        if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*v - '0');
    }
    *out = n;
    return 0;
}

static int header_line(oe_h1resp *r, const char *p, const char *e, head_info *hi)
{
    const char *v, *ve;
    if ((v = header_value(p, e, "content-length", &ve))) {
        int64_t n;
        if (parse_length(v, ve, &n) < 0 || (hi->length >= 0 && hi->length != n))
            return -1;
        hi->length = n;
    } else if ((v = header_value(p, e, "transfer-encoding", &ve))) {
        hi->chunked = last_token_is(v, ve, "chunked");
        hi->other_coding = !hi->chunked;
    } else if ((v = header_value(p, e, "connection", &ve))) {
        r->close |= has_token(v, ve, "close");
        hi->keep_alive |= has_token(v, ve, "keep-alive");
    } else if ((v = header_value(p, e, "retry-after", &ve))) {
        size_t l = (size_t)(ve - v);
        if (l >= sizeof r->retry_after)
            l = sizeof r->retry_after - 1;
        memcpy(r->retry_after, v, l);
        r->retry_after[l] = 0;
    }
    return 0;
}

/* Status line and headers [p, p+n): sets status and how the body ends. */
static long parse_head(oe_h1resp *r, const char *p, size_t n, char *err, size_t errlen)
{
    const char *end = p + n, *eol = memchr(p, '\n', n);
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return fail(err, errlen, "no HTTP/1.x status line");
    if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
        (n > 12 && p + 12 < eol && p[12] != ' ' && p[12] != '\r'))
        return fail(err, errlen, "bad status code");
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    r->retry_after[0] = 0;
    r->close = 0;
    head_info hi = {.length = -1};
    for (const char *l = eol + 1; l < end;) {
        const char *le = memchr(l, '\n', (size_t)(end - l));
        if (!le)
            le = end;
        if (le > l && !(le - l == 1 && *l == '\r') && header_line(r, l, le, &hi) < 0)
            return fail(err, errlen, "bad Content-Length");
        l = le + 1;
    }
    if (p[7] == '0' && !hi.keep_alive)
        r->close = 1; /* HTTP/1.0 closes unless it says keep-alive */
    if (r->status == 101)
        return fail(err, errlen, "unexpected protocol switch");
    if (r->status < 200) {
        r->state = S_HEAD; /* interim answer (100 Continue): the real one follows */
        return (long)n;
    }
    if (r->status == 204 || r->status == 304)
        r->state = S_DONE;
    else if (hi.chunked)
        r->state = S_CHUNK_SIZE;
    else if (hi.other_coding || hi.length < 0)
        r->state = S_TO_EOF, r->close = 1;
    else
        r->state = hi.length ? S_LEN : S_DONE, r->left = hi.length;
    return (long)n;
}

static void keep(oe_h1resp *r, const char *p, size_t n)
{
    size_t room = OE_H1_BODY_MAX - 1 - r->body_len;
    if (n > room)
        n = room;
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
}

/* Body bytes of a known length (Content-Length or one chunk). */
static size_t take(oe_h1resp *r, const char *p, size_t n)
{
    size_t k = (int64_t)n < r->left ? n : (size_t)r->left;
    keep(r, p, k);
    r->left -= (int64_t)k;
    return k;
}

/* One line at p: its length through '\n', 0 when not all here yet, -1 too long. */
static long line_len(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n < LINE_MAX_LEN ? n : LINE_MAX_LEN);
    if (nl)
        return (long)(nl - p) + 1;
    return n >= LINE_MAX_LEN ? -1 : 0;
}

static long chunk_size(oe_h1resp *r, const char *p, size_t n, char *err, size_t errlen)
{
    long ll = line_len(p, n);
    if (ll <= 0)
        return ll < 0 ? fail(err, errlen, "chunk size line too long") : 0;
    int64_t size = 0;
    int digits = 0;
    for (const char *c = p; c < p + ll; c++, digits++) {
        int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
              : *c >= 'A' && *c <= 'F' ? *c - 'A' + 10 : -1;
        if (d < 0)
            break;
        if (size > (INT64_MAX >> 4))
            return fail(err, errlen, "chunk size too big");
        size = size * 16 + d;
    }
    if (!digits)
        return fail(err, errlen, "bad chunk size");
    r->left = size;
    r->state = size ? S_CHUNK_DATA : S_TRAILER;
    return ll;
}

/* One step over the body; bytes consumed, or -1. */
static long body_step(oe_h1resp *r, const char *p, size_t n, char *err, size_t errlen)
{
    long ll;
    switch (r->state) {
    case S_LEN: {
        size_t k = take(r, p, n);
        if (!r->left)
            r->state = S_DONE;
        return (long)k;
    }
    case S_TO_EOF:
        keep(r, p, n);
        return (long)n;
    case S_CHUNK_SIZE:
        return chunk_size(r, p, n, err, errlen);
    case S_CHUNK_DATA: {
        size_t k = take(r, p, n);
        if (!r->left)
            r->state = S_CHUNK_END;
        return (long)k;
    }
    case S_CHUNK_END:
    case S_TRAILER:
        if ((ll = line_len(p, n)) <= 0)
            return ll < 0 ? fail(err, errlen, "trailer line too long") : 0;
        if (r->state == S_CHUNK_END && !(ll == 1 || (ll == 2 && p[0] == '\r')))
            return fail(err, errlen, "chunk not followed by CRLF");
        if (r->state == S_CHUNK_END)
            r->state = S_CHUNK_SIZE;
        else if (ll == 1 || (ll == 2 && p[0] == '\r'))
            r->state = S_DONE; /* the empty line ends the trailers */
        return ll;
    default:
        return 0;
    }
}

long oe_h1resp_feed(oe_h1resp *r, const char *p, size_t n, int *done, char *err, size_t errlen)
{
    size_t used = 0;
    *done = 0;
    while (used < n || r->state == S_DONE) {
        long k;
        if (r->state == S_DONE) {
            *done = 1;
            return (long)used;
        }
        if (r->state == S_HEAD) {
            /* Look for the head's end in its first OE_H1_HEAD_MAX bytes only,
             * so a long head is refused however its bytes arrive. */
            size_t avail = n - used < OE_H1_HEAD_MAX ? n - used : OE_H1_HEAD_MAX;
            size_t hl = head_len(p + used, avail);
            if (!hl) {
                if (avail == OE_H1_HEAD_MAX)
                    return fail(err, errlen, "headers longer than 16 KiB");
                break;
            }
            k = parse_head(r, p + used, hl, err, errlen);
        } else {
            k = body_step(r, p + used, n - used, err, errlen);
        }
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        used += (size_t)k;
    }
    return (long)used;
}

int oe_h1resp_eof(oe_h1resp *r)
{
    if (r->state != S_TO_EOF)
        return 0;
    r->state = S_DONE;
    return 1;
}
