#include "oe_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "grow.h"

#define HDR 12
#define MAGIC "OES1"
#define RING 16384           /* records read and not done, at most */
#define RBUF (256 * 1024)    /* read-ahead buffer */

typedef struct seg {
    uint64_t id, size;
} seg;

typedef struct out_rec {
    uint64_t seg, end;
    int done;
} out_rec;

typedef struct rbuf {
    int fd;
    uint64_t seg;     /* segment the fd reads */
    uint64_t base;    /* file offset of data[0] */
    size_t len, cap;
    uint8_t *data;
} rbuf;

struct oe_spool {
    char *dir;
    oe_spool_io io;
    sl_buf rec;          /* the record being appended: header and payload */
    uint64_t max_bytes, seg_bytes, total;
    seg *segs;
    size_t nsegs, capsegs;
    int wfd;
    size_t ri;        /* index of the segment being read */
    uint64_t roff;    /* next read offset in it */
    rbuf rb;
    out_rec *ring;
    uint64_t base, next; /* ids of read records not yet committed */
    uint64_t cseg, coff; /* committed position */
    uint64_t unread;
    int dirty;
    int unsynced;        /* records appended since the last sync */
    int created;         /* segment files created since the last sync */
    int wbroken;         /* the writer's file may end in a cut-short record */
    int sync_err;        /* errno of a failed sync still reported, or 0 */
    const char *sync_what;
    uint64_t fail_seg, fail_off; /* end of the records that sync covered */
    oe_spool_stats st;
};

/* ---------------------------------------------------------------- */
/* Framing                                                            */
/* ---------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, zlib's) of the length field and the payload. */
static uint32_t record_crc(const uint8_t len_le[4], const void *p, size_t n)
{
    uLong c = crc32(0L, len_le, 4);
    return (uint32_t)crc32(c, p, (uInt)n);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---------------------------------------------------------------- */
/* Paths and segment list                                             */
/* ---------------------------------------------------------------- */

static int seg_path(const oe_spool *s, uint64_t id, char *buf, size_t len)
{
    return snprintf(buf, len, "%s/seg-%020" PRIu64 ".oes", s->dir, id) < (int)len ? 0 : -1;
}

static int seg_push(oe_spool *s, uint64_t id, uint64_t size)
{
    seg *n = sl_grow(s->segs, s->nsegs + 1, &s->capsegs, sizeof *n, 8);
    if (!n)
        return -1;
    s->segs = n;
    s->segs[s->nsegs++] = (seg){id, size};
    return 0;
}

static int seg_cmp(const void *a, const void *b)
{
    uint64_t x = ((const seg *)a)->id, y = ((const seg *)b)->id;
    return x < y ? -1 : x > y;
}

static int list_segments(oe_spool *s, char *err, size_t errlen)
{
    DIR *d = opendir(s->dir);
    if (!d && errno == ENOENT)
        return 0; /* a new spool: the first segment file creates the directory */
    if (!d) {
        snprintf(err, errlen, "spool %s: %s", s->dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t id;
        char tail[8];
        struct stat stt;
        char path[4096];
        if (sscanf(e->d_name, "seg-%20" SCNu64 ".%3s", &id, tail) != 2 || strcmp(tail, "oes"))
            continue;
        if (seg_path(s, id, path, sizeof path) || stat(path, &stt) != 0)
            continue;
        if (seg_push(s, id, (uint64_t)stt.st_size) < 0) {
            closedir(d);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    closedir(d);
    if (s->nsegs > 1)
        qsort(s->segs, s->nsegs, sizeof *s->segs, seg_cmp);
    return 0;
}

/* ---------------------------------------------------------------- */
/* Durability                                                         */
/* ---------------------------------------------------------------- */

static int sync_fd(oe_spool *s, int fd)
{
    s->st.syncs++;
    return fdatasync(fd);
}

/* A new or renamed file is only found after a power loss once the
 * directory entry naming it is on disk too. */
static int sync_dir(oe_spool *s)
{
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    s->st.syncs++;
    int r = fsync(fd), e = errno;
    close(fd);
    errno = e;
    return r;
}

/* Remember a failed sync of the records up to offset off of segment id. */
static void sync_failed(oe_spool *s, int e, const char *what, uint64_t id, uint64_t off)
{
    s->sync_err = e;
    s->sync_what = what;
    s->fail_seg = id;
    s->fail_off = off;
}

/* Some record a failed sync covered is not done yet. */
static int failure_pending(const oe_spool *s)
{
    return s->sync_err &&
           (s->cseg < s->fail_seg || (s->cseg == s->fail_seg && s->coff < s->fail_off));
}

static int sync_error(const oe_spool *s, char *err, size_t errlen)
{
    snprintf(err, errlen, "spool %s: syncing the %s failed: %s; records appended before it may "
             "not be on disk", s->dir, s->sync_what, strerror(s->sync_err));
    return -1;
}

int oe_spool_sync(oe_spool *s, char *err, size_t errlen)
{
    if (failure_pending(s))
        return sync_error(s, err, errlen);
    s->sync_err = 0;
    if (!s->unsynced)
        return 0;
    const seg *w = &s->segs[s->nsegs - 1];
    if (sync_fd(s, s->wfd) != 0)
        sync_failed(s, errno, "segment data", w->id, w->size);
    else if (s->created && sync_dir(s) != 0)
        sync_failed(s, errno, "directory", w->id, w->size);
    else {
        s->unsynced = s->created = 0;
        return 0;
    }
    return sync_error(s, err, errlen);
}

/* ---------------------------------------------------------------- */
/* Buffered reading and record framing                                */
/* ---------------------------------------------------------------- */

static int rb_open(oe_spool *s, uint64_t id)
{
    char path[4096];
    if (s->rb.fd >= 0 && s->rb.seg == id)
        return 0;
    if (s->rb.fd >= 0)
        close(s->rb.fd);
    s->rb.fd = -1;
    s->rb.len = 0;
    if (seg_path(s, id, path, sizeof path) < 0 || (s->rb.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    s->rb.seg = id;
    return 0;
}

/* Make [off, off+n) available at *p. 0, 1 when the file is shorter, -1 error. */
static int rb_get(rbuf *r, uint64_t off, size_t n, const uint8_t **p)
{
    if (off >= r->base && off + n <= r->base + r->len) {
        *p = r->data + (off - r->base);
        return 0;
    }
    size_t want = n > RBUF ? n : RBUF;
    if (want > r->cap) {
        uint8_t *nd = realloc(r->data, want);
        if (!nd)
            return -1;
        r->data = nd;
        r->cap = want;
    }
    ssize_t got;
    do
        got = pread(r->fd, r->data, want, (off_t)off);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return -1;
    r->base = off;
    r->len = (size_t)got;
    if ((size_t)got < n)
        return 1;
    *p = r->data;
    return 0;
}

/* Is there a valid record at off (before limit)? 1 yes (*plen), 0 no, -1 error. */
static int record_at(rbuf *r, uint64_t off, uint64_t limit, uint32_t *plen)
{
    const uint8_t *h, *body;
    if (off + HDR > limit)
        return 0;
    int g = rb_get(r, off, HDR, &h);
    if (g != 0)
        return g < 0 ? -1 : 0;
    if (memcmp(h, MAGIC, 4) != 0)
        return 0;
    uint32_t len = get_u32(h + 4), crc = get_u32(h + 8);
    if (len > OE_SPOOL_MAX_RECORD || off + HDR + len > limit)
        return 0;
    g = rb_get(r, off, HDR + (size_t)len, &body);
    if (g != 0)
        return g < 0 ? -1 : 0;
    if (record_crc(body + 4, body + HDR, len) != crc)
        return 0;
    *plen = len;
    return 1;
}

/*
 * The first valid record at or after off: *at its offset, *plen its payload
 * length. Returns 1 found, 0 none before limit, -1 error. Resynchronising
 * scans for the magic byte by byte; a valid CRC confirms a real record.
 */
static int find_record(rbuf *r, uint64_t off, uint64_t limit, uint64_t *at, uint32_t *plen)
{
    for (; off + HDR <= limit; off++) {
        int k = record_at(r, off, limit, plen);
        if (k != 0) {
            *at = off;
            return k;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Open: committed position, scan, torn tails                         */
/* ---------------------------------------------------------------- */

/* 1 the pos file gave the committed position, 0 it was unusable (the
 * position is then the oldest segment's start), -1 there was none. */
static int read_pos(oe_spool *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/pos", s->dir);
    FILE *f = fopen(path, "re");
    s->cseg = s->nsegs ? s->segs[0].id : 1;
    s->coff = 0;
    if (!f)
        return -1;
    uint64_t sg, of;
    int used = 0;
    if (fscanf(f, "OESPOS1 %" SCNu64 " %" SCNu64, &sg, &of) == 2 && sg >= s->cseg) {
        s->cseg = sg;
        s->coff = of;
        used = 1;
    }
    fclose(f);
    return used;
}

/* Replace pos atomically and durably (io.replace: the host's file_replace). */
static int write_pos(oe_spool *s, char *err, size_t errlen)
{
    char path[4096], text[64], why[512];
    snprintf(path, sizeof path, "%s/pos", s->dir);
    int n = snprintf(text, sizeof text, "OESPOS1 %" PRIu64 " %" PRIu64 "\n", s->cseg, s->coff);
    s->st.pos_writes++;
    if (s->io.replace(s->io.ctx, path, text, (size_t)n, why, sizeof why) != 0) {
        snprintf(err, errlen, "spool position: %s", why);
        return -1;
    }
    return 0;
}

/* Count the records of segment i from off; cut a torn tail; note damage. */
static int scan_segment(oe_spool *s, size_t i, uint64_t off)
{
    seg *g = &s->segs[i];
    uint64_t at;
    uint32_t len;
    if (rb_open(s, g->id) < 0)
        return -1;
    for (;;) {
        int k = find_record(&s->rb, off, g->size, &at, &len);
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        if (at > off) {
            s->st.corrupt_records++;
            s->st.corrupt_bytes += at - off;
        }
        s->unread++;
        off = at + HDR + len;
    }
    if (off < g->size) {
        /* Nothing valid follows: an incomplete last record. Cut it so the
         * writer appends after the last good record. */
        char path[4096];
        s->st.torn_bytes += g->size - off;
        if (seg_path(s, g->id, path, sizeof path) < 0 || truncate(path, (off_t)off) != 0)
            return -1;
        g->size = off;
        s->rb.len = 0;
    }
    return 0;
}

static int open_writer(oe_spool *s, uint64_t id, char *err, size_t errlen)
{
    char path[4096], why[512];
    if (seg_path(s, id, path, sizeof path) < 0) {
        snprintf(err, errlen, "spool path too long");
        return -1;
    }
    int fd = s->io.open_append(s->io.ctx, path, why, sizeof why);
    if (fd < 0) {
        snprintf(err, errlen, "spool: %s", why);
        return -1;
    }
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = fd;
    s->wbroken = 0;
    return 0;
}

static int new_segment(oe_spool *s, char *err, size_t errlen)
{
    uint64_t id = s->nsegs ? s->segs[s->nsegs - 1].id + 1 : s->cseg;
    if (seg_push(s, id, 0) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (open_writer(s, id, err, errlen) < 0) {
        s->nsegs--;
        return -1;
    }
    s->created = 1;
    return 0;
}

/*
 * Where reading resumes. The committed segment is normally the oldest one;
 * older ones were finished before a crash interrupted their deletion. When
 * it is gone and only newer segments remain, it was finished too (deleted
 * just before pos moved on). Any other pos is ahead of the data (segment
 * files removed by hand, or lost with the disk's last writes): then nothing
 * is trusted to be finished and reading starts at the oldest byte, at the
 * cost of duplicates, never of loss.
 */
static void resume_point(oe_spool *s, int from_pos)
{
    size_t at = 0; /* first segment at or after the committed one */
    while (at < s->nsegs && s->segs[at].id < s->cseg)
        at++;
    if (at < s->nsegs && s->segs[at].id == s->cseg) {
        for (size_t i = 0; i < at; i++) {
            char path[4096];
            if (seg_path(s, s->segs[i].id, path, sizeof path) == 0)
                unlink(path);
        }
        memmove(s->segs, s->segs + at, (s->nsegs - at) * sizeof *s->segs);
        s->nsegs -= at;
    } else {
        if (from_pos && (at > 0 || at == s->nsegs))
            s->st.stale_pos = 1;
        s->coff = 0;
    }
    if (s->nsegs == 0) {
        s->cseg = 1;
        return;
    }
    s->cseg = s->segs[0].id;
    if (s->coff > s->segs[0].size) {
        s->st.stale_pos = 1;
        s->coff = 0;
    }
}

static int load(oe_spool *s, char *err, size_t errlen)
{
    if (list_segments(s, err, errlen) < 0)
        return -1;
    int had_pos = read_pos(s);
    uint64_t pos_seg = s->cseg, pos_off = s->coff;
    resume_point(s, had_pos == 1);
    for (size_t i = 0; i < s->nsegs; i++) {
        if (scan_segment(s, i, i == 0 ? s->coff : 0) < 0) {
            snprintf(err, errlen, "spool %s: reading segment %" PRIu64 ": %s", s->dir,
                     s->segs[i].id, strerror(errno));
            return -1;
        }
        s->total += s->segs[i].size;
    }
    s->roff = s->coff;
    /* Persist a moved position before the first append: a stale one left
     * on disk would start the next open past records appended now. It must
     * be on disk before those records are: a position ahead of the data is
     * what a power loss leaves when records were delivered before their
     * sync, and if the reset were lost to a second one, reading would start
     * inside the records appended (and synced) after it, skipping them. */
    if (had_pos >= 0 && (had_pos == 0 || s->cseg != pos_seg || s->coff != pos_off) &&
        write_pos(s, err, errlen) < 0)
        return -1;
    if (s->nsegs)
        return open_writer(s, s->segs[s->nsegs - 1].id, err, errlen);
    return new_segment(s, err, errlen);
}

int oe_spool_open(oe_spool **out, const char *dir, uint64_t max_bytes, uint64_t seg_bytes,
                  const oe_spool_io *io, char *err, size_t errlen)
{
    *out = NULL;
    oe_spool *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir)) || !(s->ring = calloc(RING, sizeof *s->ring))) {
        if (s)
            free(s->dir);
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->io = *io;
    s->wfd = -1;
    s->rb.fd = -1;
    s->max_bytes = max_bytes;
    s->seg_bytes = seg_bytes ? seg_bytes : 8u << 20;
    s->base = s->next = 1;
    if (load(s, err, errlen) < 0) {
        oe_spool_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- */
/* Append                                                             */
/* ---------------------------------------------------------------- */

/*
 * Start the next segment. The closed one's unsynced records must be on disk
 * by the next oe_spool_sync: they are synced here rather than by keeping its
 * descriptor until then, so one descriptor serves however many rollovers
 * come between two syncs (segments may be 4 KiB). They would have to reach
 * the disk before that sync returns anyway: the cost is a wait in the append
 * that rolls over, not more I/O. A failure is reported by that next sync.
 */
static int roll_over(oe_spool *s, char *err, size_t errlen)
{
    const seg *w = &s->segs[s->nsegs - 1];
    if (s->unsynced && sync_fd(s, s->wfd) != 0)
        sync_failed(s, errno, "segment data", w->id, w->size);
    return new_segment(s, err, errlen);
}

/* The framed record for payload p in s->rec: header, then payload. */
static int frame(oe_spool *s, const void *p, size_t len)
{
    uint8_t h[HDR];
    memcpy(h, MAGIC, 4);
    put_u32(h + 4, (uint32_t)len);
    put_u32(h + 8, record_crc(h + 4, p, len));
    s->rec.len = 0;
    return sl_buf_append(&s->rec, h, HDR) || sl_buf_append(&s->rec, p, len) ? -1 : 0;
}

int oe_spool_append(oe_spool *s, const void *p, size_t len, char *err, size_t errlen)
{
    if (len > OE_SPOOL_MAX_RECORD) {
        snprintf(err, errlen, "record of %zu bytes exceeds the spool's limit", len);
        return -1;
    }
    if (s->max_bytes && s->total + HDR + len > s->max_bytes)
        return 1;
    seg *w = &s->segs[s->nsegs - 1];
    if (s->wbroken || (w->size > 0 && w->size + HDR + len > s->seg_bytes)) {
        if (roll_over(s, err, errlen) < 0)
            return -1;
        w = &s->segs[s->nsegs - 1];
    }
    char why[512];
    if (frame(s, p, len) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* One write of the whole record (io.write: the host's file_write goes
     * on after a short write, so the error that stopped it is reported). */
    if (s->io.write(s->io.ctx, s->wfd, s->rec.data, s->rec.len, why, sizeof why) != 0) {
        /* Never leave a torn record behind a good one. Should the cut fail,
         * the next record starts a new segment: reading stops at the known
         * size here, and the next open cuts the torn tail. */
        if (ftruncate(s->wfd, (off_t)w->size) != 0)
            s->wbroken = 1;
        snprintf(err, errlen, "spool write: %s", why);
        return -1;
    }
    w->size += HDR + len;
    s->total += HDR + len;
    s->unread++;
    s->unsynced = 1;
    return 0;
}

/* ---------------------------------------------------------------- */
/* Read, done, commit                                                 */
/* ---------------------------------------------------------------- */

/* Move the reader to the next record start; 1 when one is ready. */
static int reader_seek(oe_spool *s, uint64_t *at, uint32_t *len)
{
    for (;;) {
        seg *g = &s->segs[s->ri];
        if (s->roff < g->size) {
            if (rb_open(s, g->id) < 0)
                return -1;
            int k = find_record(&s->rb, s->roff, g->size, at, len);
            if (k != 0)
                return k;
            s->roff = g->size; /* damage to the end, counted at open */
        }
        if (s->ri + 1 >= s->nsegs)
            return 0;
        s->ri++;
        s->roff = 0;
    }
}

int oe_spool_read(oe_spool *s, sl_buf *out, uint64_t *id, char *err, size_t errlen)
{
    uint64_t at;
    uint32_t len;
    const uint8_t *p;
    if (s->unread == 0 || s->next - s->base >= RING)
        return 0;
    int k = reader_seek(s, &at, &len);
    if (k <= 0) {
        if (k < 0)
            snprintf(err, errlen, "spool read: %s", strerror(errno));
        return k;
    }
    if (rb_get(&s->rb, at + HDR, len, &p) != 0) {
        snprintf(err, errlen, "spool read: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    out->len = 0;
    if (sl_buf_append(out, p, len) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->roff = at + HDR + len;
    s->unread--;
    *id = s->next++;
    s->ring[*id % RING] = (out_rec){s->segs[s->ri].id, s->roff, 0};
    return 1;
}

void oe_spool_done(oe_spool *s, uint64_t id)
{
    if (id < s->base || id >= s->next)
        return;
    s->ring[id % RING].done = 1;
    while (s->base < s->next && s->ring[s->base % RING].done) {
        out_rec *r = &s->ring[s->base % RING];
        s->cseg = r->seg;
        s->coff = r->end;
        s->base++;
        s->dirty = 1;
    }
}

uint64_t oe_spool_drop_oldest(oe_spool *s)
{
    uint64_t dropped = 0, at, id;
    uint32_t len;
    uint64_t seg_id = s->segs[s->ri].id;
    while (s->unread && s->next - s->base < RING && reader_seek(s, &at, &len) == 1 &&
           s->segs[s->ri].id == seg_id) {
        s->roff = at + HDR + len;
        s->unread--;
        id = s->next++;
        s->ring[id % RING] = (out_rec){seg_id, s->roff, 0};
        oe_spool_done(s, id);
        dropped++;
    }
    s->st.dropped += dropped;
    return dropped;
}

/* Segment 0 is finished: committed past its end and the reader moved on. */
static int first_finished(const oe_spool *s)
{
    const seg *g = &s->segs[0];
    return s->ri > 0 && (s->cseg > g->id || (s->cseg == g->id && s->coff >= g->size));
}

int oe_spool_commit(oe_spool *s, char *err, size_t errlen)
{
    /* All delivered: start a fresh segment so the old one can go (its
     * records are done, so it is not synced first). */
    if (oe_spool_pending(s) == 0 && s->segs[s->nsegs - 1].size > 0) {
        if (new_segment(s, err, errlen) < 0)
            return -1;
        if (s->ri + 2 == s->nsegs) {
            s->ri++;
            s->roff = 0;
        }
    }
    while (s->nsegs > 1 && first_finished(s)) {
        char path[4096];
        s->total -= s->segs[0].size;
        if (seg_path(s, s->segs[0].id, path, sizeof path) == 0)
            unlink(path);
        memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof *s->segs);
        s->nsegs--;
        s->ri--;
        s->dirty = 1;
    }
    if (s->cseg < s->segs[0].id) {
        s->cseg = s->segs[0].id;
        s->coff = 0;
    }
    if (!s->dirty)
        return 0;
    if (write_pos(s, err, errlen) < 0)
        return -1; /* still dirty: the next commit tries again */
    s->dirty = 0;
    return 0;
}

uint64_t oe_spool_unread(const oe_spool *s) { return s->unread; }
uint64_t oe_spool_pending(const oe_spool *s) { return s->unread + (s->next - s->base); }
uint64_t oe_spool_bytes(const oe_spool *s) { return s->total; }
const oe_spool_stats *oe_spool_get_stats(const oe_spool *s) { return &s->st; }

void oe_spool_close(oe_spool *s)
{
    char err[256];
    if (!s)
        return;
    if (s->nsegs && s->wfd >= 0)
        oe_spool_commit(s, err, sizeof err);
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rb.fd >= 0)
        close(s->rb.fd);
    free(s->rb.data);
    sl_buf_free(&s->rec);
    free(s->segs);
    free(s->ring);
    free(s->dir);
    free(s);
}
