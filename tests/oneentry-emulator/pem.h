/*
 * The certificate and key for --tls-cert / --tls-key, read here rather than
 * by libmicrohttpd so an unreadable or wrong file is reported by name
 * instead of as "cannot listen".
 */
#ifndef OE_PEM_H
#define OE_PEM_H

#include <stddef.h>

/*
 * Reads path whole into a NUL-terminated malloc'd string (free with free()).
 * It must hold a PEM block of kind ("CERTIFICATE", "PRIVATE KEY": any
 * "-----BEGIN ...KIND-----"); what names the file in err ("--tls-cert").
 * Returns NULL with err on failure.
 */
char *oe_read_pem(const char *path, const char *what, const char *kind, char *err,
                  size_t errlen);

#endif
