#include "oe_deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/json.h"

#define MESSAGE_MAX 1024

int oe_deadletter_open(oe_deadletter *d, const char *path, char *err, size_t errlen)
{
    d->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (d->fd < 0) {
        snprintf(err, errlen, "dead-letter file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!(d->path = strdup(path))) {
        close(d->fd);
        d->fd = -1;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The "message" of a JSON error object, found without a JSON parser: the
 * first "message" key followed by a string. Sets *p and *n to the raw string
 * contents (escapes left as they are); 0 when absent. */
static int json_message(const char *s, size_t n, const char **p, size_t *len)
{
    const char *key = "\"message\"";
    const char *k = memmem(s, n, key, strlen(key));
    if (!k)
        return 0;
    const char *q = k + strlen(key), *end = s + n;
    while (q < end && (*q == ' ' || *q == ':' || *q == '\t'))
        q++;
    if (q >= end || *q != '"')
        return 0;
    const char *start = ++q;
    while (q < end && *q != '"')
        q += (*q == '\\' && q + 1 < end) ? 2 : 1;
    if (q >= end)
        return 0;
    *p = start;
    *len = (size_t)(q - start);
    return 1;
}

static int put_message(sl_buf *b, const char *m, size_t n)
{
    const char *inner;
    size_t ilen;
    if (!m || !n)
        return sl_buf_puts(b, "null");
    if (json_message(m, n, &inner, &ilen)) {
        /* Already JSON-escaped by the server: copy it verbatim when it is
         * plain ASCII (escapes stay valid), else escape the raw text. */
        int ascii = ilen <= MESSAGE_MAX;
        for (size_t i = 0; ascii && i < ilen; i++)
            ascii = (unsigned char)inner[i] >= 0x20 && (unsigned char)inner[i] < 0x7f;
        if (ascii)
            return sl_buf_append(b, "\"", 1) || sl_buf_append(b, inner, ilen) ||
                   sl_buf_append(b, "\"", 1);
        return sl_json_str(b, inner, ilen > MESSAGE_MAX ? MESSAGE_MAX : ilen);
    }
    return sl_json_str(b, m, n > MESSAGE_MAX ? MESSAGE_MAX : n);
}

int oe_deadletter_write(oe_deadletter *d, const sl_value *body, const char *reason,
                        long status, const char *message, size_t msglen, char *err,
                        size_t errlen)
{
    sl_buf b = {0};
    char st[32];
    int rc = -1;
    snprintf(st, sizeof st, "%ld", status);
    if (sl_buf_puts(&b, "{\"time\":\"") || sl_json_rfc3339(&b, sl_now_ns()) ||
        sl_buf_puts(&b, "\",\"reason\":") || sl_json_str(&b, reason, strlen(reason)) ||
        sl_buf_puts(&b, ",\"status\":") || sl_buf_puts(&b, status > 0 ? st : "null") ||
        sl_buf_puts(&b, ",\"message\":") || put_message(&b, message, msglen) ||
        sl_buf_puts(&b, ",\"event\":"))
        goto oom;
    /* A body JSON cannot express (too deep) is still recorded, as a note. */
    if (sl_json_value(&b, body) != 0 && sl_buf_puts(&b, "\"(not representable as JSON)\""))
        goto oom;
    if (sl_buf_puts(&b, "}\n"))
        goto oom;
    for (size_t off = 0; off < b.len;) {
        ssize_t n = write(d->fd, b.data + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "dead-letter file %s: %s", d->path,
                     n < 0 ? strerror(errno) : "short write");
            goto out;
        }
        off += (size_t)n;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    sl_buf_free(&b);
    return rc;
}

void oe_deadletter_close(oe_deadletter *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    free(d->path);
    d->path = NULL;
}
