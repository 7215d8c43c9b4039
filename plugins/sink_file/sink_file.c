/*
 * sink file: events appended to a file as JSON lines.
 *
 * One buffer per batch, written with write(2) in a loop (short writes and
 * EINTR). If a write fails halfway, the core retries the same batch; we
 * remember how much of it reached the file and continue from there, so a
 * retry does not leave a torn line followed by a duplicate. With
 * fsync: batch, write() returns only after fdatasync(), so an acknowledged
 * batch is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonl_out.h"
#include "sluice/plugin.h"

typedef struct file_sink {
    char *path;
    int fd;
    int fsync_batch;
    jsonl_out out;
    /* a batch that failed part-way: its ticket and bytes already written */
    int resume;
    uint64_t resume_ticket;
    size_t resume_len, resume_off;
} file_sink;

static const sl_option options[] = {
    {"path", SL_OPT_STRING, NULL, 1, "file to append JSON lines to (created 0644)", NULL},
    {"mkdir", SL_OPT_BOOL, "true", 0, "create missing parent directories of path (0755)", NULL},
    {"fsync", SL_OPT_STRING, "never", 0,
     "batch = fdatasync after every batch before acknowledging it", "never|batch"},
    JSONL_OUT_OPTIONS,
    {NULL, 0, NULL, 0, NULL, NULL},
};

/* mkdir -p of the directories above `path`, so a fresh state dir works. */
static int make_parents(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return -1;
    int rc = 0;
    for (char *p = dir + 1; rc == 0 && (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    free(dir);
    return rc;
}

/*
 * A file that does not end in a newline was torn by a crash in the middle of
 * a write. Those events were never acknowledged, so they will be written
 * again: cut the partial line, or the next append would glue onto it.
 * Returns the bytes cut (0 when the file was whole), -1 on an I/O error.
 */
static off_t cut_torn_tail(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISREG(st.st_mode))
        return 0; /* a FIFO or a device has no tail to look at */
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    off_t size = lseek(fd, 0, SEEK_END), end = size;
    char buf[4096];
    while (end > 0) {
        size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        if (pread(fd, buf, n, end - (off_t)n) != (ssize_t)n) {
            end = -1;
            break;
        }
        char *nl = memrchr(buf, '\n', n);
        if (nl) {
            end = end - (off_t)n + (nl - buf) + 1;
            break;
        }
        end -= (off_t)n;
    }
    off_t cut = end >= 0 && end < size ? size - end : 0;
    if (end < 0 || (cut && ftruncate(fd, end) != 0))
        cut = -1;
    close(fd);
    return cut;
}

static void file_free(file_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    jsonl_out_free(&s->out);
    free(s->path);
    free(s);
}

static int file_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                     size_t errlen)
{
    const char *path = host->opt_str(ctx, "path");
    const char *fsync_opt = host->opt_str(ctx, "fsync");
    if (!path || !*path) {
        snprintf(err, errlen, "path: required, the file to write");
        return SL_ERR;
    }
    if (fsync_opt && strcmp(fsync_opt, "never") != 0 && strcmp(fsync_opt, "batch") != 0) {
        snprintf(err, errlen, "fsync: expected never or batch, got '%s'", fsync_opt);
        return SL_ERR;
    }
    file_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->fd = -1;
    if (jsonl_out_init(&s->out, ctx, host, err, errlen) != 0) {
        file_free(s);
        return SL_ERR;
    }
    if (!(s->path = strdup(path))) {
        file_free(s);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    if (host->opt_bool(ctx, "mkdir") && make_parents(path) != 0) {
        snprintf(err, errlen, "cannot create the directories of %s: %s", path, strerror(errno));
        file_free(s);
        return SL_ERR;
    }
    off_t cut = cut_torn_tail(path);
    if (cut < 0) {
        snprintf(err, errlen, "cannot check the end of %s: %s", path, strerror(errno));
        file_free(s);
        return SL_ERR;
    }
    if (cut > 0)
        host->log(ctx, SL_LOG_WARN, "%s ended in a partial line (a crash mid-write): cut its "
                  "last %lld bytes; those events are written again", path, (long long)cut);
    s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        file_free(s);
        return SL_ERR;
    }
    s->fsync_batch = fsync_opt && strcmp(fsync_opt, "batch") == 0;
    *state = s;
    return SL_OK;
}

/* Write buf[*off..len); *off tracks progress. Returns 0 or -1 (errno set). */
static int write_all(int fd, const char *buf, size_t len, size_t *off)
{
    while (*off < len) {
        ssize_t n = write(fd, buf + *off, len - *off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) { /* should not happen for a regular file; avoid spinning */
            errno = EIO;
            return -1;
        }
        *off += (size_t)n;
    }
    return 0;
}

static int file_write(void *state, const sl_batch *batch, uint64_t ticket, char *err,
                      size_t errlen)
{
    file_sink *s = state;
    const sl_buf *b = &s->out.buf;
    jsonl_out_encode(&s->out, batch);

    size_t off = 0;
    if (s->resume && s->resume_ticket == ticket && s->resume_len == b->len)
        off = s->resume_off;
    s->resume = 0;
    if (write_all(s->fd, b->data, b->len, &off) != 0) {
        snprintf(err, errlen, "write %s: %s", s->path, strerror(errno));
        goto retry_later;
    }
    if (s->fsync_batch && fdatasync(s->fd) != 0) {
        snprintf(err, errlen, "fdatasync %s: %s", s->path, strerror(errno));
        goto retry_later;
    }
    return SL_OK;
retry_later:
    s->resume = 1;
    s->resume_ticket = ticket;
    s->resume_len = b->len;
    s->resume_off = off;
    return SL_ERR;
}

static void file_destroy(void *state)
{
    file_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SINK, "file", "1.0.0"),
    .description = "Appends events to a file as JSON lines (the body's fields plus the "
                   "event time under time_key); optionally fdatasync per batch.",
    .options = options,
    .init = file_init,
    .write = file_write,
    .destroy = file_destroy,
};
