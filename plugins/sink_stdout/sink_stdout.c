/*
 * sink stdout: events as JSON lines on standard output.
 *
 * Each batch becomes one buffer and one fwrite, so lines of concurrent
 * batches never interleave and a pipe reader sees whole lines. An event
 * that cannot be written as JSON (malformed, or nested deeper than the JSON
 * encoder allows) is skipped, counted in events_invalid and logged: retrying
 * it would fail forever and hold back every later batch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "sluice/plugin.h"

typedef struct stdout_sink {
    sl_ctx *ctx;
    const sl_host *host;
    sl_jsonl out;
} stdout_sink;

static const sl_option options[] = {
    SL_JSONL_OPTIONS,
    {0},
};

static int stdout_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                       size_t errlen)
{
    stdout_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    if (sl_jsonl_init(&s->out, ctx, host, err, errlen) != 0) {
        free(s);
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    *state = s;
    return SL_OK;
}

static int stdout_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                        size_t errlen)
{
    stdout_sink *s = state;
    const sl_buf *b = &s->out.buf;
    sl_jsonl_encode(&s->out, batch);
    if (b->len == 0)
        return SL_OK;
    clearerr(stdout);
    if (fwrite(b->data, 1, b->len, stdout) != b->len) {
        int e = errno;
        snprintf(err, errlen, "write to stdout: %s", strerror(e));
        clearerr(stdout);
        /* The reader is gone (`sluice run ... | head`): no retry can help. */
        return e == EPIPE ? SL_FATAL : SL_ERR;
    }
    return SL_OK;
}

static int stdout_flush(void *state)
{
    stdout_sink *s = state;
    if (fflush(stdout) != 0) {
        s->host->log(s->ctx, SL_LOG_ERROR, "flush stdout: %s", strerror(errno));
        return SL_ERR;
    }
    return SL_OK;
}

static void stdout_destroy(void *state)
{
    stdout_sink *s = state;
    if (!s)
        return;
    fflush(stdout);
    sl_jsonl_free(&s->out);
    free(s);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "stdout", "1.0.0"),
    .description = "Writes events to standard output as JSON lines: the body's fields "
                   "plus the event time under time_key.",
    .options = options,
    .init = stdout_init,
    .write = stdout_write,
    .flush = stdout_flush,
    .destroy = stdout_destroy,
};
