/* Pipeline tests from YAML: see pipetest.h. */
#include "pipetest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_test.h"
#include "node.h"
#include "options.h"

#define ABSENT "~absent"

/* Report text; out of memory is remembered and returned at the end. */
typedef struct rep {
    sl_buf *out;
    int oom;
} rep;

static void say(rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(rep *r, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (sl_buf_puts(r->out, line) < 0)
        r->oom = 1;
}

/* ---- YAML values as msgpack ---- */

static int pack_scalar(sl_builder *pk, const sl_node *n)
{
    const char *s = n->str;
    int64_t i;
    double d;
    if (n->quoted)
        return sl_bb_str(pk, s, n->str_len);
    if (!*s || !strcmp(s, "null") || !strcmp(s, "~"))
        return sl_bb_nil(pk);
    if (!strcmp(s, "true") || !strcmp(s, "false"))
        return sl_bb_bool(pk, *s == 't');
    if (sl_parse_int(s, &i) == 0)
        return sl_bb_int(pk, i);
    if (sl_parse_double(s, &d) == 0)
        return sl_bb_double(pk, d);
    return sl_bb_str(pk, s, n->str_len);
}

/* Typed like the matching rules say; returns 0 or -1. */
static int pack_node(sl_builder *pk, const sl_node *n)
{
    int rc = 0;
    switch (sl_node_kind_of(n)) {
    case SL_NODE_SCALAR: return pack_scalar(pk, n);
    case SL_NODE_SEQ:
        rc |= sl_bb_array(pk, (uint32_t)n->n);
        for (size_t i = 0; i < n->n; i++)
            rc |= pack_node(pk, n->items[i]);
        return rc ? -1 : 0;
    case SL_NODE_MAP:
        rc |= sl_bb_map(pk, (uint32_t)n->n);
        for (size_t i = 0; i < n->n; i++) {
            rc |= sl_bb_str(pk, n->keys[i]->str, n->keys[i]->str_len);
            rc |= pack_node(pk, n->items[i]);
        }
        return rc ? -1 : 0;
    default: return sl_bb_nil(pk);
    }
}

/* The expected value as JSON, for the diff. */
static void node_json(rep *r, const sl_node *n)
{
    sl_builder *sb = sl_bb_new();
    sl_value v;
    size_t len = 0;
    int rc = sb ? pack_node(sb, n) : -1;
    const uint8_t *p = sb ? sl_bb_data(sb, &len) : NULL;
    if (rc < 0 || !p || sl_read_value(&p, p + len, &v) < 0 || sl_json_value(r->out, &v) < 0)
        r->oom = 1;
    sl_bb_free(sb);
}

static void value_json(rep *r, const sl_value *v)
{
    if (sl_json_value(r->out, v) < 0)
        r->oom = 1;
}

/* ---- matching ---- */

static int is_absent_marker(const sl_node *n)
{
    return n->kind == SL_NODE_SCALAR && !n->quoted && !strcmp(n->str, ABSENT);
}

/* Does `got` equal the expected node (maps: subset)? */
static int match(const sl_node *want, const sl_value *got)
{
    if (want->kind == SL_NODE_MAP) {
        if (got->type != SL_MAP)
            return 0;
        for (size_t i = 0; i < want->n; i++) {
            sl_value gv;
            int found = sl_map_gets(got, want->keys[i]->str, &gv) == 1;
            if (is_absent_marker(want->items[i]) ? found : !found || !match(want->items[i], &gv))
                return 0;
        }
        return 1;
    }
    /* Scalars and sequences: exact, through the same typed encoding. */
    sl_builder *sb = sl_bb_new();
    size_t len = 0;
    const uint8_t *data = sb && pack_node(sb, want) == 0 ? sl_bb_data(sb, &len) : NULL;
    int eq = data && len == got->raw_len && memcmp(data, got->raw, len) == 0;
    if (!eq && got->type == SL_FLOAT && want->kind == SL_NODE_SCALAR) {
        double d;
        eq = !want->quoted && sl_parse_double(want->str, &d) == 0 && d == got->v.f;
    }
    sl_bb_free(sb);
    return eq;
}

/* One line per expected field that does not match. Returns mismatches. */
static int diff_body(rep *r, const sl_node *want, const sl_value *body)
{
    int bad = 0;
    for (size_t i = 0; i < want->n; i++) {
        const char *key = want->keys[i]->str;
        const sl_node *w = want->items[i];
        sl_value gv;
        int found = sl_map_gets(body, key, &gv) == 1;
        if (is_absent_marker(w) ? !found : found && match(w, &gv))
            continue;
        bad++;
        say(r, "      %s: want ", key);
        if (is_absent_marker(w))
            say(r, "(absent)");
        else
            node_json(r, w);
        say(r, ", got ");
        if (found)
            value_json(r, &gv);
        else
            say(r, "(absent)");
        say(r, "\n");
    }
    return bad;
}

/* ---- one test ---- */

typedef struct test_def {
    const char *name, *component;
    const sl_node *node, *input, *expect, *count;
    char where[160];
} test_def;

static int def_error(rep *r, const test_def *t, const sl_node *at, const char *msg)
{
    char w[160];
    sl_node_where(at ? at : t->node, w, sizeof w);
    say(r, "FAIL - %s\n    %s: %s\n", t->name ? t->name : "(unnamed test)", w, msg);
    return -1;
}

static int read_def(rep *r, const sl_node *n, test_def *t)
{
    static const char *const keys[] = {"name", "component", "input", "expect", "expect_count"};
    memset(t, 0, sizeof *t);
    t->node = n;
    sl_node_where(n, t->where, sizeof t->where);
    if (sl_node_kind_of(n) != SL_NODE_MAP)
        return def_error(r, t, n, "a test is a mapping with name, component, input, expect");
    t->name = sl_node_str(sl_node_get(n, "name"));
    t->component = sl_node_str(sl_node_get(n, "component"));
    t->input = sl_node_get(n, "input");
    t->expect = sl_node_get(n, "expect");
    t->count = sl_node_get(n, "expect_count");
    for (size_t i = 0; i < n->n; i++) {
        size_t k = 0;
        while (k < 5 && strcmp(n->keys[i]->str, keys[k]))
            k++;
        if (k == 5)
            return def_error(r, t, n->keys[i], "unknown key (expected name, component, input, "
                                               "expect, expect_count)");
    }
    if (!t->name)
        return def_error(r, t, n, "name: required, a scalar");
    if (!t->component)
        return def_error(r, t, n, "component: required, the name of an enricher in this file");
    if (sl_node_kind_of(t->input) != SL_NODE_SEQ)
        return def_error(r, t, t->input, "input: required, a sequence of event bodies (maps)");
    for (size_t i = 0; i < t->input->n; i++)
        if (t->input->items[i]->kind != SL_NODE_MAP)
            return def_error(r, t, t->input->items[i], "input: each event body is a mapping");
    if (!t->expect && !t->count)
        return def_error(r, t, n, "give expect (output bodies) or expect_count");
    if (t->expect && sl_node_kind_of(t->expect) != SL_NODE_SEQ)
        return def_error(r, t, t->expect, "expect: a sequence of expected bodies (maps)");
    for (size_t i = 0; t->expect && i < t->expect->n; i++)
        if (t->expect->items[i]->kind != SL_NODE_MAP)
            return def_error(r, t, t->expect->items[i], "expect: each expected body is a mapping");
    int64_t c;
    if (t->count && (sl_node_kind_of(t->count) != SL_NODE_SCALAR ||
                     sl_parse_int(t->count->str, &c) < 0 || c < 0))
        return def_error(r, t, t->count, "expect_count: a number of events >= 0");
    return 0;
}

/* Events {input[i]} with meta {source: "test"}, at one fixed time. */
static int build_input(const test_def *t, sl_builder *bb)
{
    int rc = 0;
    for (size_t i = 0; i < t->input->n; i++) {
        sl_bb_begin(bb, 1700000000LL * 1000000000LL);
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "source");
        sl_bb_cstr(bb, "test");
        pack_node(bb, t->input->items[i]);
        rc |= sl_bb_end(bb);
    }
    return rc ? -1 : 0;
}

static void show_output(rep *r, const sl_batch *b)
{
    sl_batch_iter it;
    sl_event ev;
    say(r, "    output (%u event%s):\n", b->count, b->count == 1 ? "" : "s");
    sl_batch_iter_init(&it, b);
    while (sl_batch_next(&it, &ev) == 1) {
        say(r, "      ");
        value_json(r, &ev.body);
        say(r, "\n");
    }
}

/* Compare; the first failure line starts "FAIL". Returns 1 passed, 0 failed. */
static int compare(rep *r, const test_def *t, const sl_batch *b)
{
    int64_t want_n = t->expect ? (int64_t)t->expect->n : 0;
    if (t->count)
        sl_parse_int(t->count->str, &want_n);
    int ok = (int64_t)b->count == want_n;
    size_t mark = r->out->len;
    say(r, "FAIL - %s (%s, component %s)\n", t->name, t->where, t->component);
    if (!ok)
        say(r, "    want %lld event%s, got %u\n", (long long)want_n, want_n == 1 ? "" : "s",
            b->count);
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, b);
    for (size_t i = 0; t->expect && i < t->expect->n && sl_batch_next(&it, &ev) == 1; i++) {
        size_t at = r->out->len;
        say(r, "    event %zu:\n", i + 1);
        if (diff_body(r, t->expect->items[i], &ev.body) == 0)
            r->out->len = at; /* nothing to show for a matching event */
        else
            ok = 0;
    }
    if (ok) {
        r->out->len = mark;
        say(r, "ok - %s\n", t->name);
        return 1;
    }
    show_output(r, b);
    return 0;
}

/* Feed the test's input to its enricher; returns 1 passed, 0 failed. */
static int run_one(rep *r, sl_engine *e, const test_def *t)
{
    char err[1024] = "";
    if (sl_engine_test_kind(e, t->component) != SL_KIND_ENRICHER) {
        def_error(r, t, sl_node_get(t->node, "component"),
                  "component: not an enricher of this pipeline");
        return 0;
    }
    if (sl_engine_test_init(e, t->component, err, sizeof err) < 0) {
        def_error(r, t, t->node, err);
        return 0;
    }
    sl_builder *in = sl_bb_new(), *out = sl_bb_new();
    int passed = 0;
    if (!in || !out || build_input(t, in) < 0) {
        r->oom = 1;
        goto done;
    }
    sl_batch b = sl_bb_batch(in);
    if (sl_engine_test_process(e, t->component, &b, out, err, sizeof err) != SL_OK) {
        say(r, "FAIL - %s (%s, component %s)\n    process failed: %s\n", t->name, t->where,
            t->component, err[0] ? err : "(no message)");
        goto done;
    }
    sl_batch ob = sl_bb_batch(out);
    passed = compare(r, t, &ob);
done:
    sl_bb_free(in);
    sl_bb_free(out);
    return passed;
}

int sl_pipetest_run(const sl_pipeline_spec *spec, sl_engine *e, sl_buf *out,
                    sl_pipetest_result *res)
{
    rep r = {out, 0};
    const sl_node *tests = sl_node_get(spec->root, "tests");
    *res = (sl_pipetest_result){0};
    for (size_t i = 0; i < sl_node_len(tests); i++) {
        test_def t;
        if (read_def(&r, sl_node_at(tests, i), &t) == 0 && run_one(&r, e, &t))
            res->passed++;
        else
            res->failed++;
    }
    say(&r, "%d passed, %d failed\n", res->passed, res->failed);
    return r.oom ? -1 : 0;
}
