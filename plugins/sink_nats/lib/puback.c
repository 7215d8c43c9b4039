#include "puback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSStreamMessageExceedsMaximumErr: larger than the stream's max_msg_size. */
#define JS_MSG_TOO_BIG 10054

/*
 * The value after "key": in [p, end), or NULL. The server writes compact
 * JSON with these keys once each and strings without escaped quotes in
 * the parts read here, so a scan is enough; a description with escapes is
 * copied as it is.
 */
static const char *find_key(const char *p, const char *end, const char *key)
{
    size_t kl = strlen(key);
    for (const char *q = p; q + kl + 2 < end; q++) {
        if (q[0] != '"' || memcmp(q + 1, key, kl) != 0 || q[kl + 1] != '"')
            continue;
        q += kl + 2;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        if (q >= end || *q != ':')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        return q;
    }
    return NULL;
}

static int read_uint(const char *p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *q = p;
    while (q < end && *q >= '0' && *q <= '9')
        v = v * 10 + (uint64_t)(*q++ - '0');
    if (q == p)
        return -1;
    *out = v;
    return 0;
}

static void read_error(const char *err, const char *end, ns_puback *a)
{
    uint64_t v;
    const char *p;
    if ((p = find_key(err, end, "code")) && read_uint(p, end, &v) == 0)
        a->code = (int)v;
    if ((p = find_key(err, end, "err_code")) && read_uint(p, end, &v) == 0)
        a->err_code = (int)v;
    if ((p = find_key(err, end, "description")) && p < end && *p == '"') {
        const char *q = ++p;
        while (q < end && *q != '"')
            q += (*q == '\\' && q + 1 < end) ? 2 : 1;
        snprintf(a->desc, sizeof a->desc, "%.*s", (int)(q - p), p);
    } else {
        snprintf(a->desc, sizeof a->desc, "error %d", a->code);
    }
}

void ns_puback_parse(const char *data, size_t len, ns_puback *a)
{
    memset(a, 0, sizeof *a);
    const char *end = data + len, *p;
    if (len == 0) {
        snprintf(a->desc, sizeof a->desc, "empty answer");
        return;
    }
    if ((p = find_key(data, end, "error"))) {
        read_error(p, end, a);
        return;
    }
    if (!(p = find_key(data, end, "seq")) || read_uint(p, end, &a->seq) != 0 ||
        !find_key(data, end, "stream")) {
        snprintf(a->desc, sizeof a->desc, "unexpected answer '%.*s'", len > 80 ? 80 : (int)len,
                 data);
        return;
    }
    a->ok = 1;
    p = find_key(data, end, "duplicate");
    a->duplicate = p && end - p >= 4 && memcmp(p, "true", 4) == 0;
}

int ns_puback_permanent(const ns_puback *a)
{
    return !a->ok && a->err_code == JS_MSG_TOO_BIG;
}
