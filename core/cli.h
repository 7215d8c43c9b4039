/* The command line's shared pieces: parsed arguments, usage errors, and
 * loading a pipeline the way every command that takes FILE does. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include "config.h"
#include "engine.h"

enum { SL_EXIT_INVALID = 1, SL_EXIT_USAGE = 2 };

typedef struct cli {
    const char *cmd;
    const char *args[8];
    int nargs;
    int once;
    int help;
    int dot;
    int markdown;
    const char *plugin_path;
    const char *log_level;
    const char *kind;
    const char *admin;  /* tap: --admin HOST:PORT */
    const char *sample; /* tap: --sample N */
    const char *limit;  /* tap: --limit N */
} cli;

/* Print "sluice: <fmt with arg>" and the usage; returns SL_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, const char *arg);

/* Parse argv: flags anywhere after the command. Returns 0 or an exit code. */
int cli_parse(int argc, char **argv, cli *c, const char *usage_main);

/* Load c->args[0], check it and build the engine (nothing started); prints
 * every problem. Returns 0, or -1 (nothing to free). */
int cli_prepare(const cli *c, sl_pipeline_spec *spec, sl_engine **eng);

int cli_run(const cli *c);
int cli_validate(const cli *c);
int cli_plugins(const cli *c);
int cli_tap(const cli *c);
int cli_reload(const cli *c);
int cli_graph(const cli *c);

/* `test FILE` (cli_test.c): the pipeline file's tests: section. */
int cli_test(const cli *c);
/* `plugin new --kind KIND NAME [DIR]` (cli_plugin_new.c). */
int cli_plugin_new(const cli *c);
/* `plugins check FILE.so` (cli_plugins_check.c); want 0 = any kind. */
int cli_plugins_check(const cli *c, sl_kind want);
/* Print a loaded plugin's header, description and option table. */
struct sl_loaded;
void cli_describe_plugin(const struct sl_loaded *l);

#endif
