/* Shared by the NATS plugins: connection, stream setup, pinning libnats. */
#include "sl_nats.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_nats_conn_read(sl_ctx *ctx, const sl_host *h, sl_nats_conn_cfg *c)
{
    *c = (sl_nats_conn_cfg){
        .url = h->opt_str(ctx, "url"),
        .token = h->opt_str(ctx, "token"),
        .user = h->opt_str(ctx, "user"),
        .password = h->opt_str(ctx, "password"),
        .creds_file = h->opt_str(ctx, "creds_file"),
        .ca_file = h->opt_str(ctx, "ca_file"),
        .connect_timeout_ms = h->opt_int(ctx, "connect_timeout"),
        .reconnect_wait_ms = h->opt_int(ctx, "reconnect_wait"),
        .request_timeout_ms = h->opt_int(ctx, "request_timeout"),
    };
}

static int pick(const char *v, const char *const *names, const int *vals, int n, int dflt)
{
    for (int i = 0; v && i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return vals[i];
    return dflt;
}

static int read_subjects(sl_ctx *ctx, const sl_host *h, const char *fallback,
                         sl_nats_stream_cfg *s)
{
    const sl_node *list = h->opt_node(ctx, "stream_subjects");
    size_t n = list ? h->node_len(list) : (fallback ? 1 : 0);
    if (n == 0)
        return 0;
    if (!(s->subjects = calloc(n, sizeof *s->subjects)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *v = list ? h->node_str(h->node_at(list, i)) : fallback;
        if (!v || !(s->subjects[i] = strdup(v)))
            return -1;
        s->nsubjects++;
    }
    return 0;
}

int sl_nats_stream_read(sl_ctx *ctx, const sl_host *h, const char *fallback,
                        sl_nats_stream_cfg *s, char *err, size_t errlen)
{
    static const char *const ret_names[] = {"limits", "interest", "workqueue"};
    static const int ret_vals[] = {js_LimitsPolicy, js_InterestPolicy, js_WorkQueuePolicy};
    static const char *const sto_names[] = {"file", "memory"};
    static const int sto_vals[] = {js_FileStorage, js_MemoryStorage};
    static const char *const dis_names[] = {"old", "new"};
    static const int dis_vals[] = {js_DiscardOld, js_DiscardNew};
    *s = (sl_nats_stream_cfg){
        .name = h->opt_str(ctx, "stream"),
        .create = h->opt_bool(ctx, "create_stream"),
        .retention = pick(h->opt_str(ctx, "retention"), ret_names, ret_vals, 3, js_LimitsPolicy),
        .storage = pick(h->opt_str(ctx, "storage"), sto_names, sto_vals, 2, js_FileStorage),
        .discard = pick(h->opt_str(ctx, "discard"), dis_names, dis_vals, 2, js_DiscardNew),
        .max_age_ms = h->opt_int(ctx, "max_age"),
        .max_bytes = h->opt_int(ctx, "max_bytes"),
        .dup_window_ms = h->opt_int(ctx, "duplicate_window"),
        .replicas = (int)h->opt_int(ctx, "replicas"),
    };
    if (read_subjects(ctx, h, fallback, s) != 0) {
        sl_nats_stream_free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void sl_nats_stream_free(sl_nats_stream_cfg *s)
{
    for (int i = 0; i < s->nsubjects; i++)
        free(s->subjects[i]);
    free(s->subjects);
    s->subjects = NULL;
    s->nsubjects = 0;
}

void sl_nats_errmsg(char *buf, size_t len, const char *what, natsStatus st, jsErrCode jerr)
{
    natsStatus last = NATS_OK;
    const char *detail = nats_GetLastError(&last);
    if (detail && *detail && last == st)
        snprintf(buf, len, "%s: %s", what, detail);
    else
        snprintf(buf, len, "%s: %s", what, natsStatus_GetText(st));
    if (jerr) {
        size_t n = strlen(buf);
        snprintf(buf + n, len > n ? len - n : 0, " (JetStream error %d)", (int)jerr);
    }
}

/*
 * JetStream answers that describe a moment, not the request: JetStream not
 * (yet) running, a stream or consumer someone else may create, and a cluster
 * between leaders — after a node fails, its streams and consumers answer
 * "temporarily unavailable", "not leader" or "offline" until an election
 * ends, which takes seconds. Not "no suitable peers" (10005): a node down
 * gives it, but so does replicas: 5 on a three-node cluster, and retrying
 * that for ever would hide the mistake.
 */
static int transient_js_error(jsErrCode jerr)
{
    switch (jerr) {
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
    case JSInsufficientResourcesErr:
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
    case JSClusterIncompleteErr:
    case JSClusterNotAssignedErr:
    case JSClusterNotAvailErr:
    case JSClusterNotLeaderErr:
    case JSStreamOfflineErr:
    case JSConsumerOfflineErr:
        return 1;
    default:
        return 0;
    }
}

int sl_nats_classify(natsStatus st, jsErrCode jerr)
{
    if (st == NATS_OK)
        return SL_NATS_OK;
    /* Any other JetStream refusal gives the same answer when asked again. */
    if (jerr != 0 && !transient_js_error(jerr))
        return SL_NATS_FATAL;
    switch (st) {
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_NO_MEMORY:
        return SL_NATS_FATAL;
    default:
        return SL_NATS_RETRY; /* timeouts, no responders, (re)connecting, closed */
    }
}

static void noop_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
}

static int apply_auth(natsOptions *o, const sl_nats_conn_cfg *c, char *err, size_t errlen)
{
    natsStatus st = NATS_OK;
    if (c->token && *c->token)
        st = natsOptions_SetToken(o, c->token);
    if (st == NATS_OK && c->user)
        st = natsOptions_SetUserInfo(o, c->user, c->password ? c->password : "");
    if (st == NATS_OK && c->creds_file)
        st = natsOptions_SetUserCredentialsFromFiles(o, c->creds_file, NULL);
    if (st != NATS_OK) {
        sl_nats_errmsg(err, errlen, "credentials", st, 0);
        return -1;
    }
    if (c->ca_file) {
        st = natsOptions_SetSecure(o, true);
        if (st == NATS_OK)
            st = natsOptions_LoadCATrustedCertificates(o, c->ca_file);
        if (st != NATS_OK) {
            sl_nats_errmsg(err, errlen, "ca_file", st, 0);
            return -1;
        }
    }
    return 0;
}

#define MAX_SERVERS 64

/* One URL, or several separated by commas (a cluster's nodes): libnats
 * takes a list only as an array (natsOptions_SetURL takes a single URL). */
static natsStatus set_servers(natsOptions *o, const char *url)
{
    if (!strchr(url, ','))
        return natsOptions_SetURL(o, url);
    char *copy = strdup(url), *save = NULL;
    const char *list[MAX_SERVERS];
    int n = 0;
    if (!copy)
        return NATS_NO_MEMORY;
    for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (n == MAX_SERVERS) {
            n = 0; /* refused below rather than cut short */
            break;
        }
        list[n++] = t;
    }
    natsStatus st = n ? natsOptions_SetServers(o, list, n) : NATS_INVALID_ARG;
    free(copy); /* the options keep copies */
    return st;
}

static int make_options(natsOptions **out, const sl_nats_conn_cfg *c, const char *name,
                        char *err, size_t errlen)
{
    natsOptions *o = NULL;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = set_servers(o, c->url);
    if (st != NATS_OK) {
        sl_nats_errmsg(err, errlen, "url", st, 0);
        natsOptions_Destroy(o);
        return -1;
    }
    if (apply_auth(o, c, err, errlen) != 0) {
        natsOptions_Destroy(o);
        return -1;
    }
    /* Reconnect forever, and keep trying the first connect in the
     * background: a NATS outage is waited out, never a reason to stop. */
    natsOptions_SetName(o, name);
    natsOptions_SetTimeout(o, c->connect_timeout_ms);
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, c->reconnect_wait_ms);
    natsOptions_SetRetryOnFailedConnect(o, true, noop_connected, NULL);
    /* A lost server is noticed within ~10 s even without a TCP reset. */
    natsOptions_SetPingInterval(o, 5000);
    natsOptions_SetMaxPingsOut(o, 2);
    /* JetStream API requests fail at once on a disconnect instead of
     * waiting out their timeout. */
    natsOptions_SetFailRequestsOnDisconnect(o, true);
    *out = o;
    return 0;
}

int sl_nats_connect(const sl_nats_conn_cfg *c, const char *name, natsConnection **nc,
                    char *err, size_t errlen)
{
    natsOptions *o = NULL;
    *nc = NULL;
    if (make_options(&o, c, name, err, errlen) != 0)
        return -1;
    natsStatus st = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o); /* the connection keeps its own copy */
    if (st == NATS_OK)
        return 0;
    if (st == NATS_NOT_YET_CONNECTED && *nc)
        return 1;
    sl_nats_errmsg(err, errlen, "connect", st, 0);
    natsConnection_Destroy(*nc);
    *nc = NULL;
    return -1;
}

int sl_nats_connected(natsConnection *nc)
{
    return nc && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
}

uint64_t sl_nats_reconnects(natsConnection *nc)
{
    natsStatistics *stats = NULL;
    uint64_t n = 0;
    if (natsStatistics_Create(&stats) != NATS_OK)
        return 0;
    if (natsConnection_GetStats(nc, stats) == NATS_OK)
        natsStatistics_GetCounts(stats, NULL, NULL, NULL, NULL, &n);
    natsStatistics_Destroy(stats);
    return n;
}

natsStatus sl_nats_inbox_subscribe(natsConnection *nc, char **inbox, size_t *inbox_len,
                                   natsSubscription **sub)
{
    natsInbox *fresh = NULL;
    char subj[300];
    natsStatus st = natsInbox_Create(&fresh);
    free(*inbox);
    *inbox = NULL;
    if (st == NATS_OK && !(*inbox = strdup(fresh)))
        st = NATS_NO_MEMORY;
    natsInbox_Destroy(fresh);
    if (st != NATS_OK)
        return st;
    *inbox_len = strlen(*inbox);
    snprintf(subj, sizeof subj, "%s.*", *inbox);
    st = natsConnection_SubscribeSync(sub, nc, subj);
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(*sub, -1, -1);
    return st;
}

static void describe(char *msg, size_t len, const char *verb, const jsStreamInfo *si)
{
    const jsStreamConfig *c = si->Config;
    size_t n = (size_t)snprintf(msg, len, "%s stream %s (subjects", verb, c->Name);
    for (int i = 0; i < c->SubjectsLen && n < len; i++)
        n += (size_t)snprintf(msg + n, len - n, " %s", c->Subjects[i]);
    if (n < len)
        snprintf(msg + n, len - n, "; %" PRIu64 " messages, duplicate window %" PRId64 " ms)",
                 si->State.Msgs, c->Duplicates / 1000000);
}

static int create_stream(jsCtx *js, const sl_nats_stream_cfg *s, char *msg, size_t msglen)
{
    if (s->nsubjects == 0) {
        snprintf(msg, msglen, "stream %s does not exist, and no stream_subjects say which "
                 "subjects to create it with", s->name);
        return SL_NATS_FATAL;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = s->name;
    cfg.Subjects = (const char **)s->subjects;
    cfg.SubjectsLen = s->nsubjects;
    cfg.Retention = s->retention;
    cfg.Storage = s->storage;
    cfg.Discard = s->discard;
    cfg.MaxAge = s->max_age_ms * 1000000;
    cfg.MaxBytes = s->max_bytes > 0 ? s->max_bytes : -1;
    cfg.Replicas = s->replicas;
    cfg.Duplicates = s->dup_window_ms * 1000000;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (st == NATS_OK) {
        describe(msg, msglen, "created", si);
        jsStreamInfo_Destroy(si);
        return SL_NATS_OK;
    }
    char what[160];
    snprintf(what, sizeof what, "creating stream %s", s->name);
    sl_nats_errmsg(msg, msglen, what, st, jerr);
    return sl_nats_classify(st, jerr);
}

int sl_nats_stream_ensure(jsCtx *js, const sl_nats_stream_cfg *s, char *msg, size_t msglen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetStreamInfo(&si, js, s->name, NULL, &jerr);
    if (st == NATS_OK) {
        describe(msg, msglen, "using", si);
        jsStreamInfo_Destroy(si);
        return SL_NATS_OK;
    }
    if (st == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        if (!s->create) {
            snprintf(msg, msglen, "stream %s does not exist (create_stream is false)", s->name);
            return SL_NATS_RETRY; /* someone else may create it */
        }
        int r = create_stream(js, s, msg, msglen);
        /* Two processes may race to create it: the loser uses the winner's. */
        if (r == SL_NATS_FATAL && js_GetStreamInfo(&si, js, s->name, NULL, &jerr) == NATS_OK) {
            describe(msg, msglen, "using", si);
            jsStreamInfo_Destroy(si);
            r = SL_NATS_OK;
        }
        return r;
    }
    char what[160];
    snprintf(what, sizeof what, "looking up stream %s", s->name);
    sl_nats_errmsg(msg, msglen, what, st, jerr);
    return sl_nats_classify(st, jerr);
}

static void pin_object(void *addr)
{
    Dl_info info;
    if (dladdr(addr, &info) && info.dli_fname)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

void sl_nats_pin(void *own)
{
    pin_object((void *)natsConnection_Connect);
    pin_object(own);
}
