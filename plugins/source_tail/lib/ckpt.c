#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"

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
    free(c->freed);
    free(c->index);
    memset(c, 0, sizeof *c);
}

/* Home bucket of (dev, ino): inode numbers come in runs, so mix them. */
static size_t home(const tail_ckpts *c, uint64_t dev, uint64_t ino)
{
    uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    return (size_t)(h & (c->buckets - 1));
}

static void index_put(tail_ckpts *c, uint32_t slot)
{
    size_t mask = c->buckets - 1;
    size_t b = home(c, c->v[slot].dev, c->v[slot].ino);
    while (c->index[b])
        b = (b + 1) & mask;
    c->index[b] = slot + 1;
}

/* Room in the index for one more used slot. 0 or -1 (out of memory). */
static int index_reserve(tail_ckpts *c)
{
    if ((c->nused + 1) * 2 <= c->buckets)
        return 0;
    size_t nb = c->buckets ? c->buckets * 2 : 64;
    uint32_t *ni = calloc(nb, sizeof *ni);
    if (!ni)
        return -1;
    free(c->index);
    c->index = ni;
    c->buckets = nb;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].used)
            index_put(c, (uint32_t)i);
    return 0;
}

/* Bucket of (dev, ino), or -1. */
static long index_find(const tail_ckpts *c, uint64_t dev, uint64_t ino, uint64_t *probes)
{
    if (!c->buckets)
        return -1;
    size_t mask = c->buckets - 1;
    for (size_t b = home(c, dev, ino);; b = (b + 1) & mask) {
        ++*probes;
        uint32_t e = c->index[b];
        if (!e)
            return -1;
        if (c->v[e - 1].dev == dev && c->v[e - 1].ino == ino)
            return (long)b;
    }
}

/* Empty bucket b, moving later entries of its run back so that every
 * entry stays reachable from its home bucket (no tombstones to pile up). */
static void index_del(tail_ckpts *c, size_t b)
{
    size_t mask = c->buckets - 1;
    c->index[b] = 0;
    for (size_t j = (b + 1) & mask; c->index[j]; j = (j + 1) & mask) {
        const tail_ckpt *k = &c->v[c->index[j] - 1];
        size_t h = home(c, k->dev, k->ino);
        /* Stays when its home lies cyclically in (b, j]. */
        if (b <= j ? (b < h && h <= j) : (b < h || h <= j))
            continue;
        c->index[b] = c->index[j];
        c->index[j] = 0;
        b = j;
    }
}

long tail_ckpts_find(tail_ckpts *c, uint64_t dev, uint64_t ino)
{
    long b = index_find(c, dev, ino, &c->probes);
    return b < 0 ? -1 : (long)c->index[b] - 1;
}

/* A slot for a new entry: the last freed, or a new one. -1 out of memory. */
static long take_slot(tail_ckpts *c)
{
    if (c->nfreed)
        return (long)c->freed[--c->nfreed];
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        if (ncap > UINT32_MAX - 1)
            return -1; /* slots are uint32_t, index entries slot + 1 */
        tail_ckpt *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        c->v = nv;
        uint32_t *nf = realloc(c->freed, ncap * sizeof *nf);
        if (!nf)
            return -1;
        c->freed = nf;
        c->cap = ncap;
    }
    return (long)c->n++;
}

long tail_ckpts_add(tail_ckpts *c, uint64_t dev, uint64_t ino, const char *path)
{
    char *p = strdup(path);
    long i = p && index_reserve(c) == 0 ? take_slot(c) : -1;
    if (i < 0) {
        free(p);
        return -1;
    }
    tail_ckpt *k = &c->v[i];
    memset(k, 0, sizeof *k);
    k->dev = dev;
    k->ino = ino;
    k->path = p;
    k->used = 1;
    c->nused++;
    index_put(c, (uint32_t)i);
    return i;
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
    if (!c->v[i].used)
        return; /* free already */
    size_t mask = c->buckets - 1, b = home(c, c->v[i].dev, c->v[i].ino);
    while (c->index[b] != i + 1) /* a used slot is in the index */
        b = (b + 1) & mask;
    index_del(c, b);
    free(c->v[i].path);
    memset(&c->v[i], 0, sizeof c->v[i]);
    c->freed[c->nfreed++] = (uint32_t)i; /* room: nfreed < n <= cap */
    c->nused--;
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
    if (tail_ckpts_find(c, dev, ino) >= 0)
        return 0; /* never written twice; the first line wins, as it always did */
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
        char *nb = sl_grow(buf, len + 1, &cap, 1, 4096);
        if (!nb) {
            snprintf(err, errlen, "out of memory reading %s", path);
            rc = -1;
            break;
        }
        buf = nb;
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
