/*
 * Packing tail events straight into a batch builder's buffer.
 *
 * Every event of one file read at one moment shares all bytes up to the line
 * offset: [time, {source, path, inode, offset: ...}, {message: ...}]. That
 * prefix is encoded once (with msgpack-c) and copied per line, so a line
 * costs a few memcpy calls instead of a dozen packer callbacks.
 */
#ifndef TAIL_PACK_H
#define TAIL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

typedef struct tail_pack {
    char *prefix;   /* the shared leading bytes of each event */
    size_t prefix_len, prefix_cap;
    int invalid_as_bin; /* non-UTF-8 lines: 1 msgpack bin, 0 str as is */
} tail_pack;

void tail_pack_init(tail_pack *k, int invalid_as_bin);
void tail_pack_free(tail_pack *k);

/**
 * Encode the prefix for events of `path` (inode `ino`) stamped `time_ns`,
 * from component `source`. 0 or -1 (out of memory).
 */
int tail_pack_prefix(tail_pack *k, int64_t time_ns, const char *source, const char *path,
                     uint64_t ino);

/**
 * Append one event: the prefix, the line's start `offset`, and the line as
 * body.message. 0, or -1 when out of memory (the builder is unchanged).
 */
int tail_pack_line(tail_pack *k, sl_batch_builder *bb, uint64_t offset, const char *p,
                   size_t len);

/** Non-zero when the n bytes are well-formed UTF-8 (RFC 3629). */
int tail_utf8_valid(const char *p, size_t n);

#endif
