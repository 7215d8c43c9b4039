/*
 * Incremental parser of HTTP/1.x responses, for the built-in client
 * (oe_h1.c). It keeps what the sink needs of an answer — status,
 * Retry-After, whether the server closes the connection, the first 4 KiB of
 * the body — and finds where the answer ends (Content-Length, chunked, or
 * the connection's end), so pipelined answers on one connection are told
 * apart. Pure code over byte buffers: unit-tested and fuzzed on its own.
 */
#ifndef OE_H1RESP_H
#define OE_H1RESP_H

#include <stddef.h>
#include <stdint.h>

#define OE_H1_BODY_MAX 4096  /* body bytes kept (the rest is skipped) */
#define OE_H1_HEAD_MAX 16384 /* longest status line + headers accepted */

typedef struct oe_h1resp {
    int state;          /* private: where in the answer the parser is */
    int64_t left;       /* private: body or chunk bytes still to come */
    long status;        /* the final status (1xx answers are skipped) */
    int close;          /* the server closes the connection after this answer */
    char retry_after[80];
    char body[OE_H1_BODY_MAX];
    size_t body_len;    /* bytes kept in body (NUL-terminated) */
} oe_h1resp;

/* Ready for the next answer on the connection. */
void oe_h1resp_reset(oe_h1resp *r);

/*
 * Feed the n bytes at p. Returns how many were consumed (0 = the status
 * line and headers are not complete yet: call again with more bytes after
 * them, from the same start), or -1 with the reason in err when the bytes
 * are not an HTTP/1.x answer. *done becomes 1 when an answer is complete;
 * bytes after it belong to the next answer and are not consumed.
 */
long oe_h1resp_feed(oe_h1resp *r, const char *p, size_t n, int *done, char *err, size_t errlen);

/* The connection ended: 1 when that completes the answer (a body that
 * runs to the end of the connection), 0 when the answer is cut short. */
int oe_h1resp_eof(oe_h1resp *r);

/* Non-zero once any byte of the current answer has been consumed. */
int oe_h1resp_started(const oe_h1resp *r);

#endif
