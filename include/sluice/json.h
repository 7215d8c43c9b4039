/*
 * sluice JSON output — encode msgpack values and events as JSON, correctly for
 * every input: control characters escaped, invalid UTF-8 replaced by U+FFFD,
 * 64-bit integers exact, NaN/Infinity as null. Part of libsluice.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A growable byte buffer; zero-initialise, free with sl_buf_free. */
typedef struct sl_buf {
    char *data;
    size_t len, cap;
} sl_buf;

/** Make room for `extra` more bytes. Returns 0 or -1 (out of memory). */
int sl_buf_reserve(sl_buf *b, size_t extra);
/** Append n bytes. Returns 0 or -1. */
int sl_buf_append(sl_buf *b, const void *p, size_t n);
/** Append a NUL-terminated string. Returns 0 or -1. */
int sl_buf_puts(sl_buf *b, const char *s);
/** Free the memory and zero the buffer. */
void sl_buf_free(sl_buf *b);

/** Append s (len bytes) as a quoted JSON string. Returns 0 or -1. */
int sl_json_str(sl_buf *out, const char *s, size_t len);

/**
 * Append any msgpack value as JSON. Strings and binaries become strings,
 * a timestamp extension becomes an RFC 3339 string, other extensions null.
 * Returns 0, or -1 on malformed input or out of memory.
 */
int sl_json_value(sl_buf *out, const sl_value *v);

/**
 * Non-zero when sl_json_value can encode v given memory: it is well-formed
 * and within the nesting limits (100 containers deep, non-string keys inside
 * non-string keys at most 4 times). Allocates nothing, so a caller can tell
 * "this value can never be sent" from "out of memory, try again".
 */
int sl_json_encodable(const sl_value *v);

/** How sl_json_event_line writes the event time. */
typedef enum sl_time_format {
    SL_TIME_RFC3339 = 0, /**< "2026-11-29T14:57:11.123456789Z" */
    SL_TIME_UNIX,        /**< seconds, as a number with 9 decimals */
    SL_TIME_UNIX_MS,     /**< integer milliseconds */
    SL_TIME_UNIX_NS,     /**< integer nanoseconds */
} sl_time_format;

/**
 * Parse a time format name: "rfc3339" (or "iso8601"), "unix", "unix_ms",
 * "unix_ns". Returns 0 or -1.
 */
int sl_time_format_parse(const char *name, sl_time_format *out);

/**
 * Append one event as a JSON object and a newline: the body's fields at the
 * top level, and the event time under `time_key` (omitted when time_key is
 * NULL or empty, or when the body already has that key). A body that is not a
 * map is written under "body". Returns 0 or -1.
 */
int sl_json_event_line(sl_buf *out, const sl_event *ev, const char *time_key,
                       sl_time_format fmt);

/**
 * Append every event of b as a line of sl_json_event_line. An event that
 * cannot be written is left out (the buffer is as before it), and so is the
 * rest of a batch that stops being readable; *skipped (may be NULL) gets how
 * many were left out. Returns the number of lines written.
 */
uint32_t sl_json_batch_lines(sl_buf *out, const sl_batch *b, const char *time_key,
                             sl_time_format fmt, uint32_t *skipped);

/** Append the event time formatted as RFC 3339 (without quotes). */
int sl_json_rfc3339(sl_buf *out, int64_t time_ns);

#ifdef __cplusplus
}
#endif
#endif
