/*
 * The emulator's HTTP side: libmicrohttpd with an epoll thread pool, the
 * contract check per request, fault injection and the control endpoint.
 */
#ifndef OE_SERVER_H
#define OE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "script.h"

typedef struct oe_config {
    struct sockaddr_storage addr; /* a loopback address (checked by the caller) */
    const char *events_path;      /* NULL = do not record */
    const char *token;            /* NULL or "" = no x-app-token check */
    const char *path;             /* the user-activity path */
    const char *script;           /* initial script, NULL = none */
    const char *tls_cert, *tls_key; /* PEM files; NULL = plain HTTP */
    oe_fail fail;                 /* random failures; chance 0 = none */
    uint64_t seed;                /* of the random failures' draws */
    unsigned latency_ms, down_ms, threads, backlog;
    int quiet;
    /* The Pages API (pages_api.c): served when pages_file is set. Its
     * faults are its own, so the Pages API can be away while UserActivity
     * answers, and the other way round. */
    const char *pages_file;       /* JSON pages (pages.h); reloaded when it changes */
    const char *pages_api;        /* path prefix, default /api/content/pages */
    oe_fail pages_fail;
    unsigned pages_latency_ms, pages_down_ms;
} oe_config;

typedef struct oe_server oe_server;

/* Starts listening. Returns the server, or NULL with err. */
oe_server *oe_server_start(const oe_config *cfg, char *err, size_t errlen);

/* The bound port (the chosen one when the config asked for port 0). */
unsigned oe_server_port(const oe_server *s);

/* Answers or closes what is pending, stops the threads, frees s. */
void oe_server_stop(oe_server *s);

#endif
