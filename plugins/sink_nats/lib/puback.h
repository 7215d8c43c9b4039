/*
 * JetStream's answer to a publish: {"stream":"S","seq":7} (stored),
 * {"stream":"S","seq":7,"duplicate":true} (stored before, dropped now), or
 * {"error":{"code":503,"err_code":10077,"description":"..."}}. An empty
 * answer with a status header (503: no stream listens on the subject) is
 * judged by the caller.
 */
#ifndef NS_PUBACK_H
#define NS_PUBACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ns_puback {
    int ok;            /* stored (maybe as a duplicate) */
    int duplicate;
    uint64_t seq;      /* stream sequence when ok */
    int code;          /* error: HTTP-like code */
    int err_code;      /* error: JetStream error code */
    char desc[200];    /* error: description, or what was wrong with the answer */
} ns_puback;

/* Read an answer. Never fails: what is not a success is an error. */
void ns_puback_parse(const char *data, size_t len, ns_puback *out);

/* JetStream error codes after which publishing the same message again
 * can never succeed (it is too big for the stream). */
int ns_puback_permanent(const ns_puback *a);

#endif
