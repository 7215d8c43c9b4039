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

int tail_scan(tail_src *s, int first, int64_t now)
{
    for (size_t i = 0; i < s->n_files; i++)
        s->files[i]->seen = 0;
    size_t n = s->host->node_len(s->paths);
    for (size_t i = 0; i < n; i++) {
        const char *pat = s->host->node_str(s->host->node_at(s->paths, i));
        glob_t g;
        if (!pat)
            continue;
        int gr = glob(pat, 0, glob_err, &g);
        if (gr == GLOB_NOSPACE) {
            globfree(&g);
            return -1;
        }
        for (size_t k = 0; gr == 0 && k < g.gl_pathc; k++) {
            if (consider(s, g.gl_pathv[k], first, now) != 0) {
                globfree(&g);
                return -1;
            }
        }
        globfree(&g);
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

typedef struct orphan {
    uint64_t dev, ino;
    char *path;
} orphan;

/* Checkpointed files no glob matched: (dev, ino, path) copies, malloc'd. */
static orphan *unmatched(tail_src *s, size_t *n)
{
    *n = 0;
    pthread_mutex_lock(&s->mu);
    orphan *v = calloc(s->ckpts.n ? s->ckpts.n : 1, sizeof *v);
    for (size_t i = 0; v && i < s->ckpts.n; i++) {
        tail_ckpt *k = &s->ckpts.v[i];
        if (!k->used || tail_find(s, k->dev, k->ino))
            continue;
        v[*n] = (orphan){k->dev, k->ino, strdup(k->path)};
        if (v[*n].path)
            (*n)++;
    }
    pthread_mutex_unlock(&s->mu);
    return v;
}

void tail_recover_rotated(tail_src *s, int64_t now)
{
    size_t n;
    orphan *v = unmatched(s, &n);
    for (size_t i = 0; v && i < n; i++) {
        char found[4096];
        struct stat st;
        if (tail_find_in_dir(v[i].path, v[i].dev, v[i].ino, found, sizeof found) == 0 &&
            stat(found, &st) == 0 && tail_adopt(s, found, &st, 0, 1, now) > 0) {
            s->host->log(s->ctx, SL_LOG_INFO, "%s was rotated to %s while stopped",
                         v[i].path, found);
        } else {
            pthread_mutex_lock(&s->mu);
            long k = tail_ckpts_find(&s->ckpts, v[i].dev, v[i].ino);
            if (k >= 0 && s->ckpts.v[k].inflight == 0 && !tail_find(s, v[i].dev, v[i].ino)) {
                tail_ckpts_remove(&s->ckpts, (size_t)k);
                s->dirty = 1;
            }
            pthread_mutex_unlock(&s->mu);
            s->host->log(s->ctx, SL_LOG_INFO, "%s (inode %" PRIu64 ") is gone; its checkpoint "
                         "is forgotten", v[i].path, v[i].ino);
        }
        free(v[i].path);
    }
    free(v);
}
