#include "lines.h"

#include <stdlib.h>
#include <string.h>

void tail_lines_init(tail_lines *l, size_t max_line, int skip_long, uint64_t off)
{
    memset(l, 0, sizeof *l);
    l->max_line = max_line;
    l->skip_long = skip_long;
    l->start = l->fed_end = off;
}

void tail_lines_free(tail_lines *l)
{
    free(l->hold);
    l->hold = NULL;
    l->hold_len = l->hold_cap = 0;
}

void tail_lines_reset(tail_lines *l, uint64_t off)
{
    l->hold_len = 0;
    l->overflow = 0;
    l->start = l->fed_end = off;
}

int tail_lines_partial(const tail_lines *l)
{
    return l->hold_len > 0 || l->overflow;
}

/*
 * Keep up to max_line + 1 bytes of an unfinished line: the extra byte lets
 * a "\r" before the "\n" be dropped without calling the line truncated.
 */
static int hold(tail_lines *l, const char *p, size_t n)
{
    size_t room = l->max_line + 1 - l->hold_len;
    if (n > room) {
        n = room;
        l->overflow = 1;
    }
    if (l->hold_len + n > l->hold_cap) {
        size_t cap = l->hold_cap ? l->hold_cap : 512;
        while (cap < l->hold_len + n)
            cap *= 2;
        if (cap > l->max_line + 1)
            cap = l->max_line + 1;
        char *nh = realloc(l->hold, cap);
        if (!nh)
            return -1;
        l->hold = nh;
        l->hold_cap = cap;
    }
    memcpy(l->hold + l->hold_len, p, n);
    l->hold_len += n;
    return 0;
}

/* Hand one finished line to fn, applying the length limit. */
static int deliver(tail_lines *l, const char *p, size_t len, int overflow, int had_nl,
                   uint64_t end, tail_line_fn fn, void *ud)
{
    if (had_nl && !overflow && len > 0 && p[len - 1] == '\r')
        len--;
    int status = LINE_WHOLE;
    if (overflow || len > l->max_line) {
        len = l->skip_long ? 0 : l->max_line;
        status = l->skip_long ? LINE_SKIPPED : LINE_TRUNCATED;
    }
    uint64_t start = l->start;
    l->start = end;
    return fn(ud, p, len, start, end, status);
}

int tail_lines_feed(tail_lines *l, const char *buf, size_t n, tail_line_fn fn, void *ud)
{
    const char *p = buf;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            l->fed_end += n;
            return hold(l, p, n);
        }
        size_t seg = (size_t)(nl - p);
        l->fed_end += seg + 1;
        int r;
        if (l->hold_len == 0 && !l->overflow) {
            r = deliver(l, p, seg, 0, 1, l->fed_end, fn, ud); /* no copy */
        } else {
            if (hold(l, p, seg) != 0)
                return -1;
            r = deliver(l, l->hold, l->hold_len, l->overflow, 1, l->fed_end, fn, ud);
            l->hold_len = 0;
            l->overflow = 0;
        }
        if (r != 0)
            return r;
        p += seg + 1;
        n -= seg + 1;
    }
    return 0;
}

int tail_lines_finish(tail_lines *l, tail_line_fn fn, void *ud)
{
    if (!tail_lines_partial(l))
        return 0;
    int r = deliver(l, l->hold, l->hold_len, l->overflow, 0, l->fed_end, fn, ud);
    l->hold_len = 0;
    l->overflow = 0;
    return r;
}
