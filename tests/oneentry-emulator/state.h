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

#include <sys/stat.h>

#include "delay.h"
#include "pages.h"
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

    /* The Pages API (pages_api.c), when a pages file is given: the pages,
     * read again when the file changes (checked on each request), and the
     * Pages API's own faults, drawn from the same seed. */
    char *pages_file, *pages_api;
    pthread_mutex_t pages_mu;
    oe_pages pages;
    struct stat pages_st;     /* of the file the pages were read from */
    atomic_uint pages_latency_ms;
    atomic_uint_fast64_t pages_down_until_ns;
    oe_fail pages_fail;       /* under fail_mu */
    atomic_int pages_fail_on;
    atomic_uint_fast64_t pages_draws;
    atomic_uint_fast64_t pages_requests, pages_lists, pages_lookups, pages_found,
        pages_not_found, pages_injected, pages_rejected;
};

/* A request being decided (server.c); the Pages API decides its answer
 * with these. */
typedef struct req req;

/* Answer with status and a JSON error {"statusCode","message"}. 0 or -1. */
int oe_req_error(req *r, unsigned status, const char *msg);
/* Answer 200 with this JSON body (copied). 0 or -1. */
int oe_req_json(req *r, const char *json, size_t len);
/* A fault's status (no check, counted by the caller). 0 or -1. */
int oe_req_fault(req *r, int status, const char retry_after[OE_RETRY_AFTER_MAX], const char *msg);
/* Send the decided answer after ms milliseconds. */
enum MHD_Result oe_req_answer_after(oe_server *s, struct MHD_Connection *c, req *r, unsigned ms);
/* Close the connection with a TCP reset, no answer. */
enum MHD_Result oe_reset_connection(struct MHD_Connection *c);
/* The x-app-token check: 0, or -1 with the message. */
int oe_check_token(oe_server *s, struct MHD_Connection *c, char *err, size_t errlen);

/* The Pages API: set up from the config (pages_api.c). 0, or -1 with err. */
int oe_pages_init(oe_server *s, const oe_config *cfg, char *err, size_t errlen);
void oe_pages_fini(oe_server *s);
/* Non-zero when url is a Pages API path of a server that serves pages. */
int oe_pages_route(oe_server *s, const char *url);
/* GET {pages_api}?langCode= and GET {pages_api}/url/{handle}?langCode= */
enum MHD_Result oe_pages_request(oe_server *s, struct MHD_Connection *c, req *r, const char *url,
                                 const char *method);
/* GET /_pages: the Pages API's counters. */
enum MHD_Result oe_pages_stats(oe_server *s, struct MHD_Connection *c, const char *method);
/* Replace the Pages API's random failures; chance 0 turns them off. */
void oe_set_pages_fail(oe_server *s, const oe_fail *f);

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
