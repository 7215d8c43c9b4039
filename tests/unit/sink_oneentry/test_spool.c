/* sink_oneentry disk spool: FIFO across reopen, out-of-order completion,
 * torn tails cut, bit flips skipped and counted, a stale position file,
 * size bound, drop_oldest, sync (no-op, rollover, failure), a failed write
 * leaves no torn record. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oe_spool.h"
#include "sl_test.h"
#include "spool_io.h"

static char dir[256];
static char err[256];

static void fresh_dir(void)
{
    char cmd[300];
    snprintf(dir, sizeof dir, "/tmp/oe-spool-test-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void put(oe_spool *s, int i)
{
    char rec[64];
    int n = snprintf(rec, sizeof rec, "record-%06d", i);
    CU_ASSERT_EQUAL(oe_spool_append(s, rec, (size_t)n, err, sizeof err), 0);
}

/* Read one record and check it is record-i; returns its id. */
static uint64_t get(oe_spool *s, sl_buf *b, int i)
{
    char want[64];
    uint64_t id = 0;
    snprintf(want, sizeof want, "record-%06d", i);
    CU_ASSERT_EQUAL_FATAL(oe_spool_read(s, b, &id, err, sizeof err), 1);
    CU_ASSERT_EQUAL(b->len, strlen(want));
    CU_ASSERT(b->len == strlen(want) && memcmp(b->data, want, b->len) == 0);
    return id;
}

static void test_fifo_and_reopen(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    /* Small segments so several files are used and deleted. */
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 200, &spool_io, err, sizeof err), 0);
    for (int i = 0; i < 50; i++)
        put(s, i);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 50);
    uint64_t ids[20];
    for (int i = 0; i < 20; i++)
        ids[i] = get(s, &b, i);
    /* Finish out of order, leaving record 10 undone: commit stops before it. */
    for (int i = 19; i >= 0; i--)
        if (i != 10)
            oe_spool_done(s, ids[i]);
    CU_ASSERT_EQUAL(oe_spool_commit(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_pending(s), 40);
    oe_spool_close(s); /* like a crash after the commit */
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 200, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 40);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->stale_pos, 0); /* an ordinary reopen */
    for (int i = 10; i < 50; i++)
        oe_spool_done(s, get(s, &b, i));
    uint64_t id;
    CU_ASSERT_EQUAL(oe_spool_read(s, &b, &id, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_commit(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_pending(s), 0);
    CU_ASSERT_EQUAL(oe_spool_bytes(s), 0); /* every finished segment deleted */
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 200, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 0);
    put(s, 99);
    oe_spool_done(s, get(s, &b, 99));
    oe_spool_close(s);
    sl_buf_free(&b);
}

static char *only_segment(void)
{
    static char path[512];
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/seg-*.oes | tail -n 1", dir);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL(fgets(path, sizeof path, p));
    pclose(p);
    path[strcspn(path, "\n")] = 0;
    return path;
}

static void test_torn_tail_cut(void)
{
    oe_spool *s;
    sl_buf b = {0};
    struct stat st;
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    for (int i = 0; i < 5; i++)
        put(s, i);
    oe_spool_close(s);
    char *seg = only_segment();
    CU_ASSERT_EQUAL(stat(seg, &st), 0);
    CU_ASSERT_EQUAL(truncate(seg, st.st_size - 3), 0); /* last record torn */
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->torn_bytes, (uint64_t)(12 + 13 - 3));
    CU_ASSERT_EQUAL(oe_spool_unread(s), 4);
    put(s, 5); /* appended after the last good record, readable */
    for (int i = 0; i < 5; i++)
        oe_spool_done(s, get(s, &b, i == 4 ? 5 : i));
    uint64_t id;
    CU_ASSERT_EQUAL(oe_spool_read(s, &b, &id, err, sizeof err), 0);
    oe_spool_close(s);
    sl_buf_free(&b);
}

static void test_bit_flip_skipped(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    for (int i = 0; i < 5; i++)
        put(s, i);
    oe_spool_close(s);
    /* Flip one payload bit of record 2 (each record is 12 + 13 bytes). */
    int fd = open(only_segment(), O_RDWR);
    CU_ASSERT_FATAL(fd >= 0);
    unsigned char c;
    CU_ASSERT_EQUAL(pread(fd, &c, 1, 2 * 25 + 12 + 4), 1);
    c ^= 0x10;
    CU_ASSERT_EQUAL(pwrite(fd, &c, 1, 2 * 25 + 12 + 4), 1);
    /* And damage the length of record 3: resynchronisation must not trust it. */
    CU_ASSERT_EQUAL(pwrite(fd, "\xff", 1, 3 * 25 + 7), 1);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->corrupt_records, 1); /* one damaged region */
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->corrupt_bytes, 50);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 3);
    oe_spool_done(s, get(s, &b, 0));
    oe_spool_done(s, get(s, &b, 1));
    oe_spool_done(s, get(s, &b, 4));
    uint64_t id;
    CU_ASSERT_EQUAL(oe_spool_read(s, &b, &id, err, sizeof err), 0);
    oe_spool_close(s);
    sl_buf_free(&b);
}

static void put_pos(const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pos", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* Nothing left to read now, and nothing after a reopen either. */
static void check_drained(oe_spool *s, sl_buf *b)
{
    uint64_t id;
    CU_ASSERT_EQUAL(oe_spool_read(s, b, &id, err, sizeof err), 0);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 0);
    oe_spool_close(s);
}

/* pos names segment 49; the only segment is 1, holding unread records. */
static void test_pos_past_last_segment(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    for (int i = 0; i < 3; i++)
        put(s, i);
    oe_spool_close(s);
    put_pos("OESPOS1 49 1\n");
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->stale_pos, 1);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 3); /* not deleted as finished */
    for (int i = 0; i < 3; i++)
        oe_spool_done(s, get(s, &b, i));
    put(s, 3);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->stale_pos, 0);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 1);
    oe_spool_done(s, get(s, &b, 3));
    check_drained(s, &b);

    /* Every segment file removed by hand, pos left behind. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f %s/seg-*.oes", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    put_pos("OESPOS1 49 1\n");
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->stale_pos, 1);
    put(s, 4);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 1);
    oe_spool_done(s, get(s, &b, 4));
    check_drained(s, &b);
    sl_buf_free(&b);
}

/* pos = segment 1, offset 4, and segment 1 is empty (its bytes never
 * reached the disk). A record appended now must survive the next open. */
static void test_pos_past_segment_end(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    oe_spool_close(s);
    put_pos("OESPOS1 1 4\n");
    unsigned replaces = spool_io_replaces;
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->stale_pos, 1);
    /* The reset pos is replaced (durably: file_replace) before any append. */
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->pos_writes, 1);
    CU_ASSERT_EQUAL(spool_io_replaces, replaces + 1);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 0);
    put(s, 0);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->torn_bytes, 0); /* the record is not cut */
    CU_ASSERT_EQUAL(oe_spool_unread(s), 1);
    oe_spool_done(s, get(s, &b, 0));
    check_drained(s, &b);
    sl_buf_free(&b);
}

static void test_full_and_drop_oldest(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    /* 25 bytes a record; 100 bytes hold 4; segments of 50 bytes = 2 each. */
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 100, 50, &spool_io, err, sizeof err), 0);
    for (int i = 0; i < 4; i++)
        put(s, i);
    CU_ASSERT_EQUAL(oe_spool_append(s, "record-000004", 13, err, sizeof err), 1);
    CU_ASSERT_EQUAL(oe_spool_drop_oldest(s), 2);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->dropped, 2);
    CU_ASSERT_EQUAL(oe_spool_commit(s, err, sizeof err), 0);
    put(s, 4);
    for (int i = 2; i < 5; i++)
        oe_spool_done(s, get(s, &b, i));
    oe_spool_close(s);
    sl_buf_free(&b);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static uint64_t syncs(const oe_spool *s) { return oe_spool_get_stats(s)->syncs; }

/* Nothing appended: no syscall, even with a segment created at open. Then
 * one fdatasync, plus the directory the first time; again: a no-op. */
static void test_sync_noop_and_idempotent(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 0);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 0);
    for (int i = 0; i < 3; i++)
        put(s, i);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 2); /* segment data + the directory naming it */
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 2);
    put(s, 3);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 3); /* no new file: the data only */
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 0); /* an ordinary open syncs nothing */
    for (int i = 0; i < 4; i++)
        oe_spool_done(s, get(s, &b, i));
    check_drained(s, &b);
    sl_buf_free(&b);
}

/* Segments of two records (25 bytes each). A segment closed with unsynced
 * records is synced at the rollover; one with nothing unsynced is not; the
 * rollover at commit (everything done) syncs nothing. */
static void test_sync_rollover(void)
{
    oe_spool *s;
    sl_buf b = {0};
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 50, &spool_io, err, sizeof err), 0);
    put(s, 0);
    put(s, 1);
    CU_ASSERT_EQUAL(syncs(s), 0);
    put(s, 2); /* segment 1 full: rolls over */
    CU_ASSERT_EQUAL(syncs(s), 1);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 3); /* segment 2 + the directory */
    put(s, 3);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 4);
    put(s, 4); /* rolls over with nothing unsynced */
    CU_ASSERT_EQUAL(syncs(s), 4);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(syncs(s), 6);
    for (int i = 0; i < 5; i++)
        oe_spool_done(s, get(s, &b, i));
    put(s, 5);
    oe_spool_done(s, get(s, &b, 5));
    CU_ASSERT_EQUAL(oe_spool_commit(s, err, sizeof err), 0); /* all done: a fresh segment */
    CU_ASSERT_EQUAL(syncs(s), 6);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 50, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 0);
    for (int i = 6; i < 11; i++) /* across rollovers, nothing lost or reordered */
        put(s, i);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 50, &spool_io, err, sizeof err), 0);
    for (int i = 6; i < 11; i++)
        oe_spool_done(s, get(s, &b, i));
    check_drained(s, &b);
    sl_buf_free(&b);
}

/* The directory cannot be synced (moved away under the spool): an error
 * naming it, and the same error, with no new I/O, until the record that
 * sync covered is done, even once the directory is back. */
static void test_sync_error(void)
{
    oe_spool *s;
    sl_buf b = {0};
    char gone[300], cmd[700];
    fresh_dir();
    snprintf(gone, sizeof gone, "%s.gone", dir);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    put(s, 0);
    CU_ASSERT_EQUAL_FATAL(rename(dir, gone), 0);
    err[0] = 0;
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "directory"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, strerror(ENOENT)));
    uint64_t n = syncs(s);
    CU_ASSERT_EQUAL_FATAL(rename(gone, dir), 0);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), -1);
    CU_ASSERT_EQUAL(syncs(s), n);
    put(s, 1);
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), -1); /* record 0 is not done */
    oe_spool_done(s, get(s, &b, 0));
    CU_ASSERT_EQUAL(oe_spool_sync(s, err, sizeof err), 0); /* retried, and it works */
    CU_ASSERT_EQUAL(syncs(s), n + 2);
    oe_spool_done(s, get(s, &b, 1));
    check_drained(s, &b);
    snprintf(cmd, sizeof cmd, "rm -rf %s", gone);
    CU_ASSERT_EQUAL(system(cmd), 0);
    sl_buf_free(&b);
}

/* A write cut short (here by the file size limit, as by a full disk) fails
 * with the real error and leaves no part of the record in the file. */
static void test_short_write_leaves_no_torn_record(void)
{
    oe_spool *s;
    sl_buf b = {0};
    struct rlimit old, lim;
    struct stat st;
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 110; /* four records and 10 bytes of a fifth */
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int i = 0; i < 4; i++)
        put(s, i);
    int r = oe_spool_append(s, "record-000004", 13, err, sizeof err);
    CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    CU_ASSERT_EQUAL(r, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, strerror(EFBIG)));
    CU_ASSERT_EQUAL(stat(only_segment(), &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 100);
    CU_ASSERT_EQUAL(oe_spool_unread(s), 4);
    put(s, 4);
    oe_spool_close(s);
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->torn_bytes, 0);
    CU_ASSERT_EQUAL(oe_spool_get_stats(s)->corrupt_records, 0);
    for (int i = 0; i < 5; i++)
        oe_spool_done(s, get(s, &b, i));
    check_drained(s, &b);
    sl_buf_free(&b);
}

/* A failed commit stays dirty and is retried by the next commit. */
static void test_commit_retried_after_failure(void)
{
    oe_spool *s;
    sl_buf b = {0};
    char path[300], text[64] = "";
    fresh_dir();
    CU_ASSERT_EQUAL_FATAL(oe_spool_open(&s, dir, 0, 1 << 20, &spool_io, err, sizeof err), 0);
    for (int i = 0; i < 3; i++)
        put(s, i);
    oe_spool_done(s, get(s, &b, 0));
    /* pos.tmp as a directory: the temp file cannot be written. */
    snprintf(path, sizeof path, "%s/pos.tmp", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
    CU_ASSERT_EQUAL(oe_spool_commit(s, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "spool position"));
    CU_ASSERT_EQUAL_FATAL(rmdir(path), 0);
    CU_ASSERT_EQUAL(oe_spool_commit(s, err, sizeof err), 0); /* nothing new done: still writes */
    snprintf(path, sizeof path, "%s/pos", dir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(text, sizeof text, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(text, "OESPOS1 1 25\n"); /* past record 0 */
    for (int i = 1; i < 3; i++)
        oe_spool_done(s, get(s, &b, i));
    check_drained(s, &b);
    sl_buf_free(&b);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"FIFO, out-of-order done, reopen resumes at commit", test_fifo_and_reopen},
        {"torn tail is cut at open", test_torn_tail_cut},
        {"bit flips are skipped and counted", test_bit_flip_skipped},
        {"pos past the last segment: nothing deleted, appends kept", test_pos_past_last_segment},
        {"pos past its segment's end: reset on disk, appends kept", test_pos_past_segment_end},
        {"sync: no-op when nothing was appended, idempotent", test_sync_noop_and_idempotent},
        {"sync across segment rollovers", test_sync_rollover},
        {"sync failure reported until its records are done", test_sync_error},
        {"a short write leaves no torn record", test_short_write_leaves_no_torn_record},
        {"a failed commit is retried", test_commit_retried_after_failure},
        {"size bound and drop_oldest", test_full_and_drop_oldest},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_spool", cases);
}
