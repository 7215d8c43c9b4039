/*
 * Private state of the tail source, shared by its modules:
 *   source_tail.c  descriptor, options, init/run/destroy
 *   tail_scan.c    glob matching, new files, rotation detection
 *   tail_file.c    opening, identifying and reading one file
 *   tail_emit.c    batches, acknowledgements, checkpoint saving
 *                  (on time by a ticker thread, lib/ticker.h)
 *   tail_progress.c  the --once progress line on a terminal
 *   tail_watch.c   inotify wake-ups (polling stays the fallback)
 */
#ifndef TAIL_H
#define TAIL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ckpt.h"
#include "lines.h"
#include "pack.h"
#include "pending.h"
#include "sl_clock.h"
#include "ticker.h"
#include "sluice/host.h"

#define TAIL_CKPT_FILE "checkpoints"
#define TAIL_READ_CHUNK (256 * 1024)

typedef struct tfile {
    uint64_t dev, ino;
    char *path;            /* where it was last seen */
    int fd;                /* -1 while closed to respect max_open_files */
    int started;           /* opened once: read_off, lines and slot are valid */
    int first;             /* matched by the very first scan (read_from applies) */
    int gone;              /* dropped at the end of this turn */
    uint64_t opened_turn;  /* turn_no when opened: it has had a read once turn_no passed it */
    uint64_t read_off;     /* next byte to read; before started, size when matched */
    tail_lines lines;
    uint32_t slot;         /* its checkpoint slot */
    uint32_t gen;          /* slot generation: bumped when restarting at 0 */
    uint32_t fp_len;       /* fingerprint as far as the file had bytes */
    uint64_t fp_hash;
    unsigned char last[TAIL_HASH_MAX]; /* bytes just before read_off */
    uint32_t last_len;
    int at_eof;            /* the last read hit the end */
    int seen;              /* matched by the current scan */
    int rotated;           /* its path leads elsewhere now: drain, then drop */
    int64_t idle_since_ms; /* when it last gave data or was rotated */
} tfile;

typedef struct tail_watch_dir {
    int wd;
    char *dir;
} tail_watch_dir;

typedef struct tail_src {
    sl_ctx *ctx;
    const sl_host *host;
    const char *name;
    /* options */
    const sl_node *paths, *excludes;
    int from_head, skip_long, once, quiet, use_inotify;
    size_t max_line, batch_bytes;
    size_t max_open;       /* max_open_files, lowered to fit RLIMIT_NOFILE */
    uint32_t batch_max;
    int64_t refresh_ms, rotate_wait_ms, ckpt_ms, poll_ms;
    const char *state_dir;
    char *ckpt_path;       /* <state_dir>/checkpoints */
    int store_existed;     /* checkpoints were there when we started */
    /* files, touched by the source thread only */
    tfile **files;
    size_t n_files, cap_files, n_open;
    uint64_t turn_no;      /* turns so far */
    tfile *first_waiting;  /* first file of the last turn left without a descriptor */
    char *rbuf;
    char **noted;          /* paths whose problem was already logged */
    size_t n_noted;
    /* the batch being built: lines of one file */
    sl_builder *bb;
    tail_pack pack;
    tfile *bfile;
    uint64_t bend;         /* offset past the batch's last line */
    uint64_t next_seq;     /* number emit() will give the next batch */
    uint64_t lines_truncated, lines_skipped;
    sl_metric *m_truncated, *m_skipped, *m_restarted;
    /* inotify (source thread only); ino_fd -1 = polling alone */
    int ino_fd;
    int scan_now;          /* a matching name came or went: scan before refresh */
    tail_watch_dir *watch;
    size_t n_watch, cap_watch;
    /* --once progress line (source thread only) */
    uint64_t bytes_read, lines_read;
    int prog_on, prog_shown;
    int64_t prog_t0, prog_next;
    /* shared with acked(), under mu */
    pthread_mutex_t mu;
    tail_ckpts ckpts;
    tail_pending pending;
    int dirty;
    /* saves checkpoints every checkpoint_interval while run() runs */
    tail_ticker saver;
} tail_src;

/* tail_scan.c */
int tail_scan(tail_src *s, int first, int64_t now);
void tail_recover_rotated(tail_src *s, int64_t now);
void tail_note(tail_src *s, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tail_unnote(tail_src *s, const char *path);
int tail_find_in_dir(const char *near, uint64_t dev, uint64_t ino, char *out, size_t outlen);

/* tail_file.c */
tfile *tail_find(tail_src *s, uint64_t dev, uint64_t ino);
int tail_adopt(tail_src *s, const char *path, const struct stat *st, int first, int rotated,
               int64_t now);
int tail_read(tail_src *s, tfile *f, int64_t now, int *progress);
void tail_drop(tail_src *s, size_t i);
/* 0 fine (open, or nothing new), 2 waits for a free descriptor, -1 out of
 * memory, -2 gone (drop it). */
int tail_reopen(tail_src *s, tfile *f, int64_t now);
int tail_make_room(tail_src *s);
void tail_close(tail_src *s, tfile *f);

/* tail_emit.c */
int tail_on_line(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                 int status);
int tail_flush(tail_src *s);
void tail_acked(void *state, uint64_t seq);
int tail_save(tail_src *s);
int tail_saver_start(tail_src *s);
void tail_saver_stop(tail_src *s);
void tail_restart_at_zero(tail_src *s, tfile *f, const char *why);

/* tail_progress.c */
void tail_progress_start(tail_src *s, int64_t now);
void tail_progress_tick(tail_src *s, int64_t now);
void tail_progress_end(tail_src *s, int64_t now, int finished);

/* tail_watch.c */
void tail_watch_init(tail_src *s);
void tail_watch_update(tail_src *s);
/* Wait up to ms; 1 when woken early by an event on a followed name. */
int tail_watch_wait(tail_src *s, int64_t ms);
void tail_watch_free(tail_src *s);

#endif
