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

/*
 * A consumer numbers its deliveries (consumer_seq) and never reuses a
 * number while it keeps its state, and one process's pulls are answered
 * in order. A delivery numbered at or below the last one this process saw
 * means the consumer went back: its state was lost (nats-server writes it
 * at most 10 times a second, so a crash forgets the last deliveries; before
 * 2.14 it rewrites the file in place, so a crash mid-write leaves it
 * empty), an elected leader was behind, or the consumer was re-created.
 * It then delivers again what it had delivered since. Returns how many
 * numbers it went back (0: it did not) and remembers consumer_seq in *last.
 */
uint64_t nsrc_delivery_rewind(uint64_t *last, uint64_t consumer_seq);

#endif
