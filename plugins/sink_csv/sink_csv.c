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
 * thread: it formats the whole batch into one buffer and writes it with
 * write(2). If that fails part-way, the core retries the same batch (same
 * ticket); we continue from the byte where we stopped, so a retry never
 * leaves a torn row followed by a duplicate. With fsync: true, write()
 * returns SL_OK only after fdatasync, so an acknowledged batch is on disk.
 *
 * This plugin is the sink example of docs/plugin-guide.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csvrow.h"
#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

typedef struct csv_sink {
    sl_ctx *ctx;
    const sl_host *host;
    char *path;
    int fd;
    int fsync_batch;
    int header_pending; /* a new file: the header goes out with the next batch */
    char delim;
    char **cols; /* copies of the `fields` items */
    size_t n_cols;
    sl_buf buf, scratch;
    /* a batch that failed part-way: its ticket and the bytes already written */
    int resume;
    uint64_t resume_ticket;
    size_t resume_len, resume_off;
} csv_sink;

static const sl_option options[] = {
    {"path", SL_OPT_STRING, NULL, 1, "CSV file to append rows to (created 0644)", NULL},
    {"fields", SL_OPT_LIST, NULL, 1, "body fields, one column each, in order; \"@time\" = event time",
     NULL},
    {"header", SL_OPT_BOOL, "true", 0, "write the field names as the first row of a new file",
     NULL},
    {"delimiter", SL_OPT_STRING, ",", 0, "column separator, one character", NULL},
    {"fsync", SL_OPT_BOOL, "false", 0, "fdatasync after every batch before acknowledging it",
     NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

static void csv_free(csv_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    for (size_t i = 0; i < s->n_cols; i++)
        free(s->cols[i]);
    free(s->cols);
    free(s->path);
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

static int open_file(csv_sink *s, int header, char *err, size_t errlen)
{
    s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", s->path, strerror(errno));
        return -1;
    }
    /* Written with the first batch, so a failed write retries both. */
    s->header_pending = header && st.st_size == 0;
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
    if (!s || !(s->path = strdup(host->opt_str(ctx, "path")))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->fd = -1;
    s->delim = *delim;
    s->fsync_batch = host->opt_bool(ctx, "fsync");
    if (read_fields(s, host, host->opt_node(ctx, "fields"), err, errlen) < 0 ||
        open_file(s, host->opt_bool(ctx, "header"), err, errlen) < 0) {
        csv_free(s);
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    *state = s;
    return SL_OK;
}

/* Write buf[*off..len); *off tracks progress. Returns 0 or -1 (errno set). */
static int write_all(int fd, const char *buf, size_t len, size_t *off)
{
    while (*off < len) {
        ssize_t n = write(fd, buf + *off, len - *off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        *off += (size_t)n;
    }
    return 0;
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
        s->host->count(s->ctx, "batches_malformed", 1);
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
    size_t off = 0;
    if (s->resume && s->resume_ticket == ticket && s->resume_len == s->buf.len)
        off = s->resume_off;
    s->resume = 0;
    if (write_all(s->fd, s->buf.data, s->buf.len, &off) != 0) {
        snprintf(err, errlen, "write %s: %s", s->path, strerror(errno));
        goto retry_later;
    }
    if (s->fsync_batch && fdatasync(s->fd) != 0) {
        snprintf(err, errlen, "fdatasync %s: %s", s->path, strerror(errno));
        goto retry_later; /* every byte is written: the retry only syncs */
    }
    s->header_pending = 0;
    return SL_OK;
retry_later:
    s->resume = 1;
    s->resume_ticket = ticket;
    s->resume_len = s->buf.len;
    s->resume_off = off;
    return SL_ERR;
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
