/*
 * One enricher of a created (never started) engine, driven directly: what
 * `sluice test` needs to feed a component events and look at its output
 * without threads, sources or sinks.
 */
#ifndef SL_ENGINE_TEST_H
#define SL_ENGINE_TEST_H

#include <stddef.h>

#include "engine.h"
#include "sluice/event.h"

/* Kind of component `name` (SL_KIND_*), 0 when there is none. */
int sl_engine_test_kind(sl_engine *e, const char *name);

/* Run the enricher's init once (later calls do nothing). sl_engine_destroy
 * calls its destroy. Returns 0 or -1 with err. */
int sl_engine_test_init(sl_engine *e, const char *name, char *err, size_t errlen);

/* The enricher's process() on `in`, output appended to `out`, the core's
 * output check applied. Returns SL_OK or SL_ERR with err. */
int sl_engine_test_process(sl_engine *e, const char *name, const sl_batch *in,
                           sl_builder *out, char *err, size_t errlen);

#endif
