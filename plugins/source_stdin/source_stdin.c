/*
 * source stdin: one event per line of standard input.
 *
 * Lines are cut at "\n" (a trailing "\r" is dropped too); a last line without
 * a newline is still emitted at EOF. A line longer than max_line_bytes keeps
 * its first max_line_bytes and the rest is skipped, so memory never grows
 * with the input. Batches are emitted after every read() chunk, so an
 * interactive producer sees its lines flow immediately.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

#define READ_CHUNK (64 * 1024)
#define POLL_MS 100
#define TRUNC_LOG_EVERY 1000 /* log the 1st, 1001st, ... truncated line */

typedef struct stdin_src {
    sl_ctx *ctx;
    const sl_host *host;
    const char *name;     /* component name, for meta.source */
    int fd;
    uint32_t batch_max;
    size_t max_line;
    char *rbuf;           /* one read() chunk */
    char *line;           /* the partial line carried between chunks */
    size_t line_len, line_cap;
    int line_overflow;    /* bytes of the current line were skipped */
    uint64_t truncated;
    sl_metric *m_truncated; /* lines_truncated */
    sl_builder *bb;
} stdin_src;

static const sl_option options[] = {
    {"batch_max_events", SL_OPT_INT, "1024", 0,
     "most events per emitted batch (a batch is also emitted after every read)", NULL,
     "1", "1048576", 0},
    {"max_line_bytes", SL_OPT_SIZE, "1MiB", 0,
     "longer lines are truncated to this many bytes", NULL, "1", "1GiB", 0},
    {0},
};

static void stdin_destroy(void *state);

/* The option ranges are the table's: the core checked them before init. */
static int stdin_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                      size_t errlen)
{
    stdin_src *s = calloc(1, sizeof *s);
    if (!s || !(s->rbuf = malloc(READ_CHUNK)) || !(s->bb = sl_bb_new())) {
        stdin_destroy(s);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    s->name = host->name(ctx);
    s->fd = STDIN_FILENO;
    s->batch_max = (uint32_t)host->opt_int(ctx, "batch_max_events");
    s->max_line = (size_t)host->opt_int(ctx, "max_line_bytes");
    s->m_truncated = host->metric(ctx, "lines_truncated", SL_METRIC_COUNTER);
    *state = s;
    return SL_OK;
}

/* Hand the batch to the pipeline. 1 sent (or empty), 0 stopping, -1 error. */
static int flush_batch(stdin_src *s)
{
    if (sl_bb_count(s->bb) == 0)
        return 1;
    int r = s->host->emit(s->ctx, s->bb, NULL);
    if (r == SL_OK)
        return 1;
    if (r == SL_STOPPED)
        return 0;
    s->host->log(s->ctx, SL_LOG_ERROR, "emit failed (%d)", r);
    return -1;
}

static void note_truncated(stdin_src *s)
{
    s->truncated++;
    s->host->metric_add(s->m_truncated, 1);
    if (s->truncated % TRUNC_LOG_EVERY == 1)
        s->host->log(s->ctx, SL_LOG_WARN,
                     "line longer than %zu bytes truncated (%" PRIu64 " so far)",
                     s->max_line, s->truncated);
}

/* Pack one complete line (without its "\n") as an event. */
static int add_line(stdin_src *s, const char *p, size_t len, int overflow)
{
    if (!overflow && len > 0 && p[len - 1] == '\r')
        len--;
    if (len > s->max_line) {
        len = s->max_line;
        overflow = 1;
    }
    if (overflow)
        note_truncated(s);
    sl_builder *bb = s->bb;
    sl_bb_begin(bb, sl_now_ns());
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "source");
    sl_bb_cstr(bb, s->name);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "message");
    sl_bb_str(bb, p, len);
    if (sl_bb_end(bb) != 0) {
        s->host->log(s->ctx, SL_LOG_ERROR, "out of memory packing a line");
        return -1;
    }
    if (sl_bb_count(bb) >= s->batch_max)
        return flush_batch(s);
    return 1;
}

/*
 * Keep up to max_line + 1 bytes of a line that continues in the next chunk
 * (the extra byte lets a "\r" before the "\n" be stripped without calling
 * the line truncated). Returns 0, or -1 when out of memory.
 */
static int hold_partial(stdin_src *s, const char *p, size_t n)
{
    size_t room = s->max_line + 1 - s->line_len;
    if (n > room) {
        n = room;
        s->line_overflow = 1;
    }
    if (s->line_len + n > s->line_cap) {
        size_t cap = s->line_cap ? s->line_cap : 4096;
        while (cap < s->line_len + n)
            cap *= 2;
        if (cap > s->max_line + 1)
            cap = s->max_line + 1;
        char *nl = realloc(s->line, cap);
        if (!nl)
            return -1;
        s->line = nl;
        s->line_cap = cap;
    }
    memcpy(s->line + s->line_len, p, n);
    s->line_len += n;
    return 0;
}

/* Split one read() chunk into lines. 1 go on, 0 stopping, -1 error. */
static int consume(stdin_src *s, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        int r = 1;
        if (!nl) {
            if (hold_partial(s, p, seg) != 0) {
                s->host->log(s->ctx, SL_LOG_ERROR, "out of memory holding a partial line");
                return -1;
            }
        } else if (s->line_len == 0 && !s->line_overflow) {
            r = add_line(s, p, seg, 0); /* whole line in the chunk: no copy */
        } else {
            if (hold_partial(s, p, seg) != 0) {
                s->host->log(s->ctx, SL_LOG_ERROR, "out of memory holding a partial line");
                return -1;
            }
            r = add_line(s, s->line, s->line_len, s->line_overflow);
            s->line_len = 0;
            s->line_overflow = 0;
        }
        if (r <= 0)
            return r;
        p += seg + (nl ? 1 : 0);
        n -= seg + (nl ? 1 : 0);
    }
    return flush_batch(s);
}

static int at_eof(stdin_src *s)
{
    int r = 1;
    if (s->line_len > 0 || s->line_overflow)
        r = add_line(s, s->line, s->line_len, s->line_overflow);
    s->line_len = 0;
    s->line_overflow = 0;
    if (r > 0)
        r = flush_batch(s);
    return r < 0 ? SL_ERR : SL_OK;
}

static int stdin_run(void *state)
{
    stdin_src *s = state;
    while (!s->host->stopping(s->ctx)) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, POLL_MS);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            s->host->log(s->ctx, SL_LOG_ERROR, "poll(stdin): %s", strerror(errno));
            return SL_ERR;
        }
        if (pr == 0)
            continue;
        /* POLLHUP/POLLERR/POLLNVAL: read() reports EOF or the error. */
        ssize_t n = read(s->fd, s->rbuf, READ_CHUNK);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            s->host->log(s->ctx, SL_LOG_ERROR, "read(stdin): %s", strerror(errno));
            return SL_ERR;
        }
        if (n == 0)
            return at_eof(s);
        int r = consume(s, s->rbuf, (size_t)n);
        if (r < 0)
            return SL_ERR;
        if (r == 0)
            return SL_OK;
    }
    return SL_OK;
}

static void stdin_destroy(void *state)
{
    stdin_src *s = state;
    if (!s)
        return;
    sl_bb_free(s->bb);
    free(s->rbuf);
    free(s->line);
    free(s);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SOURCE, "stdin", "1.0.0"),
    .description = "Reads standard input, one event per line: body {message: <line>}, "
                   "meta {source: <component name>}. Ends at EOF.",
    .options = options,
    .init = stdin_init,
    .run = stdin_run,
    .destroy = stdin_destroy,
};
