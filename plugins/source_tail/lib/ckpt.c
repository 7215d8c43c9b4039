#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "# sluice tail checkpoints v1\n"

uint64_t tail_hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void tail_ckpts_init(tail_ckpts *c)
{
    memset(c, 0, sizeof *c);
}

void tail_ckpts_free(tail_ckpts *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].path);
    free(c->v);
    memset(c, 0, sizeof *c);
}

long tail_ckpts_find(const tail_ckpts *c, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].used && c->v[i].dev == dev && c->v[i].ino == ino)
            return (long)i;
    return -1;
}

long tail_ckpts_add(tail_ckpts *c, uint64_t dev, uint64_t ino, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    size_t i = 0;
    while (i < c->n && c->v[i].used)
        i++;
    if (i == c->n) {
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 16;
            tail_ckpt *nv = realloc(c->v, ncap * sizeof *nv);
            if (!nv) {
                free(p);
                return -1;
            }
            c->v = nv;
            c->cap = ncap;
        }
        c->n++;
    }
    tail_ckpt *k = &c->v[i];
    memset(k, 0, sizeof *k);
    k->dev = dev;
    k->ino = ino;
    k->path = p;
    k->used = 1;
    return (long)i;
}

int tail_ckpts_set_path(tail_ckpts *c, size_t i, const char *path)
{
    if (strcmp(c->v[i].path, path) == 0)
        return 0;
    char *p = strdup(path);
    if (!p)
        return -1;
    free(c->v[i].path);
    c->v[i].path = p;
    return 0;
}

void tail_ckpts_remove(tail_ckpts *c, size_t i)
{
    free(c->v[i].path);
    memset(&c->v[i], 0, sizeof c->v[i]);
}

/* One data line (NUL-terminated, without "\n"). 0 or -1. */
static int parse_line(tail_ckpts *c, char *s)
{
    uint64_t dev, ino, off, fph, tlh;
    uint32_t fpl, tll;
    int pos = -1;
    if (sscanf(s, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu32 " %" SCNx64 " %" SCNu32
               " %" SCNx64 " %n", &dev, &ino, &off, &fpl, &fph, &tll, &tlh, &pos) != 7 ||
        pos < 0 || s[pos] == '\0' || fpl > TAIL_FP_MAX || tll > TAIL_HASH_MAX || tll > off)
        return -1;
    long i = tail_ckpts_add(c, dev, ino, s + pos);
    if (i < 0)
        return -2;
    tail_ckpt *k = &c->v[i];
    k->offset = off;
    k->fp_len = fpl;
    k->fp_hash = fph;
    k->tail_len = tll;
    k->tail_hash = tlh;
    return 0;
}

int tail_ckpts_parse(tail_ckpts *c, const char *text, size_t len, char *err, size_t errlen)
{
    size_t lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (!nl) {
            snprintf(err, errlen, "line %zu: incomplete (no newline)", lineno);
            return -1;
        }
        if (n > 0 && p[0] != '#') {
            char *s = malloc(n + 1);
            if (!s) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            memcpy(s, p, n);
            s[n] = '\0';
            int r = parse_line(c, s);
            free(s);
            if (r < 0) {
                snprintf(err, errlen, r == -2 ? "out of memory" : "line %zu: malformed", lineno);
                return -1;
            }
        }
        p += n + 1;
    }
    return 0;
}

int tail_ckpts_format(const tail_ckpts *c, char **out, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return -1;
    fputs(HEADER, f);
    for (size_t i = 0; i < c->n; i++) {
        const tail_ckpt *k = &c->v[i];
        /* A path with a newline cannot be stored in this format; the
         * plugin never tails one, and skipping beats corrupting the file. */
        if (!k->used || strchr(k->path, '\n'))
            continue;
        fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIx64 " %" PRIu32
                " %" PRIx64 " %s\n", k->dev, k->ino, k->offset, k->fp_len, k->fp_hash,
                k->tail_len, k->tail_hash, k->path);
    }
    /* glibc reports a buffer that could not grow at fclose() by leaving it
     * NULL (size 0) and still returning 0: that is out of memory too, or
     * an empty text would replace the checkpoint file. */
    if ((ferror(f) | fclose(f)) || !buf || size < sizeof HEADER - 1) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = size;
    return 0;
}

int tail_ckpts_load(tail_ckpts *c, const char *dir, const char *name, int *existed,
                    char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *existed = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    *existed = 1;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "out of memory reading %s", path);
                rc = -1;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    if (rc == 0) {
        char why[256];
        if (tail_ckpts_parse(c, buf, len, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s (fix or delete it)", path, why);
            rc = -1;
        }
    }
    free(buf);
    return rc;
}
