#include "engine_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_clock.h"
#include "throttle.h"
#include "graph.h"
#include "log.h"

/* ------------------------------------------------------------------ */
/* Messages and origins                                                */
/* ------------------------------------------------------------------ */

/* Take the builder's bytes without copying; the builder is left empty. */
static sl_msg *msg_take(sl_builder *bb, sl_origin *o)
{
    sl_msg *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    m->data = (char *)sl__bb_take(bb, &m->batch);
    atomic_init(&m->refs, 1);
    m->origin = o;
    return m;
}

/* Why a builder a plugin handed back is not a batch, or NULL. The builder
 * writes only well-formed events, so this replaces validating the bytes. */
static const char *builder_problem(sl_comp *c, const sl_builder *bb)
{
    uint32_t dropped = sl__bb_dropped(bb);
    if (dropped)
        sl_metrics_add(&c->metrics, "events_unbuilt", dropped);
    return sl__bb_problem(bb);
}

/*
 * What a batch costs a queue: its bytes plus what holding any batch costs
 * (the message, its origin, the queue node, allocator headers), so a queue
 * of many tiny batches is bounded like one of few large ones. The builder
 * hands over allocations the size of their contents, so the bytes are what
 * the batch really holds.
 */
#define SL_MSG_OVERHEAD 256

static size_t msg_charge(const sl_msg *m) { return m->batch.len + SL_MSG_OVERHEAD; }

static void msg_unref(sl_msg *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        free(m->data);
        free(m);
    }
}

static void origin_release(sl_origin *o, int ok)
{
    if (!ok)
        atomic_store(&o->failed, 1);
    if (atomic_fetch_sub(&o->pending, 1) != 1)
        return;
    if (!atomic_load(&o->failed)) {
        atomic_fetch_sub(&o->src->unacked_events, o->events);
        sl_acks_complete(&o->src->acks, o->seq);
    }
    free(o);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

void sl_comp_error(sl_comp *c, const char *metric, const char *fmt, ...)
{
    sl_metrics_add(&c->metrics, metric, 1);
    unsigned long long quiet = 0;
    if (!sl_throttle_pass(&c->error_log, 1000, &quiet))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (quiet)
        sl_log(SL_LOG_ERROR, c->spec->name, "%s (%llu more errors since the last one logged)",
               msg, quiet);
    else
        sl_log(SL_LOG_ERROR, c->spec->name, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* Sink tickets                                                        */
/* ------------------------------------------------------------------ */

static int tickets_init(sl_ticket_ring *t)
{
    *t = (sl_ticket_ring){0};
    if (sl_seqring_init(&t->ring, 64) != 0)
        return -1;
    pthread_mutex_init(&t->mu, NULL);
    sl_cond_init_monotonic(&t->empty);
    return 0;
}

static void tickets_destroy(sl_ticket_ring *t)
{
    if (!t->ring.slot)
        return;
    sl_seqring_free(&t->ring);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->empty);
}

static uint64_t tickets_add(sl_ticket_ring *t, sl_msg *m)
{
    pthread_mutex_lock(&t->mu);
    uint64_t ticket = sl_seqring_push(&t->ring, m);
    if (ticket)
        t->live++;
    pthread_mutex_unlock(&t->mu);
    return ticket;
}

/* Remove a ticket; NULL when unknown or already acknowledged. */
static sl_msg *tickets_take(sl_ticket_ring *t, uint64_t ticket)
{
    pthread_mutex_lock(&t->mu);
    void **slot = sl_seqring_at(&t->ring, ticket);
    sl_msg *m = slot ? *slot : NULL;
    if (m) {
        *slot = NULL;
        sl_seqring_drop_front(&t->ring, 0);
    }
    pthread_mutex_unlock(&t->mu);
    return m;
}

/* A taken ticket is fully settled (its origin released): only now may the
 * drain see the sink as idle, or it could miss an acknowledgement that is
 * still on its way to the source. */
static void tickets_settled(sl_ticket_ring *t)
{
    pthread_mutex_lock(&t->mu);
    if (--t->live == 0)
        pthread_cond_broadcast(&t->empty);
    pthread_mutex_unlock(&t->mu);
}

static int tickets_wait_empty(sl_ticket_ring *t, const atomic_int *aborted,
                              const struct timespec *deadline)
{
    pthread_mutex_lock(&t->mu);
    while (t->live && !atomic_load(aborted) &&
           pthread_cond_timedwait(&t->empty, &t->mu, deadline) == 0)
        ;
    int empty = t->live == 0;
    pthread_mutex_unlock(&t->mu);
    return empty ? 0 : -1;
}

/* A sink is done with a batch: free its queue bytes, release the origin. */
static void sink_done(sl_comp *c, sl_msg *m, int ok)
{
    sl_queue_release(&c->q, msg_charge(m));
    if (ok) {
        atomic_store(&c->last_progress_ms, sl_mono_ms());
        sl_counter_add(c->m_out, m->batch.count);
        sl_metrics_add(&c->metrics, "batches_out", 1);
    }
    origin_release(m->origin, ok);
    msg_unref(m);
}

/* Settle a ticket: acknowledged (ok) or given up at teardown. */
static void ticket_finish(sl_comp *c, uint64_t ticket, int ok)
{
    sl_msg *m = tickets_take(&c->tickets, ticket);
    if (!m) {
        if (ok)
            sl_log(SL_LOG_WARN, c->spec->name, "ack of unknown or already acknowledged "
                   "ticket %llu (plugin bug)", (unsigned long long)ticket);
        return;
    }
    sink_done(c, m, ok);
    tickets_settled(&c->tickets);
}

void sl_engine_ack(sl_comp *c, uint64_t ticket) { ticket_finish(c, ticket, 1); }

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

static void route(sl_comp *from, sl_msg *m);

/* Hand m to the input queue of an enricher or a sink (blocking while full):
 * the delivery holds one count of the origin until that component is done. */
static void push(sl_comp *d, sl_msg *m)
{
    atomic_fetch_add(&m->origin->pending, 1);
    atomic_fetch_add(&m->refs, 1);
    if (d->spec->kind == SL_KIND_SINK) {
        sl_counter_add(d->m_in, m->batch.count);
        sl_taps_publish(&d->taps, &m->batch);
    }
    if (sl_queue_push(&d->q, m, msg_charge(m)) < 0) {
        /* Only when tearing down: the batch is never acknowledged, so a
         * source's checkpoint cannot move past it. */
        origin_release(m->origin, 0);
        msg_unref(m);
    }
}

/* Run one enricher on m; returns its output (or m itself, referenced, when
 * the enricher failed, so nothing is lost silently), NULL when it dropped
 * every event. */
static sl_msg *enrich(sl_comp *d, sl_msg *m)
{
    char err[512] = "";
    sl_counter_add(d->m_in, m->batch.count);
    if (!d->out) {
        sl_comp_error(d, "errors", "out of memory: batch of %u events passed on unchanged",
                      m->batch.count);
        atomic_fetch_add(&m->refs, 1);
        return m;
    }
    pthread_mutex_lock(&d->emu);
    sl_bb_reset(d->out);
    int rc = d->plugin.p->process(d->state, &m->batch, d->out, err, sizeof err);
    const char *why = builder_problem(d, d->out);
    if (rc == SL_OK && why) {
        snprintf(err, sizeof err, "returned SL_OK but %s", why);
        rc = SL_ERR;
    }
    if (rc != SL_OK) {
        pthread_mutex_unlock(&d->emu);
        sl_comp_error(d, "errors", "process failed, batch of %u events passed on unchanged: %s",
                      m->batch.count, err[0] ? err : "(no message)");
        atomic_fetch_add(&m->refs, 1);
        return m;
    }
    uint32_t produced = sl_bb_count(d->out);
    sl_msg *out = produced ? msg_take(d->out, m->origin) : NULL;
    pthread_mutex_unlock(&d->emu);
    if (produced && !out) {
        atomic_store(&m->origin->failed, 1);
        sl_comp_error(d, "errors", "out of memory: batch of %u events not delivered", produced);
    }
    return out;
}

/* What a source or enricher emitted goes to every consumer's queue. */
static void route(sl_comp *from, sl_msg *m)
{
    sl_taps_publish(&from->taps, &m->batch);
    for (size_t i = 0; i < from->n_down; i++)
        push(from->down[i], m);
}

int sl_engine_emit(sl_comp *c, sl_builder *bb, uint64_t *seq)
{
    if (seq)
        *seq = 0;
    const char *why = builder_problem(c, bb);
    if (why) {
        sl_comp_error(c, "malformed_batches", "emitted a batch that is not one, rejected: %s", why);
        sl_bb_reset(bb);
        return SL_ERR;
    }
    if (sl_bb_count(bb) == 0) {
        sl_bb_reset(bb);
        return SL_OK;
    }
    if (atomic_load(&c->eng->aborted))
        return SL_STOPPED;
    sl_origin *o = malloc(sizeof *o);
    sl_msg *m = o ? msg_take(bb, o) : NULL;
    uint64_t s = m ? sl_acks_begin(&c->acks) : 0;
    if (!s) {
        if (m)
            msg_unref(m);
        free(o);
        sl_bb_reset(bb);
        sl_comp_error(c, "errors", "out of memory while emitting");
        return SL_ERR;
    }
    o->src = c;
    o->seq = s;
    o->events = m->batch.count;
    atomic_fetch_add(&c->unacked_events, o->events);
    atomic_init(&o->pending, 1);
    atomic_init(&o->failed, 0);
    sl_counter_add(c->m_out, m->batch.count);
    if (seq)
        *seq = s;
    route(c, m);
    msg_unref(m);
    origin_release(o, 1);
    return atomic_load(&c->eng->aborted) ? SL_STOPPED : SL_OK;
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

static void *source_main(void *arg)
{
    sl_comp *c = arg;
    int rc = c->plugin.p->run(c->state);
    if (rc != SL_OK && rc != SL_STOPPED) {
        atomic_store(&c->failed, 1);
        sl_log(SL_LOG_ERROR, c->spec->name, "source stopped with an error");
    }
    sl_engine *e = c->eng;
    pthread_mutex_lock(&e->mu);
    atomic_store(&c->finished, 1);
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/*
 * Each enricher runs on a thread of its own between two bounded queues, so a
 * chain like tail -> parse -> activity keeps several cores busy while the
 * order of each source's batches is kept (one consumer per queue).
 */
static void *enricher_main(void *arg)
{
    sl_comp *c = arg;
    for (;;) {
        void *item;
        size_t bytes;
        int r = sl_queue_pop(&c->q, 100, &item, &bytes);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        sl_msg *m = item;
        sl_msg *out = enrich(c, m);
        if (out) {
            sl_counter_add(c->m_out, out->batch.count);
            route(c, out);
            msg_unref(out);
        }
        sl_queue_release(&c->q, bytes);
        origin_release(m->origin, 1); /* events filtered out count as done */
        msg_unref(m);
    }
    atomic_store(&c->finished, 1);
    return NULL;
}

/* Sleep up to ms, in short steps so an abort is noticed quickly. */
static void backoff_sleep(sl_engine *e, int64_t ms)
{
    for (int64_t slept = 0; slept < ms && !atomic_load(&e->aborted); slept += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Hand one batch to the sink, retrying failures with capped backoff: a
 * failed write is never acknowledged, so retrying is the only way on. */
static void sink_deliver(sl_comp *c, sl_msg *m)
{
    uint64_t ticket = tickets_add(&c->tickets, m);
    if (!ticket) {
        sl_comp_error(c, "errors", "out of memory tracking a batch");
        sink_done(c, m, 0);
        return;
    }
    int64_t backoff = 100;
    for (;;) {
        char err[512] = "";
        int rc = c->plugin.p->write(c->state, &m->batch, ticket, err, sizeof err);
        if (rc == SL_OK) {
            sl_engine_ack(c, ticket);
            return;
        }
        if (rc == SL_PENDING)
            return;
        if (rc == SL_FATAL) {
            sl_log(SL_LOG_ERROR, c->spec->name, "sink cannot go on, stopping the pipeline: %s",
                   err[0] ? err : "(no message)");
            atomic_store(&c->failed, 1);
            ticket_finish(c, ticket, 0);
            sl_engine_request_stop(c->eng);
            return;
        }
        sl_comp_error(c, "errors", "write failed, retrying in %lld ms: %s", (long long)backoff,
                      err[0] ? err : "(no message)");
        if (atomic_load(&c->eng->aborted)) {
            ticket_finish(c, ticket, 0);
            return;
        }
        sl_metrics_add(&c->metrics, "retries", 1);
        backoff_sleep(c->eng, backoff);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

static void *sink_main(void *arg)
{
    sl_comp *c = arg;
    const sl_plugin *p = c->plugin.p;
    int dirty = 0;
    for (;;) {
        void *item;
        size_t bytes;
        int r = sl_queue_pop(&c->q, 100, &item, &bytes);
        if (r < 0)
            break;
        if (r == 0) {
            /* Not while stopping: the flush after the loop is the last
             * one, and a sink may end its work there (see plugin.h). */
            if (dirty && p->flush && !atomic_load(&c->eng->stopping) && !sl_engine_stop_signalled())
                p->flush(c->state);
            dirty = 0;
            continue;
        }
        if (atomic_load(&c->failed)) {
            /* A dead sink only drains its queue so sources are not blocked;
             * nothing it drops is acknowledged. */
            sink_done(c, item, 0);
            continue;
        }
        sink_deliver(c, item);
        dirty = 1;
    }
    /* flush first: a sink may acknowledge from it (a batching sink writes
     * what it holds), and would otherwise stall the wait below. */
    if (p->flush && p->flush(c->state) == SL_PENDING)
        atomic_store(&c->kept, 1);
    if (tickets_wait_empty(&c->tickets, &c->eng->aborted, &c->eng->deadline) < 0)
        sl_log(SL_LOG_WARN, c->spec->name, "batches still unacknowledged at the drain deadline");
    atomic_store(&c->finished, 1);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Construction                                                        */
/* ------------------------------------------------------------------ */

static int link_graph(sl_engine *e, sl_errs *errs)
{
    for (size_t i = 0; i < e->n; i++) {
        const sl_component_spec *cs = &e->spec->comps[i];
        for (size_t k = 0; k < cs->n_inputs; k++) {
            long from = sl_graph_find(e->spec, sl_node_str(cs->inputs[k]));
            if (from < 0)
                continue; /* reported by sl_graph_check */
            sl_comp *f = &e->comps[from];
            sl_comp **nd = realloc(f->down, (f->n_down + 1) * sizeof *nd);
            if (!nd) {
                sl_errs_addf(errs, "out of memory");
                return -1;
            }
            f->down = nd;
            f->down[f->n_down++] = &e->comps[i];
        }
    }
    return 0;
}

static void comp_init_fields(sl_engine *e, sl_comp *c, const sl_component_spec *cs)
{
    c->eng = e;
    c->spec = cs;
    c->ctx.comp = c;
    sl_metrics_init(&c->metrics);
    sl_taps_init(&c->taps);
    pthread_mutex_init(&c->dir_mu, NULL);
    pthread_mutex_init(&c->emu, NULL);
    if (cs->kind != SL_KIND_SOURCE)
        c->m_in = sl_metrics_entry(&c->metrics, "events_in", 0);
    c->m_out = sl_metrics_entry(&c->metrics, "events_out", 0);
    if (cs->kind == SL_KIND_ENRICHER)
        c->out = sl_bb_new(); /* NULL is reported by enrich() */
    sl_deadletter_init(&c->dl);
    if (cs->dead_letter_path)
        c->dl.path = strdup(cs->dead_letter_path);
    else if (asprintf(&c->dl.path, "%s/%s/dead-letters.jsonl", e->spec->service.state_dir,
                      cs->name) < 0)
        c->dl.path = NULL; /* reported at the first dead letter */
}

static int comp_load(sl_engine *e, sl_comp *c, sl_errs *errs)
{
    const sl_component_spec *cs = c->spec;
    char err[1024];
    if (!cs->plugin && !cs->path)
        return -1; /* reported by the config loader */
    if (sl_plugin_load(&e->path, cs->kind, cs->plugin, cs->path, &c->plugin, err, sizeof err) < 0) {
        sl_errs_at(errs, cs->where, "%s '%s': %s", sl_kind_name(cs->kind), cs->name, err);
        return -1;
    }
    if (sl_options_resolve(cs, c->plugin.p, &c->opts, errs) < 0)
        return -1;
    if (c->plugin.p->check) {
        /* What the option table cannot say, so validate catches what init
         * would refuse. */
        char why[1024] = "";
        if (c->plugin.p->check(&c->ctx, &sl_host_api, why, sizeof why) != SL_OK) {
            sl_errs_at(errs, cs->name_node, "%s '%s': %s", sl_kind_name(cs->kind), cs->name,
                       why[0] ? why : "its options were refused (no reason given)");
            return -1;
        }
    }
    if (cs->kind == SL_KIND_SOURCE && sl_acks_init(&c->acks, NULL, NULL) < 0)
        return -1;
    if (cs->kind != SL_KIND_SOURCE) {
        int64_t max = cs->queue_max_bytes ? cs->queue_max_bytes : e->spec->service.queue_max_bytes;
        sl_queue_init(&c->q, (size_t)max);
        c->has_queue = 1;
    }
    if (cs->kind == SL_KIND_SINK && tickets_init(&c->tickets) < 0)
        return -1;
    return 0;
}

int sl_engine_create(const sl_pipeline_spec *spec, const sl_engine_opts *opts,
                     sl_engine **out, sl_errs *errs)
{
    *out = NULL;
    sl_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->comps = calloc(spec->n_comps ? spec->n_comps : 1, sizeof *e->comps))) {
        free(e);
        sl_errs_addf(errs, "out of memory");
        return -1;
    }
    e->spec = spec;
    e->opts = *opts;
    e->n = spec->n_comps;
    pthread_mutex_init(&e->mu, NULL);
    sl_cond_init_monotonic(&e->cond);
    int rc = sl_plugin_path_init(&e->path, opts->plugin_path);
    for (size_t i = 0; i < e->n; i++)
        comp_init_fields(e, &e->comps[i], &spec->comps[i]);
    for (size_t i = 0; i < e->n; i++)
        if (comp_load(e, &e->comps[i], errs) < 0)
            rc = -1;
    if (sl_graph_check(spec, errs) < 0 || link_graph(e, errs) < 0)
        rc = -1;
    if (rc == 0 && (!(e->order = calloc(e->n ? e->n : 1, sizeof *e->order)) ||
                    sl_graph_order(spec, e->order) < 0)) {
        sl_errs_addf(errs, "out of memory");
        rc = -1;
    }
    if (rc < 0) {
        sl_engine_destroy(e);
        return -1;
    }
    *out = e;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */
/* ------------------------------------------------------------------ */

static int comp_init(sl_comp *c, char *err, size_t errlen)
{
    char perr[512] = "";
    if (c->plugin.p->init(&c->ctx, &sl_host_api, &c->state, perr, sizeof perr) != SL_OK) {
        snprintf(err, errlen, "%s '%s' failed to start: %s", sl_kind_name(c->spec->kind),
                 c->spec->name, perr[0] ? perr : "(no message)");
        return -1;
    }
    c->inited = 1;
    if (c->spec->kind == SL_KIND_SOURCE && c->plugin.p->acked)
        sl_acks_set_callback(&c->acks, c->plugin.p->acked, c->state);
    return 0;
}

static int comp_spawn(sl_comp *c, char *err, size_t errlen)
{
    void *(*fn)(void *) = c->spec->kind == SL_KIND_SOURCE     ? source_main
                          : c->spec->kind == SL_KIND_ENRICHER ? enricher_main
                                                              : sink_main;
    if (pthread_create(&c->thread, NULL, fn, c) != 0) {
        snprintf(err, errlen, "'%s': cannot create a thread", c->spec->name);
        return -1;
    }
    c->has_thread = 1;
    atomic_store(&c->last_progress_ms, sl_mono_ms());
    return 0;
}

int sl_engine_start(sl_engine *e, char *err, size_t errlen)
{
    /* Sinks first, sources last: nothing is emitted before its consumers
     * are ready, and a failure leaves no source half-running. */
    static const sl_kind order[] = {SL_KIND_SINK, SL_KIND_ENRICHER, SL_KIND_SOURCE};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < e->n; i++)
            if (e->comps[i].spec->kind == order[k] && comp_init(&e->comps[i], err, errlen) < 0)
                goto fail;
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < e->n; i++)
            if (e->comps[i].spec->kind == order[k] && comp_spawn(&e->comps[i], err, errlen) < 0)
                goto fail;
    atomic_store(&e->started, 1);
    return 0;
fail:
    sl_engine_shutdown(e);
    return -1;
}

void sl_engine_request_stop(sl_engine *e)
{
    for (size_t i = 0; i < e->n; i++)
        sl_taps_close_all(&e->comps[i].taps);
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->stopping, 1);
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
}

/* Raised from a signal handler: a flag of the process, not of an engine,
 * so the handler never touches an engine that may be going away. */
static atomic_int g_stop_signal;

void sl_engine_stop_async(void)
{
    atomic_store(&g_stop_signal, 1);
}

int sl_engine_stop_signalled(void)
{
    return atomic_load(&g_stop_signal);
}

int sl_engine_should_stop(sl_engine *e)
{
    return atomic_load(&e->stopping) || sl_engine_sources_done(e);
}

int sl_engine_sources_done(sl_engine *e)
{
    for (size_t i = 0; i < e->n; i++) {
        sl_comp *c = &e->comps[i];
        if (c->spec->kind == SL_KIND_SOURCE && c->has_thread && !atomic_load(&c->finished))
            return 0;
    }
    return 1;
}

void sl_engine_wait(sl_engine *e, int ms)
{
    struct timespec deadline = sl_deadline_in(ms);
    pthread_mutex_lock(&e->mu);
    while (!atomic_load(&e->stopping) && !sl_engine_sources_done(e) &&
           pthread_cond_timedwait(&e->cond, &e->mu, &deadline) == 0)
        ;
    pthread_mutex_unlock(&e->mu);
}

int sl_engine_stop_requested(sl_engine *e)
{
    return atomic_load(&e->stopping);
}

int64_t sl_engine_last_progress_ms(sl_engine *e)
{
    int64_t last = 0;
    for (size_t i = 0; i < e->n; i++) {
        int64_t t = atomic_load(&e->comps[i].last_progress_ms);
        if (e->comps[i].spec->kind == SL_KIND_SINK && t > last)
            last = t;
    }
    return last;
}

/* Join c's thread before the CLOCK_MONOTONIC deadline; 0 when joined. */
static int join_one(sl_comp *c, const struct timespec *mono_deadline)
{
    if (!c->has_thread || c->joined)
        return 0;
    /* pthread_timedjoin_np takes a CLOCK_REALTIME deadline. */
    struct timespec now_m, now_r, abs;
    clock_gettime(CLOCK_MONOTONIC, &now_m);
    clock_gettime(CLOCK_REALTIME, &now_r);
    int64_t left_ns = (mono_deadline->tv_sec - now_m.tv_sec) * 1000000000LL +
                      (mono_deadline->tv_nsec - now_m.tv_nsec);
    if (left_ns < 0)
        left_ns = 0;
    int64_t t = now_r.tv_nsec + left_ns;
    abs.tv_sec = now_r.tv_sec + t / 1000000000LL;
    abs.tv_nsec = t % 1000000000LL;
    if (pthread_timedjoin_np(c->thread, NULL, &abs) != 0)
        return -1;
    c->joined = 1;
    return 0;
}

/* Join the threads of one kind before the deadline; 0 when all joined. */
static int join_kind(sl_engine *e, sl_kind kind, const struct timespec *mono_deadline)
{
    int all = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->comps[i].spec->kind == kind && join_one(&e->comps[i], mono_deadline) < 0)
            all = -1;
    return all;
}

static int any_failed(sl_engine *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (atomic_load(&e->comps[i].failed))
            return 1;
    return 0;
}

/* A sink that holds events it will deliver on the next run (its spool):
 * a normal stop, but a backfill (--once) that did not finish. */
static int any_kept(sl_engine *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (atomic_load(&e->comps[i].kept))
            return 1;
    return 0;
}

uint64_t sl_engine_undelivered(sl_engine *e)
{
    uint64_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->comps[i].spec->kind == SL_KIND_SOURCE && e->comps[i].acks.ready)
            n += sl_acks_in_flight(&e->comps[i].acks);
    return n;
}

/* Give up on draining: pushes fail, pops end, ticket waits return. */
static void abort_all(sl_engine *e)
{
    atomic_store(&e->aborted, 1);
    for (size_t i = 0; i < e->n; i++) {
        sl_comp *c = &e->comps[i];
        if (c->has_queue)
            sl_queue_abort(&c->q);
        if (c->spec->kind != SL_KIND_SINK)
            continue;
        pthread_mutex_lock(&c->tickets.mu);
        pthread_cond_broadcast(&c->tickets.empty);
        pthread_mutex_unlock(&c->tickets.mu);
    }
}

/* Events sources emitted that were not acknowledged (in flight or failed). */
static uint64_t unacked_events(const sl_engine *e)
{
    uint64_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->comps[i].spec->kind == SL_KIND_SOURCE)
            n += atomic_load(&e->comps[i].unacked_events);
    return n;
}

/* The names of components whose thread has not ended, for the log (static
 * buffer: shutdown runs on one thread). */
static const char *busy_names(const sl_engine *e)
{
    static char buf[256];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n && o + 2 < sizeof buf; i++) {
        const sl_comp *c = &e->comps[i];
        if (c->has_thread && !c->joined)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? ", " : "", c->spec->name);
    }
    return o ? buf : "none";
}

sl_run_result sl_engine_shutdown(sl_engine *e)
{
    /* Sink threads read the deadline: set it before they can see stopping. */
    e->deadline = sl_deadline_in(e->spec->service.shutdown_timeout_ms);
    atomic_store(&e->drain_end_ms, sl_mono_ms() + e->spec->service.shutdown_timeout_ms);
    sl_engine_request_stop(e);
    int rc = join_kind(e, SL_KIND_SOURCE, &e->deadline);
    /* Drain stage by stage: an enricher's queue is closed once everything
     * upstream of it has ended (topological order), sinks' last. */
    for (size_t j = 0; rc == 0 && j < e->n; j++) {
        sl_comp *c = &e->comps[e->order[j]];
        if (c->spec->kind != SL_KIND_ENRICHER)
            continue;
        sl_queue_close(&c->q);
        rc = join_one(c, &e->deadline);
    }
    for (size_t i = 0; rc == 0 && i < e->n; i++)
        if (e->comps[i].spec->kind == SL_KIND_SINK)
            sl_queue_close(&e->comps[i].q);
    if (rc == 0)
        rc = join_kind(e, SL_KIND_SINK, &e->deadline);
    /* A sink thread gives up waiting for acknowledgements at the deadline
     * and may still be joined just in time: what counts is what is left. */
    uint64_t left = sl_engine_undelivered(e);
    if (rc == 0 && left == 0)
        return any_failed(e) ? SL_RUN_FAILED
             : e->opts.once && any_kept(e) ? SL_RUN_TIMEOUT : SL_RUN_OK;
    if (rc == 0 && any_failed(e))
        return SL_RUN_FAILED; /* what a failed component held stays unacknowledged */

    abort_all(e);
    /* Threads not stuck inside plugin code notice the abort at once. */
    struct timespec grace = sl_deadline_in(1000);
    join_kind(e, SL_KIND_SOURCE, &grace);
    join_kind(e, SL_KIND_ENRICHER, &grace);
    join_kind(e, SL_KIND_SINK, &grace);
    if (left)
        sl_log(SL_LOG_WARN, NULL, "drain did not finish within %lld ms: %llu batches (%llu "
               "events) not acknowledged; sources will read them again, and what a sink had "
               "already sent of them will be sent twice",
               (long long)e->spec->service.shutdown_timeout_ms, (unsigned long long)left,
               (unsigned long long)unacked_events(e));
    else
        sl_log(SL_LOG_WARN, NULL, "drain did not finish within %lld ms: every batch was "
               "acknowledged, but a component was still busy (%s)",
               (long long)e->spec->service.shutdown_timeout_ms, busy_names(e));
    return SL_RUN_TIMEOUT;
}

/* Drop what a component never took, and what a sink never acknowledged
 * (teardown only): the origins are released as failed, never as acked. */
static void discard(sl_comp *c)
{
    for (sl_qnode *n = c->q.head; c->has_queue && n; n = n->next) {
        sl_msg *m = n->item;
        sl_queue_release(&c->q, msg_charge(m));
        origin_release(m->origin, 0);
        msg_unref(m);
    }
    for (uint64_t t = c->tickets.ring.base; c->tickets.ring.slot && t < c->tickets.ring.next; t++)
        ticket_finish(c, t, 0);
}

static int comp_quiet(const sl_comp *c)
{
    return !c->has_thread || c->joined;
}

int sl_engine_destroy(sl_engine *e)
{
    if (!e)
        return 0;
    /* Sinks before sources: a sink's destroy may still acknowledge, which
     * reaches the source's acked(). A component whose thread never came back
     * is left alone: its plugin code may still be running. */
    for (int k = SL_KIND_SINK; k >= SL_KIND_SOURCE; k--) {
        for (size_t i = 0; i < e->n; i++) {
            sl_comp *c = &e->comps[i];
            if (c->spec->kind != (sl_kind)k || !comp_quiet(c))
                continue;
            if (c->inited && c->plugin.p->destroy)
                c->plugin.p->destroy(c->state);
            c->inited = 0;
            discard(c);
        }
    }
    int all_quiet = 1;
    for (size_t i = 0; i < e->n; i++)
        all_quiet &= comp_quiet(&e->comps[i]);
    for (size_t i = 0; all_quiet && i < e->n; i++) {
        sl_comp *c = &e->comps[i];
        if (c->has_queue)
            sl_queue_destroy(&c->q);
        tickets_destroy(&c->tickets);
        sl_acks_destroy(&c->acks);
        sl_options_free(&c->opts);
        sl_plugin_close(&c->plugin);
        sl_bb_free(c->out);
        sl_deadletter_destroy(&c->dl);
        sl_metrics_destroy(&c->metrics);
        sl_taps_destroy(&c->taps);
        pthread_mutex_destroy(&c->dir_mu);
        pthread_mutex_destroy(&c->emu);
        free(c->state_dir);
        free(c->down);
    }
    if (!all_quiet)
        return -1; /* a thread may still use the engine: leave it to process exit */
    sl_plugin_path_free(&e->path);
    free(e->order);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cond);
    free(e->comps);
    free(e);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Observability                                                       */
/* ------------------------------------------------------------------ */

static sl_comp *find_comp(sl_engine *e, const char *name)
{
    long i = sl_graph_find(e->spec, name);
    return i < 0 ? NULL : &e->comps[i];
}

int sl_engine_holds_secrets(const sl_engine *e)
{
    if (e->spec->service.admin_token)
        return 1;
    for (size_t i = 0; i < e->n; i++)
        for (size_t k = 0; k < e->comps[i].opts.n; k++) {
            const sl_opt_value *v = &e->comps[i].opts.v[k];
            if (v->def->type == SL_OPT_SECRET && v->str && *v->str)
                return 1;
        }
    return 0;
}

uint64_t sl_engine_counter(sl_engine *e, const char *component, const char *metric)
{
    sl_comp *c = find_comp(e, component);
    return c ? sl_metrics_get(&c->metrics, metric) : 0;
}

size_t sl_engine_queue_peak(sl_engine *e, const char *sink)
{
    sl_comp *c = find_comp(e, sink);
    return c && c->spec->kind == SL_KIND_SINK ? sl_queue_peak_bytes(&c->q) : 0;
}
