/* Checks of the component graph, and the order to start things in. */
#ifndef SL_GRAPH_H
#define SL_GRAPH_H

#include <stddef.h>

#include "config.h"

/*
 * Every problem with file:line:col: an input naming an unknown component or a
 * sink, a source with inputs, an enricher or sink without inputs, the same
 * input listed twice, a cycle among enrichers (naming its members).
 * Duplicate names are caught by the loader. Returns 0 or -1.
 */
int sl_graph_check(const sl_pipeline_spec *spec, sl_errs *errs);

/* Index of the component called `name`, or -1. */
long sl_graph_find(const sl_pipeline_spec *spec, const char *name);

/*
 * Topological order of all components (each after all of its inputs) into
 * order[spec->n_comps]. Returns 0, or -1 when there is a cycle.
 */
int sl_graph_order(const sl_pipeline_spec *spec, size_t *order);

#endif
