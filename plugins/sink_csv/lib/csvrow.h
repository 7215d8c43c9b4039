/*
 * sink_csv's rows: chosen body fields of an event as one RFC 4180 line.
 * Pure logic over sluice/event.h values, unit-tested without the core.
 */
#ifndef CSVROW_H
#define CSVROW_H

#include <stddef.h>

#include "sluice/event.h"
#include "sluice/json.h"

/* The column name that stands for the event time (RFC 3339). */
#define CSV_TIME_COLUMN "@time"

/* Append s (len bytes) as one field: quoted when it holds the delimiter, a
 * quote, CR or LF, with quotes doubled. Returns 0 or -1 (out of memory). */
int csv_field(sl_buf *out, const char *s, size_t len, char delim);

/* Append a value: strings as they are, numbers and booleans as text, nil
 * empty, arrays and maps as JSON. Returns 0 or -1. */
int csv_value(sl_buf *out, const sl_value *v, char delim, sl_buf *scratch);

/* Append the header line: the column names, CRLF-free ("\n" ended). */
int csv_header(sl_buf *out, const char *const *cols, size_t n, char delim);

/* Append one event's row; absent fields are empty. Returns 0 or -1. */
int csv_row(sl_buf *out, const sl_event *ev, const char *const *cols, size_t n, char delim,
            sl_buf *scratch);

#endif
