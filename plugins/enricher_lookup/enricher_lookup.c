/*
 * enricher lookup: adds a field whose value is looked up in a file.
 *
 *   enrichers:
 *     named:
 *       plugin: lookup
 *       inputs: [parsed]
 *       file: /etc/sluice/products.csv   # 42,Blue mug
 *       key: productId                   # body field to look up
 *       target: productName              # field to add
 *
 * The file (CSV key,value or key=value lines) is read once at init into a
 * hash table that is never written again, so process() needs no lock beyond
 * the core's. A key field holding an integer is looked up by its decimal
 * text. Events whose key is absent or unknown get `default` when it is set
 * and pass unchanged otherwise; they are counted either way.
 *
 * This plugin is the worked example of docs/plugin-guide.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lktable.h"
#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

typedef struct lookup {
    sl_ctx *ctx;
    const sl_host *host;
    lk_table table;
    char *key, *target, *dflt; /* dflt NULL: unknown keys add nothing */
    sl_edit set;               /* target removed, then packed again */
    sl_metric *missed;
} lookup;

static const sl_option options[] = {
    {"file", SL_OPT_STRING, NULL, 1, "lookup file, read once at start", NULL, NULL, NULL,
     SL_OPT_F_NONEMPTY},
    {"format", SL_OPT_STRING, "auto", 0, "file format; auto = csv for *.csv, else kv",
     "auto|csv|kv", NULL, NULL, 0},
    {"header", SL_OPT_BOOL, "false", 0, "csv: the first line is a header, skip it", NULL, NULL,
     NULL, 0},
    {"key", SL_OPT_STRING, NULL, 1, "body field whose value is looked up", NULL, NULL, NULL,
     SL_OPT_F_NONEMPTY},
    {"target", SL_OPT_STRING, NULL, 1, "body field to set to the value found", NULL, NULL,
     NULL, SL_OPT_F_NONEMPTY},
    {"default", SL_OPT_STRING, NULL, 0, "value for unknown keys (absent: leave the event as is)",
     NULL, NULL, NULL, 0},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static void lookup_free(lookup *l)
{
    if (!l)
        return;
    lk_free(&l->table);
    free(l->key);
    free(l->target);
    free(l->dflt);
    free(l);
}

static lk_format pick_format(const char *fmt, const char *file)
{
    size_t n = strlen(file);
    if (!strcmp(fmt, "csv") || (!strcmp(fmt, "auto") && n > 4 && !strcmp(file + n - 4, ".csv")))
        return LK_CSV;
    return LK_KV;
}

static int lookup_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                       size_t errlen)
{
    const char *file = host->opt_str(ctx, "file");
    const char *dflt = host->opt_str(ctx, "default");
    lookup *l = calloc(1, sizeof *l);
    if (!l || !(l->key = strdup(host->opt_str(ctx, "key"))) ||
        !(l->target = strdup(host->opt_str(ctx, "target"))) || (dflt && !(l->dflt = strdup(dflt)))) {
        lookup_free(l);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    if (!*l->key || !*l->target) {
        lookup_free(l);
        snprintf(err, errlen, "key and target must not be empty");
        return SL_ERR;
    }
    lk_format fmt = pick_format(host->opt_str(ctx, "format"), file);
    if (lk_load_file(&l->table, file, fmt, host->opt_bool(ctx, "header"), err, errlen) < 0) {
        lookup_free(l);
        return SL_ERR;
    }
    host->log(ctx, SL_LOG_INFO, "%zu keys loaded from %s", lk_count(&l->table), file);
    l->ctx = ctx;
    l->host = host;
    l->set = (sl_edit){l->target, strlen(l->target), SL_EDIT_REMOVE, NULL, 0};
    l->missed = host->metric(ctx, "lookups_missed", SL_METRIC_COUNTER);
    *state = l;
    return SL_OK;
}

/* The value for the event's key field, or NULL (absent, unknown, not text). */
static const char *find_value(const lookup *l, const sl_event *ev)
{
    sl_value v;
    char num[24];
    int64_t i;
    if (sl_map_gets(&ev->body, l->key, &v) != 1)
        return NULL;
    if (v.type == SL_STR)
        return lk_get(&l->table, v.v.s.ptr, v.v.s.len);
    if ((v.type == SL_UINT || v.type == SL_INT) && sl_value_to_int(&v, &i) == 0) {
        int n = snprintf(num, sizeof num, "%" PRId64, i);
        return lk_get(&l->table, num, (size_t)n);
    }
    return NULL;
}

/* Copy the event, `target` replaced by (or added as) value. */
static int add_field(const lookup *l, const sl_event *ev, const char *value, sl_builder *out)
{
    if (sl_bb_copy_event(out, ev, &l->set, 1, 1) != 0)
        return -1;
    sl_bb_cstr(out, l->target);
    sl_bb_cstr(out, value);
    return sl_bb_end(out);
}

static int lookup_process(void *state, const sl_batch *in, sl_builder *out, char *err,
                          size_t errlen)
{
    lookup *l = state;
    sl_bb_mark mark = sl_bb_get_mark(out);
    uint32_t i = 0;
    uint64_t missed = 0;
    sl_batch_iter it;
    sl_event ev;
    int r;
    sl_batch_iter_init(&it, in);
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        const char *value = find_value(l, &ev);
        if (!value) {
            missed++;
            value = l->dflt;
        }
        /* without a value the event's bytes are copied as they are */
        if ((value ? add_field(l, &ev, value, out) : sl_bb_append_event(out, &ev)) != 0) {
            r = -1;
            break;
        }
        i++;
    }
    if (r == 0) {
        l->host->metric_add(l->missed, missed);
        return SL_OK;
    }
    /* On failure `out` goes back as it was: the core passes `in` on. */
    snprintf(err, errlen, "event %u: malformed or out of memory", i);
    sl_bb_rollback(out, mark);
    return SL_ERR;
}

static void lookup_destroy(void *state)
{
    lookup_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "lookup", "1.0.0"),
    .description = "Sets body field `target` to the value of body field `key` looked up in "
                   "`file` (CSV key,value or key=value lines, read once at start); unknown "
                   "keys get `default` or pass unchanged (counted as lookups_missed).",
    .options = options,
    .init = lookup_init,
    .process = lookup_process,
    .destroy = lookup_destroy,
};
