#include "oe_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct oe_tls {
    SSL_CTX *ctx;
    char *host;
    int verify, host_is_ip;
    SSL_SESSION *session; /* the newest ticket the server gave */
};

struct oe_tls_conn {
    SSL *ssl;
    int verify;
};

static void openssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

/* Called by OpenSSL with each new session (TLS 1.3 sends them after the
 * handshake): keep the newest for the next connection. */
static int on_session(SSL *ssl, SSL_SESSION *sess)
{
    oe_tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (t->session)
        SSL_SESSION_free(t->session);
    t->session = sess;
    return 1; /* we hold the reference */
}

int oe_tls_new(oe_tls **out, const char *host, int verify, const char *ca_file, char *err,
               size_t errlen)
{
    oe_tls *t = calloc(1, sizeof *t);
    unsigned char a[16];
    *out = NULL;
    if (!t || !(t->host = strdup(host))) {
        free(t);
        snprintf(err, errlen, "TLS: out of memory");
        return -1;
    }
    t->verify = verify;
    t->host_is_ip = inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
    if (!(t->ctx = SSL_CTX_new(TLS_client_method()))) {
        openssl_error(err, errlen, "TLS setup");
        goto fail;
    }
    SSL_CTX_set_app_data(t->ctx, t);
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Servers often close without close_notify: an end like any other
     * here, since the HTTP framing shows whether an answer was cut. */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(t->ctx, alpn, sizeof alpn - 1);
    SSL_CTX_set_session_cache_mode(t->ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(t->ctx, on_session);
    if (verify) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
        int ok = ca_file && *ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL)
                                     : SSL_CTX_set_default_verify_paths(t->ctx);
        if (!ok) {
            char what[300];
            snprintf(what, sizeof what, "cannot load CA certificates%s%s",
                     ca_file && *ca_file ? " from " : "", ca_file && *ca_file ? ca_file : "");
            openssl_error(err, errlen, what);
            goto fail;
        }
    }
    *out = t;
    return 0;
fail:
    oe_tls_free(t);
    return -1;
}

void oe_tls_free(oe_tls *t)
{
    if (!t)
        return;
    if (t->session)
        SSL_SESSION_free(t->session);
    SSL_CTX_free(t->ctx);
    free(t->host);
    free(t);
}

oe_tls_conn *oe_tls_open(oe_tls *t, int fd, char *err, size_t errlen)
{
    oe_tls_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->ssl = SSL_new(t->ctx)) || !SSL_set_fd(c->ssl, fd)) {
        openssl_error(err, errlen, "TLS setup");
        oe_tls_close(c);
        return NULL;
    }
    int ok = 1;
    c->verify = t->verify;
    if (!t->host_is_ip)
        ok &= SSL_set_tlsext_host_name(c->ssl, t->host); /* SNI: names only */
    if (t->verify)
        ok &= t->host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), t->host)
                            : SSL_set1_host(c->ssl, t->host);
    if (t->session)
        SSL_set_session(c->ssl, t->session);
    if (!ok) {
        openssl_error(err, errlen, "TLS setup");
        oe_tls_close(c);
        return NULL;
    }
    SSL_set_connect_state(c->ssl);
    return c;
}

void oe_tls_close(oe_tls_conn *c)
{
    if (!c)
        return;
    /* Marked as shut down, or SSL_free makes its session unresumable. */
    if (c->ssl && SSL_is_init_finished(c->ssl))
        SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c->ssl); /* no close_notify: the connection is dropped either way */
    free(c);
}

/* The outcome of an SSL call that returned r <= 0, in this module's terms. */
static long outcome(oe_tls_conn *c, int r, int *want_write, char *err, size_t errlen,
                    const char *what)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want_write = e == SSL_ERROR_WANT_WRITE;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN && SSL_is_init_finished(c->ssl))
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN) { /* EOF mid-handshake (SSL_OP_IGNORE_UNEXPECTED_EOF) */
        snprintf(err, errlen, "%s: connection closed by the server", what);
        return -2;
    }
    /* (without verification the result is computed but does not count) */
    long vr = c->verify && !SSL_is_init_finished(c->ssl) ? SSL_get_verify_result(c->ssl)
                                                          : X509_V_OK;
    if (vr != X509_V_OK) {
        snprintf(err, errlen, "%s: certificate verify failed: %s", what,
                 X509_verify_cert_error_string(vr));
        ERR_clear_error();
    } else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
        snprintf(err, errlen, "%s: %s", what,
                 errno ? strerror(errno) : "connection closed by the server");
    } else {
        openssl_error(err, errlen, what);
    }
    return -2;
}

int oe_tls_handshake(oe_tls_conn *c, int *want_write, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(c->ssl);
    return r == 1 ? 1 : (int)outcome(c, r, want_write, err, errlen, "TLS handshake");
}

long oe_tls_read(oe_tls_conn *c, void *buf, size_t len, int *want_write, char *err,
                 size_t errlen)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_read_ex(c->ssl, buf, len, &n);
    if (r == 1)
        return (long)n;
    return outcome(c, 0, want_write, err, errlen, "TLS read");
}

long oe_tls_write(oe_tls_conn *c, const void *buf, size_t len, int *want_write, char *err,
                  size_t errlen)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write_ex(c->ssl, buf, len, &n);
    if (r == 1)
        return (long)n;
    return outcome(c, 0, want_write, err, errlen, "TLS write");
}
