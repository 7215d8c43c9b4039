/*
 * enricher parse: a text field of each event (the line a source read) into
 * structured body fields, with the event time taken from the line.
 *
 * The output body is the input body (the raw line included unless
 * keep_raw: false) followed by the parsed fields; a parsed field replaces an
 * input field of the same name. Lines that do not parse are counted and then
 * kept with `_parse_error` (default), dropped, or set aside with the host's
 * dead letters. The line parsers live in lib/ (see lib/pline.h).
 *
 * process() keeps all its scratch (parsed fields, body edits, regex match
 * data) in the instance and there are no mutable globals, so separate
 * instances may run at the same time; one instance is not re-entrant (the
 * core serialises it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pline.h"
#include "throttle.h"
#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

#define ERROR_LOG_EVERY 10000 /* log the 1st, 10001st, ... bad line */
#define LIMIT_LOG_MS 60000    /* at most one regex-limit warning a minute */

typedef enum on_error { ON_ERROR_KEEP, ON_ERROR_DROP, ON_ERROR_DEAD_LETTER } on_error;

/* One pair of the input body, as read. */
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
    in_pair *in;           /* the current event's body pairs, read once */
    uint32_t nin, capin;
    sl_metric *m_errors, *m_dropped, *m_dead, *m_limit;
    uint64_t errors;
    sl_throttle limit_log;
} parse;

static const sl_option options[] = {
    {"format", SL_OPT_STRING, "nginx_combined", 0, "how lines are written",
     "nginx_combined|apache_combined|common|json|regex|logfmt", NULL, NULL, 0},
    {"pattern", SL_OPT_STRING, NULL, 0,
     "format regex: PCRE2 pattern whose named groups (?<name>...) become fields", NULL, NULL,
     NULL, SL_OPT_F_NONEMPTY},
    {"field", SL_OPT_STRING, "message", 0, "body field holding the line", NULL, NULL, NULL,
     SL_OPT_F_NONEMPTY},
    {"keep_raw", SL_OPT_BOOL, "true", 0, "keep the line's field in the output body", NULL,
     NULL, NULL, 0},
    {"types", SL_OPT_MAP, NULL, 0,
     "field: int|float|bool|string, casts applied after parsing", NULL, NULL, NULL, 0},
    {"time_key", SL_OPT_STRING, "time", 0,
     "json/regex/logfmt: field whose value becomes the event time (empty = none)", NULL,
     NULL, NULL, 0},
    {"time_format", SL_OPT_STRING, "auto", 0,
     "auto, clf, iso8601, epoch, epoch_ms, or a strptime format (%d/%b/%Y:%H:%M:%S %z)",
     NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"request_key", SL_OPT_STRING, "request", 0,
     "json/regex/logfmt: field split into method, path, query, protocol (empty = none)",
     NULL, NULL, NULL, 0},
    {"on_error", SL_OPT_STRING, "keep", 0,
     "lines that do not parse: keep (with _parse_error), drop, or dead_letter (the "
     "component's dead letters, see dead_letter_path)",
     "keep|drop|dead_letter", NULL, NULL, 0},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static void parse_free(parse *p)
{
    if (!p)
        return;
    pline_free(&p->pl);
    pf_free(&p->o);
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
    p->m_errors = h->metric(p->ctx, "parse_errors", SL_METRIC_COUNTER);
    p->m_dropped = h->metric(p->ctx, "dropped", SL_METRIC_COUNTER);
    p->m_dead = h->metric(p->ctx, "dead_lettered", SL_METRIC_COUNTER);
    p->m_limit = h->metric(p->ctx, "regex_limit_hits", SL_METRIC_COUNTER);
    return 0;
}

static int parse_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                      size_t errlen)
{
    parse *p = calloc(1, sizeof *p);
    if (!p || pf_init(&p->o) != 0) {
        parse_free(p);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    p->ctx = ctx;
    p->host = host;
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

/* Parsed field i is written unless a later one has its name (json, logfmt). */
static int keep_parsed(const parse *p, uint32_t i)
{
    if (!p->dedupe)
        return 1;
    size_t n;
    const char *k = pf_key(&p->o, i, &n);
    return pf_find(&p->o, k, n) == (int)i;
}

/*
 * One walk of the input body: its pairs into p->in (what the output keeps
 * of them is known once the line is parsed) and the line, the `field`
 * string (or binary). 0, 1 when there is no line, -1 when the body is
 * malformed.
 */
static int read_body(parse *p, const sl_value *body, const char **s, size_t *n)
{
    sl_iter it;
    sl_value k, v;
    int r, found = 0;
    p->nin = 0;
    if (body->v.n > p->capin) {
        in_pair *in = realloc(p->in, (size_t)body->v.n * sizeof *in);
        if (!in)
            return -1;
        p->in = in;
        p->capin = body->v.n;
    }
    if (sl_iter_init(&it, body) != 0)
        return -1;
    /* the iterator yields at most body->v.n pairs: they fit */
    while ((r = sl_iter_next(&it, &k, &v)) == 1) {
        p->in[p->nin++] = (in_pair){k, v};
        if (found || k.type != SL_STR || k.v.s.len != p->field_len ||
            memcmp(k.v.s.ptr, p->field, p->field_len) != 0)
            continue;
        found = v.type == SL_STR || v.type == SL_BIN ? 1 : -1; /* the first decides */
        *s = v.v.s.ptr;
        *n = v.v.s.len;
    }
    return r < 0 ? -1 : found == 1 ? 0 : 1;
}

/* Input pair e stays in the output unless a parsed field replaces it, or it
 * is the line's field and keep_raw is off. */
static int keep_input(const parse *p, const in_pair *e)
{
    if (e->k.type != SL_STR)
        return 1;
    const char *k = e->k.v.s.ptr;
    size_t n = e->k.v.s.len;
    if (!p->keep_raw && n == p->field_len && memcmp(k, p->field, n) == 0)
        return 0;
    return pf_find(&p->o, k, n) < 0;
}

/*
 * The input event at the line's time, the input fields the parsed ones
 * replace left out, then the parsed fields, each packed from where the
 * parser found it. This is sl_bb_copy_event's job, written out because it
 * runs for every line: the body was read once already (read_body), and
 * copying the kept pairs from that list saves sl_bb_copy_event's two more
 * walks of it (bench/parse.sh).
 */
static int write_parsed(parse *p, const sl_event *ev, int64_t time_ns, sl_builder *out)
{
    uint32_t nparsed = 0, nkept = 0;
    for (uint32_t i = 0; i < p->o.n; i++)
        nparsed += keep_parsed(p, i);
    for (uint32_t i = 0; i < p->nin; i++)
        nkept += keep_input(p, &p->in[i]);
    sl_bb_begin_from(out, ev, time_ns);
    sl_bb_map(out, nkept + nparsed);
    for (uint32_t i = 0; nkept && i < p->nin; i++) {
        const in_pair *e = &p->in[i];
        if (!keep_input(p, e))
            continue;
        sl_bb_value(out, &e->k);
        sl_bb_value(out, &e->v);
    }
    for (uint32_t i = 0; i < p->o.n; i++) {
        if (!keep_parsed(p, i))
            continue;
        size_t kn;
        const char *k = pf_key(&p->o, i, &kn);
        sl_bb_str(out, k, kn);
        pf_pack_value(&p->o, i, out);
    }
    return sl_bb_end(out); /* any failed pack fails here */
}

/* The input event with `_parse_error: why` (replacing an earlier one). The
 * line is all a failed event has, so it is kept whatever keep_raw says. */
static int write_failed(const sl_event *ev, const char *why, sl_builder *out)
{
    static const sl_edit drop = {"_parse_error", 12, SL_EDIT_REMOVE, NULL, 0};
    if (sl_bb_copy_event(out, ev, &drop, 1, 1) != 0)
        return -1;
    sl_bb_cstr(out, "_parse_error");
    sl_bb_cstr(out, why);
    return sl_bb_end(out);
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

/* 0, -1 out of memory or a malformed body, -2 the dead letter was not
 * written. */
static int one_event(parse *p, const sl_event *ev, sl_builder *out, tally *t)
{
    char why[256];
    const char *s;
    size_t n;
    int64_t ns = ev->time_ns;
    int has_time;
    int r = read_body(p, &ev->body, &s, &n);
    if (r < 0)
        return -1;
    if (r > 0)
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
        /* Written before the batch moves on, so a rejected line is never
         * acknowledged without being set aside. */
        t->dead++;
        return p->host->dead_letter(p->ctx, ev, why) == SL_OK ? 0 : -2;
    case ON_ERROR_KEEP:
        break;
    }
    return write_failed(ev, why, out);
}

/*
 * Lines that cost `pattern` more than PCRE2's limits allow (rxlimit.h):
 * parse errors like any other, and counted apart, with a warning at most
 * once a minute, so a pattern that is too costly shows.
 */
static void count_limit_hits(parse *p)
{
    uint64_t n = pline_take_limit_hits(&p->pl);
    if (!n)
        return;
    p->host->metric_add(p->m_limit, n);
    if (sl_throttle_pass(&p->limit_log, LIMIT_LOG_MS, NULL))
        p->host->log(p->ctx, SL_LOG_WARN, "pattern: %" PRIu64 " line(s) in a batch cost it "
                     "more than %u matching steps and were taken as not parsing (counted in "
                     "regex_limit_hits; warned at most once a minute); a pattern without "
                     "nested or overlapping repeats like (a|aa)+ avoids it", n,
                     SL_RX_MATCH_LIMIT);
}

static int parse_process(void *state, const sl_batch *in, sl_builder *out, char *err,
                         size_t errlen)
{
    parse *p = state;
    sl_batch_iter it;
    sl_event ev;
    tally t = {0, 0, 0};
    uint32_t i = 0;
    int r;
    sl_bb_mark mark = sl_bb_get_mark(out);
    sl_batch_iter_init(&it, in);
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        int rc = one_event(p, &ev, out, &t);
        if (rc != 0) {
            snprintf(err, errlen, "event %u: %s", i,
                     rc == -2 ? "its dead letter was not written"
                              : "out of memory or malformed body");
            goto fail;
        }
        i++;
    }
    if (r != 0) {
        snprintf(err, errlen, "event %u: malformed event", i);
        goto fail;
    }
    p->host->metric_add(p->m_errors, t.errors);
    p->host->metric_add(p->m_dropped, t.dropped);
    p->host->metric_add(p->m_dead, t.dead);
    count_limit_hits(p);
    return SL_OK;
fail:
    count_limit_hits(p);
    /* Leave `out` as we found it: the core passes `in` on unchanged. */
    sl_bb_rollback(out, mark);
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
    "split into method, path, query and protocol. A line that does not parse is kept with " \
    "`_parse_error` (on_error: keep), dropped (drop), or set aside with its reason in the "  \
    "component's dead letters (dead_letter); counters parse_errors, dropped, "              \
    "dead_lettered, and regex_limit_hits: lines that cost `pattern` more than 100,000 "    \
    "matching steps, which do not parse.\n"                                                \
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
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "parse", "2.0.0"),
    .description = FIELDS_DOC,
    .options = options,
    .init = parse_init,
    .process = parse_process,
    .destroy = parse_destroy,
};
