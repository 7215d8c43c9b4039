/* sluice run FILE: start, wait for a signal or the sources' end, drain. */
#include <signal.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "sl_clock.h"
#include "log.h"
#include "services.h"

static const char usage_run[] =
    "Usage: sluice run FILE [--once] [--plugin-path DIRS] [--log-level LEVEL]\n"
    "\n"
    "Runs the pipeline in FILE. SIGINT or SIGTERM stops the sources, drains what is in\n"
    "flight (up to service.shutdown_timeout) and exits 0; a second signal exits at once.\n"
    "SIGHUP (or `sluice reload`) reloads FILE: checked first, kept running on errors.\n"
    "Exit status: 0 drained; 1 invalid FILE; 3 a component failed; 4 not all delivered:\n"
    "the drain did not finish within shutdown_timeout (what was not acknowledged is read\n"
    "again next time), or with --once a sink kept events in its spool for the next start.\n"
    "When every source has ended (stdin at EOF, generate at its count) the sinks deliver\n"
    "what was read, for as long as they make progress (an acknowledgement at least every\n"
    "shutdown_timeout), then the pipeline drains and exits by itself.\n"
    "\n"
    "  --once               sources read what exists now and end, then exit: tail reads\n"
    "                       every file it has no checkpoint for from its start (a\n"
    "                       backfill, whatever read_from says), the next --once only\n"
    "                       what came since; a checkpoint never covers unread lines\n"
    "  --plugin-path DIRS   ':'-separated plugin directories, searched first\n"
    "  --log-level LEVEL    error, warn, info or debug (overrides service.log_level)\n";

static volatile sig_atomic_t g_signals;
static volatile sig_atomic_t g_reload;
/* POST /reload: set from an admin thread, so an atomic, not a signal. */
static atomic_int g_reload_call;

static void request_reload(void *arg)
{
    (void)arg;
    atomic_store(&g_reload_call, 1);
}

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        g_reload = 1;
        return;
    }
    /* host->stopping() turns true now, even while plugins' init runs. */
    sl_engine_stop_async();
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
    /* The handler only takes note; the run loop acts once start returns.
     * Without SA_RESTART a signal during a plugin's init broke the call it
     * was blocked in (EINTR) and failed the start (exit 3) instead. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, not a death */
}

/* One generation of the pipeline: its spec, engine and admin endpoint. The
 * spec is on the heap because the engine keeps pointers into it. */
typedef struct running {
    sl_pipeline_spec *spec;
    sl_engine *eng;
    sl_admin *admin;
} running;

/* Load and check the file into a new generation. Returns 0 or -1. */
static int prepare(running *r, const cli *c)
{
    *r = (running){0};
    if (!(r->spec = calloc(1, sizeof *r->spec))) {
        fprintf(stderr, "sluice: out of memory\n");
        return -1;
    }
    if (cli_prepare(c, r->spec, &r->eng) < 0) {
        free(r->spec);
        r->spec = NULL;
        return -1;
    }
    return 0;
}

static void release_spec(running *r)
{
    sl_config_free(r->spec);
    free(r->spec);
    r->spec = NULL;
}

/* The state directory this process holds (see sl_state_lock). */
static int g_lock_fd = -1;
static char *g_lock_dir;

/* Hold the lock of the spec's state_dir; a reload to another directory
 * moves it. Returns 0 or -1 with err. */
static int hold_state_dir(const char *dir, char *err, size_t errlen)
{
    if (g_lock_dir && strcmp(g_lock_dir, dir) == 0)
        return 0;
    int fd = sl_state_lock(dir, err, errlen);
    char *copy = fd >= 0 ? strdup(dir) : NULL;
    if (!copy) {
        if (fd >= 0) {
            close(fd);
            snprintf(err, errlen, "out of memory");
        }
        return -1;
    }
    if (g_lock_fd >= 0)
        close(g_lock_fd);
    free(g_lock_dir);
    g_lock_fd = fd;
    g_lock_dir = copy;
    return 0;
}

static int start(running *r, const cli *c, sl_log_level lvl)
{
    char err[1024];
    sl_log_set_level(c->log_level ? lvl : r->spec->service.log_level);
    sl_log_set_json(r->spec->service.log_json);
    /* No core dump, no ptrace by other users' processes: memory holds the
     * token. (Kept for the rest of the process: a reload may bring it back.) */
    if (sl_engine_holds_secrets(r->eng))
        prctl(PR_SET_DUMPABLE, 0);
    if (hold_state_dir(r->spec->service.state_dir, err, sizeof err) < 0 ||
        sl_admin_start(r->eng, request_reload, NULL, &r->admin, err, sizeof err) < 0 ||
        sl_engine_start(r->eng, err, sizeof err) < 0) {
        sl_admin_stop(r->admin);
        sl_log(SL_LOG_ERROR, NULL, "%s", err);
        sl_engine_destroy(r->eng);
        release_spec(r);
        return -1;
    }
    sl_log(SL_LOG_INFO, NULL, "pipeline %s running (%zu components)%s", c->args[0],
           r->spec->n_comps, c->once ? " in --once mode" : "");
    return 0;
}

/*
 * Every source ended by itself (--once, stdin at EOF, generate at its
 * count): a backfill, not a stop. The
 * sinks get the time they need to deliver it while they make progress (an
 * acknowledgement at least every shutdown_timeout); only then does the
 * drain begin, which gives them shutdown_timeout in all. Without this, a
 * backfill larger than what a sink delivers in shutdown_timeout ended with
 * exit 4 against a perfectly healthy server.
 */
static void wait_delivered(running *r)
{
    int64_t idle_ms = r->spec->service.shutdown_timeout_ms;
    while (!g_signals && !sl_engine_stop_requested(r->eng) && sl_engine_undelivered(r->eng)) {
        int64_t idle = sl_mono_ms() - sl_engine_last_progress_ms(r->eng);
        if (idle > idle_ms) {
            sl_log(SL_LOG_WARN, NULL, "sinks acknowledged nothing for %lld ms with %llu batches "
                   "undelivered; draining", (long long)idle,
                   (unsigned long long)sl_engine_undelivered(r->eng));
            return;
        }
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

static sl_run_result stop(running *r)
{
    sl_run_result res = sl_engine_shutdown(r->eng);
    sl_admin_stop(r->admin);
    if (sl_engine_destroy(r->eng) == 0)
        release_spec(r); /* else a stuck thread may still read it */
    return res;
}

/* A new engine on a spec that ran before: the reload's way back. */
static int recreate(running *r, const cli *c)
{
    sl_errs errs = {0};
    sl_engine_opts opts = {.plugin_path = c->plugin_path, .once = c->once};
    int rc = sl_engine_create(r->spec, &opts, &r->eng, &errs);
    for (size_t i = 0; i < errs.n; i++)
        sl_log(SL_LOG_ERROR, NULL, "%s", errs.msg[i]);
    sl_errs_free(&errs);
    return rc;
}

/*
 * Reload: the new file is checked completely first, and a file with errors
 * leaves the running pipeline alone. Otherwise the whole pipeline drains and
 * stops, then starts on the new file: sources resume from their checkpoints
 * and sinks from their spools, so nothing is lost or sent twice. (Every
 * component restarts, not only the changed ones: a short pause, no state
 * to reconcile.) When the new pipeline cannot start (a plugin's init
 * refuses), the previous one starts again: a reload never ends the process.
 */
static int reload(running *r, const cli *c, sl_log_level lvl)
{
    running next;
    sl_log(SL_LOG_INFO, NULL, "reload: checking %s", c->args[0]);
    if (prepare(&next, c) < 0) {
        sl_log(SL_LOG_ERROR, NULL, "reload: %s has errors (listed above); the running pipeline "
               "keeps running", c->args[0]);
        return 0;
    }
    sl_log(SL_LOG_INFO, NULL, "reload: valid; draining the running pipeline");
    running old = *r;
    if (sl_engine_shutdown(old.eng) == SL_RUN_TIMEOUT)
        sl_log(SL_LOG_WARN, NULL, "reload: the old pipeline did not drain in time; what it "
               "did not deliver will be read again");
    sl_admin_stop(old.admin);
    int old_spec_free = sl_engine_destroy(old.eng) == 0; /* else a stuck thread reads it */
    *r = next;
    if (start(r, c, lvl) == 0) {
        if (old_spec_free)
            release_spec(&old);
        return 0;
    }
    if (!old_spec_free)
        return -1;
    sl_log(SL_LOG_ERROR, NULL, "reload: the new pipeline did not start (see above); starting "
           "the previous one again");
    *r = (running){.spec = old.spec};
    if (recreate(r, c) < 0) {
        release_spec(r);
        return -1;
    }
    return start(r, c, lvl);
}

int cli_run(const cli *c)
{
    if (c->help)
        return printf("%s", usage_run), 0;
    if (c->nargs != 1)
        return cli_usage_error(usage_run, "%s", "run needs exactly one FILE");
    sl_log_level lvl = SL_LOG_INFO;
    if (c->log_level && sl_log_level_parse(c->log_level, &lvl) < 0)
        return cli_usage_error(usage_run, "--log-level '%s': expected error, warn, info or debug",
                           c->log_level);
    running r;
    if (prepare(&r, c) < 0)
        return SL_EXIT_INVALID;
    install_signals();
    if (start(&r, c, lvl) < 0)
        return SL_RUN_FAILED;
    while (!g_signals && !sl_engine_should_stop(r.eng)) {
        sl_engine_wait(r.eng, 200);
        if (atomic_exchange(&g_reload_call, 0))
            g_reload = 1;
        if (g_reload && !g_signals) {
            g_reload = 0;
            if (reload(&r, c, lvl) < 0)
                return SL_RUN_FAILED;
        }
    }
    int ended = !g_signals && sl_engine_sources_done(r.eng);
    if (ended) {
        sl_log(SL_LOG_INFO, NULL, "all sources ended; delivering what they read");
        wait_delivered(&r);
    }
    sl_log(SL_LOG_INFO, NULL, "%s; draining",
           g_signals ? "stop requested" : ended ? "all sources ended" : "a component failed");
    sl_run_result res = stop(&r);
    sl_log(SL_LOG_INFO, NULL, "stopped");
    return (int)res;
}
