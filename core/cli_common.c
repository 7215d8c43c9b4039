/* Argument parsing and pipeline loading shared by the commands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "sluice: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return SL_EXIT_USAGE;
}

/* Options may come anywhere after the command; values follow their flag. */
int cli_parse(int argc, char **argv, cli *c, const char *usage_main)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            c->help = 1;
        else if (!strcmp(a, "--once"))
            c->once = 1;
        else if (!strcmp(a, "--dot"))
            c->dot = 1;
        else if (!strcmp(a, "--markdown"))
            c->markdown = 1;
        else if (!strcmp(a, "--plugin-path"))
            val = &c->plugin_path;
        else if (!strcmp(a, "--log-level"))
            val = &c->log_level;
        else if (!strcmp(a, "--kind"))
            val = &c->kind;
        else if (!strcmp(a, "--admin"))
            val = &c->admin;
        else if (!strcmp(a, "--sample"))
            val = &c->sample;
        else if (!strcmp(a, "--limit"))
            val = &c->limit;
        else if (a[0] == '-' && a[1])
            return cli_usage_error(usage_main, "unknown option '%s'", a);
        else if (!c->cmd)
            c->cmd = a;
        else if (c->nargs < 8)
            c->args[c->nargs++] = a;
        else
            return cli_usage_error(usage_main, "unexpected argument '%s'", a);
        if (val) {
            if (++i >= argc)
                return cli_usage_error(usage_main, "option '%s' needs a value", a);
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
int cli_prepare(const cli *c, sl_pipeline_spec *spec, sl_engine **eng)
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

