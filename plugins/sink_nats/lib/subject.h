/*
 * Subject templates: "activity.{type}" is the literal text with each
 * {field} replaced by that body field's value (a dotted path reaches into
 * nested maps). A value becomes one subject token: characters NATS gives a
 * meaning to ('.', '*', '>', spaces, control characters) become '_', an
 * empty, missing or non-scalar value is "_", and a value is cut at
 * NS_TOKEN_MAX bytes, so any event yields a valid subject.
 */
#ifndef NS_SUBJECT_H
#define NS_SUBJECT_H

#include <stddef.h>

#include "sluice/event.h"

#define NS_TOKEN_MAX 128
#define NS_TEMPLATE_MAX 512
#define NS_SUBJECT_MAX (NS_TEMPLATE_MAX + 16 * NS_TOKEN_MAX)

typedef struct ns_subject ns_subject;

/* Parse a template. 0, or -1 with the reason in err (*out untouched). */
int ns_subject_parse(const char *tmpl, ns_subject **out, char *err, size_t errlen);
void ns_subject_free(ns_subject *t);

/* Number of {field}s in the template. */
size_t ns_subject_fields(const ns_subject *t);

/*
 * Write the subject for an event with this body into buf (NUL-terminated;
 * cap >= NS_SUBJECT_MAX always suffices). Returns how many fields were
 * missing or not scalars (each became "_").
 */
unsigned ns_subject_render(const ns_subject *t, const sl_value *body, char *buf, size_t cap);

/*
 * The subjects a stream needs to hold every rendering: the tokens before
 * the first one with a field, then ">" ("activity.>"); the template itself
 * when it has no field. NULL (and a reason in err) when the first token
 * already has a field, or out of memory. The caller frees it.
 */
char *ns_subject_wildcard(const ns_subject *t, char *err, size_t errlen);

#endif
