/*
 * enricher parse: a text field of each event (the line a source read) into
 * structured body fields, with the event time taken from the line.
 *
 * The output body is the input body (the raw line included unless
 * keep_raw: false) followed by the parsed fields; a parsed field replaces an
 * input field of the same name. Lines that do not parse are counted and then
 * kept with `_parse_error` (default), dropped, or written to a dead-letter
 * file. The line parsers live in lib/ (see lib/pline.h).
 *
 * process() keeps all its scratch (parsed fields, the input pair list, regex
 * match data, the dead-letter buffer) in the instance and there are no
 * mutable globals, so separate instances may run at the same time; one
 * instance is not re-entrant (the core serialises it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlfile.h"
#include "pline.h"
#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/json.h"
#include "sluice/plugin.h"

#define ERROR_LOG_EVERY 10000 /* log the 1st, 10001st, ... bad line */

typedef enum on_error { ON_ERROR_KEEP, ON_ERROR_DROP, ON_ERROR_DEAD_LETTER } on_error;

/* One pair of the input body, as encoded. */
typedef struct in_pair {
    sl_value k, v;
} in_pair;

typedef struct parse {
    sl_ctx *ctx;
    const sl_host *host;
    pline pl;
    pf_out o;
    char *field;
    size_t field_len;
    int keep_raw;
    on_error on_err;
    int dedupe;            /* formats whose fields may repeat a name */
    dlfile dl;             /* on_error dead_letter */
    sl_batch_builder tmp;  /* one rejected event, to render it as JSON */
    in_pair *in;           /* the current event's body pairs, read once */
    uint32_t nin, capin;
    uint64_t errors;
} parse;

static const sl_option options[] = {
    {"format", SL_OPT_STRING, "nginx_combined", 0, "how lines are written",
     "nginx_combined|apache_combined|common|json|regex|logfmt"},
    {"pattern", SL_OPT_STRING, NULL, 0,
     "format regex: PCRE2 pattern whose named groups (?<name>...) become fields", NULL},
    {"field", SL_OPT_STRING, "message", 0, "body field holding the line", NULL},
    {"keep_raw", SL_OPT_BOOL, "true", 0, "keep the line's field in the output body", NULL},
    {"types", SL_OPT_MAP, NULL, 0,
     "field: int|float|bool|string, casts applied after parsing", NULL},
    {"time_key", SL_OPT_STRING, "time", 0,
     "json/regex/logfmt: field whose value becomes the event time (empty = none)", NULL},
    {"time_format", SL_OPT_STRING, "auto", 0,
     "auto, clf, iso8601, epoch, epoch_ms, or a strptime format (%d/%b/%Y:%H:%M:%S %z)",
     NULL},
    {"request_key", SL_OPT_STRING, "request", 0,
     "json/regex/logfmt: field split into method, path, query, protocol (empty = none)",
     NULL},
    {"on_error", SL_OPT_STRING, "keep", 0,
     "lines that do not parse: keep (with _parse_error), drop, or dead_letter",
     "keep|drop|dead_letter"},
    {"dead_letter_path", SL_OPT_STRING, NULL, 0,
     "on_error dead_letter: JSON lines file (default <state_dir>/dead_letter.jsonl)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

static void parse_free(parse *p)
{
    if (!p)
        return;
    pline_free(&p->pl);
    pf_free(&p->o);
    dlfile_close(&p->dl);
    sl_bb_free(&p->tmp);
    free(p->in);
    free(p->field);
    free(p);
}

static int load_types(parse *p, const sl_host *host, const sl_node *types, char *err,
                      size_t errlen)
{
    size_t n = types ? host->node_len(types) : 0;
    if (n && host->node_kind(types) != SL_NODE_MAP) {
        snprintf(err, errlen, "types: expected a mapping field: type");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = host->node_str(host->node_at(types, i));
        char at[128] = "", why[256];
        if (t && pline_add_cast(&p->pl, host->node_key(types, i), t, why, sizeof why) == 0)
            continue;
        host->node_where(host->node_at(types, i), at, sizeof at);
        snprintf(err, errlen, "%s: %s", at, t ? why : "types: each value must be a type name");
        return -1;
    }
    return 0;
}

static int configure(parse *p, char *err, size_t errlen)
{
    const sl_host *h = p->host;
    pline_format f;
    const char *fmt = h->opt_str(p->ctx, "format");
    const char *on_err = h->opt_str(p->ctx, "on_error");
    const char *field = h->opt_str(p->ctx, "field");
    if (pline_format_parse(fmt, &f) != 0) {
        snprintf(err, errlen, "format: unknown format '%s'", fmt);
        return -1;
    }
    if (pline_init(&p->pl, f, h->opt_str(p->ctx, "pattern"), h->opt_str(p->ctx, "time_format"),
                   h->opt_str(p->ctx, "time_key"), h->opt_str(p->ctx, "request_key"), err,
                   errlen) != 0 ||
        load_types(p, h, h->opt_node(p->ctx, "types"), err, errlen) != 0)
        return -1;
    if (!field || !*field || !(p->field = strdup(field))) {
        snprintf(err, errlen, field && *field ? "out of memory" : "field: must not be empty");
        return -1;
    }
    p->field_len = strlen(field);
    p->keep_raw = h->opt_bool(p->ctx, "keep_raw");
    p->dedupe = f >= PL_JSON;
    p->on_err = !strcmp(on_err, "drop") ? ON_ERROR_DROP
              : !strcmp(on_err, "dead_letter") ? ON_ERROR_DEAD_LETTER : ON_ERROR_KEEP;
    if (p->on_err == ON_ERROR_DEAD_LETTER)
        return dlfile_open(&p->dl, h->opt_str(p->ctx, "dead_letter_path"),
                           h->state_dir(p->ctx), err, errlen);
    return 0;
}

static int parse_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                      size_t errlen)
{
    parse *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    p->ctx = ctx;
    p->host = host;
    dlfile_init(&p->dl);
    pf_init(&p->o);
    sl_bb_init(&p->tmp);
    if (configure(p, err, errlen) != 0) {
        parse_free(p);
        return SL_ERR;
    }
    *state = p;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* Writing events                                                      */
/* ------------------------------------------------------------------ */

static int is_key(const sl_value *k, const char *s, size_t n)
{
    return k->type == SL_STR && k->v.s.len == n && memcmp(k->v.s.ptr, s, n) == 0;
}

/* Read the input body's pairs once into p->in; every later step (finding
 * the line, counting and copying the kept fields) works from that list. */
static int read_input(parse *p, const sl_value *body)
{
    sl_iter it;
    int r;
    p->nin = 0;
    if (sl_iter_init(&it, body) != 0)
        return -1;
    for (;;) {
        if (p->nin == p->capin) {
            uint32_t cap = p->capin ? p->capin * 2 : 16;
            in_pair *n = cap > p->capin ? realloc(p->in, cap * sizeof *n) : NULL;
            if (!n)
                return -1;
            p->in = n;
            p->capin = cap;
        }
        in_pair *e = &p->in[p->nin];
        if ((r = sl_iter_next(&it, &e->k, &e->v)) != 1)
            return r;
        p->nin++;
    }
}

/* Keep this input body field in the output? */
static int keep_input(const parse *p, const sl_value *k, const char *extra, int keep_raw)
{
    if (k->type != SL_STR)
        return 1;
    if (!keep_raw && is_key(k, p->field, p->field_len))
        return 0;
    if (extra)
        return !is_key(k, extra, strlen(extra));
    return pf_find(&p->o, k->v.s.ptr, k->v.s.len) < 0;
}

/* Parsed field i is written unless a later one has its name (json, logfmt). */
static int keep_parsed(const parse *p, uint32_t i)
{
    if (!p->dedupe)
        return 1;
    size_t n;
    const char *k = pf_key(&p->o, i, &n);
    return pf_find(&p->o, k, n) == (int)i;
}

/* Which input pairs are kept: bit i of keep (at most 64 pairs tracked this
 * way; a wider body is checked again while copying). */
static uint32_t mark_input(const parse *p, const char *extra, int keep_raw, uint64_t *keep)
{
    uint32_t n = 0;
    *keep = 0;
    for (uint32_t i = 0; i < p->nin; i++)
        if (keep_input(p, &p->in[i].k, extra, keep_raw)) {
            n++;
            if (i < 64)
                *keep |= (uint64_t)1 << i;
        }
    return n;
}

static int copy_input(const parse *p, const char *extra, int keep_raw, uint64_t keep,
                      msgpack_packer *pk)
{
    int rc = 0;
    for (uint32_t i = 0; i < p->nin; i++) {
        if (i < 64 ? !(keep >> i & 1) : !keep_input(p, &p->in[i].k, extra, keep_raw))
            continue;
        const in_pair *e = &p->in[i];
        /* key and value are adjacent in the input: one copy for both */
        if (e->k.raw + e->k.raw_len == e->v.raw)
            rc |= pk->callback(pk->data, (const char *)e->k.raw, e->k.raw_len + e->v.raw_len);
        else
            rc |= sl_pack_value(pk, &e->k) | sl_pack_value(pk, &e->v);
    }
    return rc;
}

/* The parsed fields; when no field was replaced or left out they lie back
 * to back in the scratch buffer and go out in one copy. */
static int copy_parsed(const parse *p, msgpack_packer *pk)
{
    const pf_out *o = &p->o;
    int contiguous = !p->dedupe;
    for (uint32_t i = 0; contiguous && i + 1 < o->n; i++)
        contiguous = o->f[i].koff + o->f[i].klen == o->f[i].voff &&
                     o->f[i].voff + o->f[i].vlen == o->f[i + 1].koff;
    if (contiguous && o->n) {
        const pf_field *a = &o->f[0], *z = &o->f[o->n - 1];
        if (z->koff + z->klen == z->voff)
            return pk->callback(pk->data, o->sb.data + a->koff, z->voff + z->vlen - a->koff);
    }
    int rc = 0;
    for (uint32_t i = 0; i < o->n; i++) {
        if (!keep_parsed(p, i))
            continue;
        const pf_field *f = &o->f[i];
        rc |= pk->callback(pk->data, o->sb.data + f->koff, f->klen);
        rc |= pk->callback(pk->data, o->sb.data + f->voff, f->vlen);
    }
    return rc;
}

static int write_parsed(parse *p, const sl_event *ev, int64_t time_ns, sl_batch_builder *out)
{
    msgpack_packer *pk = &out->pk;
    uint32_t nparsed = 0;
    uint64_t keep;
    int rc = 0;
    uint32_t n = mark_input(p, NULL, p->keep_raw, &keep);
    for (uint32_t i = 0; i < p->o.n; i++)
        nparsed += keep_parsed(p, i);
    sl_bb_begin(out, time_ns);
    rc |= sl_pack_value(pk, &ev->meta);
    rc |= msgpack_pack_map(pk, n + nparsed);
    rc |= copy_input(p, NULL, p->keep_raw, keep, pk);
    rc |= copy_parsed(p, pk);
    sl_bb_end(out);
    return rc ? -1 : 0;
}

/* The input event with `_parse_error: why` (replacing an earlier one). The
 * line is all a failed event has, so it is kept whatever keep_raw says. */
static int write_failed(parse *p, const sl_event *ev, const char *why, sl_batch_builder *out)
{
    msgpack_packer *pk = &out->pk;
    uint64_t keep;
    int rc = 0;
    pf_reset(&p->o);
    uint32_t n = mark_input(p, "_parse_error", 1, &keep);
    sl_bb_begin(out, ev->time_ns);
    rc |= sl_pack_value(pk, &ev->meta);
    rc |= msgpack_pack_map(pk, n + 1);
    rc |= copy_input(p, "_parse_error", 1, keep, pk);
    rc |= sl_pack_cstr(pk, "_parse_error");
    rc |= sl_pack_cstr(pk, why);
    sl_bb_end(out);
    return rc ? -1 : 0;
}

/* Render the failed event as a JSON line for the dead-letter file. */
static int dead_letter(parse *p, const sl_event *ev, const char *why)
{
    sl_bb_reset(&p->tmp);
    if (write_failed(p, ev, why, &p->tmp) != 0 || p->tmp.count != 1)
        return -1;
    sl_batch b = sl_bb_batch(&p->tmp);
    sl_batch_iter it;
    sl_event fe;
    sl_batch_iter_init(&it, &b);
    if (sl_batch_next(&it, &fe) != 1)
        return -1;
    return sl_json_event_line(&p->dl.buf, &fe, "time", SL_TIME_RFC3339);
}

static void note_error(parse *p, const char *why)
{
    if (p->errors++ % ERROR_LOG_EVERY == 0)
        p->host->log(p->ctx, SL_LOG_WARN, "line does not parse: %s (%" PRIu64 " so far)",
                     why, p->errors);
}

/* ------------------------------------------------------------------ */
/* process                                                             */
/* ------------------------------------------------------------------ */

typedef struct tally {
    uint64_t errors, dropped, dead;
} tally;

/* The line of an event: the `field` string (or binary) of its body. */
static int find_line(const parse *p, const char **s, size_t *n)
{
    for (uint32_t i = 0; i < p->nin; i++) {
        const in_pair *e = &p->in[i];
        if (!is_key(&e->k, p->field, p->field_len))
            continue;
        if (e->v.type != SL_STR && e->v.type != SL_BIN)
            return -1;
        *s = e->v.v.s.ptr;
        *n = e->v.v.s.len;
        return 0;
    }
    return -1;
}

static int one_event(parse *p, const sl_event *ev, sl_batch_builder *out, tally *t)
{
    char why[256];
    const char *s;
    size_t n;
    int64_t ns = ev->time_ns;
    int has_time;
    if (read_input(p, &ev->body) != 0)
        return -1;
    if (find_line(p, &s, &n) != 0)
        snprintf(why, sizeof why, "no text field '%s' in the event", p->field);
    else if (pline_parse(&p->pl, s, n, &p->o, &ns, &has_time, why, sizeof why) == 0)
        return write_parsed(p, ev, has_time ? ns : ev->time_ns, out);
    t->errors++;
    note_error(p, why);
    switch (p->on_err) {
    case ON_ERROR_DROP:
        t->dropped++;
        return 0;
    case ON_ERROR_DEAD_LETTER:
        t->dead++;
        return dead_letter(p, ev, why);
    case ON_ERROR_KEEP:
        break;
    }
    return write_failed(p, ev, why, out);
}

static int parse_process(void *state, const sl_batch *in, sl_batch_builder *out, char *err,
                         size_t errlen)
{
    parse *p = state;
    sl_batch_iter it;
    sl_event ev;
    tally t = {0, 0, 0};
    uint32_t i = 0;
    int r;
    size_t size0 = out->sbuf.size;
    uint32_t count0 = out->count;
    dlfile_discard(&p->dl);
    sl_batch_iter_init(&it, in);
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        if (one_event(p, &ev, out, &t) != 0) {
            snprintf(err, errlen, "event %u: out of memory or malformed body", i);
            goto fail;
        }
        i++;
    }
    if (r != 0) {
        snprintf(err, errlen, "event %u: malformed event", i);
        goto fail;
    }
    /* Dead letters reach the file before the batch moves on, so a rejected
     * line is never acknowledged without being written somewhere. */
    if (p->dl.buf.len && dlfile_flush(&p->dl, err, errlen) != 0)
        goto fail;
    if (t.errors)
        p->host->count(p->ctx, "parse_errors", t.errors);
    if (t.dropped)
        p->host->count(p->ctx, "dropped", t.dropped);
    if (t.dead)
        p->host->count(p->ctx, "dead_lettered", t.dead);
    return SL_OK;
fail:
    /* Leave `out` as we found it: the core passes `in` on unchanged. */
    out->sbuf.size = size0;
    out->count = count0;
    return SL_ERR;
}

static void parse_destroy(void *state)
{
    parse_free(state);
}

/* The fields each format produces are part of the plugin's contract (rules
 * and sinks name them), so `plugins describe` and docs/plugins list them;
 * integration.parse_formats checks this table against real output. */
#define FIELDS_DOC                                                                         \
    "Parses a text field (nginx/apache combined, common, json, regex, logfmt) into body "  \
    "fields after the input's; the log time becomes the event time; the request line is "  \
    "split into method, path, query and protocol.\n"                                       \
    "\n"                                                                                   \
    "Fields it adds (combined = nginx_combined and apache_combined; json, regex and "      \
    "logfmt get the request fields from request_key's field; `types` casts afterwards):\n" \
    "\n"                                                                                   \
    "| field | type | formats | notes |\n"                                                 \
    "|---|---|---|---|\n"                                                                  \
    "| `remote_addr` | string | combined, common | client address |\n"                     \
    "| `remote_user` | string | combined, common | `-` when none |\n"                       \
    "| `time` | string | combined, common | as logged; also the event time |\n"            \
    "| `method` | string | all | from the request line |\n"                                \
    "| `path` | string | all | the target without its query |\n"                          \
    "| `query` | map | all | parameter: string (a list of strings when repeated); "        \
    "absent without `?` |\n"                                                              \
    "| `protocol` | string | all | `HTTP/1.1`; absent for HTTP/0.9 |\n"                    \
    "| `request` | string | all | the line as logged when it is not METHOD TARGET HTTP/x "  \
    "(then none of the four above) |\n"                                                   \
    "| `status` | int | combined, common | |\n"                                           \
    "| `body_bytes_sent` | int | combined, common | `-` is 0 |\n"                          \
    "| `http_referer` | string | combined | `-` when none |\n"                             \
    "| `http_user_agent` | string | combined | |\n"                                        \
    "| each key | as in the JSON | json | objects and arrays stay maps and lists |\n"      \
    "| each key | string | logfmt | a bare key is `true` (bool) |\n"                      \
    "| each named group | string | regex | |\n"                                            \
    "| `_parse_error` | string | all | why the line did not parse (on_error: keep) |"

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "parse", "1.0.0"),
    .description = FIELDS_DOC,
    .options = options,
    .init = parse_init,
    .process = parse_process,
    .destroy = parse_destroy,
};
