/*
 * Fuzz target: the pipeline loader on arbitrary YAML, then the graph checks
 * and the start order on whatever it accepted. ${VAR} references go through
 * interpolation; FUZZ_SET is set so both the set and unset paths run.
 */
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"
#include "graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_done;
    if (!env_done) {
        setenv("FUZZ_SET", "value", 1);
        env_done = 1;
    }
    sl_pipeline_spec spec = {0};
    sl_errs errs = {0};
    int rc = sl_config_load_buffer((const char *)data, size, "fuzz.yaml", &spec, &errs);
    if (rc == 0) {
        if (sl_graph_check(&spec, &errs) == 0 && spec.n_comps > 0) {
            size_t *order = malloc(spec.n_comps * sizeof *order);
            if (order && sl_graph_order(&spec, order) != 0)
                abort(); /* sl_graph_check passed: a cycle here is a bug */
            free(order);
        }
        sl_config_free(&spec);
    }
    sl_errs_free(&errs);
    return 0;
}
