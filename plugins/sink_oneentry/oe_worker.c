/*
 * The delivery worker: one thread driving the HTTP transport (lib/oe_http.c,
 * libcurl's multi socket interface on epoll). How each answer is treated
 * follows docs/oneentry-contract.md.
 *
 * Jobs come from four places, in this order of preference: retries that
 * are due (a min-heap by time), jobs whose visitor's earlier event just
 * finished (unblocked), the disk spool (oldest first), and fresh jobs from
 * write(). While the spool holds anything, fresh jobs are appended to it
 * instead of sent, so events leave in the order they came.
 *
 * With order: per_visitor, a job picked while an earlier job of its
 * identity is unfinished waits in the oe_order table instead of being sent;
 * when that earlier job finishes (delivered, dead-lettered, spooled), the
 * next one moves to the unblocked list.
 *
 * A failed request is retried with backoff for that event (and so its
 * visitor) only; everything else goes on. What stops every request:
 * a 429's Retry-After (the server paces the client), a 503's Retry-After
 * while most requests fail, and these modes: degraded after
 * spool_after_failures consecutive failures while most recent requests fail
 * (everything goes to the spool, one probe request at a time with backoff);
 * auth-paused after the app token is rejected (the same, probing every
 * auth_probe_interval and logging one error each time). A success ends
 * either mode.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oe_answer.h"
#include "oe_order.h"
#include "oe_sink.h"
#include "sl_clock.h"
#include "grow.h"

#define COMMIT_EVERY_NS (200 * 1000000LL)
/* Spooled events are acknowledged after an fdatasync: at most this late,
 * or sooner once this many wait (one sync covers them all). */
#define SYNC_EVERY_NS (20 * 1000000LL)
#define SYNC_BATCH 4096
#define WAIT_MAX_MS 100

typedef struct heap {
    oe_job **v;
    size_t n, cap;
} heap;

typedef struct worker {
    oe_sink *s;
    oe_job *ready, *ready_tail;
    oe_job *unblocked, *unblocked_tail; /* hold their identity, not yet sent */
    oe_job *unsynced;        /* spooled, acknowledged after the next sync */
    size_t unsynced_n;
    int64_t unsynced_ns;     /* when the oldest of them was spooled */
    oe_order order;
    heap retry;
    uint64_t successes;      /* answers 2xx, for telling poison from outage */
    oe_aimd aimd;
    oe_health health;        /* are most requests failing? */
    oe_rate rate;
    int64_t paused_until_ns; /* Retry-After that holds every request */
    int64_t rate_wait_ns;
    int consecutive_fail;
    int degraded, auth_paused;
    int64_t probe_due_ns;
    int probe_attempt;
    int64_t last_commit_ns, last_auth_log_ns, last_spool_err_ns, last_debug_ns;
    uint64_t auth_failures;
    int spool_heap;          /* move memory jobs of the heap to the spool */
    int64_t spool_hold_ns;   /* a retry spooled at stop: read the spool after this */
    int64_t guest_ok_ns;     /* last time a guest request got past the app token */
    int saw_stopping;
    int quiesce;             /* s->quiesce as of the last take_incoming */
    oe_request scratch;
    sl_buf rec;
} worker;

/* ---------------------------------------------------------------- */
/* Retry heap                                                         */
/* ---------------------------------------------------------------- */

static int heap_push(heap *h, oe_job *j)
{
    oe_job **nv = sl_grow(h->v, h->n + 1, &h->cap, sizeof *nv, 256);
    if (!nv)
        return -1;
    h->v = nv;
    size_t i = h->n++;
    while (i > 0 && h->v[(i - 1) / 2]->due_ns > j->due_ns) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = j;
    return 0;
}

static oe_job *heap_pop(heap *h)
{
    oe_job *top = h->v[0], *last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1]->due_ns < h->v[c]->due_ns)
            c++;
        if (h->v[c]->due_ns >= last->due_ns)
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

/* ---------------------------------------------------------------- */
/* Finishing jobs                                                     */
/* ---------------------------------------------------------------- */

static void batch_release(worker *w, oe_batch *b, int lost)
{
    atomic_fetch_sub(&w->s->mem_jobs, 1);
    if (lost)
        b->lost = 1;
    if (--b->left > 0)
        return;
    if (!b->lost)
        w->s->host->ack(w->s->ctx, b->ticket);
    free(b);
}

static void push_back(oe_job **head, oe_job **tail, oe_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void push_front(oe_job **head, oe_job **tail, oe_job *j)
{
    j->next = *head;
    *head = j;
    if (!*tail)
        *tail = j;
}

static oe_job *pop_front(oe_job **head, oe_job **tail)
{
    oe_job *j = *head;
    if (j) {
        *head = j->next;
        if (!*head)
            *tail = NULL;
        j->next = NULL;
    }
    return j;
}

/* The job's identity hashed for w->order, once per job. */
static uint64_t visitor_hash(worker *w, oe_job *j)
{
    if (!j->vhash_set) {
        j->vhash = oe_order_hash(&w->order, j->ident);
        j->vhash_set = 1;
    }
    return j->vhash;
}

/* The job no longer stands in front of its visitor's later events. */
static void unhold(worker *w, oe_job *j)
{
    if (!j->held)
        return;
    j->held = 0;
    oe_job *next = oe_order_release_h(&w->order, j->ident, visitor_hash(w, j));
    if (next) {
        next->held = 1;
        push_back(&w->unblocked, &w->unblocked_tail, next);
    }
}

/* The job's event is dealt with (delivered, spooled or dead-lettered). */
static void finish(worker *w, oe_job *j)
{
    unhold(w, j);
    if (j->batch)
        batch_release(w, j->batch, 0);
    else if (w->s->spool)
        oe_spool_done(w->s->spool, j->spool_id);
    free(j);
}

/* Give up on a job at teardown without finishing it. */
static void abandon(worker *w, oe_job *j)
{
    unhold(w, j);
    if (j->batch)
        batch_release(w, j->batch, 1);
    free(j);
}

static void retry_at(worker *w, oe_job *j, int64_t due)
{
    j->due_ns = due;
    if (heap_push(&w->retry, j) < 0) {
        /* Cannot hold it: give it back to the fresh queue's front. */
        push_front(&w->ready, &w->ready_tail, j);
    }
}

/* ---------------------------------------------------------------- */
/* Spool                                                              */
/* ---------------------------------------------------------------- */

static void spool_error(worker *w, const char *err)
{
    int64_t now = sl_mono_ns();
    if (now - w->last_spool_err_ns < 10000000000LL)
        return;
    w->last_spool_err_ns = now;
    w->s->host->log(w->s->ctx, SL_LOG_ERROR, "spool: %s; events stay in memory", err);
}

/* Put a memory job into the spool: 0 spooled (job finished), 1 no room
 * or no spool or error (job untouched). */
static int to_spool(worker *w, oe_job *j)
{
    oe_sink *s = w->s;
    char err[256];
    if (!s->spool || !j->batch)
        return 1;
    int r = oe_spool_append(s->spool, j->raw, j->raw_len, err, sizeof err);
    if (r == 1 && s->cfg.drop_oldest) {
        uint64_t n = oe_spool_drop_oldest(s->spool);
        oe_spool_commit(s->spool, err, sizeof err);
        if (n) {
            s->host->metric_add(s->m.spool_dropped, n);
            s->host->log(s->ctx, SL_LOG_WARN, "spool full: dropped the %" PRIu64
                         " oldest spooled events (on_full: drop_oldest)", n);
        }
        r = oe_spool_append(s->spool, j->raw, j->raw_len, err, sizeof err);
    }
    if (r < 0)
        spool_error(w, err);
    if (r != 0)
        return 1;
    s->host->metric_add(s->m.spooled, 1);
    if (!s->cfg.spool_fsync) {
        finish(w, j);
        return 0;
    }
    /* In the spool, so in its visitor's order; acknowledged once on disk. */
    unhold(w, j);
    if (!w->unsynced)
        w->unsynced_ns = sl_mono_ns();
    j->next = w->unsynced;
    w->unsynced = j;
    w->unsynced_n++;
    return 0;
}

/* fdatasync the spool and acknowledge what it covered; on failure they stay
 * unacknowledged (the source keeps them; memory bounds bring backpressure)
 * and the next sync is tried later. `force`: whatever the age. */
static void sync_spooled(worker *w, int64_t now, int force)
{
    char err[256];
    if (!w->unsynced ||
        (!force && w->unsynced_n < SYNC_BATCH && now - w->unsynced_ns < SYNC_EVERY_NS))
        return;
    if (oe_spool_sync(w->s->spool, err, sizeof err) < 0) {
        spool_error(w, err);
        w->unsynced_ns = now; /* try again in SYNC_EVERY_NS */
        return;
    }
    while (w->unsynced) {
        oe_job *j = w->unsynced;
        w->unsynced = j->next;
        batch_release(w, j->batch, 0);
        free(j);
    }
    w->unsynced_n = 0;
}

/* Memory jobs of the unblocked list go to the spool (spooling one may
 * unblock the next of its visitor, appended behind: it is seen in the same
 * pass); spool jobs stay, they are on disk already. 0 ok, 1 spool refused. */
static int spool_unblocked(worker *w)
{
    oe_job *keep = NULL, *keep_tail = NULL, *j;
    int refused = 0;
    while ((j = pop_front(&w->unblocked, &w->unblocked_tail))) {
        if (refused || !j->batch || to_spool(w, j) != 0) {
            refused |= j->batch != NULL;
            push_back(&keep, &keep_tail, j);
        }
    }
    w->unblocked = keep;
    w->unblocked_tail = keep_tail;
    return refused;
}

/* Does an earlier, unspooled event of j's visitor keep j out of the spool?
 * A memory job holding the visitor (in flight, or waiting for a retry) will
 * be appended to the spool or delivered later: j must not go ahead of it.
 * A spool job holding it is already in the spool, ahead of anything
 * appended now. */
static int behind_memory_job(worker *w, oe_job *j)
{
    if (!w->s->cfg.ordered || j->held)
        return 0;
    const oe_job *h = oe_order_holder_h(&w->order, j->ident, visitor_hash(w, j));
    return h && h->batch;
}

/* Spool a fresh job in its visitor's order: behind a memory job it queues
 * (and is spooled once unblocked). 0 spooled or queued, 1 spool refused. */
static int spool_fresh(worker *w, oe_job *j)
{
    if (behind_memory_job(w, j) &&
        oe_order_claim_h(&w->order, j->ident, visitor_hash(w, j), j) == 0)
        return 0;
    return to_spool(w, j);
}

/* Fresh jobs wait behind what the spool holds: append them to it. Jobs
 * unblocked by their visitor go first: they are older than any fresh job of
 * the same visitor. */
static void spool_ready(worker *w)
{
    if (spool_unblocked(w))
        return;
    oe_job *j;
    while ((j = pop_front(&w->ready, &w->ready_tail))) {
        if (spool_fresh(w, j) != 0) {
            /* full (on_full: block) or failing: they wait in memory */
            push_front(&w->ready, &w->ready_tail, j);
            return;
        }
    }
}

/* Memory jobs waiting in the retry heap go to the spool (acknowledged). */
static void spool_heap_jobs(worker *w)
{
    size_t keep = 0;
    heap *h = &w->retry;
    oe_job **old = h->v;
    size_t n = h->n;
    h->n = 0;
    for (size_t i = 0; i < n; i++) {
        oe_job *j = old[i];
        j->next = NULL;
        int64_t due = j->due_ns;
        if (j->batch && w->s->spool && to_spool(w, j) == 0) {
            if (!w->degraded && !w->auth_paused && due > w->spool_hold_ns)
                w->spool_hold_ns = due; /* keep its backoff / Retry-After */
            continue;
        }
        old[keep++] = j;
    }
    /* The kept prefix is rebuilt as a heap in place. */
    for (size_t i = 0; i < keep; i++)
        heap_push(h, old[i]);
    w->spool_heap = 0;
}

/* ---------------------------------------------------------------- */
/* Picking and sending                                                */
/* ---------------------------------------------------------------- */

/* A job from the spool's next record; NULL when none. Records that no
 * longer validate (options changed between runs) are dead-lettered. */
static oe_job *from_spool(worker *w)
{
    oe_sink *s = w->s;
    char err[256];
    for (;;) {
        uint64_t id;
        oe_job *j;
        int r = oe_spool_read(s->spool, &w->rec, &id, err, sizeof err);
        if (r <= 0) {
            if (r < 0)
                spool_error(w, err);
            return NULL;
        }
        r = oe_job_make(&s->cfg.keys, &w->scratch, (const uint8_t *)w->rec.data, w->rec.len, 1,
                        &j, err, sizeof err);
        if (r == 0) {
            j->spool_id = id;
            return j;
        }
        if (r < 0) {
            /* Out of memory: leave the record unfinished; a restart replays it. */
            spool_error(w, err);
            return NULL;
        }
        s->host->metric_add(s->m.rejected, 1);
        oe_sink_dead_letter(s, (const uint8_t *)w->rec.data, w->rec.len, err);
        oe_spool_done(s->spool, id);
    }
}

/* The next job from the spool, else from the fresh queue; NULL when none
 * (or the spool has unread records it cannot give yet). */
static oe_job *next_candidate(worker *w, int64_t now)
{
    if (w->s->spool && oe_spool_unread(w->s->spool) && now >= w->spool_hold_ns) {
        oe_job *j = from_spool(w);
        if (j || oe_spool_unread(w->s->spool))
            return j;
    }
    return pop_front(&w->ready, &w->ready_tail);
}

static oe_job *pick(worker *w, int64_t now)
{
    /* Retried and unblocked jobs already hold their identity. */
    if (w->retry.n && w->retry.v[0]->due_ns <= now)
        return heap_pop(&w->retry);
    if (w->unblocked)
        return pop_front(&w->unblocked, &w->unblocked_tail);
    oe_job *j;
    while ((j = next_candidate(w, now))) {
        if (!w->s->cfg.ordered || j->held)
            return j;
        /* A fresh job whose visitor is held by a spool job joins the spool
         * rather than waiting in memory: it is acknowledged, and it cannot
         * be stuck unacknowledged behind a probe through an outage. */
        uint64_t vh = visitor_hash(w, j);
        const oe_job *h = oe_order_holder_h(&w->order, j->ident, vh);
        if (h && !h->batch && j->batch && to_spool(w, j) == 0)
            continue;
        int r = oe_order_claim_h(&w->order, j->ident, vh, j);
        if (r != 0) {
            j->held = r > 0; /* -1, out of memory: it goes unordered */
            return j;
        }
        /* queued behind its visitor's unfinished event */
    }
    return NULL;
}

/* dry_run: show the request with secrets masked, send nothing. */
static void print_request(worker *w, const oe_job *j)
{
    const char *ident = j->is_user ? "Authorization: Bearer ****" : j->ident;
    printf("POST %s\nContent-Type: application/json\n%s%s\n\n%.*s\n\n", w->s->url,
           w->s->cfg.has_token ? "x-app-token: ****\n" : "", ident, (int)j->json_len, j->json);
    fflush(stdout);
}

static int holding(const worker *w)
{
    return w->degraded || w->auth_paused;
}

static void start_requests(worker *w, int64_t now)
{
    oe_sink *s = w->s;
    if (w->quiesce)
        return; /* stopping: those in flight end, no new one starts */
    int limit = holding(w) ? 1 : oe_aimd_limit(&w->aimd);
    while (oe_http_inflight(s->http) < limit) {
        if (holding(w) && now < w->probe_due_ns)
            return;
        if (w->rate_wait_ns > now || w->paused_until_ns > now || !oe_http_can_start(s->http))
            return;
        int64_t wait = oe_rate_take(&w->rate, now);
        if (wait > 0) {
            w->rate_wait_ns = now + wait * 1000000LL;
            return;
        }
        oe_job *j = pick(w, now);
        if (!j) {
            if (w->rate.rate > 0)
                w->rate.tokens += 1; /* nothing sent: give the token back */
            return;
        }
        if (s->cfg.dry_run) {
            print_request(w, j);
            s->host->metric_add(s->m.delivered, 1);
            finish(w, j);
            continue;
        }
        j->ok_mark = w->successes;
        if (oe_http_start(s->http, j->ident, j->json, j->json_len, j) < 0) {
            retry_at(w, j, now + 100000000LL);
            return;
        }
        if (holding(w))
            w->probe_due_ns = INT64_MAX; /* the answer decides the next probe */
    }
}

/* ---------------------------------------------------------------- */
/* Answers                                                            */
/* ---------------------------------------------------------------- */

static void enter_degraded(worker *w, const char *why)
{
    w->degraded = 1;
    w->spool_heap = 1;
    w->probe_attempt = 0;
    w->s->host->metric_add(w->s->m.outages, 1);
    w->s->host->log(w->s->ctx, SL_LOG_WARN, "OneEntry is failing (%s, %d times in a row): "
                    "events go to the spool until it answers again", why,
                    w->consecutive_fail);
}

static void on_success(worker *w, oe_job *j, const oe_http_done *d)
{
    oe_aimd_record(&w->aimd, d->latency_ms, OE_OUT_OK);
    oe_health_record(&w->health, 0);
    w->consecutive_fail = 0;
    if (holding(w))
        w->s->host->log(w->s->ctx, SL_LOG_INFO, "OneEntry answers again: resuming delivery%s",
                        w->auth_paused ? " (app token accepted)" : "");
    w->degraded = w->auth_paused = 0;
    w->probe_attempt = 0;
    w->successes++;
    w->s->host->metric_add(w->s->m.delivered, 1);
    finish(w, j);
}

static void on_auth_failure(worker *w, oe_job *j, const oe_http_done *d, int64_t now)
{
    oe_sink *s = w->s;
    w->auth_failures++;
    s->host->metric_add(s->m.auth_failures, 1);
    if (!w->auth_paused || now - w->last_auth_log_ns >= s->cfg.auth_probe_ms * 1000000LL) {
        s->host->log(s->ctx, SL_LOG_ERROR, "OneEntry rejected the app token (HTTP %ld): "
                     "delivery paused, events are spooled; retrying every %" PRId64
                     " ms (%" PRIu64 " rejections so far)", d->status, s->cfg.auth_probe_ms,
                     w->auth_failures);
        w->last_auth_log_ns = now;
    }
    w->auth_paused = 1;
    w->spool_heap = 1;
    w->probe_due_ns = now + s->cfg.auth_probe_ms * 1000000LL;
    /* A user event may be failing for its own token: let other events
     * probe in between, so one expired user token cannot keep us paused. */
    if (to_spool(w, j) != 0)
        retry_at(w, j, now + (j->is_user ? 4 : 1) * s->cfg.auth_probe_ms * 1000000LL);
}

/*
 * A poison event: one the API keeps failing (say 500) while it accepts
 * others. A strike is a failure with an HTTP status answered after some
 * other request succeeded since this one was sent; connection errors, 429
 * and 503 say "busy or down", not "this event", and an outage has no
 * successes, so neither ever counts. At max_retries strikes the event is
 * dead-lettered: 1 (job finished), else 0.
 */
static int give_up_poison(worker *w, oe_job *j, const oe_http_done *d)
{
    oe_sink *s = w->s;
    if (d->error || d->status == 429 || d->status == 503 || w->successes == j->ok_mark)
        return 0;
    if (++j->strikes < s->cfg.max_retries || !s->cfg.max_retries)
        return 0;
    char what[128], why[128 + OE_ANSWER_MESSAGE_MAX + 32];
    snprintf(what, sizeof what, "gave up after %d failed attempts while OneEntry accepted "
             "other events; the last one", j->strikes);
    oe_answer_reason(why, sizeof why, what, d->status, d->body, d->body_len);
    s->host->metric_add(s->m.given_up, 1);
    oe_sink_dead_letter(s, j->raw, j->raw_len, why);
    finish(w, j);
    return 1;
}

/* The Retry-After of an answer in ms, at most retry_max; -1 if none. */
static int64_t retry_after_ms(const worker *w, const oe_http_done *d)
{
    int64_t ra;
    if (!d->retry_after || oe_retry_after_parse(d->retry_after, time(NULL), &ra) != 0)
        return -1;
    return ra > w->s->cfg.retry_max_ms ? w->s->cfg.retry_max_ms : ra;
}

static void on_retryable(worker *w, oe_job *j, const oe_http_done *d, int64_t now)
{
    oe_sink *s = w->s;
    int64_t ra = retry_after_ms(w, d);
    char why[256]; /* whole transport errors: TLS reasons are long */
    int slow_down = !d->error && d->status == 429;
    oe_aimd_record(&w->aimd, d->latency_ms, slow_down ? OE_OUT_SLOW_DOWN : OE_OUT_FAILED);
    oe_health_record(&w->health, 1);
    if (give_up_poison(w, j, d))
        return;
    s->host->metric_add(s->m.retries, 1);
    j->attempts++;
    w->consecutive_fail++;
    if (d->error)
        snprintf(why, sizeof why, "%s", d->error);
    else
        snprintf(why, sizeof why, "HTTP %ld", d->status);
    if (!w->degraded && s->spool && w->consecutive_fail >= s->cfg.spool_after &&
        oe_health_failing(&w->health))
        enter_degraded(w, why);
    /* A 429's Retry-After paces the whole client; a 503's delays this
     * event, and everything only while most requests fail. */
    if (ra > 0 && (slow_down || oe_health_failing(&w->health)) &&
        now + ra * 1000000LL > w->paused_until_ns)
        w->paused_until_ns = now + ra * 1000000LL;
    int64_t back = oe_backoff_ms(j->attempts, s->cfg.retry_base_ms, s->cfg.retry_max_ms, &s->rng);
    if (ra > back)
        back = ra;
    if (holding(w)) {
        int64_t pb = oe_backoff_ms(++w->probe_attempt, s->cfg.retry_base_ms, s->cfg.retry_max_ms,
                                   &s->rng);
        w->probe_due_ns = now + (ra > pb ? ra : pb) * 1000000LL;
    }
    int64_t due = now + back * 1000000LL;
    if ((holding(w) || w->saw_stopping) && to_spool(w, j) == 0) {
        /* At stop the event is safe on disk at once, but its backoff or
         * Retry-After still holds: the spool is not read before then. */
        if (!holding(w) && due > w->spool_hold_ns)
            w->spool_hold_ns = due;
        return;
    }
    retry_at(w, j, due);
}

static void on_rejected(worker *w, oe_job *j, const oe_http_done *d)
{
    char why[64 + OE_ANSWER_MESSAGE_MAX];
    oe_aimd_record(&w->aimd, d->latency_ms, OE_OUT_OK);
    w->consecutive_fail = 0;
    oe_health_record(&w->health, 0);
    /* The status and the server's own words: what to fix is in them. */
    oe_answer_reason(why, sizeof why, "rejected by OneEntry", d->status, d->body, d->body_len);
    oe_sink_dead_letter(w->s, j->raw, j->raw_len, why);
    finish(w, j);
}

/* A 401 on a user request means either its access token expired (that
 * event can never succeed: dead letter) or the app token is wrong (pause).
 * It is the user's own token only when guest requests are getting through
 * the app token at the same time (within the last 10 s). */
static int user_token_expired(const worker *w, long st, const oe_job *j, int64_t now)
{
    return st == 401 && j->is_user && !w->auth_paused && w->guest_ok_ns &&
           now - w->guest_ok_ns < 10000000000LL;
}

static void on_answer(worker *w, const oe_http_done *d, int64_t now)
{
    oe_job *j = d->user;
    long st = d->status;
    if (!d->error && !j->is_user && st != 401 && st != 403)
        w->guest_ok_ns = now;
    if (d->error)
        on_retryable(w, j, d, now);
    else if (st >= 200 && st < 300)
        on_success(w, j, d);
    else if ((st == 401 || st == 403) && !user_token_expired(w, st, j, now))
        on_auth_failure(w, j, d, now);
    else if (oe_status_in(&w->s->cfg.retryable, st))
        on_retryable(w, j, d, now);
    else
        on_rejected(w, j, d);
}

/* ---------------------------------------------------------------- */
/* Loop                                                               */
/* ---------------------------------------------------------------- */

static int wait_ms(const worker *w, int64_t now)
{
    int64_t until = now + WAIT_MAX_MS * 1000000LL;
    /* While holding, retries wait for the probe: their due time is no
     * reason to wake (it would spin until the probe answers). */
    if (!holding(w) && w->retry.n && w->retry.v[0]->due_ns < until)
        until = w->retry.v[0]->due_ns;
    if (w->unsynced && w->unsynced_ns + SYNC_EVERY_NS < until)
        until = w->unsynced_ns + SYNC_EVERY_NS;
    if (holding(w) && w->probe_due_ns < until)
        until = w->probe_due_ns;
    if (w->rate_wait_ns > now && w->rate_wait_ns < until)
        until = w->rate_wait_ns;
    if (w->paused_until_ns > now && w->paused_until_ns < until)
        until = w->paused_until_ns;
    if (w->spool_hold_ns > now && w->spool_hold_ns < until)
        until = w->spool_hold_ns;
    int64_t ms = (until - now + 999999) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

/* Work left anywhere? Updates the flag flush() waits on. */
static void update_busy(worker *w, int incoming)
{
    oe_sink *s = w->s;
    int busy = incoming || w->ready || w->unblocked || w->unsynced || oe_order_waiting(&w->order) ||
               w->retry.n || oe_http_inflight(s->http) ||
               (s->spool && oe_spool_pending(s->spool));
    pthread_mutex_lock(&s->mu);
    busy |= s->in_head != NULL;
    int inflight = oe_http_inflight(s->http);
    if ((s->busy && !busy) || (s->inflight && !inflight))
        pthread_cond_broadcast(&s->idle);
    s->inflight = inflight;
    if (atomic_load(&s->mem_jobs) <= OE_MAX_MEM_JOBS)
        pthread_cond_signal(&s->room);
    s->busy = busy;
    pthread_mutex_unlock(&s->mu);
}

/* Once a second: the worker's state as gauges (/metrics) and a debug line. */
static void report_state(worker *w)
{
    oe_sink *s = w->s;
    uint64_t spooled = s->spool ? oe_spool_pending(s->spool) : 0;
    const sl_host *h = s->host;
    h->metric_set(s->m.in_flight, oe_http_inflight(s->http));
    h->metric_set(s->m.concurrency, oe_aimd_limit(&w->aimd));
    h->metric_set(s->m.retries_waiting, (int64_t)w->retry.n);
    h->metric_set(s->m.waiting_for_visitor, (int64_t)oe_order_waiting(&w->order));
    h->metric_set(s->m.spool_pending, (int64_t)spooled);
    h->metric_set(s->m.paused, holding(w));
    s->host->log(s->ctx, SL_LOG_DEBUG, "concurrency limit %d, in flight %d, retries waiting %zu, "
                 "waiting for their visitor %zu, spool pending %" PRIu64 "%s%s",
                 oe_aimd_limit(&w->aimd), oe_http_inflight(s->http), w->retry.n,
                 oe_order_waiting(&w->order), spooled, w->degraded ? ", degraded" : "",
                 w->auth_paused ? ", auth paused" : "");
}

static void housekeeping(worker *w, int64_t now)
{
    oe_sink *s = w->s;
    char err[256];
    if (s->spool && now - w->last_commit_ns >= COMMIT_EVERY_NS) {
        if (oe_spool_commit(s->spool, err, sizeof err) < 0)
            spool_error(w, err);
        w->last_commit_ns = now;
    }
    if (now - w->last_debug_ns >= 1000000000LL) {
        report_state(w);
        w->last_debug_ns = now;
    }
    if (!w->saw_stopping && s->host->stopping(s->ctx)) {
        /* From now on a failure goes to the spool instead of waiting. */
        w->saw_stopping = 1;
        w->spool_heap = 1;
    }
    if (w->spool_heap && s->spool)
        spool_heap_jobs(w);
}

static void take_incoming(worker *w, int *stop)
{
    oe_sink *s = w->s;
    pthread_mutex_lock(&s->mu);
    if (s->in_head) {
        if (w->ready_tail)
            w->ready_tail->next = s->in_head;
        else
            w->ready = s->in_head;
        w->ready_tail = s->in_tail;
        s->in_head = s->in_tail = NULL;
    }
    *stop = s->stop;
    w->quiesce = s->quiesce;
    pthread_mutex_unlock(&s->mu);
}

static void put_back_inflight(void *user, void *arg)
{
    worker *w = arg;
    oe_job *j = user;
    if (to_spool(w, j) != 0)
        abandon(w, j);
}

/* Teardown: what is not delivered goes to the spool (and its batch is
 * acknowledged); what cannot be spooled is abandoned, unacknowledged, so
 * the source reads it again. Spool jobs simply stay in the spool. */
static void shutdown_work(worker *w)
{
    oe_sink *s = w->s;
    oe_http_abort_all(s->http, put_back_inflight, w);
    while (w->retry.n) {
        oe_job *j = heap_pop(&w->retry);
        if (to_spool(w, j) != 0)
            abandon(w, j);
    }
    /* Each job put away may unblock its visitor's next one: drain until
     * both lists stay empty, which leaves nothing waiting in w->order. */
    oe_job *j;
    while ((j = pop_front(&w->unblocked, &w->unblocked_tail)) ||
           (j = pop_front(&w->ready, &w->ready_tail)))
        if (to_spool(w, j) != 0)
            abandon(w, j);
    sync_spooled(w, 0, 1);
    while ((j = w->unsynced)) {
        /* Not known to be on disk: unacknowledged, the source sends them
         * again (the spool may deliver them too: duplicates, not loss). */
        w->unsynced = j->next;
        abandon(w, j);
    }
    if (w->aimd.adaptive)
        s->host->log(s->ctx, SL_LOG_INFO, "adaptive concurrency ended at %d",
                     oe_aimd_limit(&w->aimd));
}

static void run(worker *w)
{
    oe_sink *s = w->s;
    for (;;) {
        int stop;
        take_incoming(w, &stop);
        if (stop) {
            shutdown_work(w);
            return;
        }
        int64_t now = sl_mono_ns();
        housekeeping(w, now);
        if (s->spool && (holding(w) || oe_spool_pending(s->spool) > 0))
            spool_ready(w);
        start_requests(w, now);
        sync_spooled(w, now, 0);
        update_busy(w, 0);
        oe_http_wait(s->http, wait_ms(w, now));
        oe_http_done d;
        now = sl_mono_ns();
        while (oe_http_next(s->http, &d))
            on_answer(w, &d, now);
    }
}

void *oe_worker_main(void *arg)
{
    oe_sink *s = arg;
    worker w = {.s = s};
    /* A write to a connection the server reset raises SIGPIPE; OpenSSL
     * writes with write(2), which cannot be told not to. Blocked in this
     * thread (the only one doing HTTP), the write fails with EPIPE instead
     * of killing a host that did not ignore the signal. */
    sigset_t sigpipe;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, NULL);
    oe_aimd_init(&w.aimd, s->cfg.adaptive, s->cfg.concurrency, 1, s->cfg.max_concurrency);
    oe_rate_init(&w.rate, s->cfg.rate_limit, sl_mono_ns());
    oe_order_init(&w.order);
    run(&w);
    oe_order_free(&w.order);
    free(w.retry.v);
    oe_request_free(&w.scratch);
    sl_buf_free(&w.rec);
    return NULL;
}
