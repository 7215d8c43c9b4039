/*
 * JSON-lines output shared by sink_stdout and sink_file: the time_key and
 * time_format options, a batch encoded into one buffer, and the count and
 * throttled log of events that cannot be written as JSON (skipped: a retry
 * would fail forever and hold back every later batch).
 */
#ifndef SL_JSONL_H
#define SL_JSONL_H

#include "sluice/host.h"
#include "sluice/json.h"

/* Option table rows; put them in the plugin's own sl_option array. */
#define SL_JSONL_OPTIONS                                                           \
    {"time_key", SL_OPT_STRING, "time", 0,                                         \
     "field holding the event time (empty = no time field)", NULL, NULL, NULL, 0}, \
    {"time_format", SL_OPT_STRING, "rfc3339", 0, "how the time is written",       \
     "rfc3339|unix|unix_ms|unix_ns", NULL, NULL, 0}

typedef struct sl_jsonl {
    sl_ctx *ctx;
    const sl_host *host;
    char *time_key;
    sl_time_format fmt;
    sl_metric *invalid_metric; /* events_invalid */
    uint64_t invalid;          /* events skipped so far */
    sl_buf buf;                /* the last batch's lines */
} sl_jsonl;

/* Reads time_key and time_format, registers events_invalid. 0, or -1 with
 * err (nothing to free). Call from init(). */
int sl_jsonl_init(sl_jsonl *o, sl_ctx *ctx, const sl_host *host, char *err, size_t errlen);

/* The batch as JSON lines in o->buf (replacing what was there). */
void sl_jsonl_encode(sl_jsonl *o, const sl_batch *batch);

void sl_jsonl_free(sl_jsonl *o);

#endif
