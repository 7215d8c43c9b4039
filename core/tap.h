/*
 * Live taps: a copy of the events one component emits (a sink: receives),
 * rendered as JSON lines for the admin endpoint's /tap/<name>. Publishing
 * costs one atomic load while nobody listens. A slow reader never slows the
 * pipeline: its buffer is bounded and what does not fit is dropped (counted
 * in the stream as a {"tap_dropped":N} line). Rendering runs on the thread
 * that publishes, so a tap also has a rate budget (events per second, 1000
 * unless asked otherwise): one reader costs a bounded share of a busy
 * pipeline, and a quiet one is shown whole.
 */
#ifndef SL_TAP_H
#define SL_TAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"
#include "sluice/json.h"

#define SL_TAP_MAX_BYTES (1024 * 1024)

typedef struct sl_tap {
    struct sl_tap *next;
    sl_buf buf;       /* rendered lines not yet read */
    size_t read_pos;  /* consumed prefix of buf */
    uint64_t sample;  /* keep 1 event in `sample` */
    uint64_t seen;
    uint64_t limit;   /* end after this many events; 0 = no limit */
    uint64_t sent;
    uint64_t dropped; /* since the last report line */
    uint64_t max_rate;  /* events per second shown; 0 = all */
    uint64_t in_window; /* shown in the current second */
    int64_t window_ms;  /* start of that second */
    uint64_t skipped;   /* over the budget */
    int closed;
} sl_tap;

typedef struct sl_taps {
    pthread_mutex_t mu;
    pthread_cond_t ready;
    atomic_int n;
    sl_tap *list;
    const char *const *masks; /* key words masked besides the defaults */
} sl_taps;

void sl_taps_init(sl_taps *t);
void sl_taps_destroy(sl_taps *t);

/* Render the events of b into every tap (no-op without listeners). */
void sl_taps_publish(sl_taps *t, const sl_batch *b);

/* Subscribe: keep one event in `sample`, at most `max_rate` a second (0 = no
 * cap), end after `limit` (0 = never). NULL on out of memory. */
sl_tap *sl_tap_open(sl_taps *t, uint64_t sample, uint64_t limit, uint64_t max_rate);

/*
 * Copy up to `max` rendered bytes into out, waiting up to wait_ms for some.
 * Returns the byte count, 0 when nothing came in time, -1 when the stream
 * has ended (closed, or its limit reached and drained).
 */
long sl_tap_read(sl_taps *t, sl_tap *tap, char *out, size_t max, int wait_ms);

/* Unsubscribe and free. */
void sl_tap_close(sl_taps *t, sl_tap *tap);

/* End every stream (pipeline stopping); readers drain and see -1. */
void sl_taps_close_all(sl_taps *t);

/* One event as a tap line: {"time":...,"meta":{...},"body":{...}}\n with
 * the values of keys that look secret (token, secret, password, cookie,
 * session, jwt, ... and the words in `extra`, NULL-terminated, may be NULL)
 * replaced by "***" at every depth. Returns 0 or -1. */
int sl_tap_render(sl_buf *out, const sl_event *ev, const char *const *extra);

#endif
