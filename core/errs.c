/* Error list: collects every message so `sluice validate` can show them all. */
#include "errs.h"
#include "node.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out of memory must still be visible, so it lives in static storage that
 * sl_errs_free knows not to release. */
static char oom_msg[] = "out of memory while collecting errors";
static char *oom_list[1] = {oom_msg};

static void mark_oom(sl_errs *e)
{
    if (e->n > 0 && e->msg[e->n - 1] == oom_msg)
        return;
    if (e->n < e->cap) {
        e->msg[e->n++] = oom_msg;
    } else if (e->msg == NULL) {
        e->msg = oom_list;
        e->n = e->cap = 1;
    } else {
        /* No spare slot: replace the last message so the failure shows. */
        if (e->msg[e->n - 1] != oom_msg)
            free(e->msg[e->n - 1]);
        e->msg[e->n - 1] = oom_msg;
    }
}

static void add(sl_errs *e, char *m)
{
    if (!m) {
        mark_oom(e);
        return;
    }
    /* Once memory ran out the list is closed; later messages would hide it. */
    if (e->n > 0 && e->msg[e->n - 1] == oom_msg) {
        free(m);
        return;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        char **nm = realloc(e->msg == oom_list ? NULL : e->msg, cap * sizeof *nm);
        if (!nm) {
            free(m);
            mark_oom(e);
            return;
        }
        e->msg = nm;
        e->cap = cap;
    }
    e->msg[e->n++] = m;
}

static char *vformat(const char *prefix, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    size_t plen = strlen(prefix);
    char *m = malloc(plen + (size_t)n + 1);
    if (!m)
        return NULL;
    memcpy(m, prefix, plen);
    vsnprintf(m + plen, (size_t)n + 1, fmt, ap);
    return m;
}

void sl_errs_addf(sl_errs *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(e, vformat("", fmt, ap));
    va_end(ap);
}

void sl_errs_at(sl_errs *e, const sl_node *at, const char *fmt, ...)
{
    char where[512] = "";
    if (at) {
        sl_node_where(at, where, sizeof where - 2);
        strcat(where, ": ");
    }
    va_list ap;
    va_start(ap, fmt);
    add(e, vformat(where, fmt, ap));
    va_end(ap);
}

void sl_errs_free(sl_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->msg[i] != oom_msg)
            free(e->msg[i]);
    if (e->msg != oom_list)
        free(e->msg);
    e->msg = NULL;
    e->n = e->cap = 0;
}
