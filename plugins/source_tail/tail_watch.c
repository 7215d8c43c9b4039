/*
 * inotify, where it helps: the directories of followed files (and the
 * literal directory of each glob) are watched, so a line written or a file
 * created wakes the source at once instead of after poll_interval, and a
 * new matching name is scanned for at once instead of after
 * refresh_interval. Polling stays exactly as without inotify: it is the
 * fallback when inotify is unavailable or out of watches, and it catches
 * what inotify does not see (files on network filesystems, writes to a
 * rotated-away file whose new name no glob matches).
 *
 * Only events on names the globs match wake the source, so a sink writing
 * into a watched directory does not spin it.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "tail.h"
#include "grow.h"

#define WATCH_MASK                                                                          \
    (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |          \
     IN_CLOSE_WRITE | IN_ONLYDIR)

void tail_watch_init(tail_src *s)
{
    s->ino_fd = -1;
    if (!s->use_inotify || s->once)
        return; /* --once reads what is there; nothing to wait for */
    s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->ino_fd < 0)
        s->host->log(s->ctx, SL_LOG_WARN, "inotify unavailable (%s); polling every %" PRId64
                     " ms", strerror(errno), s->poll_ms);
}

static void forget_watches(tail_src *s)
{
    for (size_t i = 0; i < s->n_watch; i++)
        free(s->watch[i].dir);
    free(s->watch);
    s->watch = NULL;
    s->n_watch = s->cap_watch = 0;
}

void tail_watch_free(tail_src *s)
{
    if (s->ino_fd >= 0)
        close(s->ino_fd);
    s->ino_fd = -1;
    forget_watches(s);
}

/* Give up on inotify (out of memory or watches): polling carries on alone. */
static void fall_back(tail_src *s, const char *why)
{
    s->host->log(s->ctx, SL_LOG_WARN, "inotify: %s; polling every %" PRId64 " ms instead", why,
                 s->poll_ms);
    tail_watch_free(s);
}

static int watched(tail_src *s, const char *dir)
{
    for (size_t i = 0; i < s->n_watch; i++)
        if (strcmp(s->watch[i].dir, dir) == 0)
            return 1;
    return 0;
}

/* Watch dir (the directory part of path) unless it already is. */
static void watch_dir_of(tail_src *s, const char *path)
{
    char copy[4096];
    if ((size_t)snprintf(copy, sizeof copy, "%s", path) >= sizeof copy)
        return; /* polling still sees it */
    const char *dir = dirname(copy);
    if (s->ino_fd < 0 || watched(s, dir))
        return;
    int wd = inotify_add_watch(s->ino_fd, dir, WATCH_MASK);
    if (wd < 0) {
        if (errno == ENOSPC || errno == ENOMEM)
            fall_back(s, errno == ENOSPC ? "out of watches (fs.inotify.max_user_watches)"
                                         : "out of memory");
        return; /* ENOENT and the like: the next scan tries again */
    }
    tail_watch_dir *nv = sl_grow(s->watch, s->n_watch + 1, &s->cap_watch, sizeof *nv, 8);
    if (!nv) {
        fall_back(s, "out of memory");
        return;
    }
    s->watch = nv;
    char *d = strdup(dir);
    if (!d) {
        fall_back(s, "out of memory");
        return;
    }
    s->watch[s->n_watch++] = (tail_watch_dir){wd, d};
}

static int has_magic(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

void tail_watch_update(tail_src *s)
{
    size_t before = s->n_watch;
    size_t n = s->host->node_len(s->paths);
    for (size_t i = 0; s->ino_fd >= 0 && i < n; i++) {
        const char *pat = s->host->node_str(s->host->node_at(s->paths, i));
        char copy[4096];
        if (!pat || (size_t)snprintf(copy, sizeof copy, "%s", pat) >= sizeof copy)
            continue;
        const char *dir = dirname(copy);
        if (!has_magic(dir)) /* new files there must wake us even before the first */
            watch_dir_of(s, pat);
    }
    for (size_t i = 0; s->ino_fd >= 0 && i < s->n_files; i++)
        watch_dir_of(s, s->files[i]->path);
    if (s->ino_fd >= 0 && s->n_watch > before)
        s->host->log(s->ctx, SL_LOG_DEBUG, "inotify: watching %zu directories", s->n_watch);
}

static const char *wd_dir(tail_src *s, int wd, size_t *idx)
{
    for (size_t i = 0; i < s->n_watch; i++)
        if (s->watch[i].wd == wd) {
            *idx = i;
            return s->watch[i].dir;
        }
    return NULL;
}

/* Does dir/name match a `paths` glob? */
static int matches(tail_src *s, const char *dir, const char *name)
{
    char full[4096];
    if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, name) >= sizeof full)
        return 0;
    size_t n = s->host->node_len(s->paths);
    for (size_t i = 0; i < n; i++) {
        const char *pat = s->host->node_str(s->host->node_at(s->paths, i));
        if (pat && fnmatch(pat, full, FNM_PATHNAME) == 0)
            return 1;
    }
    return 0;
}

/* Read every queued event. 1 when one concerns a followed name. */
static int drain(tail_src *s)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int wake = 0;
    for (;;) {
        ssize_t len = read(s->ino_fd, buf, sizeof buf);
        if (len <= 0)
            return wake; /* EAGAIN: drained */
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            size_t idx;
            const char *dir = wd_dir(s, ev->wd, &idx);
            if (ev->mask & IN_Q_OVERFLOW) {
                s->scan_now = wake = 1; /* events were lost: look at everything */
            } else if (ev->mask & IN_IGNORED) {
                if (dir) { /* directory gone: watch it again when it is back */
                    free(s->watch[idx].dir);
                    s->watch[idx] = s->watch[--s->n_watch];
                }
            } else if (dir && ev->len && matches(s, dir, ev->name)) {
                wake = 1;
                if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB))
                    s->scan_now = 1; /* a name came, went or became readable */
            }
        }
    }
}

int tail_watch_wait(tail_src *s, int64_t ms)
{
    if (s->ino_fd < 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    struct pollfd pfd = {s->ino_fd, POLLIN, 0};
    int r = poll(&pfd, 1, (int)ms);
    return r > 0 ? drain(s) : 0;
}
