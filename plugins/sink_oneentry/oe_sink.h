/*
 * sink_oneentry internals shared by the plugin glue (sink_oneentry.c) and
 * the delivery worker (oe_worker.c).
 *
 * write() (sink thread) validates and builds one job per event and hands
 * them to the worker; the worker thread drives the HTTP transport
 * (lib/oe_http.c: libcurl's multi socket interface on epoll) and
 * acknowledges a batch when its last event is delivered, spooled or
 * dead-lettered. What OneEntry expects is in docs/oneentry-contract.md.
 */
#ifndef OE_SINK_H
#define OE_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "oe_body.h"
#include "oe_http.h"
#include "oe_pace.h"
#include "oe_retry.h"
#include "oe_spool.h"
#include "sluice/host.h"

/* Most unfinished jobs from batches held in memory: write() waits above it.
 * A job is ~150 bytes, so this bounds the sink's own memory to a few MiB
 * whatever the engine's queue size (its bytes are msgpack, not our jobs). */
#define OE_MAX_MEM_JOBS 16384

typedef struct oe_batch {
    uint64_t ticket;
    uint32_t left; /* events not yet finished; worker thread only */
    int lost;      /* an event was abandoned at teardown: never acknowledge */
} oe_batch;

/* One event to deliver. Allocated with its header and body strings after
 * it; a job read from the spool also owns a copy of the event bytes. */
typedef struct oe_job {
    struct oe_job *next;
    oe_batch *batch;        /* NULL for a job read from the spool */
    uint64_t spool_id;      /* for spool jobs */
    const uint8_t *raw;     /* the encoded event (batch memory or owned) */
    size_t raw_len;
    const char *ident;      /* identity header line */
    const char *json;
    size_t json_len;
    int is_user;
    int attempts;
    int held;               /* holds its identity in the worker's oe_order */
    int vhash_set;          /* vhash is oe_order_hash of ident (see visitor_hash) */
    uint64_t vhash;
    int strikes;            /* failures while other events were accepted */
    uint64_t ok_mark;       /* the worker's success count when last sent */
    int64_t due_ns;         /* retry time */
} oe_job;

typedef struct oe_cfg {
    oe_keys keys;
    oe_status_set retryable;
    int adaptive, concurrency, max_concurrency;
    double rate_limit;
    int64_t retry_base_ms, retry_max_ms, auth_probe_ms, drain_ms;
    int64_t timeout_ms;      /* a whole request's limit */
    int spool_after;         /* consecutive failures before spooling */
    int max_retries;         /* strikes before a poison event is dead-lettered; 0 = never */
    int use_spool, spool_fsync, drop_oldest, dry_run, has_token;
    int ordered;             /* order: per_visitor */
} oe_cfg;

/* The sink's metrics, registered at init (names as on /metrics). */
typedef struct oe_metrics {
    /* counters */
    sl_metric *delivered, *spooled, *rejected, *dead_lettered, *given_up, *retries, *outages,
        *auth_failures, *spool_dropped, *spool_corrupt;
    /* gauges, set once a second by the worker */
    sl_metric *in_flight, *concurrency, *retries_waiting, *waiting_for_visitor,
        *spool_pending, *paused;
} oe_metrics;

typedef struct oe_sink {
    sl_ctx *ctx;
    const sl_host *host;
    oe_cfg cfg;
    oe_metrics m;
    char *url;
    oe_http *http;
    oe_spool *spool;
    char *spool_dir;         /* for the line saying what it still holds */
    oe_request req;          /* scratch for write() */

    /* hand-over from write() to the worker */
    pthread_mutex_t mu;
    pthread_cond_t idle;     /* worker signals progress (flush waits) */
    oe_job *in_head, *in_tail;
    int stop;                /* destroy asks the worker to end */
    int quiesce;             /* stopping: start no request, let those in flight end */
    int busy;                /* worker holds undelivered work */
    int inflight;            /* requests in flight, as of the worker's last turn */
    pthread_cond_t room;     /* worker signals: memory jobs below the bound */
    atomic_long mem_jobs;    /* jobs of held batches not yet finished */

    pthread_t thread;
    int has_thread;
    uint64_t rng;
} oe_sink;

/* Set an event that can never be delivered aside, with the reason, through
 * host->dead_letter (thread-safe; counted as events_dead_lettered). */
void oe_sink_dead_letter(oe_sink *s, const uint8_t *raw, size_t raw_len, const char *reason);

/* Worker thread body. */
void *oe_worker_main(void *arg);

/* Build a job for one encoded event: 0 ok (*out), 1 rejected (why), -1 OOM. */
int oe_job_make(const oe_keys *keys, oe_request *scratch, const uint8_t *raw, size_t raw_len,
                int copy_raw, oe_job **out, char *why, size_t whylen);

#endif
