/*
 * One followed file: adopting it (resume from its checkpoint or decide where
 * to start), reading it in large blocks, noticing truncation and in-place
 * rewrites, closing idle files to stay under max_open_files.
 *
 * More files than max_open_files take turns: a matched file is tracked at
 * once but may wait, unopened, for a descriptor; tail_make_room() closes a
 * file idle at its end or, failing that, one that has had a read since it
 * was opened. A closed file keeps its offset and partial line in memory and
 * is found again by path and inode (tail_reopen()).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tail.h"
#include "grow.h"

#define READ_CHUNK TAIL_READ_CHUNK
#define TURN_BUDGET (8 * 1024 * 1024) /* bytes per file per turn: fairness */

tfile *tail_find(tail_src *s, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < s->n_files; i++)
        if (s->files[i]->dev == dev && s->files[i]->ino == ino)
            return s->files[i];
    return NULL;
}

/* Do the n bytes at off hash to h? (n == 0 vouches for nothing: yes.) */
static int bytes_match(int fd, uint64_t off, uint32_t n, uint64_t h)
{
    unsigned char buf[TAIL_FP_MAX];
    if (n == 0)
        return 1;
    if (n > sizeof buf || pread(fd, buf, n, (off_t)off) != (ssize_t)n)
        return 0;
    return tail_hash(buf, n) == h;
}

/* Fingerprint: hash of the first min(size, TAIL_FP_MAX) bytes. */
static int read_fp(int fd, uint64_t size, uint32_t *len, uint64_t *hash)
{
    unsigned char buf[TAIL_FP_MAX];
    size_t want = size < TAIL_FP_MAX ? (size_t)size : TAIL_FP_MAX;
    ssize_t n = want ? pread(fd, buf, want, 0) : 0;
    if (n < 0)
        return -1;
    *len = (uint32_t)n;
    *hash = tail_hash(buf, (size_t)n);
    return 0;
}

/* Remember the bytes before f->read_off, to detect a rewrite later. */
static void load_last(tfile *f)
{
    size_t want = f->read_off < TAIL_HASH_MAX ? (size_t)f->read_off : TAIL_HASH_MAX;
    ssize_t n = want ? pread(f->fd, f->last, want, (off_t)(f->read_off - want)) : 0;
    f->last_len = n == (ssize_t)want ? (uint32_t)want : 0;
}

static void keep_last(tfile *f, const char *buf, size_t n)
{
    if (n >= TAIL_HASH_MAX) {
        memcpy(f->last, buf + n - TAIL_HASH_MAX, TAIL_HASH_MAX);
        f->last_len = TAIL_HASH_MAX;
        return;
    }
    size_t keep = f->last_len + n > TAIL_HASH_MAX ? TAIL_HASH_MAX - n : f->last_len;
    memmove(f->last, f->last + f->last_len - keep, keep);
    memcpy(f->last + keep, buf, n);
    f->last_len = (uint32_t)(keep + n);
}

/*
 * Where to start a file: its checkpoint when the file is provably the same,
 * else 0 (with *why saying why the checkpoint was not trusted), else the
 * end for a file first met at the very first start with read_from: end.
 */
static uint64_t start_offset(tail_src *s, int fd, uint64_t size, uint64_t end, long slot,
                             int first, const char **why)
{
    *why = NULL;
    if (slot < 0)
        return first && !s->store_existed && !s->from_head ? end : 0;
    pthread_mutex_lock(&s->mu);
    tail_ckpt k = s->ckpts.v[slot];
    pthread_mutex_unlock(&s->mu);
    if (size < k.offset)
        *why = "smaller than its checkpoint (truncated)";
    else if (!bytes_match(fd, 0, k.fp_len, k.fp_hash))
        *why = "first bytes differ from its checkpoint (inode reused or file replaced)";
    else if (!bytes_match(fd, k.offset - k.tail_len, k.tail_len, k.tail_hash))
        *why = "bytes before its checkpoint differ (rewritten in place)";
    return *why ? 0 : k.offset;
}

static int add_file(tail_src *s, tfile *f)
{
    tfile **nv = sl_grow(s->files, s->n_files + 1, &s->cap_files, sizeof *nv, 16);
    if (!nv)
        return -1;
    s->files = nv;
    s->files[s->n_files++] = f;
    return 0;
}

/* Bind f to its checkpoint slot (found or new) and record where it starts. */
static int bind_slot(tail_src *s, tfile *f, long slot, int restarted)
{
    pthread_mutex_lock(&s->mu);
    if (slot < 0)
        slot = tail_ckpts_add(&s->ckpts, f->dev, f->ino, f->path);
    else if (tail_ckpts_set_path(&s->ckpts, (size_t)slot, f->path) != 0)
        slot = -1;
    if (slot >= 0) {
        tail_ckpt *k = &s->ckpts.v[slot];
        k->orphan = 0;
        if (restarted)
            k->gen++;
        f->gen = k->gen;
        k->offset = f->read_off;
        k->tail_len = f->last_len;
        k->tail_hash = tail_hash(f->last, f->last_len);
        k->fp_len = f->fp_len;
        k->fp_hash = f->fp_hash;
        f->slot = (uint32_t)slot;
        s->dirty = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return slot >= 0 ? 0 : -1;
}

/*
 * First open of f (fd just set, fs its fstat): where to start, its
 * checkpoint slot. 0, or -1 out of memory (f is closed again).
 */
static int start(tail_src *s, tfile *f, const struct stat *fs)
{
    pthread_mutex_lock(&s->mu);
    long slot = tail_ckpts_find(&s->ckpts, f->dev, f->ino);
    pthread_mutex_unlock(&s->mu);
    const char *why;
    uint64_t size = (uint64_t)fs->st_size;
    /* read_from: end means the end when matched: lines written while the
     * file waited for a descriptor are read. */
    uint64_t end = f->read_off < size ? f->read_off : size;
    f->read_off = start_offset(s, f->fd, size, end, slot, f->first, &why);
    if (why)
        s->host->log(s->ctx, SL_LOG_WARN, "%s: %s; reading it from the start", f->path, why);
    if (read_fp(f->fd, size, &f->fp_len, &f->fp_hash) != 0)
        f->fp_len = 0, f->fp_hash = tail_hash(NULL, 0);
    load_last(f);
    tail_lines_init(&f->lines, s->max_line, s->skip_long, f->read_off);
    if (bind_slot(s, f, slot, why != NULL) != 0) {
        tail_close(s, f);
        return -1;
    }
    f->started = 1;
    tail_unnote(s, f->path);
    s->host->log(s->ctx, SL_LOG_INFO, "following %s from offset %" PRIu64 "%s%s", f->path,
                 f->read_off, f->rotated ? " (rotated away: until drained)" : "",
                 f->read_off && slot < 0 ? " (read_from: end; the lines before it are skipped "
                                           "for good: its checkpoint starts there)" : "");
    return 0;
}

/* Forget the last file of s->files, which was never started. */
static void unadd_last(tail_src *s)
{
    tfile *f = s->files[--s->n_files];
    if (f->fd >= 0)
        tail_close(s, f);
    free(f->path);
    free(f);
}

/*
 * Start following the file at path (st from stat()): opened now when a
 * descriptor is free, else when its turn comes. 1 followed, 0 not (vanished
 * or unreadable), -1 out of memory.
 */
int tail_adopt(tail_src *s, const char *path, const struct stat *st, int first, int rotated,
               int64_t now)
{
    tfile *f = calloc(1, sizeof *f);
    char *p = strdup(path);
    if (!f || !p || add_file(s, f) != 0) {
        free(f);
        free(p);
        return -1;
    }
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
    f->path = p;
    f->fd = -1;
    f->first = first;
    f->rotated = rotated;
    f->idle_since_ms = now;
    f->read_off = (uint64_t)st->st_size;
    int r = tail_reopen(s, f, now);
    if (r == -1 || r == -2)
        unadd_last(s);
    return r == -1 ? -1 : r == -2 ? 0 : 1;
}

/* Grow the fingerprint of a file that was shorter than TAIL_FP_MAX. */
static int grow_fp(tail_src *s, tfile *f, uint64_t size)
{
    uint32_t len;
    uint64_t hash;
    if (f->fp_len >= TAIL_FP_MAX || size <= f->fp_len)
        return 0;
    if (!bytes_match(f->fd, 0, f->fp_len, f->fp_hash))
        return 1;
    if (read_fp(f->fd, size, &len, &hash) != 0)
        return 0;
    f->fp_len = len;
    f->fp_hash = hash;
    pthread_mutex_lock(&s->mu);
    s->ckpts.v[f->slot].fp_len = len;
    s->ckpts.v[f->slot].fp_hash = hash;
    s->dirty = 1;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* At the end of the data: was the file truncated or rewritten? */
static int check_at_eof(tail_src *s, tfile *f)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return 0;
    const char *why = NULL;
    if ((uint64_t)st.st_size < f->read_off)
        why = "truncated (size below the read offset)";
    else if (grow_fp(s, f, (uint64_t)st.st_size))
        why = "first bytes changed (rewritten)";
    if (!why)
        return 0;
    int r = tail_flush(s);
    tail_restart_at_zero(s, f, why);
    return r;
}

/* New data after a pause: do the bytes we last read still sit before it? */
static int rewritten(tfile *f)
{
    unsigned char buf[TAIL_HASH_MAX];
    if (f->last_len == 0)
        return 0;
    ssize_t n = pread(f->fd, buf, f->last_len, (off_t)(f->read_off - f->last_len));
    return n != (ssize_t)f->last_len || memcmp(buf, f->last, f->last_len) != 0;
}

/*
 * Read what f has, up to a fair share. 0 fine, 1 stopping, -1 fatal,
 * -2 the file failed (drop it). *progress is set when bytes were read.
 */
int tail_read(tail_src *s, tfile *f, int64_t now, int *progress)
{
    if (f->fd < 0)
        return 0;
    if (tail_pack_prefix(&s->pack, sl_now_ns(), s->name, f->path, f->ino) != 0)
        return -1;
    s->bfile = f;
    size_t budget = TURN_BUDGET;
    int r = 0;
    while (r == 0 && budget > 0) {
        ssize_t n = pread(f->fd, s->rbuf, READ_CHUNK, (off_t)f->read_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s->host->log(s->ctx, SL_LOG_ERROR, "%s: read: %s; no longer followed", f->path,
                         strerror(errno));
            r = -2;
            break;
        }
        if (n == 0) {
            r = check_at_eof(s, f);
            f->at_eof = 1;
            break;
        }
        if (f->at_eof && rewritten(f)) {
            if ((r = tail_flush(s)) != 0)
                break;
            tail_restart_at_zero(s, f, "bytes before the read offset changed (rewritten)");
            continue;
        }
        f->at_eof = 0;
        f->idle_since_ms = now;
        *progress = 1;
        r = tail_lines_feed(&f->lines, s->rbuf, (size_t)n, tail_on_line, s);
        f->read_off += (uint64_t)n;
        s->bytes_read += (uint64_t)n;
        keep_last(f, s->rbuf, (size_t)n);
        budget -= (size_t)n < budget ? (size_t)n : budget;
    }
    if (r == 0)
        r = tail_flush(s);
    s->bfile = NULL;
    return r;
}

void tail_close(tail_src *s, tfile *f)
{
    close(f->fd);
    f->fd = -1;
    s->n_open--;
}

void tail_drop(tail_src *s, size_t i)
{
    tfile *f = s->files[i];
    if (f->fd >= 0)
        tail_close(s, f);
    if (f->started) {
        pthread_mutex_lock(&s->mu);
        tail_ckpt *k = &s->ckpts.v[f->slot];
        k->orphan = 1;
        if (k->inflight == 0)
            tail_ckpts_remove(&s->ckpts, f->slot);
        s->dirty = 1;
        pthread_mutex_unlock(&s->mu);
    }
    if (s->first_waiting == f)
        s->first_waiting = NULL;
    tail_lines_free(&f->lines);
    free(f->path);
    free(f);
    s->files[i] = s->files[--s->n_files];
}

/* May f give up its descriptor for another file? */
static int closable(tail_src *s, tfile *f)
{
    /* A rotated-away file could vanish while closed, with its last lines. */
    return f->fd >= 0 && !f->rotated && f != s->bfile;
}

/*
 * Close a file for another one: the one idle the longest at its end, else
 * (files are waiting while the open ones all have data) the one opened the
 * longest ago among those read since they were opened, so every file gets
 * its turn. In --once mode a file with a held partial line is finished
 * before it is closed at its end (turn() does that), so it is not taken
 * here at its end. 0, or -1 when none may be closed.
 */
int tail_make_room(tail_src *s)
{
    tfile *best = NULL;
    for (size_t i = 0; i < s->n_files; i++) {
        tfile *f = s->files[i];
        if (closable(s, f) && f->at_eof && !(s->once && tail_lines_partial(&f->lines)) &&
            (!best || f->idle_since_ms < best->idle_since_ms))
            best = f;
    }
    for (size_t i = 0; !best && i < s->n_files; i++) {
        tfile *f = s->files[i];
        if (closable(s, f) && f->opened_turn < s->turn_no)
            best = f;
    }
    for (size_t i = 0; best && !best->at_eof && i < s->n_files; i++) {
        tfile *f = s->files[i]; /* the oldest of those */
        if (closable(s, f) && f->opened_turn < best->opened_turn)
            best = f;
    }
    if (!best)
        return -1;
    tail_close(s, best);
    return 0;
}

static int set_path(tfile *f, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    free(f->path);
    f->path = p;
    return 0;
}

/* open() ran out of descriptors: hold no more than are open now. */
static void fewer_fds(tail_src *s, const char *path)
{
    tail_note(s, path, "cannot open: %s; waiting for a descriptor", strerror(errno));
    if (s->n_open > 0 && s->n_open < s->max_open) {
        s->max_open = s->n_open;
        s->host->log(s->ctx, SL_LOG_WARN, "max_open_files lowered to %zu: the process has "
                     "no descriptor left (see ulimit -n)", s->max_open);
    }
}

/*
 * Open a closed file again when it has news, or a waiting file for the
 * first time, found by inode under its path or near it (rotated). Return
 * values in tail.h.
 */
int tail_reopen(tail_src *s, tfile *f, int64_t now)
{
    struct stat st;
    char found[4096];
    const char *path = f->path;
    int moved = stat(f->path, &st) != 0 || (uint64_t)st.st_dev != f->dev ||
                (uint64_t)st.st_ino != f->ino;
    if (moved) {
        if (tail_find_in_dir(f->path, f->dev, f->ino, found, sizeof found) != 0) {
            if (f->started)
                s->host->log(s->ctx, SL_LOG_WARN, "%s: deleted while closed (max_open_files); "
                             "lines after offset %" PRIu64 " were not read", f->path,
                             f->read_off);
            else
                s->host->log(s->ctx, SL_LOG_WARN, "%s: deleted before a descriptor was free "
                             "for it (max_open_files %zu); not read", f->path, s->max_open);
            return -2;
        }
        path = found;
        if (stat(path, &st) != 0)
            return 0;
    } else if (f->started && (uint64_t)st.st_size == f->read_off) {
        return 0; /* no news */
    }
    if (s->n_open >= s->max_open && tail_make_room(s) != 0)
        return 2;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            fewer_fds(s, path);
            return 2;
        }
        if (f->started)
            return 0;
        if (errno != ENOENT) /* the next scan tries again */
            tail_note(s, path, "cannot open: %s", strerror(errno));
        return -2;
    }
    struct stat fs;
    if (fstat(fd, &fs) != 0 || (uint64_t)fs.st_ino != f->ino ||
        (uint64_t)fs.st_dev != f->dev) {
        close(fd); /* replaced between stat and open: look again next turn */
        return 0;
    }
    if (moved && set_path(f, path) != 0) {
        close(fd);
        return -1;
    }
    f->fd = fd;
    f->opened_turn = s->turn_no;
    s->n_open++;
    if (moved) {
        f->rotated = 1;
        f->idle_since_ms = now;
    }
    if (!f->started)
        return start(s, f, &fs);
    f->at_eof = 1; /* so the first read checks for a rewrite */
    return 0;
}
