/*
 * The built-in HTTP/1.1 client (see oe_h1.c): same contract as oe_http.h,
 * for plain http:// URLs reached without a proxy.
 */
#ifndef OE_H1_H
#define OE_H1_H

#include "oe_http.h"

typedef struct oe_h1 oe_h1;

int oe_h1_new(oe_h1 **out, const oe_http_cfg *cfg, char *err, size_t errlen);
int oe_h1_start(oe_h1 *h, const char *ident, const char *body, size_t len, void *user);
void oe_h1_wait(oe_h1 *h, int timeout_ms);
int oe_h1_next(oe_h1 *h, oe_http_done *d);
int oe_h1_abort_all(oe_h1 *h, void (*fn)(void *user, void *arg), void *arg);
int oe_h1_inflight(const oe_h1 *h);
void oe_h1_wakeup(oe_h1 *h);
void oe_h1_free(oe_h1 *h);

#endif
