/*
 * The Pages API client: one worker thread driving libcurl's multi interface.
 * It loads every page of each langCode (GET {url}{path}?langCode=...) at
 * start and every refresh interval (sooner after a failure, backing off from
 * 1 s to a minute), and looks single handles up (GET {url}{path}/url/{handle}
 * ?langCode=...) as the enricher asks, at most max_lookups at a time; the
 * others queue. Connections are kept alive and reused; HTTP/2 when the
 * server offers it.
 *
 * Answers reach the enricher's thread through a mailbox: a complete new map
 * and a list of lookup answers, taken together with pg_client_take. The
 * enricher's tables are only ever touched by the enricher's thread, so the
 * per-event path takes no lock: it checks one atomic flag per batch.
 *
 * The hooks run on the worker thread.
 */
#ifndef PG_CLIENT_H
#define PG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "pg_hold.h"
#include "pg_tab.h"

typedef struct pg_client_cfg {
    const char *url;        /* project URL, e.g. https://x.oneentry.cloud */
    const char *path;       /* "/api/content/pages" */
    const char *token;      /* x-app-token; NULL or "" = none */
    const char *ca_file;    /* NULL or "" = the system's */
    int tls_verify;
    long connect_timeout_ms, timeout_ms;
    int max_lookups;        /* lookups in flight at most */
    const char *const *codes; /* langCodes, by index */
    size_t ncodes;
    int64_t refresh_ms;
    void *ud;               /* for the hooks */
    /* A new map is complete (skipped: page objects without id or pageUrl):
     * save it. It is handed to the enricher after this returns. */
    void (*loaded)(void *ud, const pg_tab *map, size_t skipped);
    /* Loading the pages failed; the enricher keeps the map it has. */
    void (*load_failed)(void *ud, const char *why);
    /* A lookup was answered (any pg_kind but PG_R_CANCELLED). */
    void (*looked_up)(void *ud, const pg_result *r);
} pg_client_cfg;

typedef struct pg_client pg_client;

/* What pg_client_take hands over: lookup answers, strings owned. */
typedef struct pg_answers {
    pg_result *v;
    size_t n, cap;
} pg_answers;

void pg_answers_clear(pg_answers *a);
void pg_answers_free(pg_answers *a);

/* Start the worker, which loads the pages at once. 0, or -1 with err. */
int pg_client_start(pg_client **out, const pg_client_cfg *cfg, char *err, size_t errlen);

/* Ask for a handle (copied). 0, or -1 (out of memory). */
int pg_client_submit(pg_client *c, unsigned lang, const char *handle, size_t len);

/* Drop the lookups not started yet, calling fn for each (PG_R_CANCELLED). */
void pg_client_cancel(pg_client *c, void (*fn)(void *arg, const pg_result *r), void *arg);

/* Non-zero when something waits to be taken (a cheap atomic read). */
int pg_client_news(pg_client *c);

/*
 * Take what came in: *map gets a new complete map when there is one
 * (*has_map = 1; the caller owns it), answers get the lookup answers
 * (appended; clear them after use).
 */
void pg_client_take(pg_client *c, pg_tab *map, int *has_map, pg_answers *answers);

/* Wait until there is news or the monotonic clock reaches deadline_ms. */
void pg_client_wait(pg_client *c, int64_t deadline_ms);

/* Loads of the page list finished so far, failed ones included. */
int pg_client_loads(pg_client *c);

/* Stop the worker (answers in flight are dropped) and free everything. */
void pg_client_stop(pg_client *c);

#endif
