/* Plugin options: table walking, types, defaults, required, choices, parsers. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
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

/* A plugin built against a future ABI whose option entries are larger:
 * the core must step by option_size, not sizeof(sl_option). */
typedef struct big_option {
    sl_option o;
    const char *future_field;
    char pad[40];
} big_option;

#define BIG(...) {{__VA_ARGS__, NULL, NULL, 0}, "x", {0}}
static const big_option big_opts[] = {
    BIG("url", SL_OPT_STRING, NULL, 1, "endpoint, e.g. https://api.example.com", NULL),
    BIG("format", SL_OPT_STRING, "json", 0, "output format", "json|text|msgpack"),
    BIG("retries", SL_OPT_INT, "3", 0, "attempts", NULL),
    BIG("gzip", SL_OPT_BOOL, "off", 0, "compress", NULL),
    BIG("ratio", SL_OPT_DOUBLE, "0.5", 0, "sampling", NULL),
    BIG("batch", SL_OPT_SIZE, "64KiB", 0, "batch size", NULL),
    BIG("timeout", SL_OPT_DURATION, "5s", 0, "request timeout", NULL),
    BIG("paths", SL_OPT_LIST, NULL, 0, "files", NULL),
    BIG("headers", SL_OPT_MAP, NULL, 0, "extra headers", NULL),
    BIG("rules", SL_OPT_ANY, NULL, 0, "anything", NULL),
    BIG("token", SL_OPT_STRING, NULL, 0, NULL, NULL),
    BIG(NULL, 0, NULL, 0, NULL, NULL),
};

static sl_plugin big_plugin(void)
{
    sl_plugin p = {SL_PLUGIN_HEADER(SL_KIND_SINK, "fake", "1.0")};
    p.options = &big_opts[0].o;
    p.option_size = sizeof(big_option);
    return p;
}

static const sl_option plain_opts[] = {
    {"a", SL_OPT_STRING, "x", 0, "first", NULL, NULL, NULL, 0},
    {"b", SL_OPT_INT, NULL, 1, NULL, NULL, NULL, NULL, 0},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static void test_table_walk(void)
{
    sl_plugin p = big_plugin();
    CU_ASSERT_STRING_EQUAL(sl_plugin_option(&p, 0)->name, "url");
    CU_ASSERT_STRING_EQUAL(sl_plugin_option(&p, 1)->name, "format");
    CU_ASSERT_STRING_EQUAL(sl_plugin_option(&p, 10)->name, "token");
    CU_ASSERT_PTR_NULL(sl_plugin_option(&p, 11));
    CU_ASSERT_PTR_NULL(sl_plugin_option(&p, 50));

    sl_plugin q = {SL_PLUGIN_HEADER(SL_KIND_SOURCE, "plain", "1")};
    q.options = plain_opts;
    CU_ASSERT_STRING_EQUAL(sl_plugin_option(&q, 1)->name, "b");
    CU_ASSERT_PTR_NULL(sl_plugin_option(&q, 2));
    q.option_size = 0; /* treated as sizeof(sl_option) */
    CU_ASSERT_STRING_EQUAL(sl_plugin_option(&q, 1)->name, "b");
    /* a descriptor too old to have option_size has no options */
    q.struct_size = (uint32_t)offsetof(sl_plugin, option_size);
    CU_ASSERT_PTR_NULL(sl_plugin_option(&q, 0));
    q.struct_size = (uint32_t)sizeof(sl_plugin);
    q.options = NULL;
    CU_ASSERT_PTR_NULL(sl_plugin_option(&q, 0));
    CU_ASSERT_PTR_NULL(sl_plugin_option(NULL, 0));
}

/* Load a one-sink pipeline whose sink has `opts` (YAML lines, indented 4). */
static int load_sink(const char *opts, sl_pipeline_spec *s)
{
    char y[4096];
    snprintf(y, sizeof y, "sources:\n  src: {plugin: x}\nsinks:\n  out:\n    plugin: fake\n"
                          "    inputs: src\n%s", opts);
    sl_errs e = {0};
    int rc = sl_config_load_buffer(y, strlen(y), "p.yaml", s, &e);
    if (rc)
        fprintf(stderr, "\nload failed:\n%s", joined(&e));
    sl_errs_free(&e);
    return rc;
}

static void test_good(void)
{
    sl_plugin p = big_plugin();
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load_sink("    url: https://x\n    retries: -2\n    gzip: Yes\n"
                                    "    ratio: 1e-3\n    batch: 2MB\n    timeout: 1.5m\n"
                                    "    paths: /var/log/a.log\n    headers: {X-A: b}\n"
                                    "    rules: [1, {a: b}]\n    queue_max_bytes: 1MiB\n",
                                    &s), 0);
    sl_options o;
    sl_errs e = {0};
    int rc = sl_options_resolve(&s.comps[1], &p, &o, &e);
    if (rc)
        fprintf(stderr, "\n%s", joined(&e));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(o.n, 11);
    const sl_opt_value *v = sl_options_find(&o, "url");
    CU_ASSERT_STRING_EQUAL(v->str, "https://x");
    CU_ASSERT_TRUE(v->set);
    CU_ASSERT_PTR_NOT_NULL(v->node);
    CU_ASSERT_PTR_EQUAL(v->def, sl_plugin_option(&p, 0));
    v = sl_options_find(&o, "format"); /* default */
    CU_ASSERT_STRING_EQUAL(v->str, "json");
    CU_ASSERT_FALSE(v->set);
    CU_ASSERT_PTR_NULL(v->node);
    CU_ASSERT_EQUAL(sl_options_find(&o, "retries")->i, -2);
    CU_ASSERT_EQUAL(sl_options_find(&o, "gzip")->i, 1);
    CU_ASSERT_DOUBLE_EQUAL(sl_options_find(&o, "ratio")->d, 0.001, 1e-12);
    CU_ASSERT_EQUAL(sl_options_find(&o, "batch")->i, 2000000);
    CU_ASSERT_DOUBLE_EQUAL(sl_options_find(&o, "batch")->d, 2000000.0, 0.1);
    CU_ASSERT_EQUAL(sl_options_find(&o, "timeout")->i, 90000);
    v = sl_options_find(&o, "paths");
    CU_ASSERT_EQUAL(sl_node_len(v->node), 1);
    CU_ASSERT_STRING_EQUAL(v->str, "/var/log/a.log");
    CU_ASSERT_EQUAL(sl_node_kind_of(sl_options_find(&o, "headers")->node), SL_NODE_MAP);
    CU_ASSERT_EQUAL(sl_node_kind_of(sl_options_find(&o, "rules")->node), SL_NODE_SEQ);
    v = sl_options_find(&o, "token"); /* absent, no default */
    CU_ASSERT_PTR_NULL(v->str);
    CU_ASSERT_FALSE(v->set);
    CU_ASSERT_PTR_NULL(sl_options_find(&o, "nope"));
    sl_options_free(&o);
    CU_ASSERT_EQUAL(o.n, 0);
    sl_config_free(&s);

    /* defaults parsed with the same parsers */
    CU_ASSERT_EQUAL_FATAL(load_sink("    url: u\n    paths: [a, b]\n", &s), 0);
    CU_ASSERT_EQUAL_FATAL(sl_options_resolve(&s.comps[1], &p, &o, &e), 0);
    CU_ASSERT_EQUAL(sl_options_find(&o, "retries")->i, 3);
    CU_ASSERT_EQUAL(sl_options_find(&o, "gzip")->i, 0);
    CU_ASSERT_DOUBLE_EQUAL(sl_options_find(&o, "ratio")->d, 0.5, 1e-12);
    CU_ASSERT_EQUAL(sl_options_find(&o, "batch")->i, 65536);
    CU_ASSERT_EQUAL(sl_options_find(&o, "timeout")->i, 5000);
    CU_ASSERT_STRING_EQUAL(sl_options_find(&o, "timeout")->str, "5s");
    CU_ASSERT_PTR_NULL(sl_options_find(&o, "paths")->str);
    CU_ASSERT_EQUAL(sl_node_len(sl_options_find(&o, "paths")->node), 2);
    sl_options_free(&o);
    sl_config_free(&s);
    CU_ASSERT_EQUAL(e.n, 0);
}

typedef struct bad_case {
    const char *opts;
    const char *msg; /* exact */
} bad_case;

/* The sink's name is at p.yaml:4:3; option lines start at line 7. */
static const bad_case bad_cases[] = {
    {"    url: u\n    fromat: text\n",
     "p.yaml:8:5: sink 'out': unknown option 'fromat' for plugin 'fake' (did you mean 'format'?)"},
    {"    url: u\n    input: src\n",
     "p.yaml:8:5: sink 'out': unknown option 'input' for plugin 'fake' (did you mean 'inputs'?)"},
    {"    url: u\n    colour: red\n", "p.yaml:8:5: sink 'out': unknown option 'colour' for plugin 'fake'"},
    {"    format: text\n",
     "p.yaml:4:3: sink 'out': missing required option 'url' (endpoint, e.g. https://api.example.com)"},
    {"    url: [a, b]\n", "p.yaml:7:10: sink 'out': option 'url': expected a string, got a list"},
    {"    url: u\n    format: xml\n",
     "p.yaml:8:13: sink 'out': option 'format': expected one of json, text, msgpack, got \"xml\""},
    {"    url: u\n    retries: many\n",
     "p.yaml:8:14: sink 'out': option 'retries': expected an integer, got \"many\""},
    {"    url: u\n    retries: 99999999999999999999\n",
     "p.yaml:8:14: sink 'out': option 'retries': expected an integer, got \"99999999999999999999\""},
    {"    url: u\n    gzip: maybe\n",
     "p.yaml:8:11: sink 'out': option 'gzip': expected true or false, got \"maybe\""},
    {"    url: u\n    ratio: half\n",
     "p.yaml:8:12: sink 'out': option 'ratio': expected a number, got \"half\""},
    {"    url: u\n    batch: 99999999999GiB\n",
     "p.yaml:8:12: sink 'out': option 'batch': expected a size like 64KiB, got \"99999999999GiB\""},
    {"    url: u\n    batch: 10kb\n",
     "p.yaml:8:12: sink 'out': option 'batch': expected a size like 64KiB, got \"10kb\""},
    {"    url: u\n    timeout: 5 minutes\n",
     "p.yaml:8:14: sink 'out': option 'timeout': expected a duration like 5s or 250ms, got \"5 minutes\""},
    {"    url: u\n    timeout: {a: 1}\n",
     "p.yaml:8:14: sink 'out': option 'timeout': expected a duration like 5s or 250ms, got a mapping"},
    {"    url: u\n    paths: {a: 1}\n",
     "p.yaml:8:12: sink 'out': option 'paths': expected a list of strings, got a mapping"},
    {"    url: u\n    paths: [a, [b]]\n",
     "p.yaml:8:16: sink 'out': option 'paths': list items must be strings, got a list"},
    {"    url: u\n    headers: [a]\n",
     "p.yaml:8:14: sink 'out': option 'headers': expected a mapping, got a list"},
    {"    url: u\n    headers: a\n",
     "p.yaml:8:14: sink 'out': option 'headers': expected a mapping, got a scalar"},
};

static void test_bad(void)
{
    sl_plugin p = big_plugin();
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        sl_pipeline_spec s;
        CU_ASSERT_EQUAL_FATAL(load_sink(bad_cases[i].opts, &s), 0);
        sl_options o;
        sl_errs e = {0};
        CU_ASSERT_EQUAL(sl_options_resolve(&s.comps[1], &p, &o, &e), -1);
        int ok = e.n == 1 && strcmp(e.msg[0], bad_cases[i].msg) == 0;
        CU_ASSERT_TRUE(ok);
        if (!ok)
            fprintf(stderr, "\noptions case %zu: expected\n  %s\ngot:\n%s", i, bad_cases[i].msg,
                    joined(&e));
        sl_errs_free(&e);
        sl_options_free(&o);
        sl_config_free(&s);
    }
}

static void test_many_errors(void)
{
    sl_plugin p = big_plugin();
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load_sink("    retries: x\n    gzip: 2\n    tokn: t\n", &s), 0);
    sl_options o;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(sl_options_resolve(&s.comps[1], &p, &o, &e), -1);
    CU_ASSERT_EQUAL(e.n, 4);
    const char *all = joined(&e);
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "missing required option 'url'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "option 'retries'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "option 'gzip'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "unknown option 'tokn' for plugin 'fake' (did you mean 'token'?)"));
    sl_errs_free(&e);
    sl_options_free(&o);
    sl_config_free(&s);
}

static const sl_option buggy_opts[] = {
    {"size", SL_OPT_SIZE, "lots", 0, NULL, NULL, NULL, NULL, 0},
    {"mode", SL_OPT_STRING, "maybe", 0, NULL, "on|off", NULL, NULL, 0},
    {"level", SL_OPT_INT, "0", 0, NULL, NULL, "1", NULL, 0},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static void test_bad_default_and_old_plugin(void)
{
    sl_plugin p = {SL_PLUGIN_HEADER(SL_KIND_SINK, "buggy", "0.1")};
    p.options = buggy_opts;
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load_sink("", &s), 0);
    sl_options o;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(sl_options_resolve(&s.comps[1], &p, &o, &e), -1);
    CU_ASSERT_EQUAL_FATAL(e.n, 3);
    CU_ASSERT_STRING_EQUAL(e.msg[2], "p.yaml:4:3: plugin 'buggy' (sink 'out'): default \"0\" "
                                     "of option 'level' must be at least 1; this is a bug "
                                     "in the plugin");
    CU_ASSERT_STRING_EQUAL(e.msg[0], "p.yaml:4:3: plugin 'buggy' (sink 'out'): default \"lots\" "
                                     "of option 'size' is not a size like 64KiB; this is a bug "
                                     "in the plugin");
    CU_ASSERT_STRING_EQUAL(e.msg[1], "p.yaml:4:3: plugin 'buggy' (sink 'out'): default \"maybe\" "
                                     "of option 'mode' is not one of its choices; this is a bug "
                                     "in the plugin");
    sl_errs_free(&e);
    sl_options_free(&o);

    /* a descriptor too short for options: every option key is unknown */
    p.struct_size = (uint32_t)offsetof(sl_plugin, options);
    sl_config_free(&s);
    CU_ASSERT_EQUAL_FATAL(load_sink("    size: 1\n", &s), 0);
    CU_ASSERT_EQUAL(sl_options_resolve(&s.comps[1], &p, &o, &e), -1);
    CU_ASSERT_EQUAL(o.n, 0);
    CU_ASSERT_STRING_EQUAL(joined(&e), "p.yaml:7:5: sink 'out': unknown option 'size' for plugin 'buggy'\n");
    sl_errs_free(&e);
    sl_options_free(&o);
    sl_config_free(&s);
}

typedef struct num_case {
    const char *in;
    int ok;
    int64_t want;
} num_case;

static const sl_option ranged_opts[] = {
    {"workers", SL_OPT_INT, "4", 0, "threads", NULL, "1", "64", 0},
    {"ratio", SL_OPT_DOUBLE, "0.5", 0, "share", NULL, "0", "1", 0},
    {"buffer", SL_OPT_SIZE, "64KiB", 0, "buffer", NULL, "4KiB", NULL, 0},
    {"every", SL_OPT_DURATION, "1s", 0, "interval", NULL, "10ms", "1h", 0},
    {"url", SL_OPT_STRING, NULL, 0, "endpoint", NULL, NULL, NULL, SL_OPT_F_NONEMPTY},
    {"paths", SL_OPT_LIST, "[/var/log/a.log, /var/log/b.log]", 0, "files", NULL, NULL, NULL,
     SL_OPT_F_NONEMPTY},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int resolve_ranged(const char *opts, sl_options *o, sl_errs *e)
{
    sl_plugin p = {SL_PLUGIN_HEADER(SL_KIND_SINK, "ranged", "1")};
    p.options = ranged_opts;
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load_sink(opts, &s), 0);
    int rc = sl_options_resolve(&s.comps[1], &p, o, e);
    /* the values keep pointing into the spec's nodes: compare before free */
    sl_options_free(o);
    sl_config_free(&s);
    return rc;
}

/* min, max and non-empty are checked where validate sees them, located. */
static void test_ranges(void)
{
    static const struct {
        const char *opts, *msg;
    } cases[] = {
        {"    workers: 0\n", "p.yaml:7:14: sink 'out': option 'workers' must be at least 1, got \"0\""},
        {"    workers: 65\n", "p.yaml:7:14: sink 'out': option 'workers' must be at most 64, got \"65\""},
        {"    ratio: -0.1\n", "p.yaml:7:12: sink 'out': option 'ratio' must be at least 0, got \"-0.1\""},
        {"    buffer: 1KiB\n", "p.yaml:7:13: sink 'out': option 'buffer' must be at least 4KiB, got \"1KiB\""},
        {"    every: 0\n", "p.yaml:7:12: sink 'out': option 'every' must be at least 10ms, got \"0\""},
        {"    url: ''\n", "p.yaml:7:10: sink 'out': option 'url' must not be empty, got \"\""},
        {"    paths: []\n", "p.yaml:7:12: sink 'out': option 'paths' must not be empty, got an empty list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_options o;
        sl_errs e = {0};
        CU_ASSERT_EQUAL(resolve_ranged(cases[i].opts, &o, &e), -1);
        int ok = e.n == 1 && strcmp(e.msg[0], cases[i].msg) == 0;
        CU_ASSERT_TRUE(ok);
        if (!ok)
            fprintf(stderr, "\nrange case %zu: expected\n  %s\ngot:\n%s", i, cases[i].msg,
                    joined(&e));
        sl_errs_free(&e);
    }
    sl_options o;
    sl_errs e = {0};
    CU_ASSERT_EQUAL(resolve_ranged("    workers: 64\n    every: 1h\n    buffer: 4096\n", &o, &e), 0);
    CU_ASSERT_EQUAL(e.n, 0);
    sl_errs_free(&e);
}

/* A LIST default is served as a list, like one the user wrote. */
static void test_list_default(void)
{
    sl_plugin p = {SL_PLUGIN_HEADER(SL_KIND_SINK, "ranged", "1")};
    p.options = ranged_opts;
    sl_pipeline_spec s;
    CU_ASSERT_EQUAL_FATAL(load_sink("", &s), 0);
    sl_options o;
    sl_errs e = {0};
    CU_ASSERT_EQUAL_FATAL(sl_options_resolve(&s.comps[1], &p, &o, &e), 0);
    const sl_opt_value *v = sl_options_find(&o, "paths");
    CU_ASSERT_FALSE(v->set);
    CU_ASSERT_EQUAL_FATAL(sl_node_kind_of(v->node), SL_NODE_SEQ);
    CU_ASSERT_EQUAL(sl_node_len(v->node), 2);
    CU_ASSERT_STRING_EQUAL(sl_node_str(sl_node_at(v->node, 1)), "/var/log/b.log");
    sl_options_free(&o);
    sl_config_free(&s);
}

static void test_parse_size(void)
{
    static const num_case cases[] = {
        {"0", 1, 0}, {"512", 1, 512}, {"512B", 1, 512}, {"64KiB", 1, 65536},
        {"8MiB", 1, 8388608}, {"1GiB", 1, 1073741824}, {"1KB", 1, 1000}, {"3MB", 1, 3000000},
        {"2GB", 1, 2000000000}, {"9223372036854775807", 1, INT64_MAX},
        {"8589934591GiB", 1, 8589934591LL * 1073741824LL},
        {"99999999999GiB", 0, 0}, {"8589934592GiB", 0, 0}, {"9223372036854775808", 0, 0},
        {"-1", 0, 0}, {"+1", 0, 0}, {"", 0, 0}, {"MiB", 0, 0}, {"1 MiB", 0, 0}, {"1mib", 0, 0},
        {"1kb", 0, 0}, {"1.5MiB", 0, 0}, {"1TiB", 0, 0}, {" 1", 0, 0}, {"1MiBs", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -7;
        int rc = sl_parse_size(cases[i].in, &v);
        CU_ASSERT_EQUAL(rc, cases[i].ok ? 0 : -1);
        if (cases[i].ok)
            CU_ASSERT_EQUAL(v, cases[i].want);
        if ((rc == 0) != cases[i].ok || (rc == 0 && v != cases[i].want))
            fprintf(stderr, "\nsize '%s' -> rc %d v %lld\n", cases[i].in, rc, (long long)v);
    }
    CU_ASSERT_EQUAL(sl_parse_size(NULL, &(int64_t){0}), -1);
}

static void test_parse_duration(void)
{
    static const num_case cases[] = {
        {"250ms", 1, 250}, {"5s", 1, 5000}, {"2m", 1, 120000}, {"1h", 1, 3600000},
        {"10", 1, 10000}, {"0", 1, 0}, {"1.5s", 1, 1500}, {"0.25", 1, 250}, {"1.5h", 1, 5400000},
        {"0.5ms", 1, 1}, {"0.4ms", 1, 0}, {"2.0001s", 1, 2000}, {"0.123456789999s", 1, 123},
        {"9223372036854775807ms", 1, INT64_MAX},
        {"9223372036854775807s", 0, 0}, {"99999999999999999h", 0, 0},
        {"-1s", 0, 0}, {"", 0, 0}, {"s", 0, 0}, {"1.s", 0, 0}, {".5s", 0, 0}, {"5 s", 0, 0},
        {"5sec", 0, 0}, {"5d", 0, 0}, {"1m30s", 0, 0}, {"5S", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -7;
        int rc = sl_parse_duration_ms(cases[i].in, &v);
        CU_ASSERT_EQUAL(rc, cases[i].ok ? 0 : -1);
        if (cases[i].ok)
            CU_ASSERT_EQUAL(v, cases[i].want);
        if ((rc == 0) != cases[i].ok || (rc == 0 && v != cases[i].want))
            fprintf(stderr, "\nduration '%s' -> rc %d v %lld\n", cases[i].in, rc, (long long)v);
    }
}

static void test_parse_int_bool_double(void)
{
    static const num_case ints[] = {
        {"0", 1, 0}, {"42", 1, 42}, {"-42", 1, -42}, {"+7", 1, 7},
        {"9223372036854775807", 1, INT64_MAX}, {"-9223372036854775807", 1, -INT64_MAX},
        {"9223372036854775808", 0, 0}, {"", 0, 0}, {"-", 0, 0}, {"1.0", 0, 0}, {"0x10", 0, 0},
        {" 1", 0, 0}, {"1 ", 0, 0}, {"abc", 0, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = -7;
        int rc = sl_parse_int(ints[i].in, &v);
        CU_ASSERT_EQUAL(rc, ints[i].ok ? 0 : -1);
        if (ints[i].ok)
            CU_ASSERT_EQUAL(v, ints[i].want);
    }
    static const num_case bools[] = {
        {"true", 1, 1}, {"True", 1, 1}, {"YES", 1, 1}, {"on", 1, 1}, {"false", 1, 0},
        {"No", 1, 0}, {"OFF", 1, 0}, {"1", 0, 0}, {"", 0, 0}, {"y", 0, 0}, {"tru", 0, 0},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        int v = -7;
        int rc = sl_parse_bool(bools[i].in, &v);
        CU_ASSERT_EQUAL(rc, bools[i].ok ? 0 : -1);
        if (bools[i].ok)
            CU_ASSERT_EQUAL(v, bools[i].want);
    }
    double d = 0;
    CU_ASSERT_EQUAL(sl_parse_double("2.5", &d), 0);
    CU_ASSERT_DOUBLE_EQUAL(d, 2.5, 1e-12);
    CU_ASSERT_EQUAL(sl_parse_double("-1e3", &d), 0);
    CU_ASSERT_DOUBLE_EQUAL(d, -1000.0, 1e-9);
    CU_ASSERT_EQUAL(sl_parse_double("7", &d), 0);
    CU_ASSERT_EQUAL(sl_parse_double("", &d), -1);
    CU_ASSERT_EQUAL(sl_parse_double("1.5x", &d), -1);
    CU_ASSERT_EQUAL(sl_parse_double(" 1", &d), -1);
    CU_ASSERT_EQUAL(sl_parse_double("nan", &d), -1);
    CU_ASSERT_EQUAL(sl_parse_double("inf", &d), -1);
    CU_ASSERT_EQUAL(sl_parse_double("1e999", &d), -1);
}

static void test_edit_distance(void)
{
    CU_ASSERT_EQUAL(sl_edit_distance("format", "format"), 0);
    CU_ASSERT_EQUAL(sl_edit_distance("fromat", "format"), 2);
    CU_ASSERT_EQUAL(sl_edit_distance("parsd", "parsed"), 1);
    CU_ASSERT_EQUAL(sl_edit_distance("", "abc"), 3);
    CU_ASSERT_EQUAL(sl_edit_distance("kitten", "sitting"), 3);
}

static const sl_test_case cases[] = {
    {"option table stride", test_table_walk},
    {"good values and defaults", test_good},
    {"every bad option, exact message", test_bad},
    {"all problems reported", test_many_errors},
    {"bad default, old descriptor", test_bad_default_and_old_plugin},
    {"size parser", test_parse_size},
    {"duration parser", test_parse_duration},
    {"int, bool, double parsers", test_parse_int_bool_double},
    {"edit distance", test_edit_distance},
    {"min, max, non-empty", test_ranges},
    {"list default", test_list_default},
    {0},
};

int main(void)
{
    return sl_test_run("options", cases);
}
