/*
 * Messages held between fetch and sluice's acknowledgement: a FIFO of
 * emitted batches (acked() comes in emit order), and the ticker that tells
 * JetStream that held messages are still being worked on.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "nsrc.h"
#include "sl_clock.h"

int nsrc_hold(nats_src *s, uint64_t seq, natsMsg **msgs, uint32_t n)
{
    nsrc_held *h = malloc(sizeof *h);
    if (!h)
        return -1;
    *h = (nsrc_held){.seq = seq, .msgs = msgs, .n = n, .touched_ms = sl_mono_ms()};
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = h;
    else
        s->head = h;
    s->tail = h;
    s->held_msgs += n;
    s->host->metric_set(s->m.held, (int64_t)s->held_msgs);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void finish(nats_src *s, nsrc_held *h, int ack)
{
    uint64_t errors = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        /* A publish into the connection's buffer: quick, fine on any thread.
         * A failed ack (no connection) means a redelivery, not a loss. */
        natsStatus st = nsrc_reply(s, h->msgs[i], ack ? "+ACK" : "-NAK");
        errors += st != NATS_OK;
        natsMsg_Destroy(h->msgs[i]);
    }
    if (ack) {
        s->host->metric_add(s->m.acked, h->n - errors);
        s->host->metric_add(s->m.ack_errors, errors);
    }
    free(h->msgs);
    free(h);
}

/* Take the front batch (it must be seq). */
static nsrc_held *take_front(nats_src *s, uint64_t seq)
{
    pthread_mutex_lock(&s->mu);
    nsrc_held *h = s->head;
    if (h && h->seq == seq) {
        s->head = h->next;
        if (!s->head)
            s->tail = NULL;
        s->held_msgs -= h->n;
        s->host->metric_set(s->m.held, (int64_t)s->held_msgs);
    } else {
        h = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return h;
}

void nsrc_acked(void *state, uint64_t seq)
{
    nats_src *s = state;
    nsrc_held *h = take_front(s, seq);
    if (!h) {
        s->host->log(s->ctx, SL_LOG_ERROR, "acknowledgement of batch %" PRIu64 " out of "
                     "order; its messages will be delivered again", seq);
        return;
    }
    finish(s, h, 1);
}

/* The last batch held was not taken by emit(): give its messages back. */
void nsrc_unhold_last(nats_src *s)
{
    pthread_mutex_lock(&s->mu);
    nsrc_held *h = s->tail, *prev = NULL;
    for (nsrc_held *q = s->head; q && q != h; q = q->next)
        prev = q;
    if (h) {
        if (prev)
            prev->next = NULL;
        else
            s->head = NULL;
        s->tail = prev;
        s->held_msgs -= h->n;
        s->host->metric_set(s->m.held, (int64_t)s->held_msgs);
    }
    pthread_mutex_unlock(&s->mu);
    if (h)
        finish(s, h, 0);
}

void nsrc_release_all(nats_src *s)
{
    pthread_mutex_lock(&s->mu);
    nsrc_held *h = s->head;
    s->head = s->tail = NULL;
    s->held_msgs = 0;
    pthread_mutex_unlock(&s->mu);
    uint64_t n = 0;
    while (h) {
        nsrc_held *next = h->next;
        n += h->n;
        finish(s, h, 0);
        h = next;
    }
    if (n)
        s->host->log(s->ctx, SL_LOG_INFO, "%" PRIu64 " messages not delivered downstream were "
                     "handed back to JetStream for redelivery", n);
}

/* Under mu: renew the ack_wait of batches not touched for `every` ms. */
static void touch_old(nats_src *s, int64_t every)
{
    int64_t now = sl_mono_ms();
    uint64_t n = 0;
    for (nsrc_held *h = s->head; h; h = h->next) {
        if (now - h->touched_ms < every)
            continue;
        for (uint32_t i = 0; i < h->n; i++)
            n += nsrc_reply(s, h->msgs[i], "+WPI") == NATS_OK;
        h->touched_ms = now;
    }
    s->host->metric_add(s->m.in_progress, n);
}

/*
 * A held batch is renewed once half its ack_wait has passed since it was
 * fetched or last renewed, so it is renewed with half of ack_wait to spare
 * (a quarter at worst, given the tick) and not more often than needed:
 * every renewal is one publish per message.
 */
static void *ticker_main(void *arg)
{
    nats_src *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop)) {
        int64_t half = atomic_load(&s->consumer_ack_wait_ms) / 2;
        int64_t tick = half / 2 < 50 ? 50 : half / 2 > 1000 ? 1000 : half / 2;
        struct timespec dl = sl_deadline_in(tick);
        pthread_cond_timedwait(&s->tick, &s->mu, &dl);
        if (!atomic_load(&s->stop) && s->in_progress)
            touch_old(s, half);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int nsrc_ticker_start(nats_src *s)
{
    if (pthread_create(&s->ticker, NULL, ticker_main, s) != 0)
        return -1;
    s->has_ticker = 1;
    return 0;
}

void nsrc_ticker_stop(nats_src *s)
{
    if (!s->has_ticker)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->tick);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->ticker, NULL);
    s->has_ticker = 0;
}
