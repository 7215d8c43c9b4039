/*
 * Server state shared by the request path (server.c) and the control
 * endpoint (control.c). Everything a request reads on the hot path is an
 * atomic or behind a lock held for a few instructions.
 */
#ifndef OE_STATE_H
#define OE_STATE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "delay.h"
#include "script.h"
#include "server.h"

struct oe_server {
    struct MHD_Daemon *daemon;
    struct MHD_Response *true_response; /* shared: "true", application/json */
    oe_delay *delay;
    int events_fd;
    char *path;
    int quiet;
    char *tls_cert, *tls_key; /* PEM, NULL = plain HTTP; kept until the daemon stops */
    atomic_int stopping;

    atomic_uint latency_ms;
    atomic_uint_fast64_t down_until_ns; /* oe_now_ns clock; 0 = up */

    pthread_mutex_t token_mu;
    char *token; /* NULL = no check */

    pthread_mutex_t script_mu;
    oe_action *script;
    size_t script_len, script_next;
    atomic_size_t script_left; /* lets the hot path skip the lock */

    pthread_mutex_t fail_mu;
    oe_fail fail;
    atomic_int fail_on; /* lets the hot path skip the lock */
    uint64_t seed;
    atomic_uint_fast64_t draws; /* the next draw's number: one seed, one sequence */

    atomic_uint_fast64_t requests, accepted, rejected, injected;
    /* How clients reached us, for the transport tests (GET /_transport):
     * requests sent to a proxy (absolute-form target), the most API requests
     * in progress at once, and TCP connections accepted. */
    atomic_uint_fast64_t proxied, inflight, peak_inflight, connections;
};

/* Queue a response with a JSON error body {"statusCode":N,"message":msg}. */
enum MHD_Result oe_reply_error(struct MHD_Connection *c, unsigned status, const char *msg,
                               const char *retry_after);

/* Queue a text response (the control endpoint's "ok", the stats JSON). */
enum MHD_Result oe_reply_text(struct MHD_Connection *c, unsigned status, const char *type,
                              const char *text);

/* POST /_control?KEY=VALUE&... */
enum MHD_Result oe_control(oe_server *s, struct MHD_Connection *c, const char *method);

/* GET /_stats */
enum MHD_Result oe_stats(oe_server *s, struct MHD_Connection *c, const char *method);

/* GET /_transport */
enum MHD_Result oe_transport(oe_server *s, struct MHD_Connection *c, const char *method);

/* Replace the script (under its lock); takes ownership of acts. */
void oe_set_script(oe_server *s, oe_action *acts, size_t n);

/* Replace the random failures; chance 0 turns them off. */
void oe_set_fail(oe_server *s, const oe_fail *f);

/* Replace the accepted token; "" or NULL = no check. Returns 0 or -1 (memory). */
int oe_set_token(oe_server *s, const char *token);

#endif
