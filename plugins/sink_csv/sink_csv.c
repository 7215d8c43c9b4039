/*
 * sink csv: chosen body fields of every event appended to a CSV file.
 *
 *   sinks:
 *     table:
 *       plugin: csv
 *       inputs: [named]
 *       path: ./out/products.csv
 *       fields: [productId, productName, "@time"]
 *
 * One row per event in `fields` order (RFC 4180 quoting; "@time" is the
 * event time); a header row when the file is new. write() runs on this sink's
 * thread: it formats the whole batch into one buffer and appends it through
 * the host's file services (support/append.h). If that fails part-way, the
 * core retries the same batch (same ticket) and the append continues from
 * the byte where it stopped, so a retry never leaves a torn row followed by
 * a duplicate. With fsync: true, write() returns SL_OK only after
 * fdatasync, so an acknowledged batch is on disk.
 *
 * This plugin is the sink example of docs/plugin-guide.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "append.h"
#include "csvrow.h"
#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

typedef struct csv_sink {
    sl_ctx *ctx;
    const sl_host *host;
    sl_append file;
    int fsync_batch;
    int header_pending; /* a new file: the header goes out with the next batch */
    char delim;
    char **cols; /* copies of the `fields` items */
    size_t n_cols;
    sl_buf buf, scratch;
    sl_metric *m_malformed;
} csv_sink;

static const sl_option options[] = {
    {"path", SL_OPT_STRING, NULL, 1, "CSV file to append rows to (created 0644; a symlink is "
     "refused)", NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"fields", SL_OPT_LIST, NULL, 1, "body fields, one column each, in order; \"@time\" = event time",
     NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"header", SL_OPT_BOOL, "true", 0, "write the field names as the first row of a new file",
     NULL, NULL, NULL, 0},
    {"delimiter", SL_OPT_STRING, ",", 0, "column separator, one character", NULL, NULL, NULL, 0},
    {"mkdir", SL_OPT_BOOL, "true", 0, "create missing parent directories of path (0700)", NULL,
     NULL, NULL, 0},
    {"fsync", SL_OPT_BOOL, "false", 0, "fdatasync after every batch before acknowledging it",
     NULL, NULL, NULL, 0},
    {0},
};

static void csv_free(csv_sink *s)
{
    if (!s)
        return;
    sl_append_close(&s->file);
    for (size_t i = 0; i < s->n_cols; i++)
        free(s->cols[i]);
    free(s->cols);
    sl_buf_free(&s->buf);
    sl_buf_free(&s->scratch);
    free(s);
}

/* Copy the `fields` list; node strings live only as long as the ctx. */
static int read_fields(csv_sink *s, const sl_host *host, const sl_node *list, char *err,
                       size_t errlen)
{
    size_t n = host->node_len(list);
    if (n == 0) {
        snprintf(err, errlen, "fields: name at least one body field");
        return -1;
    }
    if (!(s->cols = calloc(n, sizeof *s->cols))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = host->node_str(host->node_at(list, i));
        if (!name || !*name) {
            char at[128];
            host->node_where(host->node_at(list, i), at, sizeof at);
            snprintf(err, errlen, "%s: fields: each item must be a field name", at);
            return -1;
        }
        if (!(s->cols[s->n_cols] = strdup(name))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->n_cols++;
    }
    return 0;
}

static int open_file(csv_sink *s, const sl_host *host, sl_ctx *ctx, char *err, size_t errlen)
{
    unsigned flags = host->opt_bool(ctx, "mkdir") ? SL_FILE_MKDIRS : 0;
    if (sl_append_open(&s->file, ctx, host, host->opt_str(ctx, "path"), flags, 0644, err,
                       errlen) != 0)
        return -1;
    /* Written with the first batch, so a failed write retries both. */
    s->header_pending = host->opt_bool(ctx, "header") && sl_append_size_at_open(&s->file) == 0;
    return 0;
}

static int csv_init(sl_ctx *ctx, const sl_host *host, void **state, char *err, size_t errlen)
{
    const char *delim = host->opt_str(ctx, "delimiter");
    if (strlen(delim) != 1 || *delim == '"' || *delim == '\n' || *delim == '\r') {
        snprintf(err, errlen, "delimiter: expected one character other than a quote or newline, "
                 "got '%s'", delim);
        return SL_ERR;
    }
    csv_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->file.fd = -1;
    s->delim = *delim;
    s->fsync_batch = host->opt_bool(ctx, "fsync");
    s->m_malformed = host->metric(ctx, "batches_malformed", SL_METRIC_COUNTER);
    if (read_fields(s, host, host->opt_node(ctx, "fields"), err, errlen) < 0 ||
        open_file(s, host, ctx, err, errlen) < 0) {
        csv_free(s);
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    *state = s;
    return SL_OK;
}

/* The bytes for one batch: the header while pending, then one row per
 * event. Deterministic, so a retry of the same batch makes the same bytes. */
static int format_batch(csv_sink *s, const sl_batch *batch)
{
    sl_batch_iter it;
    sl_event ev;
    int r;
    s->buf.len = 0;
    if (s->header_pending &&
        csv_header(&s->buf, (const char *const *)s->cols, s->n_cols, s->delim) < 0)
        return -1;
    sl_batch_iter_init(&it, batch);
    while ((r = sl_batch_next(&it, &ev)) == 1)
        if (csv_row(&s->buf, &ev, (const char *const *)s->cols, s->n_cols, s->delim,
                    &s->scratch) < 0)
            return -1;
    if (r < 0) /* the core validated the batch; count rather than trust */
        s->host->metric_add(s->m_malformed, 1);
    return 0;
}

static int csv_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                     size_t errlen)
{
    csv_sink *s = state;
    if (format_batch(s, batch) < 0) {
        snprintf(err, errlen, "out of memory formatting rows");
        return SL_ERR;
    }
    if (sl_append_write(&s->file, ticket, s->buf.data, s->buf.len, s->fsync_batch, err,
                        errlen) != 0)
        return SL_ERR; /* the core retries the same batch, header included */
    s->header_pending = 0;
    return SL_OK;
}

static void csv_destroy(void *state)
{
    csv_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "csv", "1.0.0"),
    .description = "Appends the body fields named in `fields` (\"@time\" = event time) as CSV "
                   "rows to `path`, with a header row in a new file; RFC 4180 quoting; "
                   "optionally fdatasync per batch.",
    .options = options,
    .init = csv_init,
    .write = csv_write,
    .destroy = csv_destroy,
};
