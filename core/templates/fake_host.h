/*
 * fake_host: a small stand-in for the sluice core, enough to drive a
 * plugin's callbacks from a unit test without running a pipeline.
 *
 * Options come from a NULL-terminated list of "name=value" strings; an option
 * not in the list gets the default of the plugin's option table, as in the
 * core (ranges are not checked here: `make check` and the core do that).
 * emit() keeps every event in `emitted`; ack(), metrics and dead letters are
 * recorded; log() prints to stderr. Config nodes are not modelled:
 * opt_node() returns NULL, so test list/map options through a real pipeline
 * (`sluice test`) instead.
 */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <sluice/host.h>

#define FAKE_MAX_METRICS 16

/* The fake's metric: a name and a value (the real one is the core's). */
struct sl_metric {
    char name[64];
    int64_t value;
};

struct sl_ctx {
    const sl_plugin *plugin;   /* for option defaults and types */
    const char *const *opts;   /* "name=value" strings, NULL-terminated */
    const char *name;          /* component name; default "test" */
    int stopping, once;        /* what host->stopping()/once() answer */
    sl_builder *emitted;       /* every event a source emitted */
    uint64_t batches;          /* emit() calls that took events */
    uint64_t acks, last_ack;   /* host->ack() calls, last ticket */
    sl_metric metrics[FAKE_MAX_METRICS];
    size_t n_metrics;
    uint64_t dead_letters;     /* host->dead_letter() calls */
    char last_reason[128];     /* the reason of the last one */
};

/* The host table to pass to init(). */
extern const sl_host fake_host;

/* Prepare ctx for plugin p with the given options (may be NULL). */
void fake_ctx_init(sl_ctx *ctx, const sl_plugin *p, const char *const *opts);
void fake_ctx_free(sl_ctx *ctx);

/* The value of metric `name` (0 when it was never registered). */
int64_t fake_metric(const sl_ctx *ctx, const char *name);

/* Append one event {message: msg} (meta empty) to bb: test input. */
void fake_event(sl_builder *bb, const char *msg);

/* Copy the string field `key` of body into buf; 0 when found, -1 otherwise. */
int fake_body_str(const sl_event *ev, const char *key, char *buf, size_t len);

#endif
