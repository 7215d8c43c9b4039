/* Engine internals shared by engine.c (data flow) and host.c (host API). */
#ifndef SL_ENGINE_PRIV_H
#define SL_ENGINE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "acks.h"
#include "engine.h"
#include "loader.h"
#include "metrics.h"
#include "options.h"
#include "queue.h"
#include "services.h"
#include "throttle.h"
#include "tap.h"
#include "sluice/host.h"
#include "sluice_priv.h"

typedef struct sl_comp sl_comp;

struct sl_ctx {
    sl_comp *comp;
};

/* One source batch as far as acknowledgements go: every sink delivery of it
 * (or of what enrichers made of it) holds one count, routing holds one. */
typedef struct sl_origin {
    sl_comp *src;
    uint64_t seq;
    atomic_int pending;
    atomic_int failed; /* some path could not take it: never report it acked */
    uint32_t events;   /* as emitted, for the count of what may repeat */
} sl_origin;

/* A batch in flight, shared by every sink queue it was pushed to. */
typedef struct sl_msg {
    sl_batch batch;
    char *data; /* owns batch.data */
    atomic_int refs;
    sl_origin *origin;
} sl_msg;

/* A popped batch the sink has not acknowledged yet, found by its ticket. */
typedef struct sl_ticket_ring {
    pthread_mutex_t mu;
    pthread_cond_t empty;
    sl_seqring ring; /* a slot per ticket: its sl_msg, NULL once acked */
    size_t live;     /* tickets not yet settled */
} sl_ticket_ring;

struct sl_comp {
    sl_engine *eng;
    const sl_component_spec *spec;
    sl_loaded plugin;
    sl_options opts;
    struct sl_ctx ctx;
    void *state;
    int inited;

    pthread_t thread;
    int has_thread;
    int joined;
    atomic_int finished; /* source returned from run(), sink thread ended */
    atomic_int failed;
    atomic_int kept;     /* sink: its last flush kept events for the next run (SL_PENDING) */

    sl_comp **down; /* components that list this one in `inputs` */
    size_t n_down;

    pthread_mutex_t emu;     /* enricher: one process() at a time */
    sl_builder *out;         /* enricher output, reused under emu */
    sl_acks acks;            /* source */
    atomic_ullong unacked_events; /* source: emitted, not (yet) acknowledged */
    sl_queue q;              /* enricher and sink input */
    int has_queue;
    sl_ticket_ring tickets;  /* sink in-flight batches */

    pthread_mutex_t dir_mu;
    char *state_dir;
    sl_metrics metrics;
    sl_counter *m_in, *m_out;       /* events_in, events_out: once per batch */
    sl_deadletter dl;               /* host->dead_letter */
    sl_throttle error_log;          /* rate limit of repeated error lines */
    atomic_llong last_progress_ms;  /* sink: last acknowledgement (or start) */
    sl_taps taps;                   /* live /tap/<name> readers */
};

struct sl_engine {
    const sl_pipeline_spec *spec;
    sl_engine_opts opts;
    sl_plugin_path path;
    sl_comp *comps; /* same order as spec->comps */
    size_t n;
    size_t *order;  /* indexes of comps, each after all of its inputs */
    atomic_int started;
    atomic_int stopping;
    atomic_int aborted;
    struct timespec deadline; /* CLOCK_MONOTONIC end of the drain */
    atomic_llong drain_end_ms; /* the same in sl_mono_ms() terms, 0 before */
    pthread_mutex_t mu;
    pthread_cond_t cond; /* a source finished or a stop was requested */
};

extern const sl_host sl_host_api;

/* Data flow entry points used by the host API. */
int sl_engine_emit(sl_comp *c, sl_builder *bb, uint64_t *seq);
void sl_engine_ack(sl_comp *c, uint64_t ticket);
/* Log an error at most once per second per component, counting the rest. */
void sl_comp_error(sl_comp *c, const char *metric, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
