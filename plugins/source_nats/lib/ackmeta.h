/*
 * What a JetStream message's reply subject says about it:
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
 * or, from newer servers, with <domain>.<account hash> before <stream> and
 * a random token at the end. Read here rather than with libnats, whose
 * metadata call wants a subscription of its own kind.
 */
#ifndef NSRC_ACKMETA_H
#define NSRC_ACKMETA_H

#include <stddef.h>
#include <stdint.h>

typedef struct nsrc_ackmeta {
    const char *stream;   /* points into the subject; not NUL-terminated */
    size_t stream_len;
    uint64_t delivered;   /* 1 on the first delivery */
    uint64_t stream_seq;
    uint64_t consumer_seq;
    int64_t time_ns;      /* when the stream stored it */
    uint64_t pending;
} nsrc_ackmeta;

/* 0, or -1 when the subject is not a JetStream ack subject. */
int nsrc_ackmeta_parse(const char *reply, nsrc_ackmeta *out);

#endif
