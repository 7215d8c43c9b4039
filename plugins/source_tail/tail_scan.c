/*
 * Which files to follow: expand the `paths` globs (minus `exclude`), adopt
 * what is new, notice what was renamed or deleted (rotation), and at start
 * find files that were rotated away while sluice was stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tail.h"

/* Log a problem with path once, not at every scan. */
void tail_note(tail_src *s, const char *path, const char *fmt, ...)
{
    for (size_t i = 0; i < s->n_noted; i++)
        if (strcmp(s->noted[i], path) == 0)
            return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->host->log(s->ctx, SL_LOG_WARN, "%s: %s", path, msg);
    char **nv = realloc(s->noted, (s->n_noted + 1) * sizeof *nv);
    char *p = strdup(path);
    if (nv)
        s->noted = nv;
    if (!nv || !p) {
        free(p); /* only costs a repeated log line later */
        return;
    }
    s->noted[s->n_noted++] = p;
}

void tail_unnote(tail_src *s, const char *path)
{
    for (size_t i = 0; i < s->n_noted; i++) {
        if (strcmp(s->noted[i], path) == 0) {
            free(s->noted[i]);
            s->noted[i] = s->noted[--s->n_noted];
            return;
        }
    }
}

int tail_find_in_dir(const char *near, uint64_t dev, uint64_t ino, char *out, size_t outlen)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", near);
    const char *dir = dirname(copy);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = -1;
    while (rc != 0 && (e = readdir(d)) != NULL) {
        if (e->d_ino != ino)
            continue; /* d_ino saves a stat per entry */
        struct stat st;
        if ((size_t)snprintf(out, outlen, "%s/%s", dir, e->d_name) < outlen &&
            stat(out, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == dev &&
            (uint64_t)st.st_ino == ino)
            rc = 0;
    }
    closedir(d);
    return rc;
}

static int excluded(tail_src *s, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = s->host->node_len(s->excludes);
    for (size_t i = 0; i < n; i++) {
        const char *pat = s->host->node_str(s->host->node_at(s->excludes, i));
        if (!pat)
            continue;
        /* A pattern without "/" names files in any directory. */
        const char *subject = strchr(pat, '/') ? path : base;
        if (fnmatch(pat, subject, FNM_PATHNAME) == 0)
            return 1;
    }
    return 0;
}

/* A followed file seen under a new name that the globs match. */
static int renamed(tail_src *s, tfile *f, const char *path)
{
    f->rotated = 0;
    if (strcmp(f->path, path) == 0)
        return 0;
    char *p = strdup(path);
    if (!p)
        return -1;
    free(f->path);
    f->path = p;
    if (!f->started)
        return 0; /* no checkpoint slot yet */
    pthread_mutex_lock(&s->mu);
    int rc = tail_ckpts_set_path(&s->ckpts, f->slot, path);
    s->dirty = 1;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* One glob match. 0 or -1 (out of memory). */
static int consider(tail_src *s, const char *path, int first, int64_t now)
{
    struct stat st;
    if (excluded(s, path))
        return 0;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            tail_note(s, path, "cannot stat: %s", strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        tail_note(s, path, "matches paths but is a directory; skipped");
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        tail_note(s, path, "matches paths but is not a regular file; skipped");
        return 0;
    }
    if (strchr(path, '\n')) {
        tail_note(s, path, "a newline in the name cannot be checkpointed; skipped");
        return 0;
    }
    tfile *f = tail_find(s, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    if (f) {
        f->seen = 1;
        return renamed(s, f, path);
    }
    int r = tail_adopt(s, path, &st, first, 0, now);
    if (r > 0)
        s->files[s->n_files - 1]->seen = 1;
    return r < 0 ? -1 : 0;
}

static int glob_err(const char *path, int err)
{
    (void)path;
    (void)err;
    return 0; /* an unreadable directory must not hide the others */
}

/* How many glob matches or checkpoints between two looks at stopping(). */
#define STOP_CHECK_EVERY 256

/* One glob's matches. 0, 1 stopping, -1 out of memory. */
static int scan_glob(tail_src *s, const char *pat, int first, int64_t now)
{
    glob_t g;
    int gr = glob(pat, 0, glob_err, &g), r = 0;
    if (gr == GLOB_NOSPACE)
        r = -1;
    for (size_t k = 0; gr == 0 && r == 0 && k < g.gl_pathc; k++) {
        if (k % STOP_CHECK_EVERY == STOP_CHECK_EVERY - 1 && s->host->stopping(s->ctx))
            r = 1;
        else if (consider(s, g.gl_pathv[k], first, now) != 0)
            r = -1;
    }
    globfree(&g);
    return r;
}

int tail_scan(tail_src *s, int first, int64_t now)
{
    for (size_t i = 0; i < s->n_files; i++)
        s->files[i]->seen = 0;
    size_t n = s->host->node_len(s->paths);
    for (size_t i = 0; i < n; i++) {
        const char *pat = s->host->node_str(s->host->node_at(s->paths, i));
        int r = pat ? scan_glob(s, pat, first, now) : 0;
        if (r != 0) /* stopping: a partial scan says nothing about rotation */
            return r < 0 ? -1 : 0;
    }
    for (size_t i = 0; i < s->n_files; i++) {
        tfile *f = s->files[i];
        if (f->seen || f->rotated)
            continue;
        f->rotated = 1;
        f->idle_since_ms = now;
        s->host->log(s->ctx, SL_LOG_INFO, "%s: renamed or deleted; reading what is left",
                     f->path);
    }
    return 0;
}

/*
 * At start, every checkpoint no glob matched is looked for in its
 * directory. The checkpoint file may name 100k files: each directory is
 * read once for all of its checkpoints, and lookups are binary searches,
 * so the start costs O(n log n), and it stops early when asked to.
 */

typedef struct fkey {
    uint64_t dev, ino;
} fkey;

typedef struct orphan {
    uint64_t dev, ino;
    char *path;  /* where its checkpoint saw it */
    char *dir;   /* the directory of path */
    char *found; /* where it is now, or NULL */
} orphan;

static int cmp_fkey(const void *a, const void *b)
{
    const fkey *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* (dev, ino) of every followed file, sorted; NULL when out of memory. */
static fkey *file_keys(tail_src *s)
{
    fkey *k = malloc((s->n_files ? s->n_files : 1) * sizeof *k);
    for (size_t i = 0; k && i < s->n_files; i++)
        k[i] = (fkey){s->files[i]->dev, s->files[i]->ino};
    if (k)
        qsort(k, s->n_files, sizeof *k, cmp_fkey);
    return k;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    char *d = copy ? strdup(dirname(copy)) : NULL;
    free(copy);
    return d;
}

static void orphans_free(orphan *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].path);
        free(v[i].dir);
        free(v[i].found);
    }
    free(v);
}

/* Checkpointed files no glob matched, copied; NULL when out of memory. */
static orphan *unmatched(tail_src *s, size_t *n)
{
    *n = 0;
    fkey *keys = file_keys(s);
    if (!keys)
        return NULL;
    pthread_mutex_lock(&s->mu);
    orphan *v = calloc(s->ckpts.n ? s->ckpts.n : 1, sizeof *v);
    for (size_t i = 0; v && i < s->ckpts.n; i++) {
        tail_ckpt *k = &s->ckpts.v[i];
        fkey key = {k->dev, k->ino};
        if (!k->used || bsearch(&key, keys, s->n_files, sizeof *keys, cmp_fkey))
            continue;
        orphan *o = &v[*n];
        *o = (orphan){k->dev, k->ino, strdup(k->path), NULL, NULL};
        if (!o->path || !(o->dir = dir_of(o->path))) {
            orphans_free(v, *n + 1);
            v = NULL;
            *n = 0;
        } else {
            ++*n;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(keys);
    return v;
}

/* By directory, then inode: a directory's orphans sit together. */
static int cmp_orphan(const void *a, const void *b)
{
    const orphan *x = a, *y = b;
    int c = strcmp(x->dir, y->dir);
    return c ? c : x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* First of v[0..n) (sorted by inode) with inode ino or above. */
static size_t first_ino(const orphan *v, size_t n, uint64_t ino)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].ino < ino)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One pass over the directory of v[0..n) (one directory, sorted by inode)
 * sets each orphan's `found`. d_ino saves a stat per entry. */
static void find_in_dir(orphan *v, size_t n)
{
    DIR *d = opendir(v[0].dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        for (size_t i = first_ino(v, n, e->d_ino); i < n && v[i].ino == e->d_ino; i++) {
            char path[4096];
            struct stat st;
            if (!v[i].found && (size_t)snprintf(path, sizeof path, "%s/%s", v[i].dir,
                                                e->d_name) < sizeof path &&
                stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                (uint64_t)st.st_dev == v[i].dev && (uint64_t)st.st_ino == v[i].ino)
                v[i].found = strdup(path); /* NULL (memory): forgotten like a gone file */
        }
    }
    if (d)
        closedir(d);
}

/* Follow an orphan where it went. 1 followed, 0 not found. */
static int recover_one(tail_src *s, const orphan *o, int64_t now)
{
    struct stat st;
    /* The same inode still, so the file adopted is the orphan's own and
     * takes no other orphan's checkpoint. */
    if (!o->found || stat(o->found, &st) != 0 || (uint64_t)st.st_dev != o->dev ||
        (uint64_t)st.st_ino != o->ino || tail_adopt(s, o->found, &st, 0, 1, now) <= 0)
        return 0;
    s->host->log(s->ctx, SL_LOG_INFO, "%s was rotated to %s while stopped", o->path,
                 o->found);
    return 1;
}

/* The orphan's file is gone: its checkpoint goes too. */
static void forget(tail_src *s, const orphan *o, size_t *forgotten)
{
    pthread_mutex_lock(&s->mu);
    long k = tail_ckpts_find(&s->ckpts, o->dev, o->ino);
    if (k >= 0 && s->ckpts.v[k].inflight == 0) {
        tail_ckpts_remove(&s->ckpts, (size_t)k);
        s->dirty = 1;
    }
    pthread_mutex_unlock(&s->mu);
    if (++*forgotten <= 10) /* a few by name; the rest are counted */
        s->host->log(s->ctx, SL_LOG_INFO, "%s (inode %" PRIu64 ") is gone; its checkpoint "
                     "is forgotten", o->path, o->ino);
}

void tail_recover_rotated(tail_src *s, int64_t now)
{
    size_t n, forgotten = 0, i = 0;
    orphan *v = unmatched(s, &n);
    if (v)
        qsort(v, n, sizeof *v, cmp_orphan);
    while (v && i < n && !s->host->stopping(s->ctx)) {
        size_t end = i + 1;
        while (end < n && strcmp(v[end].dir, v[i].dir) == 0)
            end++;
        find_in_dir(v + i, end - i);
        for (; i < end; i++) {
            if (i % STOP_CHECK_EVERY == 0 && s->host->stopping(s->ctx))
                break; /* the rest keep their checkpoints for the next start */
            if (!recover_one(s, &v[i], now))
                forget(s, &v[i], &forgotten);
        }
    }
    if (forgotten > 10)
        s->host->log(s->ctx, SL_LOG_INFO, "%zu more checkpoints of files that are gone were "
                     "forgotten", forgotten - 10);
    orphans_free(v, n);
}
