/*
 * What the NATS plugins (sink_nats, source_nats) share: the connection
 * options and how a connection is made from them, the stream options and
 * how a stream is created when absent or taken as it is, and keeping
 * libnats loaded for the life of the process.
 *
 * Only the two NATS plugins link libnats; an object of this library is
 * pulled into a plugin only when it calls one of these functions.
 */
#ifndef SL_NATS_H
#define SL_NATS_H

#include <nats/nats.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/host.h"

/* Option table rows for the connection; put them in the plugin's table. */
#define SL_NATS_CONN_OPTIONS                                                                  \
    {"url", SL_OPT_STRING, "nats://127.0.0.1:4222", 0,                                        \
     "NATS server URL, or several comma-separated (nats://, tls://; user:password@ allowed)", \
     NULL, NULL, NULL, SL_OPT_F_NONEMPTY},                                                    \
    {"token", SL_OPT_SECRET, NULL, 0, "authentication token (never printed or logged)", NULL,  \
     NULL, NULL, 0},                                                                          \
    {"user", SL_OPT_STRING, NULL, 0, "user name (with password)", NULL, NULL, NULL,           \
     SL_OPT_F_NONEMPTY},                                                                      \
    {"password", SL_OPT_SECRET, NULL, 0, "password of user (never printed or logged)", NULL,   \
     NULL, NULL, 0},                                                                          \
    {"creds_file", SL_OPT_STRING, NULL, 0, "NATS credentials file (user JWT and NKey seed)",   \
     NULL, NULL, NULL, SL_OPT_F_NONEMPTY},                                                    \
    {"ca_file", SL_OPT_STRING, NULL, 0,                                                       \
     "CA bundle that verifies the server; turns TLS on", NULL, NULL, NULL,                    \
     SL_OPT_F_NONEMPTY},                                                                      \
    {"connect_timeout", SL_OPT_DURATION, "2s", 0, "timeout of one connection attempt", NULL,   \
     "10ms", "1m", 0},                                                                        \
    {"reconnect_wait", SL_OPT_DURATION, "250ms", 0,                                           \
     "pause between reconnection attempts, which never stop", NULL, "10ms", "1m", 0},         \
    {"request_timeout", SL_OPT_DURATION, "5s", 0,                                             \
     "JetStream API requests (stream and consumer lookups and creation)", NULL, "100ms",      \
     "5m", 0}

/* Option table rows for the stream. */
#define SL_NATS_STREAM_OPTIONS                                                                \
    {"stream", SL_OPT_STRING, "SLUICE", 0, "JetStream stream name", NULL, NULL, NULL,         \
     SL_OPT_F_NONEMPTY},                                                                      \
    {"create_stream", SL_OPT_BOOL, "true", 0,                                                 \
     "create the stream when absent (with the options below); an existing stream is used "    \
     "as it is",                                                                              \
     NULL, NULL, NULL, 0},                                                                    \
    {"stream_subjects", SL_OPT_LIST, NULL, 0,                                                 \
     "subjects of a created stream (default: for the sink, the subject's first tokens and >, " \
     "e.g. activity.>; for the source, filter_subject)",                                     \
     NULL, NULL, NULL, SL_OPT_F_NONEMPTY},                                                    \
    {"retention", SL_OPT_STRING, "limits", 0,                                                 \
     "of a created stream: limits (kept until max_age or max_bytes), interest (until every "  \
     "consumer acknowledged), workqueue (until one did)",                                     \
     "limits|interest|workqueue", NULL, NULL, 0},                                             \
    {"storage", SL_OPT_STRING, "file", 0, "of a created stream", "file|memory", NULL, NULL,   \
     0},                                                                                      \
    {"max_age", SL_OPT_DURATION, "168h", 0,                                                   \
     "of a created stream: messages older are removed, consumed or not (0 = never)", NULL,    \
     "0s", "87600h", 0},                                                                      \
    {"max_bytes", SL_OPT_SIZE, "0", 0, "of a created stream: its size bound (0 = none)",       \
     NULL, "0", NULL, 0},                                                                     \
    {"discard", SL_OPT_STRING, "new", 0,                                                      \
     "of a created stream at max_bytes: new refuses publishes (the sink waits and retries, "  \
     "nothing is lost), old removes the oldest messages",                                     \
     "new|old", NULL, NULL, 0},                                                               \
    {"replicas", SL_OPT_INT, "1", 0, "of a created stream: copies in a JetStream cluster",    \
     NULL, "1", "5", 0},                                                                      \
    {"duplicate_window", SL_OPT_DURATION, "2m", 0,                                            \
     "of a created stream: how long a Nats-Msg-Id is remembered to drop a republished "       \
     "message",                                                                               \
     NULL, "1s", "24h", 0}

/* The connection options as read by sl_nats_conn_read. */
typedef struct sl_nats_conn_cfg {
    const char *url, *token, *user, *password, *creds_file, *ca_file;
    int64_t connect_timeout_ms, reconnect_wait_ms, request_timeout_ms;
} sl_nats_conn_cfg;

/* The stream options; subjects is allocated (free with sl_nats_stream_free). */
typedef struct sl_nats_stream_cfg {
    const char *name;
    int create;
    char **subjects;
    int nsubjects;
    jsRetentionPolicy retention;
    jsStorageType storage;
    jsDiscardPolicy discard;
    int64_t max_age_ms, max_bytes, dup_window_ms;
    int replicas;
} sl_nats_stream_cfg;

void sl_nats_conn_read(sl_ctx *ctx, const sl_host *host, sl_nats_conn_cfg *c);

/*
 * Read the stream options. Without stream_subjects, a created stream takes
 * `fallback` (may be NULL: then creating the stream is an error at setup).
 * 0, or -1 with err.
 */
int sl_nats_stream_read(sl_ctx *ctx, const sl_host *host, const char *fallback,
                        sl_nats_stream_cfg *s, char *err, size_t errlen);
void sl_nats_stream_free(sl_nats_stream_cfg *s);

/*
 * Start a connection named `name` that reconnects forever. When no server
 * answers now, it keeps trying in the background and *nc is still set:
 * returns 0 connected, 1 connecting, -1 with err (bad options: URL,
 * credentials file, CA file).
 */
int sl_nats_connect(const sl_nats_conn_cfg *c, const char *name, natsConnection **nc,
                    char *err, size_t errlen);

/* Non-zero when the connection is up (not connecting, reconnecting or closed). */
int sl_nats_connected(natsConnection *nc);

/* Times the connection was re-established so far. */
uint64_t sl_nats_reconnects(natsConnection *nc);

/*
 * A fresh inbox (*inbox, malloc'd, replacing and freeing what was there)
 * and a synchronous subscription to "<inbox>.*" without pending limits:
 * the replies to our own requests, numbered by the last token, which the
 * caller bounds itself (one pull request, max_in_flight PubAcks).
 */
natsStatus sl_nats_inbox_subscribe(natsConnection *nc, char **inbox, size_t *inbox_len,
                                   natsSubscription **sub);

/* What sl_nats_stream_ensure and friends say about a failure. */
enum {
    SL_NATS_OK = 0,
    SL_NATS_RETRY = 1,  /* not connected, timed out, JetStream not answering */
    SL_NATS_FATAL = -1, /* JetStream refused (bad config, overlapping subjects) */
};

/*
 * Use the stream if it exists, else create it (create_stream) with the
 * configured options. SL_NATS_OK with what happened in msg, or
 * SL_NATS_RETRY / SL_NATS_FATAL with the reason in msg.
 */
int sl_nats_stream_ensure(jsCtx *js, const sl_nats_stream_cfg *s, char *msg, size_t msglen);

/* Classify a failed JetStream API call (status and JetStream error code). */
int sl_nats_classify(natsStatus st, jsErrCode jerr);

/* "what: status text (last error)" for a failed libnats call. */
void sl_nats_errmsg(char *buf, size_t len, const char *what, natsStatus st, jsErrCode jerr);

/*
 * Keep libnats and the calling plugin mapped until the process exits:
 * libnats runs threads of its own (timers, reconnects) that a dlclose of
 * the plugin at reload or teardown must not pull the code from under.
 * `own` is any function of the calling plugin. Idempotent.
 */
void sl_nats_pin(void *own);

#endif
