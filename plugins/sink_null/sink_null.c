/*
 * sink null: accepts and discards everything; counts events and bytes.
 * Useful to measure the rest of a pipeline without a real destination.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

typedef struct null_sink {
    sl_ctx *ctx;
    const sl_host *host;
    sl_metric *m_events, *m_bytes;
    uint64_t events, bytes, batches; /* written on the sink thread only */
} null_sink;

static int null_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                     size_t errlen)
{
    null_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    s->m_events = host->metric(ctx, "events", SL_METRIC_COUNTER);
    s->m_bytes = host->metric(ctx, "bytes", SL_METRIC_COUNTER);
    *state = s;
    return SL_OK;
}

static int null_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                      size_t errlen)
{
    null_sink *s = state;
    s->events += batch->count;
    s->bytes += batch->len;
    s->batches++;
    s->host->metric_add(s->m_events, batch->count);
    s->host->metric_add(s->m_bytes, batch->len);
    return SL_OK;
}

static void null_destroy(void *state)
{
    null_sink *s = state;
    if (!s)
        return;
    s->host->log(s->ctx, SL_LOG_INFO,
                 "discarded %" PRIu64 " events, %" PRIu64 " bytes in %" PRIu64 " batches",
                 s->events, s->bytes, s->batches);
    free(s);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "null", "1.0.0"),
    .description = "Discards every event, counting events and bytes (metrics "
                   "`events` and `bytes`); logs the totals when the pipeline stops.",
    .options = NULL,
    .init = null_init,
    .write = null_write,
    .destroy = null_destroy,
};
