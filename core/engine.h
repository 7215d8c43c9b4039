/*
 * The running pipeline: plugins loaded and checked, one thread per source,
 * per enricher and per sink, a bounded queue in front of every enricher and
 * sink, acknowledgements flowing back to sources.
 */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "errs.h"

typedef struct sl_engine sl_engine;

typedef struct sl_engine_opts {
    const char *plugin_path; /* --plugin-path, may be NULL */
    int once;                /* --once */
} sl_engine_opts;

/* Exit status of a finished run. */
typedef enum sl_run_result {
    SL_RUN_OK = 0,        /* drained and stopped cleanly */
    SL_RUN_FAILED = 3,    /* a component failed (init or at run time) */
    SL_RUN_TIMEOUT = 4,   /* drain did not finish within shutdown_timeout, or (--once)
                           * a sink kept events for the next run: not all delivered */
} sl_run_result;

/*
 * Load every plugin and check every component's options: all that
 * `sluice validate` reports. Nothing is initialised or started. The spec must
 * outlive the engine. Returns 0, or -1 with every problem in errs.
 */
int sl_engine_create(const sl_pipeline_spec *spec, const sl_engine_opts *opts,
                     sl_engine **out, sl_errs *errs);

/* Initialise plugins (sinks, enrichers, sources) and start the threads.
 * On failure nothing keeps running. Returns 0 or -1 with err. */
int sl_engine_start(sl_engine *e, char *err, size_t errlen);

/* Only raise the process's stop flag (host->stopping() turns true for every
 * component, so a plugin's long init can give up early): async-signal-safe,
 * for a signal handler. The stop itself is still sl_engine_shutdown. */
void sl_engine_stop_async(void);
int sl_engine_stop_signalled(void);

/* Ask sources to stop. Safe from any thread (not from a signal handler). */
void sl_engine_request_stop(sl_engine *e);

/* Non-zero once every source has returned from run(). */
int sl_engine_sources_done(sl_engine *e);

/* Non-zero when the run should end: every source ended, or a stop was
 * requested (by sl_engine_request_stop or by a sink that cannot go on). */
int sl_engine_should_stop(sl_engine *e);

/* Wait up to ms milliseconds for every source to end or a stop request. */
void sl_engine_wait(sl_engine *e, int ms);

/* Non-zero once a stop was requested (sl_engine_request_stop, or a sink
 * that cannot go on). */
int sl_engine_stop_requested(sl_engine *e);

/* Batches the sources emitted that not every sink has acknowledged yet
 * (delivered, spooled or dead-lettered). */
uint64_t sl_engine_undelivered(sl_engine *e);

/* When a sink last acknowledged a batch, or started: CLOCK_MONOTONIC ms. */
int64_t sl_engine_last_progress_ms(sl_engine *e);

/* Stop sources, drain queues and in-flight batches within the service's
 * shutdown_timeout, flush sinks. */
sl_run_result sl_engine_shutdown(sl_engine *e);

/* Free everything. Returns 0, or -1 when a thread stuck in plugin code kept
 * parts alive (then the spec must not be freed either; exit the process). */
int sl_engine_destroy(sl_engine *e);

/* Observability for tests and tools (component by name). */
uint64_t sl_engine_counter(sl_engine *e, const char *component, const char *metric);

/* Non-zero when a component has a secret option set (a token, a key) or
 * the admin endpoint has a token. */
int sl_engine_holds_secrets(const sl_engine *e);
size_t sl_engine_queue_peak(sl_engine *e, const char *sink);

#endif
