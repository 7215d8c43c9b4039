/*
 * Packing tail events into a batch builder.
 *
 * Every event of one file read at one moment shares its time and all of its
 * meta map but the line offset: [time, {source, path, inode, offset: ...},
 * {message: ...}]. Those shared meta pairs are packed once into a scratch
 * builder and copied per line with sl_bb_append_values(), so a line costs a handful of
 * builder calls instead of re-encoding the path.
 */
#ifndef TAIL_PACK_H
#define TAIL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

typedef struct tail_pack {
    sl_builder *meta;   /* loose values: source, path, inode pairs, "offset" */
    int64_t time_ns;    /* the time of the events of one read */
    int invalid_as_bin; /* non-UTF-8 lines: 1 msgpack bin, 0 str as is */
} tail_pack;

/** 0, or -1 when out of memory (tail_pack_free is safe either way). */
int tail_pack_init(tail_pack *k, int invalid_as_bin);
void tail_pack_free(tail_pack *k);

/**
 * Start the events of `path` (inode `ino`) stamped `time_ns`, from component
 * `source`. 0 or -1 (out of memory).
 */
int tail_pack_prefix(tail_pack *k, int64_t time_ns, const char *source, const char *path,
                     uint64_t ino);

/**
 * Append one event: the shared meta, the line's start `offset`, and the line
 * as body.message. 0, or -1 when out of memory (the builder is unchanged).
 */
int tail_pack_line(tail_pack *k, sl_builder *bb, uint64_t offset, const char *p, size_t len);

/** Non-zero when the n bytes are well-formed UTF-8 (RFC 3629). */
int tail_utf8_valid(const char *p, size_t n);

#endif
