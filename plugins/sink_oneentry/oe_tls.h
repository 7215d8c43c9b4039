/*
 * TLS for the built-in HTTP/1.1 client (oe_h1.c), over OpenSSL, on
 * non-blocking sockets: the handshake and every read and write return
 * "would block" instead of waiting, saying whether the socket must become
 * readable or writable first (a TLS read can need a write and the other
 * way round).
 *
 * The server's certificate is verified against the system's CAs (or
 * ca_file) and the URL's host name or IP address unless verify is 0. ALPN
 * offers only http/1.1. The last session ticket is kept and offered on new
 * connections, so a reconnect costs an abbreviated handshake.
 */
#ifndef OE_TLS_H
#define OE_TLS_H

#include <stddef.h>

typedef struct oe_tls oe_tls;         /* settings and session, one per client */
typedef struct oe_tls_conn oe_tls_conn; /* one connection's TLS state */

int oe_tls_new(oe_tls **out, const char *host, int verify, const char *ca_file, char *err,
               size_t errlen);
void oe_tls_free(oe_tls *t);

/* TLS on the connected socket fd (not owned). NULL with err on failure. */
oe_tls_conn *oe_tls_open(oe_tls *t, int fd, char *err, size_t errlen);
void oe_tls_close(oe_tls_conn *c);

/*
 * Each returns, besides its own result: -1 = would block (*want_write:
 * wait for the socket to be writable, else readable), -2 = failed (the
 * reason in err).
 *   handshake: 1 done.
 *   read: bytes read (> 0), 0 = the server closed.
 *   write: bytes written (> 0, possibly fewer than len: one record at a
 *   time). After -1, call again with exactly the same bytes.
 */
int oe_tls_handshake(oe_tls_conn *c, int *want_write, char *err, size_t errlen);
long oe_tls_read(oe_tls_conn *c, void *buf, size_t len, int *want_write, char *err,
                 size_t errlen);
long oe_tls_write(oe_tls_conn *c, const void *buf, size_t len, int *want_write, char *err,
                  size_t errlen);

#endif
