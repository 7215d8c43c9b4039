/*
 * Pull requests, made here rather than with natsSubscription_Fetch: the
 * libnats of Debian 12 (3.4.1) writes past its message array in Fetch
 * when messages of an earlier request are still queued (fixed upstream
 * in nats.c 3.9, "heap buffer overflow in _fetch"), which happens
 * whenever a request outlives the call that made it.
 *
 * The protocol is small: publish {"batch":N,"expires":ns} to
 * $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable> with a reply subject
 * <inbox>.<request number>; JetStream sends up to N messages there (their
 * reply subject is the $JS.ACK.... to acknowledge them on), and ends a
 * request that got fewer with a status message (404 none, 408 expired,
 * 409 consumer gone or too many waiting). One request is open at a time,
 * so what is queued is bounded by fetch_batch. A message that arrives
 * late, after its request was given up, is still taken: it was delivered
 * to us.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsrc.h"
#include "sl_clock.h"
#include "grow.h"

#define PULL_EXPIRES_MS 100 /* a request's life: stop() is seen within it */
#define PULL_GRACE_MS 50    /* after that, what a slow server may still send */
#define BURST_GAP_MS 2      /* a pause this long ends a burst of messages */
#define DRAIN_MAX_MS 3000   /* at stop, how long past its expiry a request may stay open */

natsStatus nsrc_reply(nats_src *s, natsMsg *m, const char *what)
{
    const char *r = natsMsg_GetReply(m);
    if (!r || !*r)
        return NATS_INVALID_SUBJECT;
    return natsConnection_PublishString(s->nc, r, what);
}

static int send_request(nats_src *s, char *msg, size_t msglen)
{
    char reply[300], body[96];
    s->req_id++;
    snprintf(reply, sizeof reply, "%s.%" PRIu64, s->inbox, s->req_id);
    snprintf(body, sizeof body, "{\"batch\":%d,\"expires\":%lld}", s->fetch_batch,
             (long long)PULL_EXPIRES_MS * 1000000LL);
    natsStatus st = natsConnection_PublishRequestString(s->nc, s->next_subj, reply, body);
    if (st != NATS_OK) {
        sl_nats_errmsg(msg, msglen, "pull request", st, 0);
        return -1;
    }
    s->req_open = 1;
    s->req_left = (uint32_t)s->fetch_batch;
    s->req_ends_ms = sl_mono_ms() + PULL_EXPIRES_MS;
    return 0;
}

/* The request number at the end of <inbox>.<n>; 0 when not ours. */
static uint64_t request_of(const nats_src *s, const char *subj)
{
    if (!subj || strncmp(subj, s->inbox, s->inbox_len) != 0 || subj[s->inbox_len] != '.')
        return 0;
    char *end;
    unsigned long long n = strtoull(subj + s->inbox_len + 1, &end, 10);
    return *end ? 0 : (uint64_t)n;
}

enum { GOT_USER, GOT_NOTHING, GOT_RESETUP };

/* A status message: the end of its request. 409 "Consumer Deleted" (or
 * any other conflict) calls for a fresh look at the consumer. */
static int on_status(nats_src *s, natsMsg *m, uint64_t req)
{
    const char *code = NULL, *desc = NULL;
    natsMsgHeader_Get(m, "Status", &code);
    natsMsgHeader_Get(m, "Description", &desc);
    if (req == s->req_id)
        s->req_open = 0;
    if (code && strcmp(code, "409") == 0 && !(desc && strstr(desc, "Exceeded"))) {
        s->host->log(s->ctx, SL_LOG_WARN, "pull request refused: 409 %s; looking at the "
                     "consumer again", desc ? desc : "");
        return GOT_RESETUP;
    }
    return GOT_NOTHING;
}

/*
 * A message keeps the subject it was published on, so it cannot say which
 * request it answers: it counts against the open one (there is one at a
 * time). Status messages come on the request's own <inbox>.<n>.
 */
static int classify(nats_src *s, natsMsg *m)
{
    const char *reply = natsMsg_GetReply(m);
    if (reply && strncmp(reply, "$JS.ACK.", 8) == 0) {
        if (s->req_open && --s->req_left == 0)
            s->req_open = 0;
        return GOT_USER;
    }
    uint64_t req = request_of(s, natsMsg_GetSubject(m));
    if (req && natsMsg_GetDataLength(m) == 0)
        return on_status(s, m, req);
    return GOT_NOTHING; /* not for us: ignore */
}

/* Wait for the next message up to ms. 1 got one, 0 none, -1 error. */
static int next(nats_src *s, natsMsg **m, int64_t ms, char *msg, size_t msglen)
{
    natsStatus st = natsSubscription_NextMsg(m, s->inbox_sub, ms < 1 ? 1 : ms);
    if (st == NATS_OK)
        return 1;
    if (st == NATS_TIMEOUT)
        return 0;
    sl_nats_errmsg(msg, msglen, "reading pull answers", st, 0);
    return -1;
}

int nsrc_pull(nats_src *s, natsMsg **out, uint32_t max, uint32_t *n, char *msg,
              size_t msglen)
{
    *n = 0;
    int64_t now = sl_mono_ms();
    if (s->req_open && now >= s->req_ends_ms + PULL_GRACE_MS)
        s->req_open = 0; /* lost (a server restart): its status never comes */
    if (!s->req_open && send_request(s, msg, msglen) != 0)
        return PULL_ERROR;
    int64_t first_by = s->req_ends_ms + PULL_GRACE_MS;
    int resetup = 0;
    while (*n < max) {
        now = sl_mono_ms();
        int64_t wait = *n == 0 ? first_by - now : BURST_GAP_MS;
        if (wait <= 0 || (*n == 0 && !s->req_open))
            break;
        natsMsg *m = NULL;
        int r = next(s, &m, wait, msg, msglen);
        if (r < 0)
            return *n ? PULL_MSGS : PULL_ERROR;
        if (r == 0)
            break;
        int kind = classify(s, m);
        if (kind == GOT_USER) {
            out[(*n)++] = m;
            continue;
        }
        natsMsg_Destroy(m);
        resetup |= kind == GOT_RESETUP;
    }
    if (resetup && *n == 0)
        return PULL_RESETUP;
    return *n == 0 && !s->req_open ? PULL_IDLE : PULL_MSGS;
}

/* Hand back the messages taken at the stop. */
static int nak_all(nats_src *s, natsMsg **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nsrc_reply(s, msgs[i], "-NAK");
        natsMsg_Destroy(msgs[i]);
    }
    return (int)n;
}

int nsrc_pull_drain(nats_src *s)
{
    char msg[200];
    natsMsg **late = NULL;
    size_t n = 0, cap = 0;
    int handed = 0;
    if (!s->inbox_sub)
        return 0;
    /*
     * The server may deliver to an open request until it closes it (a
     * status, or the batch filled), which on a busy machine comes well
     * after the request's expiry by our clock: wait for that, bounded.
     * What comes meanwhile is handed back only then: a message handed back
     * while the request is open is delivered to it again at once.
     */
    int64_t give_up = s->req_ends_ms + DRAIN_MAX_MS;
    for (;;) {
        int open = s->req_open && sl_nats_connected(s->nc);
        int64_t left = open ? give_up - sl_mono_ms() : 0;
        natsMsg *m = NULL;
        /* Once it is closed, only what is queued already: a 1 ms look. */
        if (next(s, &m, left > 0 ? left : 1, msg, sizeof msg) != 1)
            break;
        if (classify(s, m) != GOT_USER) {
            natsMsg_Destroy(m);
            continue;
        }
        natsMsg **grown = sl_grow(late, n + 1, &cap, sizeof *grown, 64);
        if (!grown) { /* out of memory: this one goes back now */
            handed += nak_all(s, &m, 1);
            continue;
        }
        late = grown;
        late[n++] = m;
    }
    s->req_open = 0;
    handed += nak_all(s, late, n);
    free(late);
    return handed;
}
