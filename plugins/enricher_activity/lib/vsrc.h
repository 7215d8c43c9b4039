/*
 * Where a value comes from: a regex capture, a query parameter, a body field
 * (dotted path into nested maps), a cookie, or a constant. Written in the
 * pipeline as `capture:NAME`, `param:NAME`, `field:a.b`, `cookie:NAME`, or a
 * plain constant.
 */
#ifndef VSRC_H
#define VSRC_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

typedef enum vs_kind {
    VS_NONE = 0,
    VS_CAPTURE,
    VS_PARAM,
    VS_FIELD,
    VS_COOKIE,
    VS_CONST_INT,
    VS_CONST_STR,
} vs_kind;

typedef struct vsrc {
    vs_kind kind;
    char *name;       /* capture/param/field/cookie name, or the constant text */
    size_t name_len;
    uint32_t group;   /* VS_CAPTURE: group number, resolved against the rule's regex */
    int64_t i;        /* VS_CONST_INT */
} vsrc;

/* A value found for an event: text (pointing into the event or the config)
 * or an integer. */
typedef struct vval {
    int found;
    int is_int;
    int64_t i;
    const char *s;
    size_t n;
} vval;

/*
 * Parse a source. `bare_is_field` makes a text without prefix a field name
 * (identity options) instead of a constant (meta values); `quoted` keeps a
 * quoted YAML scalar a string constant. Returns 0 or -1 with err.
 */
int vsrc_parse(vsrc *v, const char *text, int quoted, int bare_is_field, char *err,
               size_t errlen);
void vsrc_free(vsrc *v);

/* The named cookie in a Cookie header value ("a=1; b=2"). 1 found, 0 not. */
int vsrc_cookie(const char *hdr, size_t n, const char *name, size_t name_len,
                const char **val, size_t *val_len);

/* Body value at a dotted path ("user.id"): 1 found (*out set), 0 absent. */
int vsrc_field(const sl_value *body, const char *path, size_t n, sl_value *out);

#endif
