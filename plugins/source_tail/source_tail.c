/*
 * source tail: follow files matching globs, through rotation, one event per
 * line: body {message}, meta {source, path, inode, offset}. `offset` is the
 * byte offset of the line's first byte in its file.
 *
 * One thread for every file: each turn reads up to 8 MiB per file with
 * pread() in 256 KiB blocks, splits with memchr and packs events straight
 * into the batch buffer. Where reading resumes is decided by checkpoints
 * (see lib/ckpt.h) that only move when every sink acknowledged the lines.
 *
 * Lines that are not valid UTF-8 become msgpack bin (invalid_utf8: bin, the
 * default) so consumers that expect text are never handed broken strings;
 * invalid_utf8: keep leaves them as str, byte for byte. Files are polled
 * (poll_interval for new data, refresh_interval for new names); inotify on
 * their directories cuts both waits short (tail_watch.c).
 * With --once on a terminal, a progress line is kept up to date on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tail.h"

/* Descriptors max_open_files leaves to sockets, other plugins, checkpoint
 * writes, inotify; and the fewest files held whatever the limit. */
#define NOFILE_RESERVE 64
#define MIN_OPEN 4

static const sl_option options[] = {
    {"paths", SL_OPT_LIST, NULL, 1, "globs of files to follow; new matches are picked up", NULL,
     NULL, NULL, SL_OPT_F_NONEMPTY},
    {"exclude", SL_OPT_LIST, NULL, 0,
     "globs of files not to follow (without '/', matched against the file name)", NULL,
     NULL, NULL, 0},
    {"read_from", SL_OPT_STRING, "end", 0,
     "where to start a file met at the very first start (later files, and every file "
     "with --once: head)", "end|head", NULL, NULL, 0},
    {"refresh_interval", SL_OPT_DURATION, "1s", 0, "how often the globs are expanded again",
     NULL, "1ms", "24h", 0},
    {"poll_interval", SL_OPT_DURATION, "100ms", 0, "how often idle files are checked", NULL,
     "1ms", "24h", 0},
    {"rotate_wait", SL_OPT_DURATION, "5s", 0,
     "a renamed or deleted file is read until idle this long", NULL, "0ms", "24h", 0},
    {"checkpoint_interval", SL_OPT_DURATION, "1s", 0,
     "how often acknowledged offsets are saved (also at stop)", NULL, "1ms", "24h", 0},
    {"max_line_bytes", SL_OPT_SIZE, "1MiB", 0, "longest line kept", NULL, "1", "1GiB", 0},
    {"long_lines", SL_OPT_STRING, "truncate", 0, "what happens to longer lines",
     "truncate|skip", NULL, NULL, 0},
    {"invalid_utf8", SL_OPT_STRING, "bin", 0,
     "a line that is not UTF-8: msgpack bin, or str kept as is", "bin|keep", NULL, NULL, 0},
    {"batch_max_events", SL_OPT_INT, "4096", 0, "most lines per batch", NULL, "1", "1048576", 0},
    {"batch_max_bytes", SL_OPT_SIZE, "1MiB", 0, "a batch is sent once this big", NULL,
     "1KiB", "1GiB", 0},
    {"max_open_files", SL_OPT_INT, "1024", 0,
     "file descriptors held at most, lowered to fit ulimit -n (at most half of it, and 64 "
     "left for the rest of the process); more matching files take turns", NULL,
     "1", "1048576", 0},
    {"inotify", SL_OPT_BOOL, "true", 0,
     "wake on changes in the watched directories instead of waiting for the next poll "
     "(polling goes on as the fallback)", NULL, NULL, NULL, 0},
    {"quiet", SL_OPT_BOOL, "false", 0,
     "no progress line (bytes, lines/s, ETA) on a terminal with --once", NULL, NULL, NULL, 0},
    {0},
};

/* max_open_files as the process can honour it: min(configured, nofile - 64,
 * nofile / 2), never below MIN_OPEN (nor above what was configured). */
static size_t fit_nofile(tail_src *s, size_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return want;
    uint64_t nofile = (uint64_t)rl.rlim_cur;
    uint64_t cap = nofile > NOFILE_RESERVE ? nofile - NOFILE_RESERVE : 0;
    if (cap > nofile / 2)
        cap = nofile / 2;
    if (cap < MIN_OPEN)
        cap = MIN_OPEN;
    if (want <= cap)
        return want;
    s->host->log(s->ctx, SL_LOG_INFO, "max_open_files %zu lowered to %" PRIu64 " to fit the "
                 "limit of %" PRIu64 " open files (ulimit -n); files beyond it take turns",
                 want, cap, nofile);
    return (size_t)cap;
}

/* The ranges are the option table's: the core checked them before init. */
static int read_options(tail_src *s, char *err, size_t errlen)
{
    const sl_host *h = s->host;
    sl_ctx *c = s->ctx;
    s->paths = h->opt_node(c, "paths");
    s->excludes = h->opt_node(c, "exclude");
    const char *rf = h->opt_str(c, "read_from"), *ll = h->opt_str(c, "long_lines");
    const char *u8 = h->opt_str(c, "invalid_utf8");
    s->once = h->once(c);
    /* --once is a backfill: starting at the end would read nothing and save
     * a checkpoint past lines never read. */
    s->from_head = s->once || (rf && strcmp(rf, "head") == 0);
    s->skip_long = ll && strcmp(ll, "skip") == 0;
    if (tail_pack_init(&s->pack, !(u8 && strcmp(u8, "keep") == 0)) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->max_line = (size_t)h->opt_int(c, "max_line_bytes");
    s->batch_max = (uint32_t)h->opt_int(c, "batch_max_events");
    s->batch_bytes = (size_t)h->opt_int(c, "batch_max_bytes");
    s->max_open = fit_nofile(s, (size_t)h->opt_int(c, "max_open_files"));
    s->refresh_ms = h->opt_int(c, "refresh_interval");
    s->poll_ms = h->opt_int(c, "poll_interval");
    s->rotate_wait_ms = h->opt_int(c, "rotate_wait");
    s->ckpt_ms = h->opt_int(c, "checkpoint_interval");
    s->quiet = h->opt_bool(c, "quiet");
    s->use_inotify = h->opt_bool(c, "inotify");
    return 0;
}

static void tail_free(tail_src *s)
{
    tail_saver_stop(s); /* it reads s: gone before anything is freed */
    for (size_t i = 0; i < s->n_files; i++) {
        tfile *f = s->files[i];
        if (f->fd >= 0)
            close(f->fd);
        tail_lines_free(&f->lines);
        free(f->path);
        free(f);
    }
    tail_watch_free(s);
    for (size_t i = 0; i < s->n_noted; i++)
        free(s->noted[i]);
    free(s->noted);
    free(s->files);
    free(s->rbuf);
    free(s->ckpt_path);
    sl_bb_free(s->bb);
    tail_pack_free(&s->pack);
    tail_ckpts_free(&s->ckpts);
    tail_pending_free(&s->pending);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int tail_init(sl_ctx *ctx, const sl_host *host, void **state, char *err, size_t errlen)
{
    tail_src *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    s->ctx = ctx;
    s->host = host;
    s->name = host->name(ctx);
    s->next_seq = 1;
    s->ino_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    tail_ckpts_init(&s->ckpts);
    tail_pending_init(&s->pending);
    s->m_truncated = host->metric(ctx, "lines_truncated", SL_METRIC_COUNTER);
    s->m_skipped = host->metric(ctx, "lines_skipped", SL_METRIC_COUNTER);
    s->m_restarted = host->metric(ctx, "files_restarted", SL_METRIC_COUNTER);
    if (!(s->bb = sl_bb_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (read_options(s, err, errlen) != 0)
        goto fail;
    if (!(s->state_dir = host->state_dir(ctx))) {
        snprintf(err, errlen, "no state directory for checkpoints (see service.state_dir)");
        goto fail;
    }
    if (asprintf(&s->ckpt_path, "%s/%s", s->state_dir, TAIL_CKPT_FILE) < 0) {
        s->ckpt_path = NULL;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (tail_ckpts_load(&s->ckpts, s->state_dir, TAIL_CKPT_FILE, &s->store_existed, err,
                        errlen) != 0)
        goto fail;
    if (!(s->rbuf = malloc(TAIL_READ_CHUNK))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    *state = s;
    return SL_OK;
fail:
    tail_free(s);
    return SL_ERR;
}

/* Emit a last line that has no newline (end of input in --once mode). */
static int finish_partial(tail_src *s, tfile *f)
{
    if (!tail_lines_partial(&f->lines) || f->fd < 0)
        return 0;
    if (tail_pack_prefix(&s->pack, sl_now_ns(), s->name, f->path, f->ino) != 0)
        return -1;
    s->bfile = f;
    int r = tail_lines_finish(&f->lines, tail_on_line, s);
    if (r == 0)
        r = tail_flush(s);
    s->bfile = NULL;
    return r;
}

/* A rotated-away file that is drained and idle long enough is let go. */
static int drained(tail_src *s, tfile *f, int64_t now)
{
    return f->rotated && f->at_eof &&
           (s->once || now - f->idle_since_ms >= s->rotate_wait_ms);
}

/*
 * --once with more files than descriptors: a file read to its end is done
 * (its last line without newline goes out now) and gives its descriptor to
 * the next. It is opened again only if it grows.
 */
static int let_go(tail_src *s, tfile *f)
{
    int r = finish_partial(s, f);
    if (r == 0)
        tail_close(s, f);
    return r;
}

/* One file's share of a turn. 0 fine, 1 stopping, -1 fatal, -2 drop it,
 * 2 it waits for a descriptor. */
static int visit(tail_src *s, tfile *f, int64_t now, int *progress)
{
    int r = f->fd < 0 ? tail_reopen(s, f, now) : 0;
    if (r != 0)
        return r;
    if ((r = tail_read(s, f, now, progress)) != 0)
        return r;
    if (drained(s, f, now)) {
        if ((r = finish_partial(s, f)) != 0)
            return r;
        s->host->log(s->ctx, SL_LOG_INFO, "%s: drained after rotation", f->path);
        return -2;
    }
    if (s->once && f->at_eof && f->fd >= 0 && s->n_files > s->max_open)
        return let_go(s, f);
    return 0;
}

/* Index of f in s->files, or 0. */
static size_t index_of(tail_src *s, const tfile *f)
{
    for (size_t i = 0; f && i < s->n_files; i++)
        if (s->files[i] == f)
            return i;
    return 0;
}

/*
 * One turn over every file, starting with the first one that waited for a
 * descriptor last time, so files beyond max_open_files are not always the
 * last served: each turn, waiting files take the descriptors of files that
 * have had a read (tail_make_room). *waiting counts the files left without
 * one. 0 fine, 1 stopping, -1 fatal.
 */
static int turn(tail_src *s, int64_t now, int *progress, size_t *waiting)
{
    size_t n = s->n_files, first = index_of(s, s->first_waiting);
    int r = 0;
    s->first_waiting = NULL;
    *waiting = 0;
    for (size_t k = 0; k < n && r == 0; k++) {
        tfile *f = s->files[(first + k) % n];
        r = visit(s, f, now, progress);
        if (r == 2) {
            if (!s->first_waiting)
                s->first_waiting = f;
            ++*waiting;
            r = 0;
        } else if (r == -2) {
            if (f->fd >= 0)
                tail_close(s, f);
            f->gone = 1; /* dropped below: indices stay put during the turn */
            r = 0;
        }
    }
    for (size_t i = s->n_files; i-- > 0;)
        if (s->files[i]->gone)
            tail_drop(s, i);
    s->turn_no++; /* files opened from here on count as not read yet */
    return r;
}

static int finish_all(tail_src *s)
{
    for (size_t i = 0; i < s->n_files; i++) {
        int r = finish_partial(s, s->files[i]);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Wait ms, or less when inotify says a followed name changed. */
static void nap(tail_src *s, int64_t ms)
{
    int64_t end = sl_mono_ms() + ms;
    while (!s->host->stopping(s->ctx)) {
        int64_t left = end - sl_mono_ms();
        if (left <= 0 || tail_watch_wait(s, left < 100 ? left : 100))
            return;
    }
}

static int tail_run(void *state)
{
    tail_src *s = state;
    int64_t now = sl_mono_ms();
    if (tail_scan(s, 1, now) != 0)
        return SL_ERR;
    tail_recover_rotated(s, now);
    if (tail_saver_start(s) != 0)
        return SL_ERR;
    tail_watch_init(s);
    tail_watch_update(s);
    tail_progress_start(s, now);
    int64_t next_scan = now + s->refresh_ms;
    int r = 0, done = 0;
    while (!s->host->stopping(s->ctx)) {
        int progress = 0;
        size_t waiting;
        if ((r = turn(s, now, &progress, &waiting)) != 0)
            break;
        if (s->once && !progress && waiting == 0) { /* every file read to its end */
            r = finish_all(s);
            done = r == 0;
            break;
        }
        if (s->once && !progress && s->n_open == 0) {
            s->host->log(s->ctx, SL_LOG_ERROR, "%zu files not read: no file descriptor is "
                         "free (see ulimit -n)", waiting);
            r = -1;
            break;
        }
        now = sl_mono_ms();
        tail_progress_tick(s, now);
        int scanned = !s->once && (now >= next_scan || s->scan_now);
        if (scanned) {
            s->scan_now = 0;
            if ((r = tail_scan(s, 0, now)) != 0)
                break;
            tail_watch_update(s);
            next_scan = now + s->refresh_ms;
        }
        if (!progress && !scanned) { /* a scan may have adopted a file: read it first */
            nap(s, s->poll_ms);
            now = sl_mono_ms();
        }
    }
    tail_progress_end(s, sl_mono_ms(), done);
    tail_saver_stop(s); /* then the last save here is the only writer */
    tail_save(s);
    return r < 0 ? SL_ERR : SL_OK;
}

static void tail_destroy(void *state)
{
    tail_src *s = state;
    if (!s)
        return;
    /* Sinks are destroyed first, so every acknowledgement is in by now. */
    tail_save(s);
    tail_free(s);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_SOURCE, "tail", "1.0.0"),
    .description = "Follows files matching globs through rotation (rename, copytruncate, "
                   "delete and recreate), one event per line: body {message}, meta {source, "
                   "path, inode, offset}. Checkpoints (<state_dir>/<name>/checkpoints) move "
                   "only when every sink acknowledged the lines. With --once, reads every "
                   "file to its end and stops, showing progress on a terminal; a file with "
                   "no checkpoint is then read from its start (a backfill), whatever "
                   "read_from says.",
    .options = options,
    .init = tail_init,
    .run = tail_run,
    .acked = tail_acked,
    .destroy = tail_destroy,
};
