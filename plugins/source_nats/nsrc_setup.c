/*
 * The stream, the durable pull consumer and the subscription: each created
 * when absent (create_stream, create_consumer) or used as it is. Several
 * processes with the same durable share one consumer, and so its work.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsrc.h"

static int use_consumer(nats_src *s, const jsConsumerInfo *ci, const char *verb, char *msg,
                        size_t msglen)
{
    const jsConsumerConfig *c = ci->Config;
    if (c->DeliverSubject && *c->DeliverSubject) {
        snprintf(msg, msglen, "consumer %s on stream %s is a push consumer; source nats needs "
                 "a pull consumer (pick another durable)", s->durable, s->stream.name);
        return SL_NATS_FATAL;
    }
    if (c->AckPolicy != js_AckExplicit) {
        snprintf(msg, msglen, "consumer %s on stream %s does not use explicit acks, so a "
                 "crash could lose messages (pick another durable)", s->durable,
                 s->stream.name);
        return SL_NATS_FATAL;
    }
    atomic_store(&s->consumer_ack_wait_ms, c->AckWait / 1000000);
    snprintf(msg, msglen, "%s consumer %s on stream %s (filter %s, ack_wait %" PRId64
             " ms, max_ack_pending %" PRId64 ", %" PRIu64 " messages pending)", verb,
             s->durable, s->stream.name, c->FilterSubject && *c->FilterSubject
                 ? c->FilterSubject : "none", c->AckWait / 1000000, c->MaxAckPending,
             ci->NumPending);
    return SL_NATS_OK;
}

static int create_consumer(nats_src *s, char *msg, size_t msglen)
{
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = s->durable;
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = s->ack_wait_ms * 1000000;
    cfg.MaxAckPending = s->max_ack_pending;
    cfg.MaxDeliver = s->max_deliver > 0 ? s->max_deliver : -1;
    cfg.DeliverPolicy = s->deliver;
    cfg.FilterSubject = s->filter;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_AddConsumer(&ci, s->js, s->stream.name, &cfg, NULL, &jerr);
    if (st != NATS_OK) {
        char what[200];
        snprintf(what, sizeof what, "creating consumer %s on stream %s", s->durable,
                 s->stream.name);
        sl_nats_errmsg(msg, msglen, what, st, jerr);
        return sl_nats_classify(st, jerr);
    }
    int r = use_consumer(s, ci, "created", msg, msglen);
    jsConsumerInfo_Destroy(ci);
    return r;
}

static int ensure_consumer(nats_src *s, char *msg, size_t msglen)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetConsumerInfo(&ci, s->js, s->stream.name, s->durable, NULL, &jerr);
    if (st == NATS_OK) {
        int r = use_consumer(s, ci, "using", msg, msglen);
        jsConsumerInfo_Destroy(ci);
        return r;
    }
    if (st == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
        if (!s->create_consumer) {
            snprintf(msg, msglen, "consumer %s on stream %s does not exist (create_consumer "
                     "is false)", s->durable, s->stream.name);
            return SL_NATS_RETRY;
        }
        /* Processes starting together create the same config: JetStream
         * answers each with the one consumer. */
        return create_consumer(s, msg, msglen);
    }
    char what[200];
    snprintf(what, sizeof what, "looking up consumer %s on stream %s", s->durable,
             s->stream.name);
    sl_nats_errmsg(msg, msglen, what, st, jerr);
    return sl_nats_classify(st, jerr);
}

/* The subject pull requests go to, and the inbox they are answered on:
 * made once (what a failed attempt made is kept or replaced, not leaked). */
static int subscribe(nats_src *s, char *msg, size_t msglen)
{
    natsStatus st = NATS_OK;
    if (!s->next_subj && asprintf(&s->next_subj, "$JS.API.CONSUMER.MSG.NEXT.%s.%s",
                                  s->stream.name, s->durable) < 0) {
        s->next_subj = NULL;
        st = NATS_NO_MEMORY;
    }
    /* The queue holds at most one request's messages (fetch_batch). */
    if (st == NATS_OK && !s->inbox_sub)
        st = sl_nats_inbox_subscribe(s->nc, &s->inbox, &s->inbox_len, &s->inbox_sub);
    if (st == NATS_OK)
        return SL_NATS_OK;
    sl_nats_errmsg(msg, msglen, "subscribing", st, 0);
    return sl_nats_classify(st, 0);
}

int nsrc_setup(nats_src *s, char *msg, size_t msglen)
{
    char cmsg[600];
    if (!sl_nats_connected(s->nc)) {
        snprintf(msg, msglen, "no NATS server at %s yet", s->conn.url);
        return SL_NATS_RETRY;
    }
    int r = sl_nats_stream_ensure(s->js, &s->stream, msg, msglen);
    if (r != SL_NATS_OK)
        return r;
    size_t n = strlen(msg);
    if ((r = ensure_consumer(s, cmsg, sizeof cmsg)) != SL_NATS_OK) {
        snprintf(msg, msglen, "%s", cmsg);
        return r;
    }
    if ((r = subscribe(s, msg, msglen)) != SL_NATS_OK)
        return r;
    snprintf(msg + n, msglen > n ? msglen - n : 0, "; %s", cmsg);
    s->ready = 1;
    return SL_NATS_OK;
}
