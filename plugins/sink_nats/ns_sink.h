/*
 * sink nats, internals shared by sink_nats.c (options, lifecycle, write)
 * and ns_pub.c (the publisher and PubAck threads).
 *
 * Every event of a batch becomes a record: its NATS message (subject,
 * Nats-Msg-Id, payload, and a reply subject <inbox>.<record number> where
 * JetStream sends the PubAck). Records are numbered in write order in a
 * ring and are QUEUED (to send), SENT (waiting for the PubAck) or DONE
 * (stored, or dead-lettered). The publisher thread sends QUEUED records
 * strictly in number order, so the stream stores each visitor's events in
 * the order the edge read them; after a reconnect it sends every SENT
 * record again from the lowest, and the stream's duplicate window drops
 * those it had stored. The PubAck thread marks records DONE and
 * acknowledges a batch upstream when its last record is. Only the
 * publisher frees records, so it may send one without holding the lock.
 */
#ifndef NS_SINK_H
#define NS_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "msgid.h"
#include "puback.h"
#include "seqring.h"
#include "sl_nats.h"
#include "subject.h"
#include "sluice/host.h"
#include "sluice/json.h"
#include "throttle.h"

enum { REC_QUEUED = 0, REC_SENT = 1, REC_DONE = 2 };

typedef struct ns_batch {
    uint64_t ticket;
    uint32_t left;  /* records not DONE */
    int incomplete; /* not all its events became records: never acknowledged */
} ns_batch;

typedef struct ns_rec {
    uint64_t num;         /* its number in the ring */
    ns_batch *batch;
    natsMsg *msg;
    const uint8_t *raw;   /* the event, for a dead letter; valid until acked */
    size_t raw_len;
    int64_t sent_ms;      /* SENT: when (monotonic) */
    int64_t retry_at;     /* QUEUED: not before (monotonic ms) */
    uint32_t failures;    /* error answers and timeouts so far */
    uint8_t state;
} ns_rec;

typedef struct ns_metrics {
    sl_metric *published, *duplicates, *republished, *errors, *timeouts, *reconnects,
        *dead_lettered, *missing, *in_flight;
} ns_metrics;

typedef struct ns_sink {
    sl_ctx *ctx;
    const sl_host *host;
    /* configuration */
    sl_nats_conn_cfg conn;
    sl_nats_stream_cfg stream;
    ns_subject *subject;
    int json;
    char *time_key;
    sl_time_format time_fmt;
    char *id_prefix;
    uint32_t max_in_flight;
    int64_t ack_timeout_ms;
    /* NATS */
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *acks;
    char *inbox;          /* "_INBOX.<nuid>"; replies go to <inbox>.<number> */
    size_t inbox_len;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t room;  /* write() waits for held < max_in_flight */
    pthread_cond_t work;  /* the publisher waits for something to send */
    pthread_cond_t idle;  /* flush() at stop waits for held == 0 */
    sl_seqring recs;
    uint64_t cursor;      /* no QUEUED record below this number */
    uint32_t held;        /* records not DONE */
    uint64_t reconnects_seen;
    int stream_ready;
    int fatal;            /* JetStream refused the stream: write() says SL_FATAL */
    char fatal_msg[512];
    atomic_int stop;
    pthread_t pub_thread, ack_thread;
    int threads;
    /* the sink thread's scratch */
    sl_buf json_buf;
    char subj[NS_SUBJECT_MAX];
    char msgid[NS_MSGID_MAX];
    sl_throttle log_errors, log_missing;
    ns_metrics m;
} ns_sink;

/* ns_pub.c */
int ns_setup_stream(ns_sink *s, char *msg, size_t msglen);
int ns_threads_start(ns_sink *s, char *err, size_t errlen);
void ns_threads_stop(ns_sink *s);
/* Free every record left (after the threads stopped). */
void ns_records_free(ns_sink *s);

#endif
