/* sluice validate FILE */
#include <stdio.h>

#include "cli.h"

static const char usage_validate[] =
    "Usage: sluice validate FILE [--plugin-path DIRS]\n"
    "\n"
    "Checks FILE without starting anything: YAML syntax, ${VAR} interpolation, known keys,\n"
    "plugins found and compatible, their options, and the graph (unknown inputs, cycles).\n"
    "Prints every problem as file:line:col: message. Exit 0 when valid, 1 otherwise.\n";

int cli_validate(const cli *c)
{
    if (c->help)
        return printf("%s", usage_validate), 0;
    if (c->nargs != 1)
        return cli_usage_error(usage_validate, "%s", "validate needs exactly one FILE");
    sl_pipeline_spec spec;
    sl_engine *eng;
    if (cli_prepare(c, &spec, &eng) < 0)
        return SL_EXIT_INVALID;
    size_t kinds[4] = {0};
    for (size_t i = 0; i < spec.n_comps; i++)
        kinds[spec.comps[i].kind]++;
    printf("%s: valid (%zu sources, %zu enrichers, %zu sinks)\n", c->args[0],
           kinds[SL_KIND_SOURCE], kinds[SL_KIND_ENRICHER], kinds[SL_KIND_SINK]);
    sl_engine_destroy(eng);
    sl_config_free(&spec);
    return 0;
}

