/*
 * An append-only output file for sinks (sink_file, sink_csv), opened with
 * host->file_open and written with host->file_write, that is safe to retry.
 *
 * The core retries a failed batch with the same ticket. The bytes of it that
 * reached the file before the failure are not written again, so a retry never
 * leaves a torn line followed by a duplicate: for a regular file the size
 * before the batch is remembered and the size after a failure tells how far
 * it got. (A FIFO or a device has no size: a retry writes the whole batch.)
 * A last line without its newline, left by a crash mid-write, is cut when the
 * file is opened: those events were never acknowledged and come again.
 */
#ifndef SL_APPEND_H
#define SL_APPEND_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/host.h"

typedef struct sl_append {
    sl_ctx *ctx;
    const sl_host *host;
    char *path;
    int fd;
    int regular;        /* a regular file: its size says what reached it */
    int64_t size_at_open;
    /* the batch being written, or the one that failed part-way */
    int64_t base;       /* file size before its first byte */
    int resume;
    uint64_t resume_ticket;
    size_t resume_len, resume_off;
} sl_append;

/*
 * Open `path` for appending (SL_FILE_* flags, `mode` for a new file) and cut
 * a torn last line (logged). 0, or -1 with the reason in err; a->fd is -1
 * until it succeeds, and sl_append_close() is safe either way.
 */
int sl_append_open(sl_append *a, sl_ctx *ctx, const sl_host *host, const char *path,
                   unsigned flags, unsigned mode, char *err, size_t errlen);

/* The file's size when it was opened (after the cut); 0 for a FIFO. */
int64_t sl_append_size_at_open(const sl_append *a);

/*
 * Append the `len` bytes of the batch `ticket`, then fdatasync when `sync`.
 * Called again with the same ticket and bytes after a failure, it writes
 * only what is missing. 0, or -1 with the reason in err.
 */
int sl_append_write(sl_append *a, uint64_t ticket, const void *data, size_t len, int sync,
                    char *err, size_t errlen);

void sl_append_close(sl_append *a);

#endif
