/*
 * Checkpoints of the tail source: per file, where reading may resume and
 * how to recognise the file again.
 *
 * On disk, one text line per file after a header:
 *   <dev> <ino> <offset> <fp_len> <fp_hash> <tail_len> <tail_hash> <path>
 * fp_* hash the file's first bytes (a reused inode holding another file
 * fails this check); tail_* hash the bytes just before `offset` (a file
 * rewritten or copy-truncated in place fails this one). Text keeps the file
 * inspectable with cat; the plugin replaces it atomically with
 * host->file_replace (temp, fsync, rename).
 *
 * These functions are not thread-safe; the plugin serialises access.
 */
#ifndef TAIL_CKPT_H
#define TAIL_CKPT_H

#include <stddef.h>
#include <stdint.h>

#define TAIL_FP_MAX 256  /* bytes of a file's start that identify it */
#define TAIL_HASH_MAX 64 /* bytes before an offset that vouch for it */

typedef struct tail_ckpt {
    uint64_t dev, ino;
    uint64_t offset;    /* every line before it was acknowledged */
    uint32_t fp_len;    /* fingerprint: length and hash of the first bytes */
    uint64_t fp_hash;
    uint32_t tail_len;  /* length and hash of the bytes before offset */
    uint64_t tail_hash;
    char *path;         /* where the file was last seen */
    /* in memory only */
    int used;
    int orphan;         /* file dropped: forget the slot once nothing is in flight */
    uint32_t gen;       /* bumped when the file restarts at 0 (truncation) */
    uint32_t inflight;  /* batches emitted and not yet acknowledged */
} tail_ckpt;

/*
 * Slots, plus what keeps every operation O(1) however many files were ever
 * checkpointed (100k entries took 11 s to load when each add looked for a
 * free slot and each find walked the slots): a stack of free slots and an
 * open-addressing index of (dev, ino).
 */
typedef struct tail_ckpts {
    tail_ckpt *v;
    size_t n; /* slots in use or free (used == 0) */
    size_t cap;
    uint32_t *freed;  /* free slots below n, the last freed on top */
    size_t nfreed;    /* (room for cap of them) */
    uint32_t *index;  /* per bucket slot + 1, 0 empty; linear probing */
    size_t buckets;   /* a power of two, at least twice the used slots */
    size_t nused;
    uint64_t probes;  /* buckets looked at by lookups so far (tests) */
} tail_ckpts;

/** 64-bit FNV-1a of n bytes. */
uint64_t tail_hash(const void *p, size_t n);

void tail_ckpts_init(tail_ckpts *c);
void tail_ckpts_free(tail_ckpts *c);

/** Slot of (dev, ino), or -1. O(1) (counted in c->probes). */
long tail_ckpts_find(tail_ckpts *c, uint64_t dev, uint64_t ino);

/**
 * A new slot for (dev, ino, path), fields zero but the identity; reuses a
 * free slot. (dev, ino) must not have a slot yet. Returns its index or -1
 * when out of memory. Indices stay valid; pointers into c->v do not survive
 * this call.
 */
long tail_ckpts_add(tail_ckpts *c, uint64_t dev, uint64_t ino, const char *path);

/** Replace a slot's path. 0 or -1 (out of memory; the old path stays). */
int tail_ckpts_set_path(tail_ckpts *c, size_t i, const char *path);

/** Free slot i for reuse. */
void tail_ckpts_remove(tail_ckpts *c, size_t i);

/**
 * Parse the on-disk text (replacing nothing: slots are added; a second line
 * for a (dev, ino) already there is ignored). O(lines). Returns 0, or -1
 * with "line N: why" in err.
 */
int tail_ckpts_parse(tail_ckpts *c, const char *text, size_t len, char *err, size_t errlen);

/** The on-disk text of every used slot, malloc'd in *out. 0 or -1 (memory). */
int tail_ckpts_format(const tail_ckpts *c, char **out, size_t *len);

/**
 * Read <dir>/<name> into c. *existed tells whether the file was there.
 * Returns 0, or -1 with the reason in err.
 */
int tail_ckpts_load(tail_ckpts *c, const char *dir, const char *name, int *existed,
                    char *err, size_t errlen);

#endif
