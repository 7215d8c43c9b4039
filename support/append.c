#include "append.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Offset just past the last newline of fd's first `size` bytes (0 when
 * there is none), or -1 on a read error. */
static off_t last_line_end(int fd, off_t size)
{
    char buf[4096];
    off_t end = size;
    while (end > 0) {
        size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        if (pread(fd, buf, n, end - (off_t)n) != (ssize_t)n)
            return -1;
        char *nl = memrchr(buf, '\n', n);
        if (nl)
            return end - (off_t)n + (nl - buf) + 1;
        end -= (off_t)n;
    }
    return 0;
}

/*
 * A file that does not end in a newline was torn by a crash in the middle of
 * a write. Those events were never acknowledged, so they will be written
 * again: cut the partial line, or the next append would glue onto it.
 * Returns the bytes cut (0 when the file was whole), -1 on an I/O error.
 */
static off_t cut_torn_tail(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    off_t cut = 0;
    if (S_ISREG(st.st_mode)) { /* a FIFO or a device has no tail to look at */
        off_t end = last_line_end(fd, st.st_size);
        cut = end < 0 ? -1 : st.st_size - end;
        if (cut > 0 && ftruncate(fd, end) != 0)
            cut = -1;
    }
    int e = errno;
    close(fd);
    errno = e;
    return cut;
}

/* Size of the open file, or -1 when it has none (not a regular file). */
static int64_t file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

int sl_append_open(sl_append *a, sl_ctx *ctx, const sl_host *host, const char *path,
                   unsigned flags, unsigned mode, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->ctx = ctx;
    a->host = host;
    if (!(a->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Opened first: it creates the directories and refuses a symlink. */
    a->fd = host->file_open(ctx, path, flags | SL_FILE_APPEND, mode, err, errlen);
    if (a->fd < 0)
        return -1;
    off_t cut = cut_torn_tail(path);
    if (cut < 0) {
        snprintf(err, errlen, "cannot check the end of %s: %s", path, strerror(errno));
        return -1;
    }
    if (cut > 0)
        host->log(ctx, SL_LOG_WARN, "%s ended in a partial line (a crash mid-write): cut its "
                  "last %lld bytes; those events are written again", path, (long long)cut);
    int64_t size = file_size(a->fd);
    a->regular = size >= 0;
    a->size_at_open = size > 0 ? size : 0;
    return 0;
}

int64_t sl_append_size_at_open(const sl_append *a)
{
    return a->size_at_open;
}

/* How many of the batch's len bytes are in the file now. */
static size_t reached(const sl_append *a, size_t len)
{
    int64_t now = a->regular ? file_size(a->fd) : -1;
    if (now < 0 || a->base < 0 || now < a->base)
        return 0; /* unknown, or truncated by someone else: write it all */
    return (uint64_t)(now - a->base) < len ? (size_t)(now - a->base) : len;
}

int sl_append_write(sl_append *a, uint64_t ticket, const void *data, size_t len, int sync,
                    char *err, size_t errlen)
{
    size_t off = 0;
    if (a->resume && a->resume_ticket == ticket && a->resume_len == len)
        off = a->resume_off;
    else if (a->regular)
        a->base = file_size(a->fd);
    a->resume = 0;
    char why[256];
    if (a->host->file_write(a->ctx, a->fd, (const char *)data + off, len - off, sync, why,
                            sizeof why) == SL_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", a->path, why);
    a->resume = 1;
    a->resume_ticket = ticket;
    a->resume_len = len;
    a->resume_off = reached(a, len);
    return -1;
}

void sl_append_close(sl_append *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    free(a->path);
    a->path = NULL;
}
