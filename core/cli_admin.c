/* Commands that talk to a running pipeline's admin endpoint: tap, reload. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "services.h"

static const char usage_tap[] =
    "Usage: sluice tap NAME [--admin HOST:PORT] [--sample N] [--limit N]\n"
    "\n"
    "Streams, as JSON lines, the events component NAME emits in a running pipeline (a\n"
    "sink: the events it receives), from the admin endpoint (service.admin; default\n"
    "--admin 127.0.0.1:2021). --sample N keeps one event in N; --limit N stops after N.\n"
    "At most 1000 events a second are shown, so a reader never slows a busy pipeline\n"
    "by much. Values of keys that look secret (token, secret, password, cookie,\n"
    "session, jwt, ... and service.admin.tap_mask), at any depth, are shown as \"***\".\n"
    "With service.admin.token set, export SLUICE_ADMIN_TOKEN (also for `sluice reload`).\n";

static int dial(const char *addr, char *err, size_t errlen)
{
    char host[256], port_s[8];
    int port;
    if (sl_split_host_port(addr, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "--admin: expected HOST:PORT, got '%s'", addr);
        return -1;
    }
    snprintf(port_s, sizeof port_s, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port_s, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to the admin endpoint at %s:%s (is the pipeline "
                 "running with service.admin set?)", host, port_s);
    return fd;
}

/* HTTP/1.0 keeps the body unframed: copy everything after the headers. */
static int relay(int fd)
{
    char buf[16384];
    size_t have = 0;
    char *body = NULL;
    while (!body) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        body = strstr(buf, "\r\n\r\n");
        if (!body && have == sizeof buf - 1)
            return -1;
    }
    body += 4;
    int status = 0;
    sscanf(buf, "HTTP/%*s %d", &status);
    int ok = status >= 200 && status < 300;
    FILE *out = ok ? stdout : stderr;
    fwrite(body, 1, have - (size_t)(body - buf), out);
    for (ssize_t r; (r = read(fd, buf, sizeof buf)) > 0;) {
        fwrite(buf, 1, (size_t)r, out);
        fflush(out);
    }
    return ok ? 0 : -1;
}

static const char usage_reload[] =
    "Usage: sluice reload [--admin HOST:PORT]\n"
    "\n"
    "Asks a running pipeline to reload its file, like SIGHUP: the file is validated first;\n"
    "with errors the running pipeline keeps running (the errors are logged); without, the\n"
    "pipeline drains, stops and starts again on the new file. Checkpoints and spools carry\n"
    "over, so nothing is lost or delivered twice. Default --admin 127.0.0.1:2021.\n"
    "With service.admin.token set, the token is read from $SLUICE_ADMIN_TOKEN.\n";

/* One request ("METHOD PATH") to the admin endpoint, with the Host it
 * checks and the bearer token from $SLUICE_ADMIN_TOKEN; the body goes to
 * stdout on 200. */
static int admin_request(const cli *c, const char *line)
{
    char err[512];
    const char *addr = c->admin ? c->admin : "127.0.0.1:2021";
    const char *token = getenv("SLUICE_ADMIN_TOKEN");
    char *req = NULL;
    if (asprintf(&req, "%s HTTP/1.0\r\nHost: %s\r\n%s%s%sContent-Length: 0\r\n\r\n", line,
                 addr, token ? "Authorization: Bearer " : "", token ? token : "",
                 token ? "\r\n" : "") < 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return SL_EXIT_INVALID;
    }
    int fd = dial(addr, err, sizeof err);
    if (fd < 0) {
        free(req);
        fprintf(stderr, "sluice: %s\n", err);
        return SL_EXIT_INVALID;
    }
    int rc = sl_file_write(fd, req, strlen(req), 0, err, sizeof err) == 0 ? relay(fd) : -1;
    close(fd);
    explicit_bzero(req, strlen(req));
    free(req);
    return rc == 0 ? 0 : SL_EXIT_INVALID;
}

int cli_reload(const cli *c)
{
    if (c->help)
        return printf("%s", usage_reload), 0;
    if (c->nargs != 0)
        return cli_usage_error(usage_reload, "unexpected argument '%s'", c->args[0]);
    return admin_request(c, "POST /reload");
}

int cli_tap(const cli *c)
{
    if (c->help)
        return printf("%s", usage_tap), 0;
    if (c->nargs != 1)
        return cli_usage_error(usage_tap, "%s", "tap needs a component NAME");
    for (const char *p = c->args[0]; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return cli_usage_error(usage_tap, "'%s' is not a component name", c->args[0]);
    char req[512];
    snprintf(req, sizeof req, "GET /tap/%s?sample=%ld&limit=%ld", c->args[0],
             c->sample ? strtol(c->sample, NULL, 10) : 1, c->limit ? strtol(c->limit, NULL, 10) : 0);
    return admin_request(c, req);
}
