/* Dead-letter file; see dlfile.h. */
#include "dlfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dlfile_init(dlfile *d)
{
    memset(d, 0, sizeof *d);
    d->fd = -1;
}

int dlfile_open(dlfile *d, const char *path, const char *dir, char *err, size_t errlen)
{
    if (path && *path) {
        d->path = strdup(path);
    } else {
        if (!dir) {
            snprintf(err, errlen, "dead_letter_path: no state directory for the file");
            return -1;
        }
        size_t n = strlen(dir) + sizeof "/dead_letter.jsonl";
        if ((d->path = malloc(n)))
            snprintf(d->path, n, "%s/dead_letter.jsonl", dir);
    }
    if (!d->path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->fd = open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (d->fd < 0) {
        snprintf(err, errlen, "dead_letter_path: cannot open %s: %s", d->path, strerror(errno));
        return -1;
    }
    return 0;
}

void dlfile_discard(dlfile *d)
{
    d->buf.len = 0;
}

int dlfile_flush(dlfile *d, char *err, size_t errlen)
{
    size_t off = 0;
    int rc = 0;
    while (off < d->buf.len) {
        ssize_t w = write(d->fd, d->buf.data + off, d->buf.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "dead letter %s: %s", d->path,
                     w < 0 ? strerror(errno) : "short write");
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    d->buf.len = 0;
    return rc;
}

void dlfile_close(dlfile *d)
{
    if (d->fd >= 0)
        close(d->fd);
    sl_buf_free(&d->buf);
    free(d->path);
    dlfile_init(d);
}
