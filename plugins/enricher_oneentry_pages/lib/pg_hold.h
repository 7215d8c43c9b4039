/*
 * Setting pageId on a batch of events from their pageUrl: the page map,
 * the lookups table (pending, not found, failed) and the in-order hold.
 *
 * An enricher's process() owns its batch only until it returns, and the
 * core acknowledges a source's batch once every consumer is done with the
 * output made from it; so an event cannot wait in a later batch without
 * breaking the end-to-end guarantee. The hold is therefore the batch
 * itself: events go out in order until the first one whose handle is not
 * known; from there on the batch waits, with every unknown handle of the
 * batch asked for at once (the client bounds the requests in flight), until
 * each is answered or max_wait has passed since the batch came in. Then the
 * rest of the batch goes out in order: resolved events with pageId, the
 * others dead-lettered with the reason (or passed on without pageId). A
 * batch whose handles are all known never waits, and its events are
 * handled once. Memory: the batch (bounded by the core's queue) and the
 * lookups table (bounded by PG_MISS_MAX).
 *
 * Everything here runs on the enricher's thread. The network is behind
 * pg_io, so unit tests drive the hold with a fake clock and answers.
 */
#ifndef PG_HOLD_H
#define PG_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "pg_tab.h"
#include "sluice/event.h"

/* Most entries of the lookups table; when full, answers that expired go,
 * then every answer (pending lookups stay). */
#define PG_MISS_MAX 65536

/* How long a failed lookup (not a 404) is remembered: events with that
 * handle are set aside at once meanwhile instead of each batch waiting. */
#define PG_ERROR_TTL_MS 5000

/* What became of a lookup. */
typedef enum pg_kind {
    PG_R_FOUND = 1,     /* id set */
    PG_R_NOT_FOUND = 2, /* 404 */
    PG_R_FAILED = 3,    /* why set */
    PG_R_CANCELLED = 4, /* dropped before it was sent */
} pg_kind;

typedef struct pg_result {
    pg_kind kind;
    unsigned lang;
    const char *handle;
    size_t len;
    int64_t id;
    const char *why;
} pg_result;

/* The world outside the hold. */
typedef struct pg_io {
    void *ud;
    int64_t (*now_ms)(void *ud);
    /* Ask for (lang, handle): 0, or -1 (out of memory). Every accepted
     * request comes back through pg_hold_result exactly once. */
    int (*submit)(void *ud, unsigned lang, const char *handle, size_t len);
    /* Apply what has come in (pg_hold_result, pg_hold_set_map); quick. */
    void (*poll)(void *ud);
    /* Wait until something comes in or deadline_ms, then apply it. */
    void (*wait)(void *ud, int64_t deadline_ms);
    /* Drop the requests not sent yet (each comes back as PG_R_CANCELLED). */
    void (*cancel)(void *ud);
    /* Set the event aside with the reason: SL_OK, or SL_ERR. */
    int (*dead_letter)(void *ud, const sl_event *ev, const char *reason);
} pg_io;

typedef struct pg_lang {
    char *name;    /* as in the URL: "en" */
    size_t len;
    unsigned code; /* index into codes */
} pg_lang;

typedef struct pg_counts {
    uint64_t hits;       /* events given a pageId */
    uint64_t misses;     /* events whose handle was not in the map when they came */
    uint64_t unresolved; /* events left without pageId (dead-lettered or passed) */
} pg_counts;

typedef struct pg_hold {
    /* configuration (owned) */
    char **codes;          /* langCodes; codes[0] is the default */
    size_t ncodes;
    pg_lang *langs;        /* URL language -> langCode */
    size_t nlangs;
    int64_t max_wait_ms, negative_ttl_ms, stale_ms;
    int pass_unresolved;   /* else dead-letter */
    pg_io io;
    /* state */
    pg_tab map;            /* PG_PAGE entries */
    pg_tab miss;           /* PG_PENDING, PG_NOT_FOUND, PG_FAILED */
    uint32_t batch;        /* stamp of the batch being handled */
    size_t waiting;        /* its pending lookups not yet answered */
    pg_counts counts;
    char handle[PG_HANDLE_MAX + 1]; /* a percent-decoded handle */
} pg_hold;

/*
 * codes: the langCodes (codes[0] for events without pageLang); langs the
 * URL languages. Copies them. 0, or -1 with err.
 */
int pg_hold_init(pg_hold *h, const char *const *codes, size_t ncodes, const char *const *lang_names,
                 const unsigned *lang_codes, size_t nlangs, char *err, size_t errlen);
void pg_hold_free(pg_hold *h);

/* Replace the page map with *map (taken over; *map is left empty). */
void pg_hold_set_map(pg_hold *h, pg_tab *map);

/* Apply the answer to a lookup. */
void pg_hold_result(pg_hold *h, const pg_result *r);

/*
 * One batch: `in` to `out` as described above. SL_OK, or SL_ERR with err
 * when an event is malformed, memory runs out or a dead letter cannot be
 * written; `out` is then as it was.
 */
int pg_hold_process(pg_hold *h, const sl_batch *in, sl_builder *out, char *err, size_t errlen);

/* The langCode index of an event's pageLang (len bytes): a URL language
 * of the table, or a langCode itself. -1 when neither. */
int pg_hold_lang(const pg_hold *h, const char *s, size_t len);

#endif
