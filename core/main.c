/* sluice command line: dispatch to the commands in cli_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sluice/plugin.h"

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
    "  graph FILE [--dot]       show the pipeline's components and edges (Graphviz with --dot)\n"
    "  tap NAME                 stream the events a running component emits (admin endpoint)\n"
    "  reload                   make a running pipeline reload its file (like SIGHUP)\n"
    "  plugins check FILE.so    load one plugin in isolation and list every problem\n"
    "  plugin new --kind K NAME [DIR]  scaffold an out-of-tree plugin project\n"
    "  test FILE                run the tests: section of a pipeline file\n"
    "  version                  print the version and plugin ABI\n"
    "\n"
    "Run `sluice <command> --help` for the options of a command.\n"
    "\n"
    "Plugins are looked up as <kind>_<name>.so in: --plugin-path, $SLUICE_PLUGIN_PATH,\n"
    "<binary dir>/plugins, <binary dir>/../lib/sluice/plugins, " SLUICE_PLUGIN_INSTALL_DIR ".\n"
    "\n"
    "Exit codes: 0 ok, 1 invalid pipeline, 2 usage error, 3 a component failed,\n"
    "            4 stopped with batches still unacknowledged after shutdown_timeout.\n";

static int cmd_version(const cli *c)
{
    (void)c;
    printf("sluice %s (plugin ABI %d.%d)\n", SLUICE_VERSION, SL_ABI_MAJOR, SL_ABI_MINOR);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(const cli *c);
} commands[] = {
    {"run", cli_run},
    {"validate", cli_validate},
    {"plugins", cli_plugins},
    {"plugin", cli_plugin_new},
    {"test", cli_test},
    {"tap", cli_tap},
    {"reload", cli_reload},
    {"graph", cli_graph},
    {"version", cmd_version},
};

int main(int argc, char **argv)
{
    cli c = {0};
    int rc = cli_parse(argc, argv, &c, usage_main);
    if (rc)
        return rc;
    if (!c.cmd || !strcmp(c.cmd, "help")) {
        printf("%s", usage_main);
        return c.cmd || c.help ? 0 : SL_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(c.cmd, commands[i].name))
            return commands[i].fn(&c);
    return cli_usage_error(usage_main, "unknown command '%s'", c.cmd);
}
