/* Pipeline YAML loading: shapes, every error with its file:line:col. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "sl_test.h"

static int load(const char *yaml, sl_pipeline_spec *s, sl_errs *e)
{
    return sl_config_load_buffer(yaml, strlen(yaml), "p.yaml", s, e);
}

/* All messages, one a line, for strstr. */
static const char *joined(const sl_errs *e)
{
    static char buf[16384];
    buf[0] = '\0';
    for (size_t i = 0; i < e->n; i++) {
        strncat(buf, e->msg[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    return buf;
}

static void dump(const char *what, const sl_errs *e)
{
    fprintf(stderr, "\n%s: got %zu message(s):\n%s", what, e->n, joined(e));
}

static const char *const good_yaml =
    "service:\n"
    "  state_dir: /var/lib/sluice\n"
    "  queue_max_bytes: 64MiB\n"
    "  shutdown_timeout: 2.5s\n"
    "  log_level: debug\n"
    "sinks:\n"                      /* sections in any order */
    "  out:\n"
    "    plugin: stdout\n"
    "    inputs: [activity, parsed]\n"
    "    queue_max_bytes: 1MB\n"
    "    format: json\n"
    "sources:\n"
    "  access:\n"
    "    plugin: tail\n"
    "    paths: [/var/log/nginx/access*.log]\n"
    "  gen:\n"
    "    path: ./build/plugins/source_generate.so\n"
    "enrichers:\n"
    "  parsed:\n"
    "    plugin: parse\n"
    "    inputs: access\n"          /* a single name */
    "    format: nginx_combined\n"
    "  activity:\n"
    "    plugin: activity\n"
    "    inputs:\n"
    "      - parsed\n"
    "      - gen\n"
    "    rules:\n"
    "      - { path: '^/search', query_param: q, type: search }\n";

static void test_good_full(void)
{
    sl_pipeline_spec s;
    sl_errs e = {0};
    int rc = load(good_yaml, &s, &e);
    if (rc)
        dump("good", &e);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(e.n, 0);
    CU_ASSERT_STRING_EQUAL(s.file, "p.yaml");
    CU_ASSERT_STRING_EQUAL(s.service.state_dir, "/var/lib/sluice");
    CU_ASSERT_EQUAL(s.service.queue_max_bytes, 64 * 1024 * 1024);
    CU_ASSERT_EQUAL(s.service.shutdown_timeout_ms, 2500);
    CU_ASSERT_EQUAL(s.service.log_level, SL_LOG_DEBUG);
    CU_ASSERT_EQUAL_FATAL(s.n_comps, 5);
    static const char *const names[] = {"access", "gen", "parsed", "activity", "out"};
    static const sl_kind kinds[] = {SL_KIND_SOURCE, SL_KIND_SOURCE, SL_KIND_ENRICHER,
                                    SL_KIND_ENRICHER, SL_KIND_SINK};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(s.comps[i].name, names[i]);
        CU_ASSERT_EQUAL(s.comps[i].kind, kinds[i]);
        CU_ASSERT_PTR_NOT_NULL(s.comps[i].where);
        CU_ASSERT_EQUAL(sl_node_kind_of(s.comps[i].node), SL_NODE_MAP);
    }
    CU_ASSERT_STRING_EQUAL(s.comps[0].plugin, "tail");
    CU_ASSERT_PTR_NULL(s.comps[0].path);
    CU_ASSERT_PTR_NULL(s.comps[1].plugin);
    CU_ASSERT_STRING_EQUAL(s.comps[1].path, "./build/plugins/source_generate.so");
    CU_ASSERT_EQUAL(s.comps[1].where->line, 17);
    CU_ASSERT_EQUAL(s.comps[1].where->col, 11);
    CU_ASSERT_EQUAL(s.comps[0].n_inputs, 0);
    CU_ASSERT_EQUAL_FATAL(s.comps[2].n_inputs, 1);
    CU_ASSERT_STRING_EQUAL(sl_node_str(s.comps[2].inputs[0]), "access");
    CU_ASSERT_EQUAL_FATAL(s.comps[3].n_inputs, 2);
    CU_ASSERT_STRING_EQUAL(sl_node_str(s.comps[3].inputs[1]), "gen");
    CU_ASSERT_EQUAL(s.comps[3].inputs[1]->line, 27);
    CU_ASSERT_EQUAL(s.comps[3].inputs[1]->col, 9);
    CU_ASSERT_EQUAL_FATAL(s.comps[4].n_inputs, 2);
    CU_ASSERT_EQUAL(s.comps[4].queue_max_bytes, 1000000);
    CU_ASSERT_EQUAL(s.comps[0].queue_max_bytes, 0);
    CU_ASSERT_EQUAL(s.comps[4].name_node->line, 7);
    CU_ASSERT_EQUAL(s.comps[4].name_node->col, 3);
    /* plugin options stay in the node for options.c */
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_get(s.comps[4].node, "format")), "json");
    const sl_node *rules = sl_node_get(s.comps[3].node, "rules");
    CU_ASSERT_EQUAL(sl_node_kind_of(rules), SL_NODE_SEQ);
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_get(sl_node_at(rules, 0), "path")), "^/search");
    CU_ASSERT_TRUE(sl_node_quoted(sl_node_get(sl_node_at(rules, 0), "path")));
    CU_ASSERT_FALSE(sl_node_quoted(sl_node_get(sl_node_at(rules, 0), "type")));
    sl_config_free(&s);
    CU_ASSERT_PTR_NULL(s.root);
    CU_ASSERT_EQUAL(s.n_comps, 0);
}

static void test_defaults(void)
{
    const char *y = "sources:\n  a: {plugin: stdin}\nsinks:\n  b: {plugin: stdout, inputs: a}\n";
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL_FATAL(load(y, &s, &e), 0);
    CU_ASSERT_STRING_EQUAL(s.service.state_dir, "./state");
    CU_ASSERT_EQUAL(s.service.queue_max_bytes, 8388608);
    CU_ASSERT_EQUAL(s.service.shutdown_timeout_ms, 10000);
    CU_ASSERT_EQUAL(s.service.log_level, SL_LOG_INFO);
    CU_ASSERT_EQUAL(s.n_comps, 2);
    sl_config_free(&s);

    /* an empty service section and an empty enrichers section are fine */
    y = "service:\nenrichers:\nsources:\n  a: {plugin: stdin}\nsinks:\n  b: {plugin: x, inputs: [a]}\n";
    CU_ASSERT_EQUAL_FATAL(load(y, &s, &e), 0);
    CU_ASSERT_EQUAL(s.n_comps, 2);
    sl_config_free(&s);
    CU_ASSERT_EQUAL(e.n, 0);
}

static void test_node_accessors(void)
{
    const char *y = "sources:\n  a:\n    plugin: stdin\n    one: x\n    list: [p, q]\n"
                    "    map: {k: v}\nsinks:\n  b: {plugin: x, inputs: a}\n";
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL_FATAL(load(y, &s, &e), 0);
    const sl_node *m = s.comps[0].node;
    const sl_node *one = sl_node_get(m, "one");
    CU_ASSERT_EQUAL(sl_node_len(one), 1);
    CU_ASSERT_PTR_EQUAL(sl_node_at(one, 0), one);
    CU_ASSERT_PTR_NULL(sl_node_at(one, 1));
    CU_ASSERT_PTR_NULL(sl_node_key(one, 0));
    const sl_node *list = sl_node_get(m, "list");
    CU_ASSERT_EQUAL(sl_node_len(list), 2);
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_at(list, 1)), "q");
    CU_ASSERT_PTR_NULL(sl_node_at(list, 2));
    CU_ASSERT_PTR_NULL(sl_node_str(list));
    CU_ASSERT_EQUAL(sl_node_len(m), 4);
    CU_ASSERT_STRING_EQUAL(sl_node_key(m, 3), "map");
    CU_ASSERT_PTR_NULL(sl_node_key(m, 4));
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_get(sl_node_get(m, "map"), "k")), "v");
    CU_ASSERT_PTR_NULL(sl_node_get(m, "absent"));
    CU_ASSERT_EQUAL(sl_node_key_node(m, "list")->line, 5);
    char where[64];
    sl_node_where(sl_node_at(list, 1), where, sizeof where);
    CU_ASSERT_STRING_EQUAL(where, "p.yaml:5:15");
    /* NULL-safety */
    CU_ASSERT_EQUAL(sl_node_kind_of(NULL), SL_NODE_NONE);
    CU_ASSERT_EQUAL(sl_node_len(NULL), 0);
    CU_ASSERT_PTR_NULL(sl_node_at(NULL, 0));
    CU_ASSERT_PTR_NULL(sl_node_str(NULL));
    CU_ASSERT_PTR_NULL(sl_node_get(NULL, "x"));
    CU_ASSERT_PTR_NULL(sl_node_key(NULL, 0));
    CU_ASSERT_EQUAL(sl_node_quoted(NULL), 0);
    sl_config_free(&s);
}

static void test_aliases_and_interp(void)
{
    setenv("SLT_TOKEN", "s3cret", 1);
    setenv("SLT_DIR", "/tmp/x", 1);
    unsetenv("SLT_UNSET");
    const char *y =
        "service:\n  state_dir: ${SLT_DIR}/state\n"
        "sources:\n  a: &src {plugin: stdin, tag: '${SLT_UNSET:-none}', price: $$5}\n"
        "  b: *src\n"
        "sinks:\n  out:\n    plugin: http\n    inputs: [a, b]\n    token: ${SLT_TOKEN}\n"
        "    ${SLT_KEY}: keys are not interpolated\n";
    sl_pipeline_spec s;
    sl_errs e = {0};
    int rc = load(y, &s, &e);
    if (rc)
        dump("aliases", &e);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(s.service.state_dir, "/tmp/x/state");
    CU_ASSERT_EQUAL_FATAL(s.n_comps, 3);
    CU_ASSERT_STRING_EQUAL(s.comps[1].plugin, "stdin");
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_get(s.comps[1].node, "tag")), "none");
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_get(s.comps[0].node, "price")), "$5");
    CU_ASSERT_PTR_NOT_EQUAL(s.comps[0].node, s.comps[1].node); /* expanded copies */
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_get(s.comps[2].node, "token")), "s3cret");
    CU_ASSERT_PTR_NOT_NULL(sl_node_get(s.comps[2].node, "${SLT_KEY}"));
    sl_config_free(&s);
}

typedef struct bad_case {
    const char *yaml;
    const char *msg; /* exact message expected among the errors, with file:line:col */
} bad_case;

static const bad_case bad_cases[] = {
    /* syntax */
    {"a: b: c\n", "p.yaml:1:5: YAML syntax error: mapping values are not allowed in this context"},
    {"sources:\n  a: [1, 2\n",
     "p.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
     "sequence at line 2, column 6)"},
    {"sources:\n  x: { env: ${E:-dev} }\n",
     "p.yaml:2:14: YAML syntax error: did not find expected ',' or '}' (while parsing a flow "
     "mapping at line 2, column 6); inside { } or [ ] a ${VAR} must be quoted: '${VAR:-default}'"},
    {"sources:\n  x: [a, ${E}]\n",
     "p.yaml:2:11: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
     "sequence at line 2, column 6); inside { } or [ ] a ${VAR} must be quoted: '${VAR:-default}'"},
    {"sources:\n  x: *nope\n", "p.yaml:2:6: YAML syntax error: found undefined alias"},
    {"a: \"\xff\"\n", "p.yaml: YAML read error: invalid leading UTF-8 octet at byte 4"},
    {"sources: {a: 1}\n---\nsinks: {}\n",
     "p.yaml:3:1: a second YAML document is not allowed (one pipeline per file)"},
    /* whole-file shape */
    {"", "p.yaml: the pipeline file is empty (expected a mapping with 'sources' and 'sinks')"},
    {"# only a comment\n",
     "p.yaml: the pipeline file is empty (expected a mapping with 'sources' and 'sinks')"},
    {"just text\n", "p.yaml:1:1: top level: expected a mapping with keys service, sources, "
                    "enrichers, sinks, got \"just text\""},
    {"- a\n- b\n", "p.yaml:1:1: top level: expected a mapping with keys service, sources, "
                   "enrichers, sinks, got a list"},
    {"sources:\n  a: {plugin: x}\nsink:\n  b: {plugin: y}\n",
     "p.yaml:3:1: unknown key 'sink' at top level (expected one of: service, sources, "
     "enrichers, sinks)"},
    {"sources:\n  a: {plugin: x}\n", "p.yaml:1:1: sinks: the pipeline needs at least one sink "
                                     "(none defined)"},
    {"sinks:\n  a: {plugin: x, inputs: b}\n",
     "p.yaml:1:1: sources: the pipeline needs at least one source (none defined)"},
    {"sources: {}\nsinks:\n  a: {plugin: x, inputs: b}\n",
     "p.yaml:1:1: sources: the pipeline needs at least one source (none defined)"},
    {"sources: [a, b]\nsinks:\n  a: {plugin: x, inputs: b}\n",
     "p.yaml:1:10: sources: expected a mapping of component names to their settings, got a list"},
    {"sources:\n  a: {plugin: x}\nenrichers: 3\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:3:12: enrichers: expected a mapping of component names to their settings, got \"3\""},
    /* service */
    {"service:\n  state_dir: ./s\n  metrics: 1.2.3.4:9\nsources:\n  a: {plugin: x}\n"
     "sinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:3:3: unknown key 'metrics' in service (expected one of: state_dir, "
     "queue_max_bytes, shutdown_timeout, log_level, log_format, admin)"},
    {"service:\n  admin: 0.0.0.0:2021\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:10: service.admin: 0.0.0.0 is not a loopback address; the admin endpoint shows "
     "events and metrics, so set admin.allow_remote: true to expose it"},
    {"service:\n  admin: localhost\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:10: service.admin: expected an address like 127.0.0.1:2021, got \"localhost\""},
    {"service:\n  admin: {listen: 127.0.0.1:1, allow_remote: maybe}\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:46: service.admin.allow_remote: unexpected value \"maybe\""},
    {"service:\n  log_format: xml\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:15: service.log_format: expected text or json, got \"xml\""},
    {"service: fast\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:1:10: service: expected a mapping of settings, got \"fast\""},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\nservice:\n"
     "  log_level: info\n  queue_max_bytes: lots\n",
     "p.yaml:7:20: service.queue_max_bytes: expected a size like 8MiB, got \"lots\""},
    {"service:\n  queue_max_bytes: 99999999999GiB\nsources:\n  a: {plugin: x}\n"
     "sinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:20: service.queue_max_bytes: expected a size like 8MiB, got \"99999999999GiB\""},
    {"service:\n  queue_max_bytes: 0\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:20: service.queue_max_bytes: expected a size like 8MiB, got \"0\""},
    {"service:\n  shutdown_timeout: soon\nsources:\n  a: {plugin: x}\n"
     "sinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:21: service.shutdown_timeout: expected a duration like 10s or 500ms, got \"soon\""},
    {"service:\n  log_level: loud\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:14: service.log_level: expected one of error, warn, info, debug, got \"loud\""},
    {"service:\n  state_dir: [a]\nsources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:14: service.state_dir: expected a directory path, got a list"},
    /* components */
    {"sources:\n  a: stdin\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:6: source 'a': expected a mapping with 'plugin: NAME' and its options, got \"stdin\""},
    {"sources:\n  a:\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:3: source 'a': expected a mapping with 'plugin: NAME' and its options, got nothing"},
    {"sources:\n  my source: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:3: source name 'my source' is not valid (use letters, digits, '_' and '-')"},
    {"sources:\n  a:\n    paths: [x]\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:3: source 'a': missing 'plugin: NAME' (or 'path: FILE.so' for a plugin outside "
     "the plugin path)"},
    {"sources:\n  a: {plugin: }\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:15: source 'a': plugin: expected a plugin name, got nothing"},
    {"sources:\n  a: {plugin: [tail]}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:15: source 'a': plugin: expected a plugin name, got a list"},
    {"sources:\n  a: {path: {x: 1}}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:13: source 'a': path: expected the path of a .so file, got a mapping"},
    {"sources:\n  a:\n    plugin: tail\n    inputs: [b]\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:4:5: source 'a': a source takes no inputs"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: {a: 1}}\n",
     "p.yaml:4:26: sink 'b': inputs: expected a component name or a list of names, got a mapping"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: [a, [c]]}\n",
     "p.yaml:4:30: sink 'b': inputs: expected component names, got a list"},
    {"sources:\n  a: {plugin: x, queue_max_bytes: 1MiB}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:2:18: source 'a': queue_max_bytes is only allowed for sinks"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a, queue_max_bytes: -1}\n",
     "p.yaml:4:46: sink 'b': queue_max_bytes: expected a size like 8MiB, got \"-1\""},
    /* duplicates */
    {"sources:\n  a: {plugin: x}\n  a: {plugin: y}\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:3:3: duplicate key 'a' (first at line 2)"},
    {"sources:\n  a: {plugin: x}\nenrichers:\n  e: {plugin: p, inputs: a}\nsinks:\n"
     "  a: {plugin: x, inputs: e}\n",
     "p.yaml:6:3: duplicate component name 'a' (first defined at line 2)"},
    {"sinks:\n  dup: {plugin: x, inputs: a}\nsources:\n  dup: {plugin: x}\n",
     "p.yaml:4:3: duplicate component name 'dup' (first defined at line 2)"},
    {"sources:\n  a:\n    plugin: x\n    plugin: y\nsinks:\n  b: {plugin: x, inputs: a}\n",
     "p.yaml:4:5: duplicate key 'plugin' (first at line 3)"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\nsources:\n  c: {plugin: x}\n",
     "p.yaml:5:1: duplicate key 'sources' (first at line 1)"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n  ? [x]\n  : 1\n",
     "p.yaml:5:5: mapping keys must be plain strings, not a list"},
    /* interpolation: the scalar's own location */
    {"sources:\n  a: {plugin: x}\nsinks:\n  b:\n    plugin: x\n    inputs: a\n"
     "    token: ${SLT_UNSET}\n",
     "p.yaml:7:12: environment variable SLT_UNSET is not set (use ${SLT_UNSET:-default} for a "
     "default)"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b:\n    plugin: x\n    inputs: a\n"
     "    token: \"${SLT_UNSET:?set it to your OneEntry token}\"\n",
     "p.yaml:7:12: SLT_UNSET: set it to your OneEntry token"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b:\n    plugin: x\n    inputs: a\n"
     "    url: http://${SLT_HOST\n",
     "p.yaml:7:10: unterminated ${SLT_HOST (missing '}')"},
    {"sources:\n  a: {plugin: x}\nsinks:\n  b:\n    plugin: x\n    inputs: a\n    url: ${9X}\n",
     "p.yaml:7:10: bad variable reference '${9X}' (expected ${NAME}, ${NAME:-default} or "
     "${NAME:?message}; NAME is letters, digits and '_')"},
};

static void test_bad(void)
{
    unsetenv("SLT_UNSET");
    unsetenv("SLT_HOST");
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        sl_pipeline_spec s;
        sl_errs e = {0};
        int rc = load(bad_cases[i].yaml, &s, &e);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_PTR_NULL(s.root);
        CU_ASSERT_PTR_NULL(s.comps);
        int found = 0;
        for (size_t k = 0; k < e.n; k++)
            if (strcmp(e.msg[k], bad_cases[i].msg) == 0)
                found = 1;
        CU_ASSERT_TRUE(found);
        if (!found || rc != -1) {
            fprintf(stderr, "\nbad case %zu: expected\n  %s\n", i, bad_cases[i].msg);
            dump("instead", &e);
        }
        sl_errs_free(&e);
    }
}

/* Every problem is reported, not just the first. */
static void test_all_reported(void)
{
    unsetenv("SLT_UNSET");
    const char *y = "service:\n  log_level: loud\n  bogus: 1\n"
                    "sources:\n  a: {plugin: x, inputs: [b]}\n"
                    "sinks:\n  b: {token: '${SLT_UNSET}'}\n"
                    "extra: 1\n";
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(load(y, &s, &e), -1);
    const char *all = joined(&e);
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "p.yaml:2:14: service.log_level"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "p.yaml:3:3: unknown key 'bogus' in service"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "p.yaml:5:18: source 'a': a source takes no inputs"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "p.yaml:7:14: environment variable SLT_UNSET"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "p.yaml:7:3: sink 'b': missing 'plugin: NAME'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "p.yaml:8:1: unknown key 'extra' at top level"));
    CU_ASSERT_EQUAL(e.n, 6);
    if (e.n != 6)
        dump("all", &e);
    sl_errs_free(&e);
}

/* A failed interpolation is one error: no second "expected a size" on top,
 * and an aliased copy does not repeat it. */
static void test_interp_error_once(void)
{
    unsetenv("SLT_UNSET");
    const char *y = "service:\n  queue_max_bytes: ${SLT_UNSET}\n"
                    "sources:\n  a: &c {plugin: x, t: '${SLT_UNSET}'}\n  b: *c\n"
                    "sinks:\n  s: {plugin: x, inputs: [a, b]}\n";
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(load(y, &s, &e), -1);
    CU_ASSERT_EQUAL(e.n, 2);
    if (e.n != 2)
        dump("once", &e);
    sl_errs_free(&e);
}

static void test_alias_bomb(void)
{
    /* billion laughs: 9 levels of 10 aliases = 10^9 nodes once expanded */
    char y[4096] = "a: &a [lol]\n";
    for (char c = 'b'; c <= 'j'; c++) {
        char line[128];
        int n = snprintf(line, sizeof line, "%c: &%c [", c, c);
        for (int k = 0; k < 10; k++)
            n += snprintf(line + n, sizeof line - (size_t)n, "%s*%c", k ? ", " : "", c - 1);
        snprintf(line + n, sizeof line - (size_t)n, "]\n");
        strcat(y, line);
    }
    clock_t t0 = clock();
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(load(y, &s, &e), -1);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CU_ASSERT_TRUE(secs < 2.0);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), "alias/anchor expansion exceeds 100000 nodes"));
    CU_ASSERT_EQUAL(e.n, 1);
    CU_ASSERT_EQUAL(strncmp(e.msg[0], "p.yaml:", 7), 0);
    if (e.n != 1)
        dump("bomb", &e);
    sl_errs_free(&e);
}

static void test_depth_bomb(void)
{
    /* 10000 nested flow sequences, and the same as block mappings */
    size_t n = 10000;
    char *y = malloc(2 * n + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    memset(y, '[', n);
    memset(y + n, ']', n);
    strcpy(y + 2 * n, "\n");
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(load(y, &s, &e), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), "p.yaml:1:65: nesting deeper than 64 levels"));
    sl_errs_free(&e);
    free(y);

    char blk[32768] = "";
    for (int d = 0; d < 100; d++) {
        size_t l = strlen(blk);
        memset(blk + l, ' ', (size_t)d * 2);
        snprintf(blk + l + (size_t)d * 2, sizeof blk - l - (size_t)d * 2, "k%d:\n", d);
    }
    CU_ASSERT_EQUAL(load(blk, &s, &e), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), "p.yaml:65:129: nesting deeper than 64 levels"));
    if (!strstr(joined(&e), "p.yaml:65:129"))
        dump("blockdepth", &e);
    sl_errs_free(&e);

    /* 100,000 nested '[' are refused before a document is built (that
     * took libyaml most of a minute) */
    n = 100000;
    y = malloc(n + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    memcpy(y, "sources: ", 9);
    memset(y + 9, '[', n);
    strcpy(y + 9 + n, "\n");
    CU_ASSERT_EQUAL(load(y, &s, &e), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), "p.yaml:1:73: nesting deeper than 64 levels"));
    sl_errs_free(&e);
    free(y);

    /* an anchor referring to itself is an infinitely deep tree */
    CU_ASSERT_EQUAL(load("a: &a [x, *a]\n", &s, &e), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), "nesting deeper than 64 levels"));
    sl_errs_free(&e);
}

static void test_many_keys_fast(void)
{
    /* a 40000-key mapping: duplicate detection must not be quadratic */
    size_t n = 40000;
    char *y = malloc(n * 16 + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    size_t o = (size_t)sprintf(y, "sources:\n  a:\n    plugin: x\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(y + o, "    k%zu: 1\n", i);
    sprintf(y + o, "    k7: 2\n");
    clock_t t0 = clock();
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(load(y, &s, &e), -1);
    CU_ASSERT_TRUE((double)(clock() - t0) / CLOCKS_PER_SEC < 3.0);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), "duplicate key 'k7' (first at line 11)"));
    sl_errs_free(&e);
    free(y);
}

static void test_load_file(void)
{
    char path[] = "/tmp/sl_test_config_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    const char *y = "sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: nope}\n"
                    "  c: {plugin: y}\n  c2: {plugin: y, inputs: a, bad: [}\n";
    CU_ASSERT_EQUAL((size_t)write(fd, y, strlen(y)), strlen(y));
    close(fd);
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(sl_config_load_file(path, &s, &e), -1);
    char want[128];
    snprintf(want, sizeof want, "%s:6:36: YAML syntax error", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(joined(&e), want));
    if (!strstr(joined(&e), want))
        dump("file", &e);
    sl_errs_free(&e);

    fd = open(path, O_WRONLY | O_TRUNC);
    y = "sources:\n  a: {plugin: x}\nsinks:\n  b: {plugin: x, inputs: a}\n";
    CU_ASSERT_EQUAL((size_t)write(fd, y, strlen(y)), strlen(y));
    close(fd);
    CU_ASSERT_EQUAL_FATAL(sl_config_load_file(path, &s, &e), 0);
    CU_ASSERT_STRING_EQUAL(s.file, path);
    CU_ASSERT_STRING_EQUAL(s.comps[1].name_node->file, path);
    sl_config_free(&s);
    unlink(path);

    CU_ASSERT_EQUAL(sl_config_load_file("/nonexistent/p.yaml", &s, &e), -1);
    CU_ASSERT_STRING_EQUAL(e.msg[0],
                           "/nonexistent/p.yaml: cannot open pipeline file: No such file or directory");
    sl_errs_free(&e);
}

static void test_reserved(void)
{
    sl_component_spec by_name = {.plugin = "file"}, by_path = {.path = "./x.so"};
    CU_ASSERT_TRUE(sl_config_reserved_key(&by_name, "plugin"));
    CU_ASSERT_TRUE(sl_config_reserved_key(&by_name, "inputs"));
    CU_ASSERT_TRUE(sl_config_reserved_key(&by_name, "queue_max_bytes"));
    CU_ASSERT_FALSE(sl_config_reserved_key(&by_name, "format"));
    CU_ASSERT_FALSE(sl_config_reserved_key(&by_name, NULL));
    /* `path` is the plugin's own option next to `plugin:`, the .so otherwise. */
    CU_ASSERT_FALSE(sl_config_reserved_key(&by_name, "path"));
    CU_ASSERT_TRUE(sl_config_reserved_key(&by_path, "path"));
}

/* `plugin:` and `path:` together: path is then an option, not the .so. */
static void test_plugin_with_path_option(void)
{
    const char *y = "sources:\n  a: {plugin: stdin}\nsinks:\n  b: {plugin: file, path: /tmp/o, inputs: a}\n";
    sl_pipeline_spec s;
    sl_errs e = {0};
    CU_ASSERT_EQUAL_FATAL(sl_config_load_buffer(y, strlen(y), "p.yaml", &s, &e), 0);
    CU_ASSERT_STRING_EQUAL(s.comps[1].plugin, "file");
    CU_ASSERT_PTR_NULL(s.comps[1].path);
    sl_config_free(&s);
    sl_errs_free(&e);
}

static void test_errs(void)
{
    sl_errs e = {0};
    sl_errs_at(&e, NULL, "plain %d", 1);
    sl_node n = {.file = "f.yaml", .line = 3, .col = 7};
    sl_errs_at(&e, &n, "at %s", "node");
    sl_errs_addf(&e, "x");
    CU_ASSERT_EQUAL_FATAL(e.n, 3);
    CU_ASSERT_STRING_EQUAL(e.msg[0], "plain 1");
    CU_ASSERT_STRING_EQUAL(e.msg[1], "f.yaml:3:7: at node");
    for (int i = 0; i < 100; i++)
        sl_errs_addf(&e, "more %d", i);
    CU_ASSERT_EQUAL(e.n, 103);
    CU_ASSERT_STRING_EQUAL(e.msg[102], "more 99");
    sl_errs_free(&e);
    CU_ASSERT_EQUAL(e.n, 0);
    sl_errs_addf(&e, "reusable");
    CU_ASSERT_EQUAL(e.n, 1);
    sl_errs_free(&e);
}

static const sl_test_case cases[] = {
    {"full pipeline", test_good_full},
    {"service defaults", test_defaults},
    {"node accessors", test_node_accessors},
    {"aliases and interpolation", test_aliases_and_interp},
    {"every bad shape, exact message", test_bad},
    {"all problems reported", test_all_reported},
    {"interpolation error reported once", test_interp_error_once},
    {"alias bomb", test_alias_bomb},
    {"depth bomb", test_depth_bomb},
    {"large mapping stays fast", test_many_keys_fast},
    {"load from file", test_load_file},
    {"reserved keys", test_reserved},
    {"path next to plugin is an option", test_plugin_with_path_option},
    {"error list", test_errs},
    {0},
};

int main(void)
{
    return sl_test_run("config", cases);
}
