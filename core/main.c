/* sluice command line: run, validate, plugins list|describe, version. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "loader.h"
#include "log.h"
#include "options.h"

enum { EXIT_INVALID = 1, EXIT_USAGE = 2 };

static const char usage_main[] =
    "Usage: sluice <command> [options]\n"
    "\n"
    "A plugin-based event pipeline: sources -> enrichers -> sinks, described in YAML.\n"
    "\n"
    "Commands:\n"
    "  run FILE                 run a pipeline until SIGINT/SIGTERM or until its sources end\n"
    "  validate FILE            check a pipeline (YAML, plugins, options, graph); list every error\n"
    "  plugins list             list the plugins found on the plugin path\n"
    "  plugins describe NAME    show a plugin's description and options\n"
    "  version                  print the version and plugin ABI\n"
    "\n"
    "Run `sluice <command> --help` for the options of a command.\n"
    "\n"
    "Plugins are looked up as <kind>_<name>.so in: --plugin-path, $SLUICE_PLUGIN_PATH,\n"
    "<binary dir>/plugins, <binary dir>/../lib/sluice/plugins, " SLUICE_PLUGIN_INSTALL_DIR ".\n"
    "\n"
    "Exit codes: 0 ok, 1 invalid pipeline, 2 usage error, 3 a component failed,\n"
    "            4 stopped with batches still unacknowledged after shutdown_timeout.\n";

static const char usage_run[] =
    "Usage: sluice run FILE [--once] [--plugin-path DIRS] [--log-level LEVEL]\n"
    "\n"
    "Runs the pipeline in FILE. SIGINT or SIGTERM stops the sources, drains what is in\n"
    "flight (up to service.shutdown_timeout) and exits 0; a second signal exits at once.\n"
    "When every source has ended (stdin at EOF, generate at its count) the pipeline\n"
    "drains and exits by itself.\n"
    "\n"
    "  --once               sources read what exists now and end (backfill), then exit\n"
    "  --plugin-path DIRS   ':'-separated plugin directories, searched first\n"
    "  --log-level LEVEL    error, warn, info or debug (overrides service.log_level)\n";

static const char usage_validate[] =
    "Usage: sluice validate FILE [--plugin-path DIRS]\n"
    "\n"
    "Checks FILE without starting anything: YAML syntax, ${VAR} interpolation, known keys,\n"
    "plugins found and compatible, their options, and the graph (unknown inputs, cycles).\n"
    "Prints every problem as file:line:col: message. Exit 0 when valid, 1 otherwise.\n";

static const char usage_plugins[] =
    "Usage: sluice plugins list [--plugin-path DIRS]\n"
    "       sluice plugins describe NAME [--kind source|enricher|sink] [--plugin-path DIRS]\n"
    "\n"
    "list      every plugin on the search path, with kind, version and file\n"
    "describe  a plugin's description and option table (name, type, default, help);\n"
    "          NAME is the plugin name (e.g. file) or <kind>_<name> (e.g. sink_file)\n";

typedef struct cli {
    const char *cmd;
    const char *args[3];
    int nargs;
    int once;
    int help;
    const char *plugin_path;
    const char *log_level;
    const char *kind;
} cli;

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "sluice: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

/* Options may come anywhere after the command; values follow their flag. */
static int parse_cli(int argc, char **argv, cli *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            c->help = 1;
        else if (!strcmp(a, "--once"))
            c->once = 1;
        else if (!strcmp(a, "--plugin-path"))
            val = &c->plugin_path;
        else if (!strcmp(a, "--log-level"))
            val = &c->log_level;
        else if (!strcmp(a, "--kind"))
            val = &c->kind;
        else if (a[0] == '-' && a[1])
            return usage_error(usage_main, "unknown option '%s'", a);
        else if (!c->cmd)
            c->cmd = a;
        else if (c->nargs < 3)
            c->args[c->nargs++] = a;
        else
            return usage_error(usage_main, "unexpected argument '%s'", a);
        if (val) {
            if (++i >= argc)
                return usage_error(usage_main, "option '%s' needs a value", a);
            *val = argv[i];
        }
    }
    return 0;
}

static void print_errs(const sl_errs *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "%s\n", errs->msg[i]);
}

/* Load, check and build the engine; prints every problem. */
static int prepare(const cli *c, sl_pipeline_spec *spec, sl_engine **eng)
{
    sl_errs errs = {0};
    sl_engine_opts opts = {.plugin_path = c->plugin_path, .once = c->once};
    int rc = sl_config_load_file_keep(c->args[0], spec, &errs);
    if (rc >= 0) {
        /* Even a spec with shape errors goes on to the plugin, option and
         * graph checks, so one run lists every problem. */
        if (sl_engine_create(spec, &opts, eng, &errs) < 0)
            rc = -1;
        else if (rc > 0)
            sl_engine_destroy(*eng);
        if (rc != 0) {
            sl_config_free(spec);
            rc = -1;
        }
    }
    print_errs(&errs);
    if (rc < 0)
        fprintf(stderr, "%s: %zu error%s\n", c->args[0], errs.n, errs.n == 1 ? "" : "s");
    sl_errs_free(&errs);
    return rc;
}

static int cmd_validate(const cli *c)
{
    if (c->help)
        return printf("%s", usage_validate), 0;
    if (c->nargs != 1)
        return usage_error(usage_validate, "%s", "validate needs exactly one FILE");
    sl_pipeline_spec spec;
    sl_engine *eng;
    if (prepare(c, &spec, &eng) < 0)
        return EXIT_INVALID;
    size_t kinds[4] = {0};
    for (size_t i = 0; i < spec.n_comps; i++)
        kinds[spec.comps[i].kind]++;
    printf("%s: valid (%zu sources, %zu enrichers, %zu sinks)\n", c->args[0],
           kinds[SL_KIND_SOURCE], kinds[SL_KIND_ENRICHER], kinds[SL_KIND_SINK]);
    sl_engine_destroy(eng);
    sl_config_free(&spec);
    return 0;
}

static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
    (void)sig;
    if (++g_signals >= 2) {
        static const char msg[] = "sluice: second signal, exiting without draining\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
    }
}

static void install_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, not a death */
}

static int cmd_run(const cli *c)
{
    if (c->help)
        return printf("%s", usage_run), 0;
    if (c->nargs != 1)
        return usage_error(usage_run, "%s", "run needs exactly one FILE");
    sl_log_level lvl;
    if (c->log_level && sl_log_level_parse(c->log_level, &lvl) < 0)
        return usage_error(usage_run, "--log-level '%s': expected error, warn, info or debug",
                           c->log_level);
    sl_pipeline_spec spec;
    sl_engine *eng;
    if (prepare(c, &spec, &eng) < 0)
        return EXIT_INVALID;
    sl_log_set_level(c->log_level ? lvl : spec.service.log_level);
    install_signals();
    char err[1024];
    if (sl_engine_start(eng, err, sizeof err) < 0) {
        sl_log(SL_LOG_ERROR, NULL, "%s", err);
        sl_engine_destroy(eng);
        sl_config_free(&spec);
        return SL_RUN_FAILED;
    }
    sl_log(SL_LOG_INFO, NULL, "pipeline %s running (%zu components)%s", c->args[0],
           spec.n_comps, c->once ? " in --once mode" : "");
    while (!g_signals && !sl_engine_should_stop(eng))
        sl_engine_wait(eng, 200);
    sl_log(SL_LOG_INFO, NULL, "%s; draining",
           g_signals ? "stop requested" : sl_engine_sources_done(eng) ? "all sources ended"
                                                                       : "a component failed");
    sl_run_result res = sl_engine_shutdown(eng);
    sl_engine_destroy(eng);
    if (res != SL_RUN_TIMEOUT)
        sl_config_free(&spec); /* else a stuck thread may still read it */
    sl_log(SL_LOG_INFO, NULL, "stopped");
    return (int)res;
}

static void print_list_entry(const char *file, const sl_plugin *p, const char *why, void *arg)
{
    (void)arg;
    if (p)
        printf("%-9s %-16s %-8s %s\n", sl_kind_name(p->kind), p->name,
               p->version ? p->version : "-", file);
    else
        printf("%-9s %-16s %-8s %s\n", "(broken)", "-", "-", why);
}

static const char *type_name(sl_opt_type t)
{
    static const char *const names[] = {"?", "string", "int", "bool", "double",
                                        "size", "duration", "list", "map", "any"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

static void describe(const sl_loaded *l)
{
    const sl_plugin *p = l->p;
    printf("%s %s %s (ABI %u.%u)\n  %s\n\n", sl_kind_name(p->kind), p->name,
           p->version ? p->version : "", p->abi_major, p->abi_minor, l->file);
    if (p->description)
        printf("%s\n\n", p->description);
    if (!sl_plugin_option(p, 0)) {
        printf("No options.\n");
        return;
    }
    printf("Options:\n");
    for (size_t i = 0; sl_plugin_option(p, i); i++) {
        const sl_option *o = sl_plugin_option(p, i);
        char dflt[160];
        if (o->required)
            snprintf(dflt, sizeof dflt, "required");
        else if (o->default_value)
            snprintf(dflt, sizeof dflt, "default %s", o->default_value);
        else
            snprintf(dflt, sizeof dflt, "optional");
        printf("  %-18s %-9s %-22s %s", o->name, type_name(o->type), dflt, o->help ? o->help : "");
        if (o->choices)
            printf(" (one of: %s)", o->choices);
        printf("\n");
    }
}

static int parse_kind(const char *s, sl_kind *k)
{
    for (int i = SL_KIND_SOURCE; i <= SL_KIND_SINK; i++)
        if (!strcmp(s, sl_kind_name((uint32_t)i)))
            return *k = (sl_kind)i, 0;
    return -1;
}

/* NAME may be "file" (any kind, each match shown) or "sink_file". */
static int cmd_describe(const cli *c, const sl_plugin_path *pp)
{
    sl_kind only = 0;
    if (c->kind && parse_kind(c->kind, &only) < 0)
        return usage_error(usage_plugins, "--kind '%s': expected source, enricher or sink", c->kind);
    const char *name = c->args[1];
    const char *us = strchr(name, '_');
    if (us && !only) {
        char kind[16];
        size_t n = (size_t)(us - name);
        snprintf(kind, sizeof kind, "%.*s", (int)(n < sizeof kind ? n : sizeof kind - 1), name);
        if (parse_kind(kind, &only) == 0)
            name = us + 1;
    }
    int found = 0;
    char err[1024];
    for (int k = SL_KIND_SOURCE; k <= SL_KIND_SINK; k++) {
        if (only && only != (sl_kind)k)
            continue;
        sl_loaded l;
        if (sl_plugin_load(pp, (sl_kind)k, name, NULL, &l, err, sizeof err) == 0) {
            if (found++)
                printf("\n");
            describe(&l);
            sl_plugin_close(&l);
        } else if (only || strstr(err, "unknown ") != err) {
            fprintf(stderr, "sluice: %s\n", err); /* a broken file, or the kind asked for */
        }
    }
    if (!found && !only)
        fprintf(stderr, "sluice: no plugin named '%s' (see `sluice plugins list`)\n", name);
    return found ? 0 : EXIT_INVALID;
}

static int cmd_plugins(const cli *c)
{
    if (c->help)
        return printf("%s", usage_plugins), 0;
    const char *sub = c->nargs ? c->args[0] : NULL;
    if (!sub || (strcmp(sub, "list") && strcmp(sub, "describe")))
        return usage_error(usage_plugins, "%s", "plugins needs 'list' or 'describe NAME'");
    if (!strcmp(sub, "describe") && c->nargs != 2)
        return usage_error(usage_plugins, "%s", "plugins describe needs a NAME");
    sl_plugin_path pp;
    if (sl_plugin_path_init(&pp, c->plugin_path) < 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return SL_RUN_FAILED;
    }
    int rc = 0;
    if (!strcmp(sub, "list")) {
        printf("%-9s %-16s %-8s %s\n", "KIND", "NAME", "VERSION", "FILE");
        sl_plugin_scan(&pp, print_list_entry, NULL);
    } else {
        rc = cmd_describe(c, &pp);
    }
    sl_plugin_path_free(&pp);
    return rc;
}

int main(int argc, char **argv)
{
    cli c = {0};
    int rc = parse_cli(argc, argv, &c);
    if (rc)
        return rc;
    if (!c.cmd || !strcmp(c.cmd, "help"))
        return printf("%s", usage_main), c.cmd || c.help ? 0 : EXIT_USAGE;
    if (!strcmp(c.cmd, "version")) {
        printf("sluice %s (plugin ABI %d.%d)\n", SLUICE_VERSION, SL_ABI_MAJOR, SL_ABI_MINOR);
        return 0;
    }
    if (!strcmp(c.cmd, "run"))
        return cmd_run(&c);
    if (!strcmp(c.cmd, "validate"))
        return cmd_validate(&c);
    if (!strcmp(c.cmd, "plugins"))
        return cmd_plugins(&c);
    return usage_error(usage_main, "unknown command '%s'", c.cmd);
}
