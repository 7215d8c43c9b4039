#include "jsonl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVALID_LOG_EVERY 1000

int sl_jsonl_init(sl_jsonl *o, sl_ctx *ctx, const sl_host *host, char *err, size_t errlen)
{
    const char *key = host->opt_str(ctx, "time_key");
    const char *fmt = host->opt_str(ctx, "time_format");
    memset(o, 0, sizeof *o);
    if (sl_time_format_parse(fmt ? fmt : "rfc3339", &o->fmt) != 0) {
        snprintf(err, errlen, "time_format: unknown format '%s' (rfc3339, unix, unix_ms, unix_ns)",
                 fmt);
        return -1;
    }
    if (!(o->time_key = strdup(key ? key : ""))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    o->ctx = ctx;
    o->host = host;
    o->invalid_metric = host->metric(ctx, "events_invalid", SL_METRIC_COUNTER);
    return 0;
}

/* Logged on the first and then every INVALID_LOG_EVERY-th: a stream of bad
 * events must not flood the log. */
static void note_invalid(sl_jsonl *o, uint64_t n)
{
    uint64_t before = o->invalid;
    o->invalid += n;
    o->host->metric_add(o->invalid_metric, n);
    if (before / INVALID_LOG_EVERY != o->invalid / INVALID_LOG_EVERY || before == 0)
        o->host->log(o->ctx, SL_LOG_WARN,
                     "%" PRIu64 " events of a batch cannot be written as JSON, skipped "
                     "(%" PRIu64 " so far)", n, o->invalid);
}

void sl_jsonl_encode(sl_jsonl *o, const sl_batch *batch)
{
    uint32_t skipped;
    o->buf.len = 0;
    sl_json_batch_lines(&o->buf, batch, o->time_key, o->fmt, &skipped);
    if (skipped)
        note_invalid(o, skipped);
}

void sl_jsonl_free(sl_jsonl *o)
{
    sl_buf_free(&o->buf);
    free(o->time_key);
    o->time_key = NULL;
}
