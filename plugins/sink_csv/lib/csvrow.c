/* sink_csv's rows: see csvrow.h. */
#include "csvrow.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int needs_quotes(const char *s, size_t len, char delim)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return 1;
    return 0;
}

int csv_field(sl_buf *out, const char *s, size_t len, char delim)
{
    if (!needs_quotes(s, len, delim))
        return sl_buf_append(out, s, len);
    if (sl_buf_append(out, "\"", 1) < 0)
        return -1;
    for (const char *q; len && (q = memchr(s, '"', len));) {
        size_t n = (size_t)(q - s) + 1;
        if (sl_buf_append(out, s, n) < 0 || sl_buf_append(out, "\"", 1) < 0)
            return -1;
        s += n;
        len -= n;
    }
    return sl_buf_append(out, s, len) < 0 || sl_buf_append(out, "\"", 1) < 0 ? -1 : 0;
}

int csv_value(sl_buf *out, const sl_value *v, char delim, sl_buf *scratch)
{
    char num[32];
    int n;
    switch (v->type) {
    case SL_NIL: return 0;
    case SL_STR:
    case SL_BIN: return csv_field(out, v->v.s.ptr, v->v.s.len, delim);
    case SL_BOOL: return sl_buf_puts(out, v->v.b ? "true" : "false");
    case SL_UINT: n = snprintf(num, sizeof num, "%" PRIu64, v->v.u); break;
    case SL_INT: n = snprintf(num, sizeof num, "%" PRId64, v->v.i); break;
    default:
        /* floats, arrays, maps, timestamps: the JSON text, exact and escaped */
        scratch->len = 0;
        if (sl_json_value(scratch, v) < 0)
            return -1;
        if (v->type == SL_EXT && scratch->len >= 2 && scratch->data[0] == '"')
            return csv_field(out, scratch->data + 1, scratch->len - 2, delim);
        return csv_field(out, scratch->data, scratch->len, delim);
    }
    return sl_buf_append(out, num, (size_t)n);
}

int csv_header(sl_buf *out, const char *const *cols, size_t n, char delim)
{
    for (size_t i = 0; i < n; i++)
        if ((i && sl_buf_append(out, &delim, 1) < 0) ||
            csv_field(out, cols[i], strlen(cols[i]), delim) < 0)
            return -1;
    return sl_buf_append(out, "\n", 1);
}

int csv_row(sl_buf *out, const sl_event *ev, const char *const *cols, size_t n, char delim,
            sl_buf *scratch)
{
    size_t len0 = out->len;
    for (size_t i = 0; i < n; i++) {
        sl_value v;
        int rc = 0;
        if (i && sl_buf_append(out, &delim, 1) < 0)
            rc = -1;
        else if (!strcmp(cols[i], CSV_TIME_COLUMN))
            rc = sl_json_rfc3339(out, ev->time_ns);
        else if (sl_map_gets(&ev->body, cols[i], &v) == 1)
            rc = csv_value(out, &v, delim, scratch);
        if (rc < 0) {
            out->len = len0; /* no half row */
            return -1;
        }
    }
    return sl_buf_append(out, "\n", 1);
}
