/*
 * The publisher thread (sends records in number order, resends after a
 * reconnect or a timeout, sets up the stream) and the PubAck thread (marks
 * records stored, acknowledges batches). See ns_sink.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ns_sink.h"
#include "sl_clock.h"

#define SEND_CHUNK 256        /* records taken per turn of the publisher */
#define TIMEOUT_CHECK_MS 100  /* how often SENT records are checked for timeouts */
#define SETUP_RETRY_MS 1000
#define LOG_EVERY_MS 5000

int ns_setup_stream(ns_sink *s, char *msg, size_t msglen)
{
    return sl_nats_stream_ensure(s->js, &s->stream, msg, msglen);
}

static ns_rec *rec_at(ns_sink *s, uint64_t num)
{
    void **slot = sl_seqring_at(&s->recs, num);
    return slot ? *slot : NULL;
}

static int64_t backoff_ms(uint32_t failures)
{
    int64_t ms = 100;
    for (uint32_t i = 1; i < failures && ms < 5000; i++)
        ms *= 2;
    return ms < 5000 ? ms : 5000;
}

static void timed_wait(ns_sink *s, pthread_cond_t *c, int64_t ms)
{
    struct timespec dl = sl_deadline_in(ms < 1 ? 1 : ms);
    pthread_cond_timedwait(c, &s->mu, &dl);
}

/* Under mu: send r again, not before `at`. */
static void requeue(ns_sink *s, ns_rec *r, int64_t at)
{
    r->state = REC_QUEUED;
    r->retry_at = at;
    if (r->num < s->cursor)
        s->cursor = r->num;
}

/*
 * Under mu: r is stored (or set aside). Returns the ticket of its batch
 * when r was the batch's last record, else 0.
 */
static uint64_t finish(ns_sink *s, ns_rec *r)
{
    if (r->state == REC_DONE)
        return 0;
    r->state = REC_DONE;
    s->held--;
    s->host->metric_set(s->m.in_flight, s->held);
    if (s->held < s->max_in_flight)
        pthread_cond_signal(&s->room);
    if (s->held == 0)
        pthread_cond_broadcast(&s->idle);
    ns_batch *b = r->batch;
    r->batch = NULL;
    if (--b->left > 0)
        return 0;
    uint64_t t = b->incomplete ? 0 : b->ticket;
    free(b);
    return t;
}

/* Under mu: r can never be stored. Its batch is still held, so r->raw is valid. */
static uint64_t set_aside(ns_sink *s, ns_rec *r, const char *why)
{
    const uint8_t *p = r->raw;
    sl_event ev;
    if (sl_event_parse(&p, r->raw + r->raw_len, &ev) == 0)
        s->host->dead_letter(s->ctx, &ev, why);
    s->host->metric_add(s->m.dead_lettered, 1);
    return finish(s, r);
}

/* Under mu: SENT records go back to QUEUED (all of them after a reconnect,
 * else those without a PubAck for ack_timeout). */
static void requeue_sent(ns_sink *s, int64_t now, int all)
{
    uint64_t n = 0;
    for (uint64_t num = s->recs.base; num < s->recs.next; num++) {
        ns_rec *r = rec_at(s, num);
        if (!r || r->state != REC_SENT || (!all && now - r->sent_ms < s->ack_timeout_ms))
            continue;
        if (!all)
            r->failures++;
        requeue(s, r, now);
        n++;
    }
    if (n && !all) {
        s->host->metric_add(s->m.timeouts, n);
        unsigned long long held;
        if (sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held))
            s->host->log(s->ctx, SL_LOG_WARN, "%" PRIu64 " publishes had no PubAck within %" PRId64
                         " ms; sending them again", n, s->ack_timeout_ms);
    }
}

/* Under mu: free the DONE records at the front of the ring. */
static void drop_done(ns_sink *s)
{
    for (uint64_t num = s->recs.base; num < s->recs.next; num++) {
        void **slot = sl_seqring_at(&s->recs, num);
        ns_rec *r = slot ? *slot : NULL;
        if (!r || r->state != REC_DONE)
            break;
        natsMsg_Destroy(r->msg);
        free(r);
        *slot = NULL;
    }
    sl_seqring_drop_front(&s->recs, 0);
}

/*
 * Under mu: take up to max QUEUED records, lowest number first, and stop
 * at one that must wait for its retry time (order before speed). Sets
 * *wake to that time.
 */
static size_t collect(ns_sink *s, int64_t now, ns_rec **out, size_t max, int64_t *wake)
{
    size_t k = 0;
    uint64_t num = s->cursor < s->recs.base ? s->recs.base : s->cursor;
    for (; num < s->recs.next && k < max; num++) {
        ns_rec *r = rec_at(s, num);
        if (!r || r->state != REC_QUEUED)
            continue;
        if (r->retry_at > now) {
            *wake = r->retry_at;
            break;
        }
        if (r->failures || r->sent_ms)
            s->host->metric_add(s->m.republished, 1);
        r->state = REC_SENT;
        r->sent_ms = now;
        out[k++] = r;
    }
    s->cursor = num;
    return k;
}

/* Send outside the lock (only this thread frees records); failures go back. */
static void send_records(ns_sink *s, ns_rec **recs, size_t k)
{
    natsStatus st[SEND_CHUNK];
    for (size_t i = 0; i < k; i++)
        st[i] = natsConnection_PublishMsg(s->nc, recs[i]->msg);
    pthread_mutex_lock(&s->mu);
    int64_t now = sl_mono_ms();
    uint64_t tickets[SEND_CHUNK];
    size_t nt = 0;
    for (size_t i = 0; i < k; i++) {
        ns_rec *r = recs[i];
        if (st[i] == NATS_OK || r->state != REC_SENT)
            continue; /* a PubAck may already have come */
        if (st[i] == NATS_MAX_PAYLOAD) {
            uint64_t t = set_aside(s, r, "larger than the NATS server's max_payload");
            if (t)
                tickets[nt++] = t;
            continue;
        }
        r->failures++;
        requeue(s, r, now + backoff_ms(r->failures));
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < nt; i++)
        s->host->ack(s->ctx, tickets[i]);
}

/* Under mu (dropped while talking to JetStream). */
static void setup_stream(ns_sink *s)
{
    char msg[512];
    pthread_mutex_unlock(&s->mu);
    int r = ns_setup_stream(s, msg, sizeof msg);
    pthread_mutex_lock(&s->mu);
    if (r == SL_NATS_OK) {
        s->stream_ready = 1;
        s->host->log(s->ctx, SL_LOG_INFO, "%s", msg);
        return;
    }
    if (r == SL_NATS_FATAL) {
        s->fatal = 1;
        snprintf(s->fatal_msg, sizeof s->fatal_msg, "%s", msg);
        s->host->log(s->ctx, SL_LOG_ERROR, "%s", msg);
        pthread_cond_broadcast(&s->room);
        return;
    }
    unsigned long long held;
    if (sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held))
        s->host->log(s->ctx, SL_LOG_WARN, "%s; retrying", msg);
    timed_wait(s, &s->work, SETUP_RETRY_MS);
}

/* Under mu: after a reconnect, what was SENT may be lost: send it again. */
static void check_reconnect(ns_sink *s, int64_t now)
{
    pthread_mutex_unlock(&s->mu);
    uint64_t n = sl_nats_reconnects(s->nc);
    pthread_mutex_lock(&s->mu);
    if (n == s->reconnects_seen)
        return;
    s->host->metric_add(s->m.reconnects, n - s->reconnects_seen);
    s->reconnects_seen = n;
    s->host->log(s->ctx, SL_LOG_INFO, "reconnected to NATS; sending the %u events without a "
                 "PubAck again", s->held);
    requeue_sent(s, now, 1);
}

static void *publisher_main(void *arg)
{
    ns_sink *s = arg;
    ns_rec *batch[SEND_CHUNK];
    int64_t next_check = 0;
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop)) {
        if (s->fatal) {
            timed_wait(s, &s->work, 100);
            continue;
        }
        if (!sl_nats_connected(s->nc)) {
            timed_wait(s, &s->work, 20);
            continue;
        }
        if (!s->stream_ready) {
            setup_stream(s);
            continue;
        }
        int64_t now = sl_mono_ms();
        check_reconnect(s, now);
        if (now >= next_check) {
            requeue_sent(s, now, 0);
            next_check = now + TIMEOUT_CHECK_MS;
        }
        drop_done(s);
        int64_t wake = now + TIMEOUT_CHECK_MS;
        size_t k = collect(s, now, batch, SEND_CHUNK, &wake);
        if (k == 0) {
            timed_wait(s, &s->work, wake - now);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        send_records(s, batch, k);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---------------------------------------------------------------- */
/* PubAcks                                                            */
/* ---------------------------------------------------------------- */

/* The record number at the end of <inbox>.<number>; 0 when not ours. */
static uint64_t reply_number(const ns_sink *s, const char *subj)
{
    if (!subj || strncmp(subj, s->inbox, s->inbox_len) != 0 || subj[s->inbox_len] != '.')
        return 0;
    char *end;
    unsigned long long n = strtoull(subj + s->inbox_len + 1, &end, 10);
    return *end ? 0 : (uint64_t)n;
}

static void log_error(ns_sink *s, const ns_rec *r, const ns_puback *a)
{
    unsigned long long held = 0;
    if (!sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held))
        return;
    s->host->log(s->ctx, SL_LOG_WARN, "JetStream refused a publish to %s: %s%s; retrying "
                 "(%llu more such errors not logged)", natsMsg_GetSubject(r->msg), a->desc,
                 a->code == 503 ? " (no stream holds this subject, or JetStream is not ready)"
                                : "", held);
}

/* Under mu: one PubAck. Returns a ticket to acknowledge, or 0. */
static uint64_t on_puback(ns_sink *s, ns_rec *r, const ns_puback *a)
{
    if (r->state == REC_DONE)
        return 0; /* the answer to a resend of a stored record */
    if (a->ok) {
        s->host->metric_add(a->duplicate ? s->m.duplicates : s->m.published, 1);
        return finish(s, r);
    }
    s->host->metric_add(s->m.errors, 1);
    if (ns_puback_permanent(a)) {
        char why[300];
        snprintf(why, sizeof why, "JetStream refused it for good: %s", a->desc);
        return set_aside(s, r, why);
    }
    log_error(s, r, a);
    if (a->code == 503)
        s->stream_ready = 0; /* the stream may be gone: create it again */
    r->failures++;
    requeue(s, r, sl_mono_ms() + backoff_ms(r->failures));
    pthread_cond_signal(&s->work);
    return 0;
}

static void handle_answer(ns_sink *s, natsMsg *m)
{
    uint64_t num = reply_number(s, natsMsg_GetSubject(m));
    if (!num)
        return;
    ns_puback a;
    int len = natsMsg_GetDataLength(m);
    if (len > 0) {
        ns_puback_parse(natsMsg_GetData(m), (size_t)len, &a);
    } else {
        /* An empty answer is a status: 503 = nobody listens on the subject. */
        const char *status = NULL;
        memset(&a, 0, sizeof a);
        a.code = natsMsgHeader_Get(m, "Status", &status) == NATS_OK && status ? atoi(status)
                                                                               : 503;
        snprintf(a.desc, sizeof a.desc, "status %d", a.code);
    }
    pthread_mutex_lock(&s->mu);
    ns_rec *r = rec_at(s, num);
    uint64_t ticket = r ? on_puback(s, r, &a) : 0;
    pthread_mutex_unlock(&s->mu);
    if (ticket)
        s->host->ack(s->ctx, ticket);
}

/*
 * A publish that nobody received: the stream has no leader (JetStream
 * electing one after a node died) or is gone. libnats turns that status
 * into NATS_NO_RESPONDERS and drops it, so which record it answered is
 * unknown: that one is sent again after ack_timeout. Like a 503 PubAck,
 * it sends the publisher to look at the stream before it sends more, so
 * an election is waited out instead of flooded. This must not sleep: a
 * failover can queue thousands of these before the PubAcks behind them.
 */
static void no_responders(ns_sink *s)
{
    unsigned long long held = 0;
    pthread_mutex_lock(&s->mu);
    s->host->metric_add(s->m.errors, 1);
    if (s->stream_ready && sl_throttle_pass(&s->log_errors, LOG_EVERY_MS, &held))
        s->host->log(s->ctx, SL_LOG_WARN, "no JetStream stream answered a publish (no leader "
                     "yet after a node failed, or the stream is gone); checking the stream "
                     "before sending more");
    s->stream_ready = 0;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
}

static void *acker_main(void *arg)
{
    ns_sink *s = arg;
    while (!atomic_load(&s->stop)) {
        natsMsg *m = NULL;
        natsStatus st = natsSubscription_NextMsg(&m, s->acks, 100);
        if (st == NATS_OK) {
            handle_answer(s, m);
            natsMsg_Destroy(m);
        } else if (st == NATS_NO_RESPONDERS) {
            no_responders(s);
        } else if (st != NATS_TIMEOUT && st != NATS_SLOW_CONSUMER) {
            /* Closed: the answers lost are resent after ack_timeout. Do
             * not spin. (A slow-consumer notice is one message's: go on.) */
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int ns_threads_start(ns_sink *s, char *err, size_t errlen)
{
    if (pthread_create(&s->pub_thread, NULL, publisher_main, s) != 0) {
        snprintf(err, errlen, "cannot start the publisher thread");
        return -1;
    }
    if (pthread_create(&s->ack_thread, NULL, acker_main, s) != 0) {
        atomic_store(&s->stop, 1);
        pthread_cond_broadcast(&s->work);
        pthread_join(s->pub_thread, NULL);
        snprintf(err, errlen, "cannot start the PubAck thread");
        return -1;
    }
    s->threads = 1;
    return 0;
}

void ns_threads_stop(ns_sink *s)
{
    if (!s->threads)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->room);
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->pub_thread, NULL);
    pthread_join(s->ack_thread, NULL);
    s->threads = 0;
}

void ns_records_free(ns_sink *s)
{
    for (uint64_t num = s->recs.base; num < s->recs.next; num++) {
        ns_rec *r = rec_at(s, num);
        if (!r)
            continue;
        /* A batch with records left is never acknowledged: its source
         * reads it again at the next start. */
        if (r->batch && --r->batch->left == 0)
            free(r->batch);
        natsMsg_Destroy(r->msg);
        free(r);
    }
    sl_seqring_free(&s->recs);
}
