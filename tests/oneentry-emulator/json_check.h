/*
 * A strict, allocation-free JSON (RFC 8259) validator for request bodies.
 *
 * Hand-written rather than a library because the emulator must judge the
 * sink's encoder, not repair it: it accepts numbers of any size (jansson
 * refuses integers beyond 64 bits, which are valid JSON), rejects invalid
 * UTF-8 and unpaired \u surrogates (what a correct encoder never emits), and
 * lets the caller see every top-level member, duplicates included, without
 * building a tree per request.
 */
#ifndef OE_JSON_CHECK_H
#define OE_JSON_CHECK_H

#include <stddef.h>

#define JC_MAX_DEPTH 64

typedef enum jc_type {
    JC_STRING, JC_NUMBER, JC_OBJECT, JC_ARRAY, JC_TRUE, JC_FALSE, JC_NULL
} jc_type;

/* One member of the top-level object; pointers into the checked text. */
typedef struct jc_member {
    const char *key;   /* raw key including its quotes, escapes undecoded */
    size_t key_len;
    jc_type type;
    const char *val;   /* raw value text (a string includes its quotes) */
    size_t val_len;
} jc_member;

/* Called per member in order; return 0 to go on, -1 to stop (err filled). */
typedef int (*jc_member_fn)(void *ud, const jc_member *m, char *err, size_t errlen);

/*
 * Checks that s[0..n) is exactly one JSON object (surrounding whitespace
 * allowed) and calls fn for each of its members. Returns 0, or -1 with a
 * message naming the problem and its byte offset in err.
 */
int jc_check_object(const char *s, size_t n, jc_member_fn fn, void *ud,
                    char *err, size_t errlen);

/*
 * Decodes a raw JSON string (with quotes, already validated) into UTF-8 in
 * out (cap bytes, NUL-terminated). Returns the decoded length, or -1 if it
 * does not fit — callers use a small buffer to compare against known names.
 */
long jc_string_decode(const char *raw, size_t raw_len, char *out, size_t cap);

#endif
