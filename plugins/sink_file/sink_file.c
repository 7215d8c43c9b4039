/*
 * sink file: events appended to a file as JSON lines.
 *
 * One buffer per batch (support/jsonl.h), appended through the host's file
 * services (support/append.h): created 0644, never through a symlink, and a
 * retry after a failed write continues where the batch stopped, so it never
 * leaves a torn line followed by a duplicate. With fsync: true, write()
 * returns only after fdatasync(), so an acknowledged batch is on disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "append.h"
#include "jsonl.h"
#include "sluice/plugin.h"

typedef struct file_sink {
    int fsync_batch;
    sl_jsonl out;
    sl_append file;
} file_sink;

static const sl_option options[] = {
    {"path", SL_OPT_STRING, NULL, 1, "file to append JSON lines to (created 0644; a symlink "
     "is refused)", NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"mkdir", SL_OPT_BOOL, "true", 0, "create missing parent directories of path (0700)", NULL,
     NULL, NULL, 0},
    {"fsync", SL_OPT_BOOL, "false", 0,
     "fdatasync after every batch before acknowledging it", NULL, NULL, NULL, 0},
    SL_JSONL_OPTIONS,
    {0},
};

static void file_free(file_sink *s)
{
    if (!s)
        return;
    sl_append_close(&s->file);
    sl_jsonl_free(&s->out);
    free(s);
}

static int file_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                     size_t errlen)
{
    const char *path = host->opt_str(ctx, "path");
    file_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->file.fd = -1;
    unsigned flags = host->opt_bool(ctx, "mkdir") ? SL_FILE_MKDIRS : 0;
    if (sl_jsonl_init(&s->out, ctx, host, err, errlen) != 0 ||
        sl_append_open(&s->file, ctx, host, path, flags, 0644, err, errlen) != 0) {
        file_free(s);
        return SL_ERR;
    }
    s->fsync_batch = host->opt_bool(ctx, "fsync");
    *state = s;
    return SL_OK;
}

static int file_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                      size_t errlen)
{
    file_sink *s = state;
    sl_jsonl_encode(&s->out, batch);
    if (sl_append_write(&s->file, ticket, s->out.buf.data, s->out.buf.len, s->fsync_batch, err,
                        errlen) != 0)
        return SL_ERR; /* the core retries the same batch */
    return SL_OK;
}

static void file_destroy(void *state)
{
    file_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "file", "1.0.0"),
    .description = "Appends events to a file as JSON lines (the body's fields plus the "
                   "event time under time_key); with fsync: true, fdatasync per batch.",
    .options = options,
    .init = file_init,
    .write = file_write,
    .destroy = file_destroy,
};
