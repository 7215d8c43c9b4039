/*
 * The admin endpoint (libmicrohttpd), off unless service.admin is set:
 *   GET /metrics       Prometheus text: per-component counters and gauges
 *   GET /health        readiness as JSON; 200 ready, 503 not (starting,
 *                      stopping, a component failed, a sink stuck)
 *   GET /live          200 while the process serves requests
 *   GET /tap/<name>    live JSON lines of what <name> emits (?sample=N&limit=N)
 *   POST /reload       call the reload function the program gave (sluice run:
 *                      reload the pipeline file, as SIGHUP does)
 */
#ifndef SL_ADMIN_H
#define SL_ADMIN_H

#include <stddef.h>

#include "engine.h"

typedef struct sl_admin sl_admin;

/* What POST /reload calls, on an admin thread: keep it to setting a flag. */
typedef void (*sl_admin_reload_fn)(void *arg);

/* Listen on the service's admin address (nothing when unset). `reload` may
 * be NULL: POST /reload then answers 501. Returns 0 or -1 with err. */
int sl_admin_start(sl_engine *e, sl_admin_reload_fn reload, void *reload_arg, sl_admin **out,
                   char *err, size_t errlen);

/* End tap streams and stop serving. NULL is fine. */
void sl_admin_stop(sl_admin *a);

/* The Prometheus text (for tests); malloc'd, NULL on out of memory. */
char *sl_admin_metrics_text(sl_engine *e);

/* The /health JSON and whether the pipeline is ready (for tests). */
char *sl_admin_health_json(sl_engine *e, int *ready);

#endif
