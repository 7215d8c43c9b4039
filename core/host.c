/* The host API table handed to plugins: thin adapters onto the engine. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_priv.h"
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

/* mkdir -p: the state directory may be several levels deep. */
static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static const char *h_state_dir(sl_ctx *ctx)
{
    sl_comp *c = ctx->comp;
    pthread_mutex_lock(&c->dir_mu);
    if (!c->state_dir) {
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", c->eng->spec->service.state_dir, c->spec->name) < 0)
            dir = NULL;
        if (dir && mkdirs(dir) == 0) {
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

static int h_stopping(sl_ctx *ctx) { return atomic_load(&ctx->comp->eng->stopping); }

static int h_once(sl_ctx *ctx) { return ctx->comp->eng->opts.once; }

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

static int h_emit(sl_ctx *ctx, sl_batch_builder *bb, uint64_t *seq)
{
    return sl_engine_emit(ctx->comp, bb, seq);
}

static void h_ack(sl_ctx *ctx, uint64_t ticket) { sl_engine_ack(ctx->comp, ticket); }

static void h_count(sl_ctx *ctx, const char *metric, uint64_t delta)
{
    sl_metrics_add(&ctx->comp->metrics, metric, delta);
}

static void h_gauge(sl_ctx *ctx, const char *metric, int64_t value)
{
    sl_metrics_set(&ctx->comp->metrics, metric, value);
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
    .count = h_count,
    .gauge = h_gauge,
};
