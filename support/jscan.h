/*
 * A small pull scanner over JSON text (RFC 8259), for reading the few fields
 * a component needs out of an answer or a file without building a tree:
 * the Pages API's page objects (enricher_oneentry_pages, and the OneEntry
 * emulator that serves them). Values nobody asks for are skipped without
 * recursion, so deep nesting costs no stack; strings are decoded (escapes,
 * \u surrogate pairs) into the caller's buffer.
 *
 *   sl_jscan j;
 *   sl_jscan_init(&j, text, len);
 *   if (sl_jscan_enter(&j, '[') < 0) ...
 *   while ((r = sl_jscan_more(&j, ']')) == 1) {   // one item per turn
 *       ... read or sl_jscan_skip() the item ...
 *   }
 *   r < 0: malformed (sl_jscan_error says where); 0: the array is closed.
 *
 * An object's members: sl_jscan_enter(&j, '{'), then per member
 * sl_jscan_more(&j, '}'), sl_jscan_key() and the value. Not thread-safe (one
 * scanner per caller); reads only inside [text, text + len).
 */
#ifndef SL_JSCAN_H
#define SL_JSCAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_jscan {
    const char *start, *p, *end;
    const char *why; /* first error, NULL while fine */
    size_t at;       /* its byte offset */
    int first;       /* the container just entered has had no item yet */
} sl_jscan;

void sl_jscan_init(sl_jscan *j, const char *text, size_t len);

/* The next significant character ('{', '[', '"', a digit, ...), or -1 at
 * the end of the text. Consumes nothing but whitespace. */
int sl_jscan_peek(sl_jscan *j);

/* Consume `open` ('[' or '{'). 0, or -1 when the next value is not one. */
int sl_jscan_enter(sl_jscan *j, char open);

/*
 * Inside a container entered with sl_jscan_enter: 1 when another item
 * follows (the ',' before it is consumed), 0 when `close` was consumed,
 * -1 on malformed text.
 */
int sl_jscan_more(sl_jscan *j, char close);

/* An object member's key (decoded into buf, NUL-terminated) and its ':'.
 * 0; 1 when the key is longer than cap - 1 bytes (consumed, buf ""); -1
 * when malformed. */
int sl_jscan_key(sl_jscan *j, char *buf, size_t cap, size_t *len);

/* A string value decoded into buf (cap bytes, NUL-terminated), *len its
 * length. 0; 1 when the value is not a string or longer than cap - 1 bytes
 * (nothing consumed: skip it); -1 when malformed. */
int sl_jscan_string(sl_jscan *j, char *buf, size_t cap, size_t *len);

/* An integer value (no fraction or exponent) in int64 range. 0; 1 when the
 * value is something else (nothing consumed); -1 when malformed. */
int sl_jscan_int(sl_jscan *j, int64_t *out);

/* Skip one complete value of any kind. 0 or -1. raw and raw_len (either may
 * be NULL) get the value's text. */
int sl_jscan_skip(sl_jscan *j, const char **raw, size_t *raw_len);

/* 0 when only whitespace is left, else -1. */
int sl_jscan_end(sl_jscan *j);

/* "what at byte N" of the first error, into buf. */
void sl_jscan_error(const sl_jscan *j, char *buf, size_t len);

#endif
