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

#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/json.h"
#include "sluice/plugin.h"

#define INVALID_LOG_EVERY 1000

typedef struct stdout_sink {
    sl_ctx *ctx;
    const sl_host *host;
    char *time_key;
    sl_time_format fmt;
    uint64_t invalid;
    sl_buf buf;
} stdout_sink;

static const sl_option options[] = {
    {"time_key", SL_OPT_STRING, "time", 0,
     "field holding the event time (empty = no time field)", NULL},
    {"time_format", SL_OPT_STRING, "rfc3339", 0, "how the time is written",
     "rfc3339|unix|unix_ms|unix_ns"},
    {NULL, 0, NULL, 0, NULL, NULL},
};

static int stdout_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                       size_t errlen)
{
    const char *key = host->opt_str(ctx, "time_key");
    const char *fmt = host->opt_str(ctx, "time_format");
    sl_time_format tf;
    if (sl_time_format_parse(fmt ? fmt : "rfc3339", &tf) != 0) {
        snprintf(err, errlen, "time_format: unknown format '%s' (rfc3339, unix, unix_ms, unix_ns)",
                 fmt);
        return SL_ERR;
    }
    stdout_sink *s = calloc(1, sizeof *s);
    char *k = strdup(key ? key : "");
    if (!s || !k) {
        free(s);
        free(k);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    s->time_key = k;
    s->fmt = tf;
    *state = s;
    return SL_OK;
}

static void note_invalid(stdout_sink *s, uint64_t n)
{
    uint64_t before = s->invalid;
    s->invalid += n;
    s->host->count(s->ctx, "events_invalid", n);
    if (before / INVALID_LOG_EVERY != s->invalid / INVALID_LOG_EVERY || before == 0)
        s->host->log(s->ctx, SL_LOG_WARN,
                     "%" PRIu64 " events of a batch cannot be written as JSON, skipped "
                     "(%" PRIu64 " so far)", n, s->invalid);
}

static int stdout_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                        size_t errlen)
{
    stdout_sink *s = state;
    uint32_t skipped;
    s->buf.len = 0;
    sl_json_batch_lines(&s->buf, batch, s->time_key, s->fmt, &skipped);
    if (skipped)
        note_invalid(s, skipped);
    if (s->buf.len == 0)
        return SL_OK;
    clearerr(stdout);
    if (fwrite(s->buf.data, 1, s->buf.len, stdout) != s->buf.len) {
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
    sl_buf_free(&s->buf);
    free(s->time_key);
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
