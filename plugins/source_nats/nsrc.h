/*
 * source nats, internals shared by source_nats.c (options, lifecycle, the
 * fetch loop), nsrc_setup.c (stream, consumer, subscription) and
 * nsrc_pull.c (pull requests and what answers them), nsrc_held.c
 * (messages held until sluice acknowledges them).
 *
 * Each fetched batch of messages becomes one emitted batch. Its messages
 * are held, in emit order, until acked(seq) says every sink downstream
 * has them; only then is each one acknowledged to JetStream. A crash
 * before that leaves them unacknowledged, and JetStream delivers them
 * again (to this process after a restart, or to another on the same
 * durable consumer) once ack_wait has passed. While held, their ack_wait
 * is renewed (in progress), so slow delivery downstream is not mistaken
 * for a crash.
 */
#ifndef NSRC_H
#define NSRC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sl_nats.h"
#include "sluice/host.h"
#include "throttle.h"

typedef struct nsrc_held {
    uint64_t seq;          /* the emitted batch's number */
    natsMsg **msgs;
    uint32_t n;
    int64_t touched_ms;    /* fetched or last marked in progress (monotonic) */
    struct nsrc_held *next;
} nsrc_held;

typedef struct nsrc_metrics {
    sl_metric *fetched, *redelivered, *acked, *ack_errors, *raw, *fetch_errors, *held,
        *in_progress, *rewinds;
} nsrc_metrics;

typedef struct nats_src {
    sl_ctx *ctx;
    const sl_host *host;
    const char *name;
    /* configuration */
    sl_nats_conn_cfg conn;
    sl_nats_stream_cfg stream;
    const char *durable, *filter;
    int create_consumer;
    int64_t ack_wait_ms, max_ack_pending, max_deliver;
    jsDeliverPolicy deliver;
    int fetch_batch;
    int raw_only;
    int in_progress;
    /* NATS (the source thread's; acked() and the ticker only publish) */
    natsConnection *nc;
    jsCtx *js;
    int ready;                 /* stream and consumer checked, inbox subscribed */
    natsSubscription *inbox_sub; /* answers to our pull requests: <inbox>.<n> */
    char *inbox;
    size_t inbox_len;
    char *next_subj;           /* $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable> */
    uint64_t req_id;           /* the last pull request */
    int req_open;              /* it may still deliver */
    uint32_t req_left;         /* messages it may still deliver */
    int64_t req_ends_ms;       /* when it expires (monotonic) */
    atomic_llong consumer_ack_wait_ms; /* of the consumer in use (the ticker reads it) */
    sl_builder *bb;
    uint64_t next_seq;
    uint64_t last_delivery;    /* the consumer's number of the last message seen */
    /* held messages, under mu */
    pthread_mutex_t mu;
    pthread_cond_t tick;
    nsrc_held *head, *tail;
    uint64_t held_msgs;
    atomic_int stop;
    pthread_t ticker;
    int has_ticker;
    sl_throttle log_errors;
    nsrc_metrics m;
} nats_src;

/* nsrc_setup.c: stream, consumer and the inbox subscription.
 * SL_NATS_OK / SL_NATS_RETRY / SL_NATS_FATAL, msg says what happened. */
int nsrc_setup(nats_src *s, char *msg, size_t msglen);

/* nsrc_pull.c */
enum { PULL_MSGS = 0, PULL_IDLE = 1, PULL_ERROR = -1, PULL_RESETUP = -2 };
/*
 * Collect up to max messages into out (*n): ask for them when no request
 * is open, wait up to ~100 ms for the first, then take what follows
 * without a pause. PULL_MSGS (maybe *n == 0 while a request is open),
 * PULL_IDLE (a request ended with nothing), PULL_ERROR (with the reason
 * in msg), PULL_RESETUP (JetStream says the consumer is gone).
 */
int nsrc_pull(nats_src *s, natsMsg **out, uint32_t max, uint32_t *n, char *msg,
              size_t msglen);
/* At stop: wait for the open request to end, hand back what it brings. */
int nsrc_pull_drain(nats_src *s);
/* Acknowledge ("+ACK"), hand back ("-NAK") or renew ("+WPI") a message. */
natsStatus nsrc_reply(nats_src *s, natsMsg *m, const char *what);

/* nsrc_held.c */
int nsrc_hold(nats_src *s, uint64_t seq, natsMsg **msgs, uint32_t n);
void nsrc_unhold_last(nats_src *s);
void nsrc_acked(void *state, uint64_t seq);
int nsrc_ticker_start(nats_src *s);
void nsrc_ticker_stop(nats_src *s);
/* At teardown: what was never acknowledged goes back to JetStream now
 * (nak), for another consumer to take without waiting for ack_wait. */
void nsrc_release_all(nats_src *s);

#endif
