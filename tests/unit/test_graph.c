/* Graph checks and start order. */
#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "sl_test.h"

static const char *joined(const sl_errs *e)
{
    static char buf[8192];
    buf[0] = '\0';
    for (size_t i = 0; i < e->n; i++) {
        strncat(buf, e->msg[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    return buf;
}

/* Load YAML that must pass the shape checks. */
static int load(const char *y, sl_pipeline_spec *s)
{
    sl_errs e = {0};
    int rc = sl_config_load_buffer(y, strlen(y), "p.yaml", s, &e);
    if (rc)
        fprintf(stderr, "\nload failed:\n%s", joined(&e));
    sl_errs_free(&e);
    return rc;
}

static void test_good_and_order(void)
{
    const char *y = "sources:\n  a: {plugin: x}\n  b: {plugin: x}\n"
                    "enrichers:\n  e2: {plugin: p, inputs: e1}\n  e1: {plugin: p, inputs: [a]}\n"
                    "sinks:\n  s: {plugin: o, inputs: [e2, b]}\n  t: {plugin: o, inputs: a}\n";
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load(y, &s), 0);
    sl_errs e = {0};
    CU_ASSERT_EQUAL(sl_graph_check(&s, &e), 0);
    CU_ASSERT_EQUAL(e.n, 0);
    CU_ASSERT_EQUAL(sl_graph_find(&s, "a"), 0);
    CU_ASSERT_EQUAL(sl_graph_find(&s, "e1"), 3);
    CU_ASSERT_EQUAL(sl_graph_find(&s, "t"), 5);
    CU_ASSERT_EQUAL(sl_graph_find(&s, "zz"), -1);
    CU_ASSERT_EQUAL(sl_graph_find(&s, NULL), -1);
    size_t order[6];
    CU_ASSERT_EQUAL_FATAL(sl_graph_order(&s, order), 0);
    /* each after its inputs; ties broken by spec order */
    static const size_t want[] = {0, 1, 3, 2, 4, 5};
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(order[i], want[i]);
    sl_config_free(&s);
}

static void test_order_stable(void)
{
    /* already in order: the order is the identity */
    const char *y = "sources:\n  a: {plugin: x}\n  b: {plugin: x}\n"
                    "enrichers:\n  c: {plugin: p, inputs: [a, b]}\n  d: {plugin: p, inputs: c}\n"
                    "sinks:\n  s: {plugin: o, inputs: [d]}\n  t: {plugin: o, inputs: [a]}\n";
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load(y, &s), 0);
    size_t order[6];
    CU_ASSERT_EQUAL_FATAL(sl_graph_order(&s, order), 0);
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(order[i], i);
    sl_config_free(&s);
}

typedef struct bad_case {
    const char *yaml;
    const char *msgs[3]; /* exact messages, all expected */
    size_t n;            /* total number of messages */
} bad_case;

static const bad_case bad_cases[] = {
    {"sources:\n  access: {plugin: x}\nenrichers:\n  parsed: {plugin: p, inputs: access}\n"
     "sinks:\n  out:\n    plugin: o\n    inputs: [parsd]\n",
     {"p.yaml:8:14: sink 'out': unknown input 'parsd' (did you mean 'parsed'?)"}, 1},
    {"sources:\n  a: {plugin: x}\nsinks:\n  out: {plugin: o, inputs: [a, zzzzz]}\n",
     {"p.yaml:4:32: sink 'out': unknown input 'zzzzz'"}, 1},
    {"sources:\n  a: {plugin: x}\nsinks:\n  out: {plugin: o}\n  o2: {plugin: o, inputs: a}\n",
     {"p.yaml:4:3: sink 'out' has no inputs"}, 1},
    {"sources:\n  a: {plugin: x}\nsinks:\n  out: {plugin: o, inputs: []}\n  o2: {plugin: o, inputs: a}\n",
     {"p.yaml:4:3: sink 'out' has no inputs"}, 1},
    {"sources:\n  a: {plugin: x}\nenrichers:\n  e: {plugin: p, inputs: }\n"
     "sinks:\n  out: {plugin: o, inputs: [e]}\n",
     {"p.yaml:4:3: enricher 'e' has no inputs"}, 1},
    {"sources:\n  a: {plugin: x}\nenrichers:\n  e: {plugin: p, inputs: x}\n"
     "sinks:\n  x: {plugin: o, inputs: a}\n",
     {"p.yaml:4:26: input 'x' of 'e' is a sink; sinks have no output"}, 1},
    {"sources:\n  a: {plugin: x}\nsinks:\n  x: {plugin: o, inputs: [a, x]}\n",
     {"p.yaml:4:30: input 'x' of 'x' is a sink; sinks have no output"}, 1},
    {"sources:\n  a: {plugin: x}\nsinks:\n  x: {plugin: o, inputs: [a, a]}\n",
     {"p.yaml:4:30: sink 'x': input 'a' listed twice"}, 1},
    {"sources:\n  s: {plugin: x}\nenrichers:\n  a: {plugin: p, inputs: [s, b]}\n"
     "  b: {plugin: p, inputs: a}\nsinks:\n  o: {plugin: o, inputs: b}\n",
     {"p.yaml:4:3: enricher cycle: a -> b -> a"}, 1},
    {"sources:\n  s: {plugin: x}\nenrichers:\n  a: {plugin: p, inputs: [s, a]}\n"
     "sinks:\n  o: {plugin: o, inputs: a}\n",
     {"p.yaml:4:3: enricher cycle: a -> a"}, 1},
    /* a loop nobody feeds, three long, listed out of order */
    {"sources:\n  s: {plugin: x}\nenrichers:\n  c: {plugin: p, inputs: b}\n"
     "  a: {plugin: p, inputs: c}\n  b: {plugin: p, inputs: a}\n"
     "sinks:\n  o: {plugin: o, inputs: [s, c]}\n",
     {"p.yaml:4:3: enricher cycle: c -> a -> b -> c"}, 1},
    /* several problems at once */
    {"sources:\n  src: {plugin: x}\nenrichers:\n  e: {plugin: p, inputs: [scr, out]}\n"
     "sinks:\n  out: {plugin: o}\n",
     {"p.yaml:4:27: enricher 'e': unknown input 'scr' (did you mean 'src'?)",
      "p.yaml:4:32: input 'out' of 'e' is a sink; sinks have no output",
      "p.yaml:6:3: sink 'out' has no inputs"}, 3},
};

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        sl_pipeline_spec s;
        CU_ASSERT_EQUAL_FATAL(load(bc->yaml, &s), 0);
        sl_errs e = {0};
        CU_ASSERT_EQUAL(sl_graph_check(&s, &e), -1);
        int ok = e.n == bc->n;
        for (size_t m = 0; m < 3 && bc->msgs[m]; m++) {
            int found = 0;
            for (size_t k = 0; k < e.n; k++)
                found |= strcmp(e.msg[k], bc->msgs[m]) == 0;
            ok &= found;
        }
        CU_ASSERT_TRUE(ok);
        if (!ok)
            fprintf(stderr, "\ngraph case %zu: expected %s..., got:\n%s", i, bc->msgs[0],
                    joined(&e));
        sl_errs_free(&e);
        sl_config_free(&s);
    }
}

static void test_order_cycle(void)
{
    const char *y = "sources:\n  s: {plugin: x}\nenrichers:\n  a: {plugin: p, inputs: [s, b]}\n"
                    "  b: {plugin: p, inputs: a}\nsinks:\n  o: {plugin: o, inputs: b}\n";
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load(y, &s), 0);
    size_t order[4];
    CU_ASSERT_EQUAL(sl_graph_order(&s, order), -1);
    sl_config_free(&s);
}

/* The loader refuses a source with inputs, but the check stands on its own. */
static void test_source_inputs_handmade(void)
{
    sl_node name = {.kind = SL_NODE_SCALAR, .file = "h.yaml", .line = 2, .col = 3, .str = "a"};
    sl_node in = {.kind = SL_NODE_SCALAR, .file = "h.yaml", .line = 3, .col = 13, .str = "b"};
    sl_node sname = {.kind = SL_NODE_SCALAR, .file = "h.yaml", .line = 5, .col = 3, .str = "b"};
    const sl_node *ins[] = {&in};
    sl_node self = {.kind = SL_NODE_SCALAR, .file = "h.yaml", .line = 6, .col = 13, .str = "b"};
    const sl_node *sins[] = {&self};
    sl_component_spec comps[] = {
        {.name = "a", .name_node = &name, .kind = SL_KIND_SOURCE, .inputs = ins, .n_inputs = 1},
        {.name = "b", .name_node = &sname, .kind = SL_KIND_SINK, .inputs = sins, .n_inputs = 1},
    };
    sl_pipeline_spec s = {.comps = comps, .n_comps = 2};
    sl_errs e = {0};
    CU_ASSERT_EQUAL(sl_graph_check(&s, &e), -1);
    CU_ASSERT_EQUAL_FATAL(e.n, 2);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "h.yaml:3:13: source 'a': a source takes no inputs");
    CU_ASSERT_STRING_EQUAL(e.msg[1], "h.yaml:6:13: input 'b' of 'b' is a sink; sinks have no output");
    sl_errs_free(&e);
}

static void test_long_chain(void)
{
    /* 3000 enrichers in a chain, listed in reverse: no recursion, right order */
    enum { N = 3000 };
    static char y[N * 64 + 256];
    size_t o = (size_t)sprintf(y, "sources:\n  e0: {plugin: x}\nenrichers:\n");
    for (int i = N; i >= 1; i--)
        o += (size_t)sprintf(y + o, "  e%d: {plugin: p, inputs: e%d}\n", i, i - 1);
    sprintf(y + o, "sinks:\n  out: {plugin: o, inputs: e%d}\n", N);
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load(y, &s), 0);
    sl_errs e = {0};
    CU_ASSERT_EQUAL(sl_graph_check(&s, &e), 0);
    static size_t order[N + 2];
    CU_ASSERT_EQUAL_FATAL(sl_graph_order(&s, order), 0);
    CU_ASSERT_EQUAL(order[0], 0);
    CU_ASSERT_EQUAL(order[1], N);     /* e1 is the last enricher listed */
    CU_ASSERT_EQUAL(order[N], 1);     /* eN is the first */
    CU_ASSERT_EQUAL(order[N + 1], N + 1);
    sl_config_free(&s);
}

static const sl_test_case cases[] = {
    {"good graph and order", test_good_and_order},
    {"order is stable", test_order_stable},
    {"every bad graph, exact message", test_bad},
    {"order refuses a cycle", test_order_cycle},
    {"source with inputs (hand-built)", test_source_inputs_handmade},
    {"long chain", test_long_chain},
    {0},
};

int main(void)
{
    return sl_test_run("graph", cases);
}
