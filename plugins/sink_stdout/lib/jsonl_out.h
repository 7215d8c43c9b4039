/*
 * JSON-lines output shared by sink_stdout and sink_file: the time_key and
 * time_format options, a batch encoded into one buffer, and the count and
 * throttled log of events that cannot be written as JSON (skipped: a retry
 * would fail forever and hold back every later batch).
 */
#ifndef JSONL_OUT_H
#define JSONL_OUT_H

#include "sluice/host.h"
#include "sluice/json.h"

/* Option table rows; put them in the plugin's own sl_option array. */
#define JSONL_OUT_OPTIONS                                                          \
    {"time_key", SL_OPT_STRING, "time", 0,                                         \
     "field holding the event time (empty = no time field)", NULL},                \
    {"time_format", SL_OPT_STRING, "rfc3339", 0, "how the time is written",       \
     "rfc3339|unix|unix_ms|unix_ns"}

typedef struct jsonl_out {
    sl_ctx *ctx;
    const sl_host *host;
    char *time_key;
    sl_time_format fmt;
    uint64_t invalid; /* events skipped so far */
    sl_buf buf;       /* the last batch's lines */
} jsonl_out;

/* Reads time_key and time_format. 0, or -1 with err (nothing to free). */
int jsonl_out_init(jsonl_out *o, sl_ctx *ctx, const sl_host *host, char *err, size_t errlen);

/* The batch as JSON lines in o->buf (replacing what was there). */
void jsonl_out_encode(jsonl_out *o, const sl_batch *batch);

void jsonl_out_free(jsonl_out *o);

#endif
