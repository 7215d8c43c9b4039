/*
 * Batches out, acknowledgements in, checkpoints to disk.
 *
 * A batch holds lines of one file only, so its acknowledgement moves exactly
 * one checkpoint: to the end of its last line. That end is recorded (with a
 * hash of the bytes before it) in the pending FIFO before emit(), because
 * acked() may run on a sink thread before emit() returns. The checkpoint
 * file itself is written every checkpoint_interval by the saver, a ticker
 * thread, and by the source thread at the end of run() and at destroy;
 * never from acked(), which must stay quick. Not by the source thread on
 * its way: backpressure can hold it inside emit() for as long as a sink is
 * slow, and the acknowledgements that come meanwhile must reach the disk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tail.h"

#define LONG_LOG_EVERY 1000

static void note_long(tail_src *s, int status)
{
    uint64_t n;
    if (status == LINE_TRUNCATED) {
        n = ++s->lines_truncated;
        s->host->metric_add(s->m_truncated, 1);
    } else {
        n = ++s->lines_skipped;
        s->host->metric_add(s->m_skipped, 1);
    }
    if (n % LONG_LOG_EVERY == 1)
        s->host->log(s->ctx, SL_LOG_WARN, "%s: line longer than %zu bytes %s (%" PRIu64
                     " so far)", s->bfile->path, s->max_line,
                     status == LINE_TRUNCATED ? "truncated" : "skipped", n);
}

int tail_on_line(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                 int status)
{
    tail_src *s = ud;
    s->lines_read++;
    if (status != LINE_WHOLE)
        note_long(s, status);
    if (status != LINE_SKIPPED && tail_pack_line(&s->pack, s->bb, start, p, len) != 0) {
        /* Out of memory: hand over what we have and try once more. */
        int r = tail_flush(s);
        if (r != 0)
            return r;
        if (tail_pack_line(&s->pack, s->bb, start, p, len) != 0) {
            s->host->log(s->ctx, SL_LOG_ERROR, "out of memory packing a line");
            return -1;
        }
    }
    s->bend = end;
    if (sl_bb_count(s->bb) >= s->batch_max || sl_bb_size(s->bb) >= s->batch_bytes)
        return tail_flush(s);
    return 0;
}

/* Hash of the (up to TAIL_HASH_MAX) bytes before off, read back from f. */
static void hash_before(tfile *f, uint64_t off, uint32_t *len, uint64_t *hash)
{
    unsigned char buf[TAIL_HASH_MAX];
    size_t want = off < TAIL_HASH_MAX ? (size_t)off : TAIL_HASH_MAX;
    ssize_t n = want ? pread(f->fd, buf, want, (off_t)(off - want)) : 0;
    if (n != (ssize_t)want)
        want = 0; /* unreadable: vouch for nothing rather than for garbage */
    *len = (uint32_t)want;
    *hash = tail_hash(buf, want);
}

/* 0 sent (or nothing to send), 1 stopping, -1 error. */
int tail_flush(tail_src *s)
{
    tfile *f = s->bfile;
    if (!f || sl_bb_count(s->bb) == 0)
        return 0; /* lines that were all skipped commit with the next batch */
    tail_inflight e = {.seq = s->next_seq, .slot = f->slot, .gen = f->gen, .end = s->bend};
    hash_before(f, s->bend, &e.tail_len, &e.tail_hash);
    pthread_mutex_lock(&s->mu);
    int pushed = tail_pending_push(&s->pending, &e);
    if (pushed == 0)
        s->ckpts.v[f->slot].inflight++;
    pthread_mutex_unlock(&s->mu);
    if (pushed != 0) {
        s->host->log(s->ctx, SL_LOG_ERROR, "out of memory tracking a batch");
        return -1;
    }
    uint64_t seq = 0;
    int r = s->host->emit(s->ctx, s->bb, &seq); /* leaves the builder empty */
    if (r == SL_OK) {
        if (seq != e.seq)
            s->host->log(s->ctx, SL_LOG_WARN, "emit numbered a batch %" PRIu64 ", expected %"
                         PRIu64, seq, e.seq);
        s->next_seq = seq + 1;
        return 0;
    }
    if (r == SL_STOPPED)
        return 1;
    pthread_mutex_lock(&s->mu);
    tail_pending_drop_back(&s->pending);
    s->ckpts.v[f->slot].inflight--;
    pthread_mutex_unlock(&s->mu);
    s->host->log(s->ctx, SL_LOG_ERROR, "%s: the pipeline rejected a batch", f->path);
    return -1;
}

void tail_acked(void *state, uint64_t seq)
{
    tail_src *s = state;
    tail_inflight e;
    pthread_mutex_lock(&s->mu);
    if (tail_pending_pop(&s->pending, &e) != 0) {
        pthread_mutex_unlock(&s->mu);
        return; /* cannot happen: every numbered batch was pushed first */
    }
    tail_ckpt *k = &s->ckpts.v[e.slot];
    k->inflight--;
    /* A batch read before the file restarted at 0 says nothing of its new
     * content. */
    if (k->gen == e.gen) {
        k->offset = e.end;
        k->tail_len = e.tail_len;
        k->tail_hash = e.tail_hash;
        s->dirty = 1;
    }
    if (k->orphan && k->inflight == 0) {
        tail_ckpts_remove(&s->ckpts, e.slot);
        s->dirty = 1;
    }
    pthread_mutex_unlock(&s->mu);
    (void)seq;
}

/*
 * One thread at a time: the saver while run() runs, the thread that stopped
 * it afterwards. The snapshot is taken under mu, so it is a state acked()
 * and the source thread left consistent; the slow write happens outside it.
 */
int tail_save(tail_src *s)
{
    char *text = NULL;
    size_t len = 0;
    pthread_mutex_lock(&s->mu);
    int dirty = s->dirty;
    int rc = dirty ? tail_ckpts_format(&s->ckpts, &text, &len) : 0;
    if (dirty && rc == 0)
        s->dirty = 0;
    pthread_mutex_unlock(&s->mu);
    if (!dirty)
        return 0;
    char err[512];
    if (rc != 0) {
        snprintf(err, sizeof err, "out of memory");
    } else {
        rc = s->host->file_replace(s->ctx, s->ckpt_path, text, len, err, sizeof err) == SL_OK
                 ? 0 : -1;
        free(text);
    }
    if (rc != 0) {
        pthread_mutex_lock(&s->mu);
        s->dirty = 1;
        pthread_mutex_unlock(&s->mu);
        s->host->log(s->ctx, SL_LOG_ERROR, "saving checkpoints: %s", err);
    }
    return rc;
}

static void save_tick(void *arg)
{
    tail_save(arg);
}

int tail_saver_start(tail_src *s)
{
    char err[256];
    if (tail_ticker_start(&s->saver, s->ckpt_ms, save_tick, s, err, sizeof err) == 0)
        return 0;
    s->host->log(s->ctx, SL_LOG_ERROR, "checkpoint saver: %s", err);
    return -1;
}

void tail_saver_stop(tail_src *s)
{
    tail_ticker_stop(&s->saver);
}

void tail_restart_at_zero(tail_src *s, tfile *f, const char *why)
{
    s->host->log(s->ctx, SL_LOG_WARN, "%s: %s; reading it again from the start", f->path, why);
    s->host->metric_add(s->m_restarted, 1);
    tail_lines_reset(&f->lines, 0);
    f->read_off = 0;
    f->last_len = 0;
    f->fp_len = 0;
    f->fp_hash = tail_hash(NULL, 0);
    f->at_eof = 0;
    pthread_mutex_lock(&s->mu);
    tail_ckpt *k = &s->ckpts.v[f->slot];
    f->gen = ++k->gen;
    k->offset = 0;
    k->tail_len = 0;
    k->tail_hash = tail_hash(NULL, 0);
    k->fp_len = 0;
    k->fp_hash = f->fp_hash;
    s->dirty = 1;
    pthread_mutex_unlock(&s->mu);
}
