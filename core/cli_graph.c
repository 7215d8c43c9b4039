/* sluice graph FILE [--dot]: the pipeline's components and edges. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "graph.h"

static const char usage_graph[] =
    "Usage: sluice graph FILE [--dot]\n"
    "\n"
    "Prints the components of the pipeline in FILE in the order data flows, each with its\n"
    "plugin, inputs and outputs. --dot prints a Graphviz digraph instead:\n"
    "  sluice graph pipeline.yaml --dot | dot -Tsvg > pipeline.svg\n";

static const char *plugin_of(const sl_component_spec *c)
{
    return c->plugin ? c->plugin : c->path;
}

/* Names of the components that list `name` in their inputs. */
static void print_outputs(const sl_pipeline_spec *s, const char *name)
{
    int any = 0;
    for (size_t i = 0; i < s->n_comps; i++)
        for (size_t k = 0; k < s->comps[i].n_inputs; k++)
            if (strcmp(sl_node_str(s->comps[i].inputs[k]), name) == 0)
                printf("%s%s", any++ ? ", " : " -> ", s->comps[i].name);
}

static void print_text(const sl_pipeline_spec *s, const size_t *order)
{
    for (size_t j = 0; j < s->n_comps; j++) {
        const sl_component_spec *c = &s->comps[order[j]];
        printf("%-8s %-20s (%s)", sl_kind_name(c->kind), c->name, plugin_of(c));
        for (size_t k = 0; k < c->n_inputs; k++)
            printf("%s%s", k ? ", " : " <- ", sl_node_str(c->inputs[k]));
        print_outputs(s, c->name);
        printf("\n");
    }
}

static void print_dot(const sl_pipeline_spec *s)
{
    static const char *const shape[] = {"", "invhouse", "box", "house"};
    printf("digraph sluice {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for (size_t i = 0; i < s->n_comps; i++) {
        const sl_component_spec *c = &s->comps[i];
        printf("  \"%s\" [shape=%s, label=\"%s\\n(%s %s)\"];\n", c->name, shape[c->kind], c->name,
               sl_kind_name(c->kind), plugin_of(c));
    }
    for (size_t i = 0; i < s->n_comps; i++)
        for (size_t k = 0; k < s->comps[i].n_inputs; k++)
            printf("  \"%s\" -> \"%s\";\n", sl_node_str(s->comps[i].inputs[k]), s->comps[i].name);
    printf("}\n");
}

int cli_graph(const cli *c)
{
    if (c->help)
        return printf("%s", usage_graph), 0;
    if (c->nargs != 1)
        return cli_usage_error(usage_graph, "%s", "graph needs exactly one FILE");
    /* The graph needs a sound file but not the plugins: no engine here. */
    sl_pipeline_spec spec;
    sl_errs errs = {0};
    size_t order[4096];
    int rc = sl_config_load_file(c->args[0], &spec, &errs);
    if (rc == 0 && spec.n_comps > sizeof order / sizeof *order) {
        sl_errs_addf(&errs, "%s: more than %zu components", c->args[0], sizeof order / sizeof *order);
        rc = -1;
    }
    if (rc == 0 && (sl_graph_check(&spec, &errs) < 0 || sl_graph_order(&spec, order) < 0))
        rc = -1;
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msg[i]);
    sl_errs_free(&errs);
    if (rc == 0)
        c->dot ? print_dot(&spec) : print_text(&spec, order);
    if (spec.file)
        sl_config_free(&spec);
    return rc == 0 ? 0 : SL_EXIT_INVALID;
}
