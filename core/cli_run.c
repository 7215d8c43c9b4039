/* sluice run FILE: start, wait for a signal or the sources' end, drain. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "log.h"

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

int cli_run(const cli *c)
{
    if (c->help)
        return printf("%s", usage_run), 0;
    if (c->nargs != 1)
        return cli_usage_error(usage_run, "%s", "run needs exactly one FILE");
    sl_log_level lvl;
    if (c->log_level && sl_log_level_parse(c->log_level, &lvl) < 0)
        return cli_usage_error(usage_run, "--log-level '%s': expected error, warn, info or debug",
                           c->log_level);
    sl_pipeline_spec spec;
    sl_engine *eng;
    if (cli_prepare(c, &spec, &eng) < 0)
        return SL_EXIT_INVALID;
    sl_log_set_level(c->log_level ? lvl : spec.service.log_level);
    sl_log_set_json(spec.service.log_json);
    install_signals();
    char err[1024];
    sl_admin *admin = NULL;
    if (sl_admin_start(eng, &admin, err, sizeof err) < 0) {
        sl_log(SL_LOG_ERROR, NULL, "%s", err);
        sl_engine_destroy(eng);
        sl_config_free(&spec);
        return SL_RUN_FAILED;
    }
    if (sl_engine_start(eng, err, sizeof err) < 0) {
        sl_admin_stop(admin);
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
    sl_admin_stop(admin);
    if (sl_engine_destroy(eng) == 0)
        sl_config_free(&spec); /* else a stuck thread may still read it */
    sl_log(SL_LOG_INFO, NULL, "stopped");
    return (int)res;
}

