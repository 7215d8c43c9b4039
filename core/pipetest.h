/*
 * Pipeline tests: the `tests:` section of a pipeline file, run by
 * `sluice test FILE`.
 *
 *   tests:
 *     - name: product view is named
 *       component: named              # an enricher of this file
 *       input:                        # event bodies fed to it, in order
 *         - { productId: "42" }
 *       expect:                       # output bodies, in order; each lists
 *         - { productName: Blue mug } #   the fields that must match
 *       expect_count: 1               # optional: number of output events
 *
 * Matching: the output has exactly as many events as `expect` lists (or
 * `expect_count`), and every field an expected body names is there with an
 * equal value (other fields are ignored; nested maps match the same way).
 * Unquoted scalars are typed: 42 is an integer, true a boolean, null nil,
 * 1.5 a float; quote them ("42") to mean strings. Use `~absent` as a value
 * to require that a field is missing.
 */
#ifndef SL_PIPETEST_H
#define SL_PIPETEST_H

#include "config.h"
#include "engine.h"
#include "sluice/json.h"

typedef struct sl_pipetest_result {
    int passed, failed;
} sl_pipetest_result;

/*
 * Run every test of spec (engine created from it, not started). Appends a
 * readable report to `out`: "ok - NAME" per passing test, "FAIL - NAME" with
 * file:line and a diff per failing one, and a summary line. Returns 0, or -1
 * when out of memory.
 */
int sl_pipetest_run(const sl_pipeline_spec *spec, sl_engine *e, sl_buf *out,
                    sl_pipetest_result *res);

#endif
