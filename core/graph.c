/* The component graph: edges run from an input to the component reading it. */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

long sl_graph_find(const sl_pipeline_spec *spec, const char *name)
{
    for (size_t i = 0; name && i < spec->n_comps; i++)
        if (spec->comps[i].name && strcmp(spec->comps[i].name, name) == 0)
            return (long)i;
    return -1;
}

static int listed_before(const sl_component_spec *c, size_t j)
{
    for (size_t i = 0; i < j; i++)
        if (strcmp(sl_node_str(c->inputs[i]), sl_node_str(c->inputs[j])) == 0)
            return 1;
    return 0;
}

/* Index of input j of component i when it is a usable edge, else -1. */
static long edge(const sl_pipeline_spec *s, size_t i, size_t j)
{
    if (listed_before(&s->comps[i], j))
        return -1;
    long k = sl_graph_find(s, sl_node_str(s->comps[i].inputs[j]));
    if (k < 0 || s->comps[k].kind == SL_KIND_SINK)
        return -1;
    return k;
}

/* Closest non-sink name within 2 edits, for "did you mean". */
static const char *suggest(const sl_pipeline_spec *s, const char *name)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < s->n_comps; i++) {
        if (s->comps[i].kind == SL_KIND_SINK)
            continue;
        size_t d = sl_edit_distance(name, s->comps[i].name);
        if (d < bestd) {
            bestd = d;
            best = s->comps[i].name;
        }
    }
    return best;
}

static void check_inputs(const sl_pipeline_spec *s, size_t i, sl_errs *errs, int *bad)
{
    const sl_component_spec *c = &s->comps[i];
    const char *kn = sl_kind_name(c->kind);
    if (c->kind == SL_KIND_SOURCE) {
        if (c->n_inputs) {
            sl_errs_at(errs, c->inputs[0], "source '%s': a source takes no inputs", c->name);
            *bad = 1;
        }
        return;
    }
    if (c->n_inputs == 0) {
        sl_errs_at(errs, c->name_node, "%s '%s' has no inputs", kn, c->name);
        *bad = 1;
    }
    for (size_t j = 0; j < c->n_inputs; j++) {
        const char *in = sl_node_str(c->inputs[j]);
        long k = sl_graph_find(s, in);
        if (k >= 0 && s->comps[k].kind != SL_KIND_SINK && !listed_before(c, j))
            continue;
        *bad = 1;
        if (k < 0) {
            const char *hint = suggest(s, in);
            if (hint)
                sl_errs_at(errs, c->inputs[j], "%s '%s': unknown input '%s' (did you mean '%s'?)",
                           kn, c->name, in, hint);
            else
                sl_errs_at(errs, c->inputs[j], "%s '%s': unknown input '%s'", kn, c->name, in);
            continue;
        }
        if (s->comps[k].kind == SL_KIND_SINK) {
            sl_errs_at(errs, c->inputs[j], "input '%s' of '%s' is a sink; sinks have no output",
                       in, c->name);
            continue;
        }
        sl_errs_at(errs, c->inputs[j], "%s '%s': input '%s' listed twice", kn, c->name, in);
    }
}

static void report_cycle(const sl_pipeline_spec *s, const size_t *cyc, size_t n,
                         sl_errs *errs)
{
    const sl_component_spec *v = &s->comps[cyc[0]];
    size_t len = strlen(v->name) + 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(s->comps[cyc[i]].name) + 4;
    char *msg = malloc(len);
    if (!msg) {
        sl_errs_at(errs, v->name_node, "enricher cycle through '%s'", v->name);
        return;
    }
    char *p = msg;
    p += sprintf(p, "%s", v->name);
    for (size_t i = n - 1; i >= 1; i--)
        p += sprintf(p, " -> %s", s->comps[cyc[i]].name);
    sprintf(p, " -> %s", v->name);
    sl_errs_at(errs, v->name_node, "enricher cycle: %s", msg);
    free(msg);
}

/*
 * Cycles can only run through enrichers (sources have no inputs, sinks no
 * outputs). Iterative DFS along input edges, so a long chain cannot exhaust
 * the stack; a back edge closes a cycle, reported in data-flow order.
 */
static int find_cycles(const sl_pipeline_spec *s, sl_errs *errs)
{
    size_t n = s->n_comps;
    unsigned char *color = calloc(n ? n : 1, 1); /* 0 new, 1 on stack, 2 done */
    size_t *stack = malloc((n ? n : 1) * sizeof *stack);
    size_t *next = calloc(n ? n : 1, sizeof *next); /* next input to visit */
    int found = 0;
    if (!color || !stack || !next) {
        sl_errs_addf(errs, "out of memory while checking the pipeline graph");
        found = -1;
        goto out;
    }
    for (size_t r = 0; r < n; r++) {
        if (color[r] || s->comps[r].kind != SL_KIND_ENRICHER)
            continue;
        size_t top = 0;
        stack[top++] = r;
        color[r] = 1;
        while (top) {
            size_t u = stack[top - 1];
            if (next[u] == s->comps[u].n_inputs) {
                color[u] = 2;
                top--;
                continue;
            }
            long v = edge(s, u, next[u]++);
            if (v < 0 || color[v] == 2)
                continue;
            if (color[v] == 0) {
                color[v] = 1;
                stack[top++] = (size_t)v;
                continue;
            }
            /* Back edge u -> v: stack[pos..top) is v, w1, .., u, each reading
             * the next one's output; data flows v -> u -> .. -> w1 -> v. */
            size_t pos = top - 1;
            while (stack[pos] != (size_t)v)
                pos--;
            report_cycle(s, stack + pos, top - pos, errs);
            found = -1;
        }
    }
out:
    free(color);
    free(stack);
    free(next);
    return found;
}

int sl_graph_check(const sl_pipeline_spec *spec, sl_errs *errs)
{
    int bad = 0;
    for (size_t i = 0; i < spec->n_comps; i++) {
        int b = 0;
        check_inputs(spec, i, errs, &b);
        bad |= b;
    }
    if (find_cycles(spec, errs))
        bad = 1;
    return bad ? -1 : 0;
}

/* ---- start order ---- */

/* Min-heap of indices: among ready components, the earliest in the spec. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *n)
{
    size_t top = h[0], last = h[--*n], i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= last)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

int sl_graph_order(const sl_pipeline_spec *spec, size_t *order)
{
    size_t n = spec->n_comps, edges = 0;
    for (size_t i = 0; i < n; i++)
        edges += spec->comps[i].n_inputs;
    size_t *indeg = calloc(n + 1, sizeof *indeg);
    size_t *start = calloc(n + 1, sizeof *start); /* CSR of outgoing edges */
    size_t *adj = malloc((edges ? edges : 1) * sizeof *adj);
    size_t *heap = malloc((n ? n : 1) * sizeof *heap);
    size_t *fill = calloc(n + 1, sizeof *fill);
    int rc = -1;
    if (!indeg || !start || !adj || !heap || !fill)
        goto out;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < spec->comps[i].n_inputs; j++) {
            long k = edge(spec, i, j);
            if (k >= 0) {
                start[k + 1]++;
                indeg[i]++;
            }
        }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < spec->comps[i].n_inputs; j++) {
            long k = edge(spec, i, j);
            if (k >= 0)
                adj[start[k] + fill[k]++] = i;
        }
    size_t hn = 0, out_n = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            heap_push(heap, &hn, i);
    while (hn) {
        size_t u = heap_pop(heap, &hn);
        order[out_n++] = u;
        for (size_t e = start[u]; e < start[u + 1]; e++)
            if (--indeg[adj[e]] == 0)
                heap_push(heap, &hn, adj[e]);
    }
    rc = out_n == n ? 0 : -1;
out:
    free(indeg);
    free(start);
    free(adj);
    free(heap);
    free(fill);
    return rc;
}
