/* fake_host: see fake_host.h. Deliberately small; not thread-safe. */
#include "fake_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const sl_option *table_entry(const sl_plugin *p, const char *name)
{
    for (const sl_option *o = p->options; o && o->name; o++)
        if (!strcmp(o->name, name))
            return o;
    return NULL;
}

/* The user's value, else the table's default, else NULL. */
static const char *lookup(sl_ctx *ctx, const char *name, int *isset)
{
    size_t n = strlen(name);
    for (const char *const *kv = ctx->opts; kv && *kv; kv++) {
        if (!strncmp(*kv, name, n) && (*kv)[n] == '=') {
            if (isset)
                *isset = 1;
            return *kv + n + 1;
        }
    }
    const sl_option *o = table_entry(ctx->plugin, name);
    if (!o)
        fprintf(stderr, "fake_host: option '%s' is not in the plugin's table\n", name);
    return o ? o->default_value : NULL;
}

/* 64KiB, 8MiB for sizes; 250ms, 5s, 2m, 1h for durations (in ms). */
static int64_t scaled(const char *s, int duration)
{
    char *end;
    double v = strtod(s, &end);
    static const struct { const char *sfx; double size, ms; } units[] = {
        {"", 1, 1000}, {"ms", 0, 1}, {"s", 0, 1000}, {"m", 0, 60000}, {"h", 0, 3600000},
        {"KiB", 1024, 0}, {"MiB", 1048576, 0}, {"GiB", 1073741824, 0},
        {"KB", 1e3, 0}, {"MB", 1e6, 0}, {"GB", 1e9, 0},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].sfx))
            return (int64_t)(v * (duration ? units[i].ms : units[i].size));
    return 0;
}

static const char *h_opt_str(sl_ctx *ctx, const char *name) { return lookup(ctx, name, NULL); }

static int64_t h_opt_int(sl_ctx *ctx, const char *name)
{
    const char *s = lookup(ctx, name, NULL);
    const sl_option *o = table_entry(ctx->plugin, name);
    if (!s)
        return 0;
    if (o && (o->type == SL_OPT_SIZE || o->type == SL_OPT_DURATION))
        return scaled(s, o->type == SL_OPT_DURATION);
    return strtoll(s, NULL, 10);
}

static double h_opt_double(sl_ctx *ctx, const char *name)
{
    const char *s = lookup(ctx, name, NULL);
    return s ? strtod(s, NULL) : 0;
}

static int h_opt_bool(sl_ctx *ctx, const char *name)
{
    const char *s = lookup(ctx, name, NULL);
    return s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"));
}

static int h_opt_isset(sl_ctx *ctx, const char *name)
{
    int set = 0;
    lookup(ctx, name, &set);
    return set;
}

static const sl_node *h_opt_node(sl_ctx *ctx, const char *name) { return NULL; }

static void h_log(sl_ctx *ctx, sl_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] %s: ", names[level & 3], ctx->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static const char *h_name(sl_ctx *ctx) { return ctx->name; }
static const char *h_state_dir(sl_ctx *ctx) { return lookup(ctx, "state_dir", NULL); }
static int h_stopping(sl_ctx *ctx) { return ctx->stopping; }
static int h_once(sl_ctx *ctx) { return ctx->once; }
static int64_t h_drain_left_ms(sl_ctx *ctx) { return ctx->stopping ? 0 : -1; }

/* Like the core: an open event or loose values are not a batch. */
static int h_emit(sl_ctx *ctx, sl_builder *bb, uint64_t *seq)
{
    sl_batch b = sl_bb_batch(bb);
    size_t all;
    sl_bb_data(bb, &all);
    if (seq)
        *seq = 0;
    if (sl_bb_open(bb) || all != b.len) {
        fprintf(stderr, "fake_host: emitted %s\n", sl_bb_open(bb) ? "an event left open"
                                                                  : "values outside any event");
        sl_bb_reset(bb);
        return SL_ERR;
    }
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, &b);
    while (sl_batch_next(&it, &ev) == 1)
        sl_bb_append_event(ctx->emitted, &ev);
    sl_bb_reset(bb);
    if (b.count == 0)
        return SL_OK;
    ++ctx->batches;
    if (seq)
        *seq = ctx->batches;
    return ctx->stopping ? SL_STOPPED : SL_OK;
}

static void h_ack(sl_ctx *ctx, uint64_t ticket)
{
    ctx->acks++;
    ctx->last_ack = ticket;
}

static sl_metric *h_metric(sl_ctx *ctx, const char *name, sl_metric_kind kind)
{
    for (size_t i = 0; i < ctx->n_metrics; i++)
        if (!strcmp(ctx->metrics[i].name, name))
            return &ctx->metrics[i];
    if (ctx->n_metrics == FAKE_MAX_METRICS)
        return NULL;
    sl_metric *m = &ctx->metrics[ctx->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}

static void h_metric_add(sl_metric *m, uint64_t delta)
{
    if (m)
        m->value += (int64_t)delta;
}

static void h_metric_set(sl_metric *m, int64_t value)
{
    if (m)
        m->value = value;
}

static int h_dead_letter(sl_ctx *ctx, const sl_event *ev, const char *reason)
{
    ctx->dead_letters++;
    snprintf(ctx->last_reason, sizeof ctx->last_reason, "%s", reason ? reason : "");
    return SL_OK;
}

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return SL_ERR;
}

/* Parent directories are not made here (SL_FILE_MKDIRS is ignored). */
static int h_file_open(sl_ctx *ctx, const char *path, unsigned flags, unsigned mode, char *err,
                       size_t errlen)
{
    int fl = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
    int fd = open(path, fl | ((flags & SL_FILE_APPEND) ? O_APPEND : O_TRUNC), (mode_t)mode);
    return fd >= 0 ? fd : fail(err, errlen, "cannot open", path);
}

static int h_file_write(sl_ctx *ctx, int fd, const void *data, size_t len, int sync, char *err,
                        size_t errlen)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(err, errlen, "cannot write to", "file");
        p += n;
        len -= (size_t)n;
    }
    return sync && fdatasync(fd) != 0 ? fail(err, errlen, "cannot sync", "file") : SL_OK;
}

static int h_file_replace(sl_ctx *ctx, const char *path, const void *data, size_t len,
                          char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = h_file_open(ctx, tmp, 0, 0600, err, errlen);
    if (fd < 0)
        return SL_ERR;
    int rc = h_file_write(ctx, fd, data, len, 1, err, errlen);
    close(fd);
    if (rc == SL_OK && rename(tmp, path) != 0)
        rc = fail(err, errlen, "cannot rename into", path);
    return rc;
}

static sl_node_kind n_kind(const sl_node *n) { return SL_NODE_NONE; }
static const char *n_str(const sl_node *n) { return NULL; }
static int n_quoted(const sl_node *n) { return 0; }
static size_t n_len(const sl_node *n) { return 0; }
static const sl_node *n_at(const sl_node *n, size_t i) { return NULL; }
static const char *n_key(const sl_node *n, size_t i) { return NULL; }
static const sl_node *n_get(const sl_node *n, const char *key) { return NULL; }
static void n_where(const sl_node *n, char *buf, size_t len) { snprintf(buf, len, "test"); }

const sl_host fake_host = {
    .struct_size = sizeof(sl_host),
    .abi_major = SL_ABI_MAJOR,
    .abi_minor = SL_ABI_MINOR,
    .log = h_log, .name = h_name, .state_dir = h_state_dir,
    .stopping = h_stopping, .once = h_once, .drain_left_ms = h_drain_left_ms,
    .opt_str = h_opt_str, .opt_int = h_opt_int, .opt_double = h_opt_double,
    .opt_bool = h_opt_bool, .opt_isset = h_opt_isset, .opt_node = h_opt_node,
    .node_kind = n_kind, .node_str = n_str, .node_quoted = n_quoted, .node_len = n_len,
    .node_at = n_at, .node_key = n_key, .node_get = n_get, .node_where = n_where,
    .emit = h_emit, .ack = h_ack,
    .metric = h_metric, .metric_add = h_metric_add, .metric_set = h_metric_set,
    .dead_letter = h_dead_letter, .file_replace = h_file_replace,
    .file_open = h_file_open, .file_write = h_file_write,
};

void fake_ctx_init(sl_ctx *ctx, const sl_plugin *p, const char *const *opts)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->plugin = p;
    ctx->opts = opts;
    ctx->name = "test";
    if (!(ctx->emitted = sl_bb_new())) {
        fprintf(stderr, "fake_host: out of memory\n");
        abort();
    }
}

void fake_ctx_free(sl_ctx *ctx) { sl_bb_free(ctx->emitted); }

int64_t fake_metric(const sl_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->n_metrics; i++)
        if (!strcmp(ctx->metrics[i].name, name))
            return ctx->metrics[i].value;
    return 0;
}

void fake_event(sl_builder *bb, const char *msg)
{
    sl_bb_begin(bb, sl_now_ns());
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "message");
    sl_bb_cstr(bb, msg);
    sl_bb_end(bb);
}

int fake_body_str(const sl_event *ev, const char *key, char *buf, size_t len)
{
    sl_value v;
    if (sl_map_gets(&ev->body, key, &v) != 1 || v.type != SL_STR)
        return -1;
    snprintf(buf, len, "%.*s", (int)v.v.s.len, v.v.s.ptr);
    return 0;
}
