/*
 * sluice events — read and build batches of msgpack events without building
 * an object tree.
 *
 * An event is one msgpack value:  [timestamp, meta, body]
 *   timestamp  msgpack timestamp extension (type -1), nanosecond precision
 *   meta       map the core and sources use (source, path, offset, ...)
 *   body       map of the user's fields
 *
 * A batch is the concatenation of `count` encoded events in one buffer.
 * Reading is zero-copy: sl_value points into the batch buffer and stays valid
 * as long as the batch does. Every reader checks bounds, so a malformed buffer
 * yields an error, never an out-of-bounds read.
 *
 * These helpers live in the static library `sluice-event` (pkg-config sluice);
 * they are stateless and safe to call from any thread.
 */
#ifndef SLUICE_EVENT_H
#define SLUICE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A read-only batch as handed to enrichers and sinks. */
typedef struct sl_batch {
    const uint8_t *data; /**< `len` bytes of concatenated events */
    size_t len;          /**< size of data in bytes */
    uint32_t count;      /**< number of events in data */
} sl_batch;

/** msgpack type of a value read from a buffer. */
typedef enum sl_type {
    SL_NIL = 0, SL_BOOL, SL_UINT, SL_INT, SL_FLOAT, SL_STR, SL_BIN,
    SL_ARRAY, SL_MAP, SL_EXT,
} sl_type;

/**
 * One decoded value. Scalars are decoded; strings, binaries and extension
 * payloads point into the buffer (not NUL-terminated, may contain NUL).
 * Arrays and maps carry their item count; walk them with sl_iter.
 * `raw`/`raw_len` always span the complete encoding, children included, so a
 * value can be copied verbatim into a new event with sl_pack_value().
 */
typedef struct sl_value {
    sl_type type;
    union {
        int b;        /**< SL_BOOL */
        uint64_t u;   /**< SL_UINT (non-negative integers) */
        int64_t i;    /**< SL_INT (negative integers) */
        double f;     /**< SL_FLOAT (float 32 and 64) */
        uint32_t n;   /**< SL_ARRAY: items; SL_MAP: key/value pairs */
        struct {
            const char *ptr;
            uint32_t len;
        } s;          /**< SL_STR, SL_BIN, SL_EXT payload */
    } v;
    int8_t ext_type;    /**< SL_EXT only */
    const uint8_t *raw; /**< first byte of the encoding */
    size_t raw_len;     /**< length of the whole encoding */
} sl_value;

/**
 * Read one complete value at *p (not past end), advance *p past it.
 * Returns 0, or -1 when the bytes are truncated or not valid msgpack.
 */
int sl_read_value(const uint8_t **p, const uint8_t *end, sl_value *out);

/** Iterator over the items of an SL_ARRAY or the pairs of an SL_MAP. */
typedef struct sl_iter {
    const uint8_t *p, *end;
    uint32_t left;
    int is_map;
} sl_iter;

/** Start iterating `container` (an SL_ARRAY or SL_MAP). Returns 0 or -1. */
int sl_iter_init(sl_iter *it, const sl_value *container);

/**
 * Next item. For a map, *key gets the key and *val the value; for an array
 * key may be NULL. Returns 1 when an item was read, 0 at the end, -1 on
 * malformed bytes.
 */
int sl_iter_next(sl_iter *it, sl_value *key, sl_value *val);

/**
 * Look up a string key in an SL_MAP value (first match). Returns 1 found
 * (*out set), 0 absent or `map` not a map, -1 malformed.
 */
int sl_map_get(const sl_value *map, const char *key, size_t keylen, sl_value *out);

/** Same as sl_map_get with a NUL-terminated key. */
int sl_map_gets(const sl_value *map, const char *key, sl_value *out);

/** Non-zero when v is a string (or bin) equal to the NUL-terminated s. */
int sl_value_eq(const sl_value *v, const char *s);

/**
 * Integer value of v: SL_UINT (<= INT64_MAX), SL_INT, a SL_FLOAT with no
 * fraction, or a SL_STR holding a decimal integer. Returns 0 or -1.
 */
int sl_value_to_int(const sl_value *v, int64_t *out);

/** One event read from a batch; the values point into the batch. */
typedef struct sl_event {
    int64_t time_ns;    /**< nanoseconds since the Unix epoch */
    sl_value meta;      /**< SL_MAP */
    sl_value body;      /**< SL_MAP */
    const uint8_t *raw; /**< the whole encoded event */
    size_t raw_len;
} sl_event;

/** Iterator over the events of a batch. */
typedef struct sl_batch_iter {
    const uint8_t *p, *end;
    uint32_t left;
} sl_batch_iter;

/** Start iterating the events of `b`. */
void sl_batch_iter_init(sl_batch_iter *it, const sl_batch *b);

/**
 * Next event. Returns 1 when *ev was filled, 0 at the end of the batch,
 * -1 when the bytes are not a well-formed event (see sl_event_parse).
 */
int sl_batch_next(sl_batch_iter *it, sl_event *ev);

/**
 * Parse one encoded event at *p, advance *p. Well-formed means: an array of
 * 3 with a timestamp extension (type -1; 4, 8 or 12 bytes) or an integer of
 * nanoseconds, then a map, then a map. Returns 0 or -1.
 */
int sl_event_parse(const uint8_t **p, const uint8_t *end, sl_event *ev);

/**
 * Check that a whole batch is `count` well-formed events filling exactly `len`
 * bytes. Returns 0, or -1 with the reason in err.
 */
int sl_batch_validate(const sl_batch *b, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Building batches                                                    */
/* ------------------------------------------------------------------ */

/**
 * A growable batch under construction. Pack with msgpack-c's packer `pk`
 * (msgpack_pack_map, msgpack_pack_str_with_body, ...) or the sl_pack_*
 * helpers. The layout of this struct is part of the ABI and never changes.
 */
typedef struct sl_batch_builder {
    msgpack_sbuffer sbuf; /**< the bytes; data is malloc'd */
    msgpack_packer pk;    /**< packer writing into sbuf */
    uint32_t count;       /**< events completed with sl_bb_end */
    uint32_t reserved;
} sl_batch_builder;

/** Initialise an empty builder. */
void sl_bb_init(sl_batch_builder *bb);

/** Empty the builder, keep its memory for reuse. */
void sl_bb_reset(sl_batch_builder *bb);

/** Free the builder's memory. */
void sl_bb_free(sl_batch_builder *bb);

/**
 * Start an event: packs the 3-array header and the timestamp. Then pack the
 * meta map (msgpack_pack_map(&bb->pk, n) and n pairs), then the body map,
 * then call sl_bb_end().
 */
void sl_bb_begin(sl_batch_builder *bb, int64_t time_ns);

/** Finish the event started with sl_bb_begin(). */
void sl_bb_end(sl_batch_builder *bb);

/** Append a complete, already-encoded event (e.g. one read from a batch). */
void sl_bb_append_event(sl_batch_builder *bb, const sl_event *ev);

/** Current batch view of the builder's contents (valid until it changes). */
sl_batch sl_bb_batch(const sl_batch_builder *bb);

/** Pack a string of `len` bytes. */
int sl_pack_str(msgpack_packer *pk, const char *s, size_t len);

/** Pack a NUL-terminated string. */
int sl_pack_cstr(msgpack_packer *pk, const char *s);

/** Copy an encoded value verbatim (children included). */
int sl_pack_value(msgpack_packer *pk, const sl_value *v);

/** Pack a timestamp extension for time_ns (the smallest exact form). */
int sl_pack_time(msgpack_packer *pk, int64_t time_ns);

/** Wall-clock time now, in nanoseconds since the Unix epoch. */
int64_t sl_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif
