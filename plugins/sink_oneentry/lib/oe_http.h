/*
 * HTTP transport: many POSTs in flight on one thread over libcurl's multi
 * interface; HTTP/2 multiplexing when the server offers it (ALPN), HTTP/1.1
 * keep-alive otherwise, connections kept and reused. Owned by one thread;
 * only oe_http_wakeup may be called from another.
 *
 * No proxy is set here on purpose: libcurl then takes it from the usual
 * variables — https_proxy/HTTPS_PROXY, http_proxy (lowercase only: libcurl
 * ignores HTTP_PROXY, which CGI lets a request header set), ALL_PROXY, and
 * NO_PROXY for hosts reached directly (tests/integration/oneentry_proxy.sh).
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
} oe_http_cfg;

/* A finished request. Pointers stay valid until the next oe_http_next. */
typedef struct oe_http_done {
    void *user;
    long status;              /* 0 when no HTTP answer (see error) */
    const char *error;        /* transport error text, NULL when answered */
    const char *retry_after;  /* the Retry-After header value, or NULL */
    const char *body;         /* the answer (first 4 KiB) */
    size_t body_len;
    double latency_ms;
} oe_http_done;

typedef struct oe_http oe_http;

int oe_http_new(oe_http **out, const oe_http_cfg *cfg, char *err, size_t errlen);

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

/*
 * Could one more request start without opening a connection beyond
 * OE_HTTP_MAX_CONNECTING connects in progress? A server's accept queue is
 * small: hundreds of connects at once (a start, or the end of an outage)
 * overflow it, and the dropped SYNs cost seconds of retransmission while
 * requests time out. Requests that can ride an open connection (an idle
 * HTTP/1.1 one, or a stream of an HTTP/2 one) are never held back.
 */
#define OE_HTTP_MAX_CONNECTING 8
int oe_http_can_start(const oe_http *h);

/* Interrupt oe_http_wait from another thread. */
void oe_http_wakeup(oe_http *h);

void oe_http_free(oe_http *h);

#endif
