/* The host API table handed to plugins: thin adapters onto the engine. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_priv.h"
#include "sl_clock.h"
#include "log.h"
#include "node.h"

static void h_log(sl_ctx *ctx, sl_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_logv(level, ctx->comp->spec->name, fmt, ap);
    va_end(ap);
}

static const char *h_name(sl_ctx *ctx) { return ctx->comp->spec->name; }

static const char *h_state_dir(sl_ctx *ctx)
{
    sl_comp *c = ctx->comp;
    pthread_mutex_lock(&c->dir_mu);
    if (!c->state_dir) {
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", c->eng->spec->service.state_dir, c->spec->name) < 0)
            dir = NULL;
        if (dir && sl_mkdirs(dir, 0700) == 0) {
            c->state_dir = dir;
        } else {
            sl_log(SL_LOG_ERROR, c->spec->name, "cannot create state directory %s: %s",
                   dir ? dir : "(out of memory)", strerror(errno));
            free(dir);
        }
    }
    pthread_mutex_unlock(&c->dir_mu);
    return c->state_dir;
}

static int h_stopping(sl_ctx *ctx)
{
    return atomic_load(&ctx->comp->eng->stopping) || sl_engine_stop_signalled();
}

static int h_once(sl_ctx *ctx) { return ctx->comp->eng->opts.once; }

static int64_t h_drain_left_ms(sl_ctx *ctx)
{
    sl_engine *e = ctx->comp->eng;
    if (!atomic_load(&e->stopping) && !sl_engine_stop_signalled())
        return -1;
    /* Stopping may be asked (a fatal sink) before the drain has a deadline:
     * then the whole shutdown_timeout is still ahead. */
    long long end = atomic_load(&e->drain_end_ms);
    int64_t left = end ? end - sl_mono_ms() : e->spec->service.shutdown_timeout_ms;
    return left > 0 ? left : 0;
}

static const sl_opt_value *opt(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = sl_options_find(&ctx->comp->opts, name);
    if (!v)
        sl_log(SL_LOG_WARN, ctx->comp->spec->name,
               "plugin asked for option '%s', which its option table does not declare", name);
    return v;
}

static const char *h_opt_str(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = opt(ctx, name);
    return v ? v->str : NULL;
}

static int64_t h_opt_int(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = opt(ctx, name);
    return v ? v->i : 0;
}

static double h_opt_double(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = opt(ctx, name);
    return v ? v->d : 0;
}

static int h_opt_bool(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = opt(ctx, name);
    return v ? v->i != 0 : 0;
}

static int h_opt_isset(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = opt(ctx, name);
    return v ? v->set : 0;
}

static const sl_node *h_opt_node(sl_ctx *ctx, const char *name)
{
    const sl_opt_value *v = opt(ctx, name);
    return v ? v->node : NULL;
}

static int h_emit(sl_ctx *ctx, sl_builder *bb, uint64_t *seq)
{
    return sl_engine_emit(ctx->comp, bb, seq);
}

static void h_ack(sl_ctx *ctx, uint64_t ticket) { sl_engine_ack(ctx->comp, ticket); }

/* Metric names become part of Prometheus names: letters, digits, '_'. */
static int metric_name_ok(const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static sl_metric *h_metric(sl_ctx *ctx, const char *name, sl_metric_kind kind)
{
    const char *comp = ctx->comp->spec->name;
    if (!metric_name_ok(name) || (kind != SL_METRIC_COUNTER && kind != SL_METRIC_GAUGE)) {
        sl_log(SL_LOG_ERROR, comp, "metric '%s': a name of letters, digits and '_' and a "
               "kind SL_METRIC_COUNTER or SL_METRIC_GAUGE are needed", name ? name : "(null)");
        return NULL;
    }
    sl_counter *c = sl_metrics_entry(&ctx->comp->metrics, name, kind == SL_METRIC_GAUGE);
    if (!c)
        sl_log(SL_LOG_ERROR, comp, "metric '%s': already registered as the other kind, or "
               "out of memory", name);
    return (sl_metric *)c;
}

static void h_metric_add(sl_metric *m, uint64_t delta) { sl_counter_add((sl_counter *)m, delta); }

static void h_metric_set(sl_metric *m, int64_t value) { sl_counter_set((sl_counter *)m, value); }

static int h_dead_letter(sl_ctx *ctx, const sl_event *ev, const char *reason)
{
    sl_comp *c = ctx->comp;
    int rc = sl_deadletter_write(&c->dl, c->spec->name, ev, reason);
    sl_metrics_add(&c->metrics, rc == 0 ? "dead_letters" : "dead_letter_errors", 1);
    return rc == 0 ? SL_OK : SL_ERR;
}

static int h_file_replace(sl_ctx *ctx, const char *path, const void *data, size_t len,
                          char *err, size_t errlen)
{
    return sl_file_replace(path, data, len, err, errlen) == 0 ? SL_OK : SL_ERR;
}

static int h_file_open(sl_ctx *ctx, const char *path, unsigned flags, unsigned mode,
                       char *err, size_t errlen)
{
    return sl_file_open(path, flags, mode, err, errlen);
}

static int h_file_write(sl_ctx *ctx, int fd, const void *data, size_t len, int sync,
                        char *err, size_t errlen)
{
    return sl_file_write(fd, data, len, sync, err, errlen) == 0 ? SL_OK : SL_ERR;
}

const sl_host sl_host_api = {
    .struct_size = sizeof(sl_host),
    .abi_major = SL_ABI_MAJOR,
    .abi_minor = SL_ABI_MINOR,
    .log = h_log,
    .name = h_name,
    .state_dir = h_state_dir,
    .stopping = h_stopping,
    .once = h_once,
    .drain_left_ms = h_drain_left_ms,
    .opt_str = h_opt_str,
    .opt_int = h_opt_int,
    .opt_double = h_opt_double,
    .opt_bool = h_opt_bool,
    .opt_isset = h_opt_isset,
    .opt_node = h_opt_node,
    .node_kind = sl_node_kind_of,
    .node_str = sl_node_str,
    .node_quoted = sl_node_quoted,
    .node_len = sl_node_len,
    .node_at = sl_node_at,
    .node_key = sl_node_key,
    .node_get = sl_node_get,
    .node_where = sl_node_where,
    .emit = h_emit,
    .ack = h_ack,
    .metric = h_metric,
    .metric_add = h_metric_add,
    .metric_set = h_metric_set,
    .dead_letter = h_dead_letter,
    .file_replace = h_file_replace,
    .file_open = h_file_open,
    .file_write = h_file_write,
};
