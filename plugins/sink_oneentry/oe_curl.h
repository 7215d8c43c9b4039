/*
 * HTTP transport over the libcurl multi interface (see oe_curl.c): same
 * contract as oe_http.h. Used for https:// (TLS, HTTP/2) and whenever a
 * proxy variable is set.
 *
 * No proxy is set here on purpose: libcurl then takes it from the usual
 * variables — https_proxy/HTTPS_PROXY, http_proxy (lowercase only: libcurl
 * ignores HTTP_PROXY, which CGI lets a request header set), ALL_PROXY, and
 * NO_PROXY for hosts reached directly (tests/integration/oneentry_proxy.sh).
 */
#ifndef OE_CURL_H
#define OE_CURL_H

#include "oe_http.h"

typedef struct oe_curl oe_curl;

int oe_curl_new(oe_curl **out, const oe_http_cfg *cfg, char *err, size_t errlen);
int oe_curl_start(oe_curl *h, const char *ident, const char *body, size_t len, void *user);
void oe_curl_wait(oe_curl *h, int timeout_ms);
int oe_curl_next(oe_curl *h, oe_http_done *d);
int oe_curl_abort_all(oe_curl *h, void (*fn)(void *user, void *arg), void *arg);
int oe_curl_inflight(const oe_curl *h);
void oe_curl_wakeup(oe_curl *h);
void oe_curl_free(oe_curl *h);

#endif
