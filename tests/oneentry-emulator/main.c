/*
 * oneentry-emulator: a OneEntry UserActivity API on a loopback address for
 * sluice's tests and benchmarks. See README.md for the CLI and the control
 * endpoint. Runs until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: oneentry-emulator [--listen 127.0.0.1:PORT] [--port-file FILE]\n"
            "         [--events FILE] [--token T] [--path P] [--latency-ms N]\n"
            "         [--threads N] [--script S] [--down-ms N] [--fail SPEC] [--seed N]\n"
            "         [--tls-cert FILE --tls-key FILE] [--backlog N] [--quiet]\n"
            "         [--pages FILE [--pages-path P] [--pages-latency-ms N] [--pages-fail SPEC]\n"
            "          [--pages-down-ms N]]\n"
            "  --listen     loopback address only; PORT 0 picks a free port (default 127.0.0.1:0)\n"
            "  --port-file  write the bound port there once listening\n"
            "  --events     append each accepted event as a JSON line\n"
            "  --token      the x-app-token required (default: none checked)\n"
            "  --path       the user-activity path (default /api/content/user-activity)\n"
            "  --latency-ms added to every answered request (default 0)\n"
            "  --threads    server threads (default 4)\n"
            "  --script     fault script, e.g. 503,429:2,reset,slow:200,200\n"
            "  --down-ms    close every request's connection for the first N ms\n"
            "  --fail       PCT:STATUS[:RETRY_AFTER]: that status for PCT %% of requests, e.g. 3:503:1\n"
            "  --seed       seed of --fail's draws (default: from the time and pid)\n"
            "  --tls-cert   PEM certificate (chain): speak HTTPS only, with --tls-key\n"
            "  --tls-key    PEM private key of --tls-cert\n"
            "  --backlog    listen(2) backlog (default 1024)\n"
            "  --quiet      no log lines on stderr\n"
            "  --pages      serve the Pages API from this JSON file (re-read when it changes)\n"
            "  --pages-path the Pages API path (default /api/content/pages)\n"
            "  --pages-latency-ms, --pages-fail, --pages-down-ms: the Pages API's own faults\n");
}

static int parse_uint(const char *v, unsigned long max, unsigned *out)
{
    char *end;
    if (!*v || *v == '-' || *v == '+')
        return -1;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *end || n > max)
        return -1;
    *out = (unsigned)n;
    return 0;
}

/* host:port where host is 127.x.x.x, localhost or [::1]; nothing else is allowed. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[64];
    unsigned port;
    const char *colon = strrchr(spec, ':');
    size_t hlen = colon ? (size_t)(colon - spec) : 0;
    if (!colon || hlen == 0 || hlen >= sizeof host || parse_uint(colon + 1, 65535, &port) < 0) {
        snprintf(err, errlen, "--listen wants HOST:PORT, got '%s'", spec);
        return -1;
    }
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127)
            goto not_loopback;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr))
                goto not_loopback;
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            return 0;
        }
    }
not_loopback:
    snprintf(err, errlen, "--listen %s: only a loopback address (127.0.0.0/8, localhost, [::1]) "
             "is allowed", spec);
    return -1;
}

/* Written to a temporary name and renamed, so a reader never sees a partial port. */
static int write_port_file(const char *path, unsigned port, char *err, size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        snprintf(err, errlen, "--port-file path too long");
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write port file %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int parse_seed(const char *v, uint64_t *out)
{
    char *end;
    if (!*v || *v == '-' || *v == '+')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)n;
    return 0;
}

/* Differs between runs started in the same second; printed, so a run can be repeated. */
static uint64_t default_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
           ((uint64_t)getpid() << 32);
}

enum { O_LISTEN = 1, O_PORT_FILE, O_EVENTS, O_TOKEN, O_PATH, O_LATENCY, O_THREADS,
       O_SCRIPT, O_DOWN, O_FAIL, O_SEED, O_TLS_CERT, O_TLS_KEY, O_BACKLOG, O_QUIET, O_HELP,
       O_PAGES, O_PAGES_PATH, O_PAGES_LATENCY, O_PAGES_FAIL, O_PAGES_DOWN };

/* Everything parse_args checks after the options themselves. */
static int check_args(oe_config *cfg, const char *listen, int seeded, char *err, size_t errlen)
{
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return -1;
    }
    if (!seeded)
        cfg->seed = default_seed();
    return parse_listen(listen, &cfg->addr, err, errlen);
}

static int parse_args(int argc, char **argv, oe_config *cfg, const char **port_file,
                      char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"port-file", required_argument, NULL, O_PORT_FILE},
        {"events", required_argument, NULL, O_EVENTS},
        {"token", required_argument, NULL, O_TOKEN},
        {"path", required_argument, NULL, O_PATH},
        {"latency-ms", required_argument, NULL, O_LATENCY},
        {"threads", required_argument, NULL, O_THREADS},
        {"script", required_argument, NULL, O_SCRIPT},
        {"down-ms", required_argument, NULL, O_DOWN},
        {"fail", required_argument, NULL, O_FAIL},
        {"seed", required_argument, NULL, O_SEED},
        {"tls-cert", required_argument, NULL, O_TLS_CERT},
        {"tls-key", required_argument, NULL, O_TLS_KEY},
        {"backlog", required_argument, NULL, O_BACKLOG},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {"pages", required_argument, NULL, O_PAGES},
        {"pages-path", required_argument, NULL, O_PAGES_PATH},
        {"pages-latency-ms", required_argument, NULL, O_PAGES_LATENCY},
        {"pages-fail", required_argument, NULL, O_PAGES_FAIL},
        {"pages-down-ms", required_argument, NULL, O_PAGES_DOWN},
        {NULL, 0, NULL, 0},
    };
    const char *listen = "127.0.0.1:0";
    int o, seeded = 0;
    cfg->path = "/api/content/user-activity";
    cfg->threads = 4;
    cfg->backlog = 1024;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case O_LISTEN: listen = optarg; break;
        case O_PORT_FILE: *port_file = optarg; break;
        case O_EVENTS: cfg->events_path = optarg; break;
        case O_TOKEN: cfg->token = optarg; break;
        case O_PATH: cfg->path = optarg; bad = optarg[0] != '/'; break;
        case O_LATENCY: bad = parse_uint(optarg, 86400000, &cfg->latency_ms) < 0; break;
        case O_THREADS: bad = parse_uint(optarg, 256, &cfg->threads) < 0 || !cfg->threads; break;
        case O_SCRIPT: cfg->script = optarg; break;
        case O_DOWN: bad = parse_uint(optarg, 86400000, &cfg->down_ms) < 0; break;
        case O_FAIL:
            if (oe_fail_parse(optarg, &cfg->fail, err, errlen) < 0)
                return -1;
            break;
        case O_SEED: bad = parse_seed(optarg, &cfg->seed) < 0; seeded = 1; break;
        case O_TLS_CERT: cfg->tls_cert = optarg; break;
        case O_TLS_KEY: cfg->tls_key = optarg; break;
        case O_BACKLOG: bad = parse_uint(optarg, 65535, &cfg->backlog) < 0 || !cfg->backlog; break;
        case O_QUIET: cfg->quiet = 1; break;
        case O_PAGES: cfg->pages_file = optarg; break;
        case O_PAGES_PATH: cfg->pages_api = optarg; bad = optarg[0] != '/'; break;
        case O_PAGES_LATENCY: bad = parse_uint(optarg, 86400000, &cfg->pages_latency_ms) < 0; break;
        case O_PAGES_DOWN: bad = parse_uint(optarg, 86400000, &cfg->pages_down_ms) < 0; break;
        case O_PAGES_FAIL:
            if (oe_fail_parse(optarg, &cfg->pages_fail, err, errlen) < 0)
                return -1;
            break;
        case O_HELP: usage(stdout); exit(0);
        default:
            snprintf(err, errlen, "unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "bad value '%s' for %s", optarg, argv[optind - 2]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return check_args(cfg, listen, seeded, err, errlen);
}

int main(int argc, char **argv)
{
    oe_config cfg;
    const char *port_file = NULL;
    char err[512];
    sigset_t set;
    int sig;
    memset(&cfg, 0, sizeof cfg);
    if (parse_args(argc, argv, &cfg, &port_file, err, sizeof err) < 0) {
        fprintf(stderr, "oneentry-emulator: %s\n", err);
        usage(stderr);
        return 2;
    }
    /* block before any thread exists, so only sigwait below sees them */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    oe_server *s = oe_server_start(&cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "oneentry-emulator: %s\n", err);
        return 1;
    }
    unsigned port = oe_server_port(s);
    if (port_file && write_port_file(port_file, port, err, sizeof err) < 0) {
        fprintf(stderr, "oneentry-emulator: %s\n", err);
        oe_server_stop(s);
        return 1;
    }
    if (!cfg.quiet)
        fprintf(stderr, "oneentry-emulator: listening on port %u (%s), %u threads, seed %llu\n",
                port, cfg.tls_cert ? "HTTPS" : "HTTP", cfg.threads,
                (unsigned long long)cfg.seed);
    sigwait(&set, &sig);
    oe_server_stop(s);
    return 0;
}
