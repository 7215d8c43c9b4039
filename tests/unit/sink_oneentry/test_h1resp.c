/*
 * sink_oneentry built-in client: the HTTP/1.x answer parser. Every case runs
 * through a driver that feeds the bytes the way oe_h1.c does (re-feed from the
 * same start on 0, advance on k, reset after each answer, oe_h1resp_eof when
 * the bytes end), in one piece and then in small steps down to one byte at a
 * time; the answers must come out the same however the bytes arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../plugins/sink_oneentry/oe_h1resp.h"
#include "sl_test.h"

#define ERR_LEN 128

/* One answer as the client hands it on. */
typedef struct answer {
    long status;
    int close;
    char retry_after[80];
    char body[OE_H1_BODY_MAX];
    size_t body_len;
    size_t bytes; /* connection bytes it took, interim 1xx answers included */
} answer;

enum { END_CLEAN, END_ERROR, END_CUT };

typedef struct run {
    answer a[4];
    int n;
    int end;       /* END_*: how the connection's bytes ended */
    char err[ERR_LEN];
    size_t unused; /* bytes never consumed (on END_ERROR: from the refused answer's start
                    * or later, depending on how the bytes came) */
} run;

static oe_h1resp resp;
static run one, other;

static void record(run *out, size_t bytes)
{
    CU_ASSERT_FATAL(out->n < 4);
    answer *a = &out->a[out->n++];
    a->status = resp.status;
    a->close = resp.close;
    memcpy(a->retry_after, resp.retry_after, sizeof a->retry_after);
    memcpy(a->body, resp.body, sizeof a->body);
    a->body_len = resp.body_len;
    a->bytes = bytes;
}

/* Make `step` more bytes of s visible at a time, as recv would. */
static void drive(const char *s, size_t len, size_t step, run *out)
{
    size_t have = 0, pos = 0, start = 0;
    int more = 1;
    memset(out, 0, sizeof *out);
    oe_h1resp_reset(&resp);
    for (;;) {
        if (more) {
            if (have == len)
                break;
            have += len - have < step ? len - have : step;
            more = 0;
        }
        int done = -1;
        long k = oe_h1resp_feed(&resp, s + pos, have - pos, &done, out->err, sizeof out->err);
        if (k < 0) {
            out->end = END_ERROR;
            out->unused = len - pos;
            return;
        }
        CU_ASSERT_FATAL((size_t)k <= have - pos);
        CU_ASSERT(done == 0 || done == 1);
        CU_ASSERT(resp.body_len < OE_H1_BODY_MAX && resp.body[resp.body_len] == 0);
        pos += (size_t)k;
        if (done) {
            record(out, pos - start);
            start = pos;
            oe_h1resp_reset(&resp);
            CU_ASSERT(!oe_h1resp_started(&resp));
        }
        if (pos == have || (!k && !done))
            more = 1;
    }
    int started = oe_h1resp_started(&resp);
    if (oe_h1resp_eof(&resp)) {
        CU_ASSERT(started);
        record(out, pos - start);
        out->end = END_CLEAN;
    } else {
        out->end = started || pos < len ? END_CUT : END_CLEAN;
    }
    out->unused = len - pos;
}

static int same_run(const run *x, const run *y)
{
    /* A refused answer's bytes count as unused however far the parser got:
     * the connection is dropped either way. */
    if (x->n != y->n || x->end != y->end || strcmp(x->err, y->err) ||
        (x->end != END_ERROR && x->unused != y->unused))
        return 0;
    for (int i = 0; i < x->n; i++) {
        const answer *a = &x->a[i], *b = &y->a[i];
        if (a->status != b->status || a->close != b->close || a->body_len != b->body_len ||
            a->bytes != b->bytes || strcmp(a->retry_after, b->retry_after) ||
            memcmp(a->body, b->body, a->body_len + 1))
            return 0;
    }
    return 1;
}

/* Drive s in one piece, then in steps of 1, 2, 3, 7 and 100 bytes: all alike. */
static const run *check_n(const char *s, size_t len)
{
    static const size_t steps[] = {1, 2, 3, 7, 100};
    drive(s, len, len ? len : 1, &one);
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        drive(s, len, steps[i], &other);
        CU_ASSERT(same_run(&one, &other));
    }
    return &one;
}

static const run *check(const char *s)
{
    return check_n(s, strlen(s));
}

/* The run ended cleanly after `n` answers and consumed every byte. */
static int clean(const run *r, int n)
{
    return r->end == END_CLEAN && r->n == n && r->unused == 0;
}

static int refused(const run *r)
{
    return r->end == END_ERROR && strncmp(r->err, "invalid HTTP answer", 19) == 0;
}

/* One direct feed of all of s into a freshly reset parser. */
static long feed_all(const char *s, size_t len, int *done, char *err)
{
    oe_h1resp_reset(&resp);
    err[0] = 0;
    return oe_h1resp_feed(&resp, s, len, done, err, ERR_LEN);
}

static void test_content_length(void)
{
    const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: application/json\r\n\r\ntrue";
    int done;
    char err[ERR_LEN];
    CU_ASSERT_EQUAL(feed_all(a, strlen(a), &done, err), (long)strlen(a));
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_STRING_EQUAL(resp.body, "true");
    CU_ASSERT_EQUAL(resp.body_len, 4);
    CU_ASSERT_EQUAL(resp.close, 0);
    CU_ASSERT_STRING_EQUAL(resp.retry_after, "");

    const run *r = check(a);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].status, 200);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "true");
    CU_ASSERT_EQUAL(r->a[0].bytes, strlen(a));

    /* Content-Length: 0 ends the answer with its head. */
    r = check("HTTP/1.1 201 Created\r\ncontent-length:0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].status, 201);
    CU_ASSERT_EQUAL(r->a[0].body_len, 0);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "");

    /* Body bytes are kept as they are, NUL included. */
    static const char bin[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b";
    r = check_n(bin, sizeof bin - 1);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].body_len, 3);
    CU_ASSERT(memcmp(r->a[0].body, "a\0b", 4) == 0);

    /* Nothing fed, nothing consumed. */
    CU_ASSERT_EQUAL(feed_all("", 0, &done, err), 0);
    CU_ASSERT_EQUAL(done, 0);
}

/* A head with a body of `len` bytes: "0123456789" repeated. */
static char *long_body_answer(const char *head, size_t len, size_t *total)
{
    size_t hl = strlen(head);
    char *s = malloc(hl + len + 1);
    CU_ASSERT_FATAL(s != NULL);
    memcpy(s, head, hl);
    for (size_t i = 0; i < len; i++)
        s[hl + i] = (char)('0' + i % 10);
    s[hl + len] = 0;
    *total = hl + len;
    return s;
}

static void test_body_over_max(void)
{
    char head[128];
    size_t blen = OE_H1_BODY_MAX + 904, total;
    snprintf(head, sizeof head, "HTTP/1.1 500 Internal\r\nContent-Length: %zu\r\n\r\n", blen);
    char *s = long_body_answer(head, blen, &total);
    int done;
    char err[ERR_LEN];
    CU_ASSERT_EQUAL(feed_all(s, total, &done, err), (long)total);
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(resp.body_len, OE_H1_BODY_MAX - 1);
    CU_ASSERT_EQUAL(resp.body[OE_H1_BODY_MAX - 1], 0);
    CU_ASSERT_EQUAL(resp.body[OE_H1_BODY_MAX - 2], (char)('0' + (OE_H1_BODY_MAX - 2) % 10));
    CU_ASSERT(memcmp(resp.body, s + strlen(head), OE_H1_BODY_MAX - 1) == 0);
    const run *r = check_n(s, total);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].status, 500);
    CU_ASSERT_EQUAL(r->a[0].body_len, OE_H1_BODY_MAX - 1);
    free(s);

    /* The whole long body is consumed: the next answer starts right after. */
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
    s = long_body_answer(head, blen, &total);
    const char *next = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok";
    char *two = malloc(total + strlen(next) + 1);
    CU_ASSERT_FATAL(two != NULL);
    memcpy(two, s, total);
    strcpy(two + total, next);
    CU_ASSERT_EQUAL(feed_all(two, strlen(two), &done, err), (long)total);
    CU_ASSERT_EQUAL(done, 1);
    r = check(two);
    CU_ASSERT(clean(r, 2));
    CU_ASSERT_EQUAL(r->a[0].bytes, total);
    CU_ASSERT_EQUAL(r->a[0].body_len, OE_H1_BODY_MAX - 1);
    CU_ASSERT_EQUAL(r->a[1].status, 202);
    CU_ASSERT_STRING_EQUAL(r->a[1].body, "ok");
    free(two);
    free(s);

    /* Chunked: the kept part stops at the same place across chunks. */
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nbb8\r\n";
    size_t chl = strlen(ch), n = chl + 3000 + 7 + 3000 + 7;
    s = malloc(n + 1);
    CU_ASSERT_FATAL(s != NULL);
    memcpy(s, ch, chl);
    memset(s + chl, 'a', 3000);
    memcpy(s + chl + 3000, "\r\nBB8\r\n", 7);
    memset(s + chl + 3007, 'b', 3000);
    memcpy(s + chl + 6007, "\r\n0\r\n\r\n", 8);
    CU_ASSERT_EQUAL(strlen(s), n);
    r = check(s);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].body_len, OE_H1_BODY_MAX - 1);
    CU_ASSERT_EQUAL(r->a[0].body[2999], 'a');
    CU_ASSERT_EQUAL(r->a[0].body[3000], 'b');
    CU_ASSERT_EQUAL(r->a[0].body[OE_H1_BODY_MAX - 2], 'b');
    CU_ASSERT_EQUAL(r->a[0].body[OE_H1_BODY_MAX - 1], 0);
    free(s);
}

#define A1 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
#define A2 "HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n"
#define A3 "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"

static void test_pipelined(void)
{
    int done;
    char err[ERR_LEN];
    const char *two = A1 A2;
    CU_ASSERT_EQUAL(feed_all(two, strlen(two), &done, err), (long)strlen(A1));
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_STRING_EQUAL(resp.body, "first");
    oe_h1resp_reset(&resp);
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, two + strlen(A1), strlen(A2), &done, err, sizeof err),
                    (long)strlen(A2));
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(resp.status, 503);
    CU_ASSERT_STRING_EQUAL(resp.body, "second");
    CU_ASSERT_STRING_EQUAL(resp.retry_after, "7");

    const char *three = A1 A2 A3;
    size_t at = 0;
    static const size_t lens[] = {sizeof A1 - 1, sizeof A2 - 1, sizeof A3 - 1};
    for (int i = 0; i < 3; i++) {
        oe_h1resp_reset(&resp);
        CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, three + at, strlen(three) - at, &done, err, sizeof err),
                        (long)lens[i]);
        CU_ASSERT_EQUAL(done, 1);
        at += lens[i];
    }
    CU_ASSERT_EQUAL(at, strlen(three));
    CU_ASSERT_EQUAL(resp.status, 204);
    CU_ASSERT_EQUAL(resp.close, 1);

    const run *r = check(three);
    CU_ASSERT(clean(r, 3));
    CU_ASSERT_EQUAL(r->a[0].status, 200);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "first");
    CU_ASSERT_EQUAL(r->a[0].close, 0);
    CU_ASSERT_EQUAL(r->a[0].bytes, lens[0]);
    CU_ASSERT_EQUAL(r->a[1].status, 503);
    CU_ASSERT_STRING_EQUAL(r->a[1].body, "second");
    CU_ASSERT_STRING_EQUAL(r->a[1].retry_after, "7");
    CU_ASSERT_EQUAL(r->a[1].bytes, lens[1]);
    CU_ASSERT_EQUAL(r->a[2].status, 204);
    CU_ASSERT_EQUAL(r->a[2].body_len, 0);
    CU_ASSERT_EQUAL(r->a[2].close, 1);
    CU_ASSERT_EQUAL(r->a[2].bytes, lens[2]);
    /* A later answer does not inherit an earlier one's Retry-After. */
    CU_ASSERT_STRING_EQUAL(r->a[2].retry_after, "");
}

static void test_byte_by_byte(void)
{
    const char *three = A1 A2 A3;
    run whole;
    drive(three, strlen(three), strlen(three), &whole);
    drive(three, strlen(three), 1, &other);
    CU_ASSERT(clean(&other, 3));
    CU_ASSERT(same_run(&whole, &other));

    /* Until the head is complete nothing is consumed; then the head at once. */
    int done;
    char err[ERR_LEN];
    const char *a = A1;
    size_t hl = strlen(a) - 5;
    oe_h1resp_reset(&resp);
    for (size_t i = 1; i < hl; i++) {
        CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, a, i, &done, err, sizeof err), 0);
        CU_ASSERT_EQUAL(done, 0);
    }
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, a, hl, &done, err, sizeof err), (long)hl);
    CU_ASSERT_EQUAL(done, 0);
    /* Body bytes are taken as they come. */
    for (size_t i = hl; i < strlen(a); i++) {
        CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, a + i, 1, &done, err, sizeof err), 1);
        CU_ASSERT_EQUAL(done, i + 1 == strlen(a));
    }
    CU_ASSERT_STRING_EQUAL(resp.body, "first");
}

static void test_chunked(void)
{
    const run *r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "4;name=\"v\"\r\nWiki\r\n"
                         "A\r\npedia in c\r\n"
                         "1a ; ext\r\nhunks. abcdefghijklmnopqrs\r\n"
                         "1F\r\n0123456789012345678901234567890\r\n"
                         "000\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
    CU_ASSERT(clean(r, 2));
    CU_ASSERT_EQUAL(r->a[0].status, 200);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "Wikipedia in chunks. abcdefghijklmnopqrs"
                                         "0123456789012345678901234567890");
    CU_ASSERT_EQUAL(r->a[0].close, 0);
    CU_ASSERT_STRING_EQUAL(r->a[1].body, "z");

    /* Only a zero-size chunk and no trailer. */
    r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].body_len, 0);

    /* chunked is the last coding: chunked, whatever Content-Length says. */
    r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 100\r\n\r\n"
              "2\r\nab\r\n0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "ab");

    /* chunked not last: the body runs to the end of the connection. */
    r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nab\r\n0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "2\r\nab\r\n0\r\n\r\n");

    /* A chunked body cut short, in the data and in the trailers. */
    r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    CU_ASSERT(r->end == END_CUT && r->n == 0);
    r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n");
    CU_ASSERT(r->end == END_CUT && r->n == 0);
    r = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n");
    CU_ASSERT(r->end == END_CUT && r->n == 0);

    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const char *const bad[] = {
        "zz\r\nab\r\n0\r\n\r\n",  /* not hex */
        "\r\n",                   /* empty size line */
        " 2\r\nab\r\n0\r\n\r\n",  /* leading space */
        "-2\r\nab\r\n0\r\n\r\n",
        "10000000000000000\r\n",  /* 2^64: too big */
        "2\r\nabc\r\n0\r\n\r\n",  /* data longer than its size */
        "2\r\nabXY0\r\n\r\n",     /* no CRLF after the data */
        "2\r\nab2\r\ncd\r\n0\r\n\r\n",
    };
    char buf[256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(buf, sizeof buf, "%s%s", head, bad[i]);
        r = check(buf);
        CU_ASSERT(refused(r));
        CU_ASSERT_EQUAL(r->n, 0);
    }
    snprintf(buf, sizeof buf, "%szz\r\n", head);
    r = check(buf);
    CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: bad chunk size");
    snprintf(buf, sizeof buf, "%s2\r\nabXY\r\n", head);
    r = check(buf);
    CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: chunk not followed by CRLF");

    /* A chunk-size line or trailer that never ends is refused, not waited for. */
    char *s = malloc(2100);
    CU_ASSERT_FATAL(s != NULL);
    snprintf(s, 2100, "%s5;", head);
    memset(s + strlen(s), 'e', 1500);
    s[strlen(head) + 2 + 1500] = 0;
    r = check(s);
    CU_ASSERT(refused(r));
    snprintf(s, 2100, "%s0\r\nX-T: ", head);
    memset(s + strlen(s), 't', 1500);
    s[strlen(head) + 8 + 1500] = 0;
    r = check(s);
    CU_ASSERT(refused(r));
    free(s);
}

static void test_connection_close(void)
{
    const run *r = check("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "ok");
    r = check("HTTP/1.1 200 OK\r\nconnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    r = check("HTTP/1.1 200 OK\r\nCONNECTION: Upgrade,CLOSE \r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    r = check("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 0);
    /* A token only counts whole. */
    r = check("HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\nX-Connection: close\r\n"
              "Content-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 0);
}

static void test_http10(void)
{
    const run *r = check("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "ok");
    r = check("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"
              "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 2));
    CU_ASSERT_EQUAL(r->a[0].close, 0);
    CU_ASSERT_EQUAL(r->a[1].status, 404);
    CU_ASSERT_EQUAL(r->a[1].close, 1);
    /* keep-alive, but no length: the body still runs to the end. */
    r = check("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nall of it");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "all of it");
}

static void test_body_to_eof(void)
{
    const char *a = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\nupstream down\n";
    int done;
    char err[ERR_LEN];
    CU_ASSERT_EQUAL(feed_all(a, strlen(a), &done, err), (long)strlen(a));
    CU_ASSERT_EQUAL(done, 0);
    CU_ASSERT_EQUAL(resp.close, 1);
    CU_ASSERT(oe_h1resp_started(&resp));
    CU_ASSERT_EQUAL(oe_h1resp_eof(&resp), 1);
    CU_ASSERT_EQUAL(resp.status, 502);
    CU_ASSERT_STRING_EQUAL(resp.body, "upstream down\n");
    /* Once complete, the answer is done. */
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, "", 0, &done, err, sizeof err), 0);
    CU_ASSERT_EQUAL(done, 1);

    const run *r = check(a);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].bytes, strlen(a));
    CU_ASSERT_EQUAL(r->a[0].close, 1);
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "upstream down\n");

    /* Empty body to the end: the head alone, then the connection's end. */
    r = check("HTTP/1.1 200 OK\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].body_len, 0);
    CU_ASSERT_EQUAL(r->a[0].close, 1);

    /* What looks like a next answer is body. */
    r = check("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

static void test_cut_short(void)
{
    const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    int done;
    char err[ERR_LEN];
    CU_ASSERT_EQUAL(feed_all(a, strlen(a), &done, err), (long)strlen(a));
    CU_ASSERT_EQUAL(done, 0);
    CU_ASSERT(oe_h1resp_started(&resp));
    CU_ASSERT_EQUAL(oe_h1resp_eof(&resp), 0);
    const run *r = check(a);
    CU_ASSERT(r->end == END_CUT && r->n == 0 && r->unused == 0);

    /* Cut inside the head: nothing consumed, still cut short. */
    r = check("HTTP/1.1 200 OK\r\nContent-Len");
    CU_ASSERT(r->end == END_CUT && r->n == 0);
    CU_ASSERT_EQUAL(r->unused, strlen("HTTP/1.1 200 OK\r\nContent-Len"));
    /* A complete answer, then the next one cut. */
    r = check("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no");
    CU_ASSERT(r->end == END_CUT && r->n == 1);
    /* A huge length is fine until the bytes stop. */
    r = check("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\nabc");
    CU_ASSERT(r->end == END_CUT && r->n == 0);
    /* No byte of a next answer: a clean end. */
    r = check("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CU_ASSERT(clean(r, 1));
}

static void test_no_body_status(void)
{
    /* 204 and 304 have no body, whatever the headers say. */
    const run *r = check("HTTP/1.1 204 No Content\r\n\r\n"
                         "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: \"x\"\r\n\r\n"
                         "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend");
    CU_ASSERT(clean(r, 4));
    CU_ASSERT_EQUAL(r->a[0].status, 204);
    CU_ASSERT_EQUAL(r->a[1].status, 304);
    CU_ASSERT_EQUAL(r->a[2].status, 204);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(r->a[i].body_len, 0);
        CU_ASSERT_EQUAL(r->a[i].close, 0);
    }
    CU_ASSERT_EQUAL(r->a[1].bytes, strlen("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n"
                                          "ETag: \"x\"\r\n\r\n"));
    CU_ASSERT_STRING_EQUAL(r->a[3].body, "end");
}

#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

static void test_continue(void)
{
    int done;
    char err[ERR_LEN];
    const char *both = CONTINUE A1;
    CU_ASSERT_EQUAL(feed_all(both, strlen(both), &done, err), (long)strlen(both));
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_STRING_EQUAL(resp.body, "first");

    /* Separate feeds: the interim answer is consumed, not done. */
    CU_ASSERT_EQUAL(feed_all(CONTINUE, strlen(CONTINUE), &done, err), (long)strlen(CONTINUE));
    CU_ASSERT_EQUAL(done, 0);
    CU_ASSERT(oe_h1resp_started(&resp)); /* the server has seen the request */
    CU_ASSERT_EQUAL(oe_h1resp_eof(&resp), 0);
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, A1, strlen(A1), &done, err, sizeof err), (long)strlen(A1));
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_STRING_EQUAL(resp.body, "first");

    /* Several interim answers; their headers do not leak into the final one. */
    const run *r = check(CONTINUE "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nRetry-After: 9\r\n"
                         "Connection: close\r\n\r\n" A1 A3);
    CU_ASSERT(clean(r, 2));
    CU_ASSERT_EQUAL(r->a[0].status, 200);
    CU_ASSERT_EQUAL(r->a[0].close, 0);
    CU_ASSERT_STRING_EQUAL(r->a[0].retry_after, "");
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "first");
    CU_ASSERT_EQUAL(r->a[0].bytes, strlen(both) + strlen("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n"
                                                          "Retry-After: 9\r\nConnection: close\r\n\r\n"));
    CU_ASSERT_EQUAL(r->a[1].status, 204);

    /* Only an interim answer before the end: cut short. */
    r = check(CONTINUE);
    CU_ASSERT(r->end == END_CUT && r->n == 0 && r->unused == 0);
}

static void test_refused(void)
{
    static const char *const bad[] = {
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
        "garbage\r\n\r\n",
        "\r\n\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.2 200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 600 Odd\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 20\r\n\r\n",
        "HTTP/1.1\r\n\r\n",
        " HTTP/1.1 200 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const run *r = check(bad[i]);
        CU_ASSERT(refused(r));
        CU_ASSERT_EQUAL(r->n, 0);
        CU_ASSERT_EQUAL(r->unused, strlen(bad[i]));
    }
    const run *r = check("HTTP/1.1 101 Switching Protocols\r\n\r\n");
    CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: unexpected protocol switch");
    r = check("HTTP/2 200\r\n\r\n");
    CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: no HTTP/1.x status line");
    r = check("HTTP/1.1 2x0 OK\r\n\r\n");
    CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: bad status code");
    /* A good answer first, then garbage: the first still counts. */
    r = check(A1 "SSH-2.0-OpenSSH\r\n\r\n");
    CU_ASSERT(refused(r));
    CU_ASSERT_EQUAL(r->n, 1);
    CU_ASSERT_EQUAL(r->unused, strlen("SSH-2.0-OpenSSH\r\n\r\n"));
    /* The status line alone (no reason phrase) is fine; so is any status 1xx-5xx. */
    r = check("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 2));
    CU_ASSERT_EQUAL(r->a[1].status, 599);

    /* A short err buffer still gets a NUL-terminated reason. */
    char small[8];
    int done;
    oe_h1resp_reset(&resp);
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, "xx\r\n\r\n", 6, &done, small, sizeof small), -1);
    CU_ASSERT_STRING_EQUAL(small, "invalid");
}

static void test_content_length_values(void)
{
    const run *r = check("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "abc");
    r = check("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\nabcdefg");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "abcdefg");
    r = check("HTTP/1.1 200 OK\r\nContent-Length:\t2 \t\r\n\r\nab");
    CU_ASSERT(clean(r, 1));

    static const char *const bad[] = {
        "Content-Length: 3\r\nContent-Length: 4",
        "Content-Length: 4\r\ncontent-length: 3",
        "Content-Length: 99999999999999999999",
        "Content-Length: 18446744073709551616",
        "Content-Length: 9223372036854775808",
        "Content-Length: -1",
        "Content-Length: +3",
        "Content-Length: 3 3",
        "Content-Length: 3, 3",
        "Content-Length: 0x10",
        "Content-Length:",
        "Content-Length: abc",
    };
    char buf[256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n%s\r\n\r\nabc", bad[i]);
        r = check(buf);
        CU_ASSERT(refused(r));
        CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: bad Content-Length");
    }
}

/* An answer whose head is exactly `len` bytes (padded with X-Pad lines),
 * followed by "Content-Length: 0". */
static char *head_of(size_t len)
{
    const char *first = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
    char *s = malloc(len + 1);
    CU_ASSERT_FATAL(s != NULL);
    size_t at = strlen(first);
    memcpy(s, first, at);
    while (len - at - 2 >= 100 + 7) { /* whole lines of 100 bytes */
        memcpy(s + at, "X-Pad: ", 7);
        memset(s + at + 7, 'p', 91);
        memcpy(s + at + 98, "\r\n", 2);
        at += 100;
    }
    size_t rest = len - at - 2; /* one last line "X-P: ppp\r\n", at least 7 bytes */
    CU_ASSERT_FATAL(rest >= 7);
    memcpy(s + at, "X-P: ", 5);
    memset(s + at + 5, 'p', rest - 7);
    memcpy(s + at + rest - 2, "\r\n\r\n", 4);
    s[len] = 0;
    CU_ASSERT_FATAL(strlen(s) == len);
    return s;
}

static void test_head_max(void)
{
    char *s = head_of(OE_H1_HEAD_MAX);
    const run *r = check(s);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].bytes, OE_H1_HEAD_MAX);
    free(s);

    /* One byte more is refused, whether it comes in one piece or not. */
    s = head_of(OE_H1_HEAD_MAX + 1);
    r = check(s);
    CU_ASSERT(refused(r));
    CU_ASSERT_STRING_EQUAL(r->err, "invalid HTTP answer: headers longer than 16 KiB");
    free(s);
    s = head_of(OE_H1_HEAD_MAX + 5000);
    int done;
    char err[ERR_LEN];
    CU_ASSERT_EQUAL(feed_all(s, strlen(s), &done, err), -1);
    CU_ASSERT_STRING_EQUAL(err, "invalid HTTP answer: headers longer than 16 KiB");
    /* Without its end: refused once 16 KiB are in, not waited on forever. */
    CU_ASSERT_EQUAL(feed_all(s, OE_H1_HEAD_MAX - 1, &done, err), 0);
    CU_ASSERT_EQUAL(feed_all(s, OE_H1_HEAD_MAX, &done, err), -1);
    free(s);

    /* The limit is per answer: a long head after a long head is fine. */
    char *h1 = head_of(OE_H1_HEAD_MAX - 10), *h2 = head_of(OE_H1_HEAD_MAX);
    char *both = malloc(2 * OE_H1_HEAD_MAX + 1);
    CU_ASSERT_FATAL(both != NULL);
    strcpy(both, h1);
    strcat(both, h2);
    r = check(both);
    CU_ASSERT(clean(r, 2));
    free(both);
    free(h2);
    free(h1);
}

static void test_retry_after(void)
{
    const run *r = check("HTTP/1.1 429 Too Many\r\nRetry-After:   120  \t\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(r->a[0].status, 429);
    CU_ASSERT_STRING_EQUAL(r->a[0].retry_after, "120");
    r = check("HTTP/1.1 503 x\r\nretry-after:Wed, 21 Oct 2015 07:28:00 GMT\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT_STRING_EQUAL(r->a[0].retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    r = check("HTTP/1.1 503 x\r\nRetry-After: 1\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT_STRING_EQUAL(r->a[0].retry_after, "2");
    r = check("HTTP/1.1 503 x\r\nRetry-After:\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_STRING_EQUAL(r->a[0].retry_after, "");
    r = check("HTTP/1.1 503 x\r\nX-Retry-After: 5\r\nRetry-After-Not: 6\r\nContent-Length: 0\r\n\r\n");
    CU_ASSERT_STRING_EQUAL(r->a[0].retry_after, "");

    /* Too long for the field: truncated to fit, NUL-terminated. */
    char buf[512], val[201];
    memset(val, '9', 200);
    val[200] = 0;
    snprintf(buf, sizeof buf, "HTTP/1.1 503 x\r\nRetry-After:  %s \r\nContent-Length: 0\r\n\r\n", val);
    r = check(buf);
    CU_ASSERT(clean(r, 1));
    CU_ASSERT_EQUAL(strlen(r->a[0].retry_after), sizeof resp.retry_after - 1);
    CU_ASSERT(strspn(r->a[0].retry_after, "9") == sizeof resp.retry_after - 1);
}

static void test_bare_lf(void)
{
    const run *r = check("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"
                         "HTTP/1.1 503 x\nRetry-After: 3 \nTransfer-Encoding: chunked\n\n"
                         "2\nab\n1;x\nc\n0\nT: 1\n\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 1\n\r\nz"
                         "HTTP/1.1 200 OK\nConnection: close\r\n\nbye");
    CU_ASSERT(clean(r, 4));
    CU_ASSERT_STRING_EQUAL(r->a[0].body, "ok");
    CU_ASSERT_EQUAL(r->a[1].status, 503);
    CU_ASSERT_STRING_EQUAL(r->a[1].retry_after, "3");
    CU_ASSERT_STRING_EQUAL(r->a[1].body, "abc");
    CU_ASSERT_STRING_EQUAL(r->a[2].body, "z");
    CU_ASSERT_EQUAL(r->a[3].close, 1);
    CU_ASSERT_STRING_EQUAL(r->a[3].body, "bye");
}

static void test_started(void)
{
    int done;
    char err[ERR_LEN];
    const char *a = A1;
    oe_h1resp_reset(&resp);
    CU_ASSERT(!oe_h1resp_started(&resp));
    CU_ASSERT_EQUAL(oe_h1resp_eof(&resp), 0);
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, a, 20, &done, err, sizeof err), 0);
    CU_ASSERT(!oe_h1resp_started(&resp)); /* part of the head: nothing consumed */
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, a, strlen(a) - 5, &done, err, sizeof err),
                    (long)strlen(a) - 5);
    CU_ASSERT(!done);
    CU_ASSERT(oe_h1resp_started(&resp));
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, a + strlen(a) - 5, 5, &done, err, sizeof err), 5);
    CU_ASSERT(done);
    CU_ASSERT(oe_h1resp_started(&resp));
    oe_h1resp_reset(&resp);
    CU_ASSERT(!oe_h1resp_started(&resp));
    CU_ASSERT_EQUAL(resp.status, 0);
    CU_ASSERT_EQUAL(resp.body_len, 0);
    CU_ASSERT_STRING_EQUAL(resp.body, "");
    /* A head-only answer is started and done at once. */
    CU_ASSERT_EQUAL(oe_h1resp_feed(&resp, A3, strlen(A3), &done, err, sizeof err), (long)strlen(A3));
    CU_ASSERT(done && oe_h1resp_started(&resp));
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"Content-Length bodies", test_content_length},
        {"body longer than OE_H1_BODY_MAX: kept part truncated, all consumed", test_body_over_max},
        {"two and three pipelined answers in one buffer", test_pipelined},
        {"byte by byte like in one piece", test_byte_by_byte},
        {"chunked: extensions, hex case, trailers, bad sizes, missing CRLF", test_chunked},
        {"Connection: close tokens", test_connection_close},
        {"HTTP/1.0 closes unless keep-alive", test_http10},
        {"no length: body to the connection's end", test_body_to_eof},
        {"answer cut short", test_cut_short},
        {"204 and 304 have no body", test_no_body_status},
        {"100 Continue then the answer", test_continue},
        {"101, garbage, HTTP/2 and bad status refused", test_refused},
        {"Content-Length duplicates and overflow", test_content_length_values},
        {"headers longer than OE_H1_HEAD_MAX refused", test_head_max},
        {"Retry-After trimmed and truncated", test_retry_after},
        {"bare LF line endings", test_bare_lf},
        {"oe_h1resp_started before and after the head", test_started},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_h1resp", cases);
}
