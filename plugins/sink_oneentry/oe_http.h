/*
 * HTTP transport: many POSTs in flight on one thread, connections kept
 * alive and reused. Two clients behind one contract: the built-in
 * HTTP/1.1 client (oe_h1.c, TLS in oe_tls.c) for http:// URLs reached
 * directly and, when asked, https://; libcurl's multi interface
 * (oe_curl.c) for https:// by default (HTTP/2 multiplexing when offered)
 * and for anything behind a proxy. Owned by one thread; only
 * oe_http_wakeup may be called from another.
 */
#ifndef OE_HTTP_H
#define OE_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct oe_http_cfg {
    const char *url;         /* full URL: base + path */
    const char *token;       /* x-app-token, NULL/empty = none */
    long connect_timeout_ms;
    long timeout_ms;
    int tls_verify;
    const char *ca_file;     /* NULL = system store */
    int max_conns;           /* most requests in flight */
    int pipeline;            /* built-in client: requests per connection (1 = no pipelining) */
    int client;              /* OE_CLIENT_*: which client serves the URL */
} oe_http_cfg;

enum {
    OE_CLIENT_AUTO,    /* built-in for http:// without a proxy, libcurl otherwise */
    OE_CLIENT_CURL,    /* always libcurl */
    OE_CLIENT_BUILTIN, /* always built-in (also https://, HTTP/1.1 only); no proxy */
};

/* A finished request. Pointers stay valid until the next oe_http_next. */
typedef struct oe_http_done {
    void *user;
    long status;              /* 0 when no HTTP answer (see error) */
    const char *error;        /* transport error text, NULL when answered */
    const char *retry_after;  /* the Retry-After header value, or NULL */
    const char *body;         /* the answer (first 4 KiB; none of a 2xx from the built-in client) */
    size_t body_len;
    double latency_ms;
} oe_http_done;

typedef struct oe_http oe_http;

int oe_http_new(oe_http **out, const oe_http_cfg *cfg, char *err, size_t errlen);

/* Which client oe_http_new chose: its name for the log; built-in or not. */
const char *oe_http_client(const oe_http *h);
int oe_http_builtin(const oe_http *h);

/*
 * Start a POST of body (len bytes) with the identity header line `ident`
 * ("x-guest-id: X"). body and ident must stay valid until the request is
 * returned by oe_http_next. Returns 0 or -1 (out of memory).
 */
int oe_http_start(oe_http *h, const char *ident, const char *body, size_t len, void *user);

/* Run transfers, waiting up to timeout_ms for activity or a wakeup. */
void oe_http_wait(oe_http *h, int timeout_ms);

/* Take one finished request: 1 filled, 0 none. */
int oe_http_next(oe_http *h, oe_http_done *d);

/* Stop every request in flight, calling fn(user, arg) for each so the
 * caller can put its work back; used at stop. Returns how many. */
int oe_http_abort_all(oe_http *h, void (*fn)(void *user, void *arg), void *arg);

/* Requests in flight. */
int oe_http_inflight(const oe_http *h);

/* Interrupt oe_http_wait from another thread. */
void oe_http_wakeup(oe_http *h);

void oe_http_free(oe_http *h);

#endif
