/*
 * Line splitting for the tail source: cuts a stream of byte chunks into
 * lines at "\n" (a "\r" before it is dropped), remembering each line's byte
 * offsets in the file. A line that continues past the end of a chunk is held
 * (at most max_line + 1 bytes, so memory never grows with line length)
 * until its "\n" arrives.
 */
#ifndef TAIL_LINES_H
#define TAIL_LINES_H

#include <stddef.h>
#include <stdint.h>

/** What happened to a line that reached the callback. */
enum {
    LINE_WHOLE = 0,     /**< the complete line */
    LINE_TRUNCATED = 1, /**< longer than max_line: its first max_line bytes */
    LINE_SKIPPED = 2,   /**< longer than max_line in skip mode: no bytes */
};

/**
 * Called once per line, in file order. `start` is the offset of its first
 * byte, `end` the offset just past its "\n" (where the next line starts).
 * Return 0 to go on; any other value stops the feed and is returned by it.
 */
typedef int (*tail_line_fn)(void *ud, const char *p, size_t len, uint64_t start,
                            uint64_t end, int status);

typedef struct tail_lines {
    size_t max_line;  /* longest line kept, in bytes */
    int skip_long;    /* longer lines: 0 truncate, 1 skip */
    char *hold;       /* the partial line carried between chunks */
    size_t hold_len, hold_cap;
    int overflow;     /* the partial line already exceeded max_line */
    uint64_t start;   /* offset of the partial line's first byte */
    uint64_t fed_end; /* offset just past the last byte fed */
} tail_lines;

/** Start splitting at file offset `off`. */
void tail_lines_init(tail_lines *l, size_t max_line, int skip_long, uint64_t off);

/** Free the held bytes. */
void tail_lines_free(tail_lines *l);

/** Drop any partial line and continue at `off` (after truncation or a seek). */
void tail_lines_reset(tail_lines *l, uint64_t off);

/** Non-zero while bytes of an unfinished line are held. */
int tail_lines_partial(const tail_lines *l);

/**
 * Feed n bytes that follow what was fed before. Returns 0, -1 when out of
 * memory (what was fed is then in an unknown state: reset before reuse), or
 * the first non-zero callback result. When the callback stops the feed, the
 * rest of the chunk is not consumed: reset before feeding again.
 */
int tail_lines_feed(tail_lines *l, const char *buf, size_t n, tail_line_fn fn, void *ud);

/**
 * End of input: hand the held partial line (if any) to fn as a line whose
 * end is the end of what was fed. Returns 0 or the callback's result.
 */
int tail_lines_finish(tail_lines *l, tail_line_fn fn, void *ud);

#endif
