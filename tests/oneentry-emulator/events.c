#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int oe_events_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        snprintf(err, errlen, "cannot open events file %s: %s", path, strerror(errno));
    return fd;
}

static int format_line(sl_buf *b, const char *who, const char *body, size_t len)
{
    b->len = 0;
    if (sl_buf_puts(b, "{\"auth\":") < 0 || sl_json_str(b, who, strlen(who)) < 0 ||
        sl_buf_puts(b, ",\"body\":") < 0)
        return -1;
    size_t start = b->len;
    if (sl_buf_append(b, body, len) < 0 || sl_buf_puts(b, "}\n") < 0)
        return -1;
    for (size_t i = start; i < start + len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r')
            b->data[i] = ' ';
    return 0;
}

int oe_events_append(int fd, sl_buf *scratch, const char *who, const char *body,
                     size_t len, char *err, size_t errlen)
{
    if (format_line(scratch, who, body, len) < 0) {
        snprintf(err, errlen, "out of memory formatting an event line");
        return -1;
    }
    /* one write per line; a short write on a regular file means the disk is full */
    ssize_t w;
    do
        w = write(fd, scratch->data, scratch->len);
    while (w < 0 && errno == EINTR);
    if (w == (ssize_t)scratch->len)
        return 0;
    snprintf(err, errlen, "cannot append to events file: %s",
             w < 0 ? strerror(errno) : "short write");
    return -1;
}
