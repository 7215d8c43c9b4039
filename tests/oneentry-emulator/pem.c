#include "pem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX (1u << 20) /* a certificate chain is kilobytes; this catches a wrong path */

static char *read_all(FILE *f, const char *path, const char *what, char *err, size_t errlen)
{
    char *buf = malloc(PEM_MAX + 1);
    if (!buf) {
        snprintf(err, errlen, "%s %s: out of memory", what, path);
        return NULL;
    }
    size_t n = fread(buf, 1, PEM_MAX + 1, f);
    if (ferror(f) || n > PEM_MAX) {
        snprintf(err, errlen, "%s %s: %s", what, path,
                 ferror(f) ? strerror(errno) : "larger than 1 MiB, not a PEM file");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Whether text has a "-----BEGIN ...KIND-----" line, e.g. KIND "PRIVATE KEY"
 * for "BEGIN RSA PRIVATE KEY": a swapped certificate and key are named so. */
static int has_block(const char *text, const char *kind)
{
    static const char begin[] = "-----BEGIN ";
    size_t klen = strlen(kind);
    for (const char *p = text; (p = strstr(p, begin)) != NULL; p += sizeof begin - 1) {
        const char *label = p + sizeof begin - 1;
        const char *end = strstr(label, "-----");
        if (end && (size_t)(end - label) >= klen && memcmp(end - klen, kind, klen) == 0)
            return 1;
    }
    return 0;
}

char *oe_read_pem(const char *path, const char *what, const char *kind, char *err,
                  size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char *pem = read_all(f, path, what, err, errlen);
    fclose(f);
    if (pem && !has_block(pem, kind)) {
        snprintf(err, errlen, "%s %s: no PEM %s (-----BEGIN ...%s-----) in the file", what,
                 path, kind, kind);
        free(pem);
        return NULL;
    }
    return pem;
}
