/*
 * Disk spool: a FIFO of opaque records in segment files under one
 * directory, surviving crashes. Each record is framed as
 *   magic "OES1" | u32 length | u32 CRC-32 of (length, payload) | payload
 * (little-endian; the CRC is zlib's crc32, CRC-32/IEEE), so a torn tail (kill -9 or power loss mid-write) is detected and cut at
 * open, and a damaged record in the middle is skipped (resynchronising on the
 * next magic + valid CRC) and counted, never misread as data.
 *
 * Records are read in order but may be finished (oe_spool_done) in any
 * order; the committed position, persisted by oe_spool_commit in a small
 * file (replaced atomically and durably), only moves over a finished prefix. After a
 * crash, records read but not committed are read again: duplicates, never
 * loss. Segments wholly behind the committed position are deleted.
 *
 * Durability: records reach the page cache at once and the disk only at
 * oe_spool_sync, so a power loss may take records appended since the last
 * sync. Whoever acknowledges spooled events upstream syncs first. The
 * position file is synced by every replace (at most one per commit).
 *
 * Files are written through oe_spool_io, the host's file services, so the
 * spool has no file writer of its own; it only reads, syncs and truncates.
 *
 * Not thread-safe: one owner thread.
 */
#ifndef OE_SPOOL_H
#define OE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/json.h"

#define OE_SPOOL_MAX_RECORD (1u << 20)

typedef struct oe_spool oe_spool;

/* The file services the spool writes through (the plugin passes the host's
 * file_open, file_write and file_replace; tests the core's functions). */
typedef struct oe_spool_io {
    void *ctx;
    /* Open path to append (0600), creating it and missing directories: the
     * fd, or -1 with err. */
    int (*open_append)(void *ctx, const char *path, char *err, size_t errlen);
    /* Write all len bytes to fd, no sync: 0, or -1 with err. */
    int (*write)(void *ctx, int fd, const void *data, size_t len, char *err, size_t errlen);
    /* Replace path with the bytes, atomically and durably: 0, or -1 with err. */
    int (*replace)(void *ctx, const char *path, const void *data, size_t len, char *err,
                   size_t errlen);
} oe_spool_io;

/* Counters since open (torn/corrupt include what open found). */
typedef struct oe_spool_stats {
    uint64_t torn_bytes;      /* bytes of incomplete tail records cut */
    uint64_t corrupt_records; /* damaged regions skipped */
    uint64_t corrupt_bytes;   /* bytes in them */
    uint64_t dropped;         /* records discarded by oe_spool_drop_oldest */
    uint64_t stale_pos;       /* 1: the position file was ahead of the data
                               * (segment files removed or lost) and was reset:
                               * records may be read again, none is skipped */
    uint64_t syncs;           /* fdatasync/fsync calls made (io.replace's not counted) */
    uint64_t pos_writes;      /* position file replaced */
} oe_spool_stats;

/*
 * Open (creating) the spool in `dir`. `max_bytes` bounds the segment files'
 * total size (0 = unbounded); `seg_bytes` is the size at which the writer
 * starts a new segment; `io` is copied. Returns 0 or -1 with err.
 */
int oe_spool_open(oe_spool **out, const char *dir, uint64_t max_bytes, uint64_t seg_bytes,
                  const oe_spool_io *io, char *err, size_t errlen);

/* Append one record. 0 done, 1 the spool is full (nothing written), -1 error
 * (err; nothing of the record is left in the spool). */
int oe_spool_append(oe_spool *s, const void *p, size_t len, char *err, size_t errlen);

/*
 * Make every record appended so far durable (fdatasync of the segment(s)
 * written since the last sync; fsync of the spool directory when segment
 * files were created since the last sync). 0 ok, -1 error (err). Cheap (no
 * syscall) when nothing was appended since the last sync.
 *
 * After a failure the records appended before it may be lost from the disk
 * for good (the kernel may drop pages whose writeback failed, and a later
 * fsync succeeds without them), so -1 is returned again, without new I/O,
 * until every one of those records is done; then syncing resumes.
 */
int oe_spool_sync(oe_spool *s, char *err, size_t errlen);

/*
 * Read the next unread record into *out (replacing its contents); *id names
 * it for oe_spool_done. 1 read, 0 nothing to read now (empty, or too many
 * records read and not done), -1 I/O error (err).
 */
int oe_spool_read(oe_spool *s, sl_buf *out, uint64_t *id, char *err, size_t errlen);

/* A record read earlier is finished (delivered or otherwise dealt with). */
void oe_spool_done(oe_spool *s, uint64_t id);

/* Persist the committed position and delete finished segments. 0 or -1. */
int oe_spool_commit(oe_spool *s, char *err, size_t errlen);

/*
 * Discard unread records from the oldest segment still being read (all of
 * its unread records), to make room. Returns the number dropped.
 */
uint64_t oe_spool_drop_oldest(oe_spool *s);

/* Records not yet read, records appended and not yet done, bytes on disk. */
uint64_t oe_spool_unread(const oe_spool *s);
uint64_t oe_spool_pending(const oe_spool *s);
uint64_t oe_spool_bytes(const oe_spool *s);
const oe_spool_stats *oe_spool_get_stats(const oe_spool *s);

/* Commit and close. */
void oe_spool_close(oe_spool *s);

#endif
