/*
 * Host services every plugin uses instead of writing its own: safe file
 * writes (never through a symlink, atomic replace, durable append) and the
 * one dead-letter format.
 */
#include "services.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sluice/json.h"

/* A dead-letter file turns over to <file>.1 at this size, so a stream of
 * rejected events cannot fill the disk. */
#define DL_ROTATE_BYTES (64LL * 1024 * 1024)

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    if (err && errlen)
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

int sl_mkdirs(const char *path, mode_t mode)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    int rc = 0;
    for (char *q = p + 1; *q && rc == 0; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            rc = -1;
        *q = '/';
    }
    if (rc == 0 && mkdir(p, mode) != 0 && errno != EEXIST)
        rc = -1;
    int saved = errno;
    free(p);
    errno = saved;
    return rc;
}

/* Create the directory that will hold `path`. */
static int mkdir_parent(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    int rc = sl_mkdirs(dirname(p), 0700);
    int saved = errno;
    free(p);
    errno = saved;
    return rc;
}

int sl_file_open(const char *path, unsigned flags, unsigned mode, char *err, size_t errlen)
{
    if ((flags & SL_FILE_MKDIRS) && mkdir_parent(path) != 0)
        return fail(err, errlen, "cannot create the directory of", path);
    int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
    oflags |= (flags & SL_FILE_APPEND) ? O_APPEND : O_TRUNC;
    int fd = open(path, oflags, (mode_t)mode);
    if (fd < 0)
        return fail(err, errlen, errno == ELOOP ? "refusing to follow a symlink at" : "cannot open",
                    path);
    return fd;
}

int sl_file_write(int fd, const void *data, size_t len, int sync, char *err, size_t errlen)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return fail(err, errlen, "cannot write to", "file");
        }
        p += n;
        len -= (size_t)n;
    }
    if (sync && fdatasync(fd) != 0)
        return fail(err, errlen, "cannot sync", "file");
    return 0;
}

/* fsync the directory holding path, so a rename in it survives a crash. */
static int sync_parent(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    int fd = open(dirname(p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(p);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int sl_file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        errno = ENOMEM;
        return fail(err, errlen, "cannot replace", path);
    }
    /* A leftover temporary (a crash, or something planted) is removed, not
     * followed: O_NOFOLLOW refuses a symlink, O_EXCL anything else. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = fd < 0 ? fail(err, errlen, "cannot create", tmp) : 0;
    if (rc == 0 && sl_file_write(fd, data, len, 0, err, errlen) != 0)
        rc = -1;
    if (rc == 0 && fsync(fd) != 0)
        rc = fail(err, errlen, "cannot sync", tmp);
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = fail(err, errlen, "cannot close", tmp);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = fail(err, errlen, "cannot rename into", path);
    if (rc == 0 && sync_parent(path) != 0)
        rc = fail(err, errlen, "cannot sync the directory of", path);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Dead letters                                                        */
/* ------------------------------------------------------------------ */

void sl_deadletter_init(sl_deadletter *d)
{
    *d = (sl_deadletter){.fd = -1, .rotate_bytes = DL_ROTATE_BYTES};
    pthread_mutex_init(&d->mu, NULL);
}

void sl_deadletter_destroy(sl_deadletter *d)
{
    if (d->fd >= 0)
        close(d->fd);
    free(d->path);
    pthread_mutex_destroy(&d->mu);
}

/* One line: {"time","component","reason","event":{"time","meta","body"}}. */
static int dl_line(sl_buf *b, const char *component, const sl_event *ev, const char *reason)
{
    int rc = sl_buf_puts(b, "{\"time\":\"");
    rc |= sl_json_rfc3339(b, sl_now_ns());
    rc |= sl_buf_puts(b, "\",\"component\":");
    rc |= sl_json_str(b, component, strlen(component));
    rc |= sl_buf_puts(b, ",\"reason\":");
    rc |= sl_json_str(b, reason ? reason : "", reason ? strlen(reason) : 0);
    rc |= sl_buf_puts(b, ",\"event\":{\"time\":\"");
    rc |= sl_json_rfc3339(b, ev->time_ns);
    rc |= sl_buf_puts(b, "\",\"meta\":");
    /* A value sl_json_value cannot encode (too deep) is written as null, so
     * the line stays valid JSON and the reason is kept. */
    rc |= sl_json_encodable(&ev->meta) ? sl_json_value(b, &ev->meta) : sl_buf_puts(b, "null");
    rc |= sl_buf_puts(b, ",\"body\":");
    rc |= sl_json_encodable(&ev->body) ? sl_json_value(b, &ev->body) : sl_buf_puts(b, "null");
    rc |= sl_buf_puts(b, "}}\n");
    return rc ? -1 : 0;
}

/* Open (or turn over) the file; under d->mu. */
static int dl_ready(sl_deadletter *d, const char *component, size_t add)
{
    char err[512];
    if (d->fd >= 0 && (d->size == 0 || d->size + (int64_t)add <= d->rotate_bytes))
        return 0;
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
        char *old = NULL;
        if (asprintf(&old, "%s.1", d->path) >= 0 && rename(d->path, old) != 0)
            sl_log(SL_LOG_WARN, component, "cannot turn over %s: %s", d->path, strerror(errno));
        free(old);
    }
    d->fd = sl_file_open(d->path, SL_FILE_APPEND | SL_FILE_MKDIRS, 0600, err, sizeof err);
    if (d->fd < 0) {
        sl_log(SL_LOG_ERROR, component, "dead letters: %s", err);
        return -1;
    }
    struct stat st;
    d->size = fstat(d->fd, &st) == 0 ? st.st_size : 0;
    if (!d->announced) {
        sl_log(SL_LOG_INFO, component, "dead letters go to %s", d->path);
        d->announced = 1;
    }
    return 0;
}

int sl_deadletter_write(sl_deadletter *d, const char *component, const sl_event *ev,
                        const char *reason)
{
    sl_buf b = {0};
    if (!ev || dl_line(&b, component, ev, reason) != 0) {
        sl_buf_free(&b);
        sl_log(SL_LOG_ERROR, component, "dead letters: %s",
               ev ? "out of memory" : "no event given");
        return -1;
    }
    char err[512];
    pthread_mutex_lock(&d->mu);
    int rc = d->path ? dl_ready(d, component, b.len) : -1;
    if (rc == 0 && sl_file_write(d->fd, b.data, b.len, 0, err, sizeof err) != 0) {
        sl_log(SL_LOG_ERROR, component, "dead letters: %s (%s)", err, d->path);
        rc = -1;
    }
    if (rc == 0)
        d->size += (int64_t)b.len;
    pthread_mutex_unlock(&d->mu);
    sl_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The state directory                                                 */
/* ------------------------------------------------------------------ */

/* Refuse a state directory another user could write into: its files decide
 * what is read again and what is sent (checkpoints, spools). */
static int dir_trusted(int dfd, const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(dfd, &st) != 0)
        return fail(err, errlen, "cannot stat", dir);
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen, "state_dir %s belongs to uid %u, not to this process (uid %u): "
                 "refusing to trust files another user controls", dir, (unsigned)st.st_uid,
                 (unsigned)geteuid());
        return -1;
    }
    if (st.st_mode & S_IWOTH) {
        snprintf(err, errlen, "state_dir %s is writable by every user (mode %03o): chmod o-w it",
                 dir, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

int sl_state_lock(const char *dir, char *err, size_t errlen)
{
    if (sl_mkdirs(dir, 0700) != 0)
        return fail(err, errlen, "cannot create state_dir", dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(err, errlen, "cannot open state_dir", dir);
    if (dir_trusted(dfd, dir, err, errlen) != 0) {
        close(dfd);
        return -1;
    }
    int fd = openat(dfd, "sluice.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    close(dfd);
    if (fd < 0)
        return fail(err, errlen, "cannot open the lock file in", dir);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen, "state_dir %s is in use by another sluice (pid %s): one process "
                 "per state directory, or two would read and send the same data",
                 dir, *pid ? pid : "unknown");
        close(fd);
        return -1;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
        fail(err, errlen, "cannot write the lock file in", dir);
        close(fd);
        return -1;
    }
    return fd;
}
