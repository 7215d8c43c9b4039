/*
 * What OneEntry said when it refused an event, as text for a dead letter's
 * reason. An error answer is a JSON object whose "message" is a string (or,
 * from a validation pipe, an array of strings); anything else (an HTML page
 * of a proxy, plain text) is kept as it is. See docs/oneentry-contract.md.
 * Pure: no I/O, safe from any thread.
 */
#ifndef OE_ANSWER_H
#define OE_ANSWER_H

#include <stddef.h>

/* Longest message kept from an answer, in bytes. */
#define OE_ANSWER_MESSAGE_MAX 1024

/*
 * The server's message in answer body[0..len): the JSON error object's
 * "message" with its escapes decoded (array items joined with "; "), else
 * the body itself with surrounding white space trimmed. At most
 * OE_ANSWER_MESSAGE_MAX bytes and outlen - 1, NUL-terminated, never an
 * embedded NUL. Returns its length (0: the answer says nothing).
 */
size_t oe_answer_message(const char *body, size_t len, char *out, size_t outlen);

/*
 * A dead letter's reason for an answered request: "<what> (HTTP <status>)",
 * then ": <message>" when the answer has one. Always NUL-terminated.
 */
void oe_answer_reason(char *out, size_t outlen, const char *what, long status,
                      const char *body, size_t len);

#endif
