#include "oe_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oe_curl.h"
#include "oe_h1.h"

struct oe_http {
    oe_h1 *h1;     /* exactly one of the two is set */
    oe_curl *curl;
};

/* The proxy variable that can apply to the URL (as libcurl reads them),
 * or NULL. With one set, libcurl decides (it also reads NO_PROXY): the
 * built-in client does not speak to proxies. */
static const char *proxy_var(int https)
{
    static const char *const http[] = {"http_proxy", "all_proxy", "ALL_PROXY", NULL};
    static const char *const tls[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
    for (const char *const *v = https ? tls : http; *v; v++) {
        const char *val = getenv(*v);
        if (val && *val)
            return *v;
    }
    return NULL;
}

/* Does the built-in client serve cfg? -1 with err when it must but cannot. */
static int use_builtin(const oe_http_cfg *cfg, char *err, size_t errlen)
{
    int https = strncasecmp(cfg->url, "https://", 8) == 0;
    const char *proxy = proxy_var(https);
    if (cfg->client == OE_CLIENT_CURL)
        return 0;
    if (cfg->client == OE_CLIENT_AUTO)
        return !https && !proxy;
    if (proxy) {
        snprintf(err, errlen, "http_client: builtin does not go through proxies, but %s is set "
                 "(NO_PROXY is not read); use http_client: auto", proxy);
        return -1;
    }
    return 1;
}

int oe_http_new(oe_http **out, const oe_http_cfg *cfg, char *err, size_t errlen)
{
    oe_http *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h) {
        snprintf(err, errlen, "cannot set up HTTP transport: out of memory");
        return -1;
    }
    int builtin = use_builtin(cfg, err, errlen);
    int rc = builtin < 0 ? -1
           : builtin    ? oe_h1_new(&h->h1, cfg, err, errlen)
                        : oe_curl_new(&h->curl, cfg, err, errlen);
    if (rc < 0) {
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

const char *oe_http_client(const oe_http *h)
{
    return h->h1 ? "the built-in HTTP/1.1 client" : "libcurl";
}

int oe_http_builtin(const oe_http *h)
{
    return h->h1 != NULL;
}

int oe_http_start(oe_http *h, const char *ident, const char *body, size_t len, void *user)
{
    return h->h1 ? oe_h1_start(h->h1, ident, body, len, user)
                 : oe_curl_start(h->curl, ident, body, len, user);
}

void oe_http_wait(oe_http *h, int timeout_ms)
{
    if (h->h1)
        oe_h1_wait(h->h1, timeout_ms);
    else
        oe_curl_wait(h->curl, timeout_ms);
}

int oe_http_next(oe_http *h, oe_http_done *d)
{
    return h->h1 ? oe_h1_next(h->h1, d) : oe_curl_next(h->curl, d);
}

int oe_http_abort_all(oe_http *h, void (*fn)(void *user, void *arg), void *arg)
{
    return h->h1 ? oe_h1_abort_all(h->h1, fn, arg) : oe_curl_abort_all(h->curl, fn, arg);
}

int oe_http_inflight(const oe_http *h)
{
    return h->h1 ? oe_h1_inflight(h->h1) : oe_curl_inflight(h->curl);
}

void oe_http_wakeup(oe_http *h)
{
    if (h->h1)
        oe_h1_wakeup(h->h1);
    else
        oe_curl_wakeup(h->curl);
}

void oe_http_free(oe_http *h)
{
    if (!h)
        return;
    oe_h1_free(h->h1);
    oe_curl_free(h->curl);
    free(h);
}
