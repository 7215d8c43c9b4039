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
 * These functions live in the shared library libsluice (pkg-config sluice),
 * which the sluice binary and every plugin link: one implementation in the
 * process, so a builder may pass between the core and a plugin. The readers
 * are stateless and safe from any thread; a builder belongs to one thread at
 * a time.
 */
#ifndef SLUICE_EVENT_H
#define SLUICE_EVENT_H

#include <stddef.h>
#include <stdint.h>

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
 * value can be copied verbatim into a new event with sl_bb_value().
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
 * A batch under construction. Opaque: create it with sl_bb_new() (a source,
 * or an enricher's scratch buffer) or take the one the core hands to
 * process(). Its bytes are always well-formed: every function below writes
 * complete msgpack, and the builder counts the values an open event still
 * needs, so a mistake is an error the core reports, never bytes it misreads.
 *
 * An event is written as
 *
 *   sl_bb_begin(bb, time_ns);          // [timestamp, ...
 *   sl_bb_map(bb, 1);                  //   meta: {"source": "x"}
 *   sl_bb_cstr(bb, "source"); sl_bb_cstr(bb, "x");
 *   sl_bb_map(bb, 2);                  //   body: {...}
 *   ... two key/value pairs ...
 *   sl_bb_end(bb);                     // ]
 *
 * Every function returns 0, or -1 once the builder has failed (out of
 * memory, a value packed where none is expected, an event ended before its
 * meta and body were complete). A failure poisons only the open event:
 * sl_bb_end() then drops it and returns -1, earlier events stay. So a plugin
 * may ignore the pack functions' results and check sl_bb_end()'s.
 *
 * Values may also be packed outside any event, for a scratch buffer that is
 * read back with sl_bb_data() and copied into an event with sl_bb_raw(); a
 * builder holding such loose values is not a batch, and the core refuses it.
 */
typedef struct sl_builder sl_builder;

/** A new, empty builder; NULL when out of memory. */
sl_builder *sl_bb_new(void);

/** Free a builder made with sl_bb_new() (NULL is fine). */
void sl_bb_free(sl_builder *bb);

/** Empty the builder (events, loose values, failure), keep its memory. */
void sl_bb_reset(sl_builder *bb);

/** Events completed with sl_bb_end() (or appended). */
uint32_t sl_bb_count(const sl_builder *bb);

/** Bytes written so far, the open event included. */
size_t sl_bb_size(const sl_builder *bb);

/** Non-zero while an event is begun and not ended. */
int sl_bb_open(const sl_builder *bb);

/**
 * The complete events as a batch (valid until the builder changes). An open
 * event is not part of it.
 */
sl_batch sl_bb_batch(const sl_builder *bb);

/** All bytes written, loose values included (*len gets their size). */
const uint8_t *sl_bb_data(const sl_builder *bb, size_t *len);

/**
 * Start an event at time_ns (nanoseconds since the epoch): the event then
 * needs exactly two values, the meta map and the body map. Fails when an
 * event is already open.
 */
int sl_bb_begin(sl_builder *bb, int64_t time_ns);

/**
 * Finish the open event. Returns 0, or -1 when the event is incomplete, its
 * meta or body is not a map, or a write failed: the event is then dropped.
 */
int sl_bb_end(sl_builder *bb);

/**
 * Start an event at time_ns with the meta of `ev` (read from a batch; pass
 * ev->time_ns to keep its time); then pack the body map and sl_bb_end().
 * What an enricher that builds a new body for each event it reads does.
 */
int sl_bb_begin_from(sl_builder *bb, const sl_event *ev, int64_t time_ns);

/** Drop the open event, if any (the builder is usable again). */
void sl_bb_abort(sl_builder *bb);

/** Scalars. */
int sl_bb_nil(sl_builder *bb);
int sl_bb_bool(sl_builder *bb, int b);
int sl_bb_int(sl_builder *bb, int64_t i);
int sl_bb_uint(sl_builder *bb, uint64_t u);
int sl_bb_double(sl_builder *bb, double d);
/** A string of len bytes (may contain NUL). */
int sl_bb_str(sl_builder *bb, const char *s, size_t len);
/** A NUL-terminated string (NULL packs ""). */
int sl_bb_cstr(sl_builder *bb, const char *s);
/** Binary data. */
int sl_bb_bin(sl_builder *bb, const void *p, size_t len);
/** A timestamp extension (type -1) in its smallest exact form. */
int sl_bb_time(sl_builder *bb, int64_t time_ns);

/** A map of n pairs: the next 2n values are its keys and values. */
int sl_bb_map(sl_builder *bb, uint32_t n);
/** An array of n items: the next n values are its items. */
int sl_bb_array(sl_builder *bb, uint32_t n);

/**
 * Copy a value read from a batch (children included) as one value. `v` must
 * be what a reader function gave (sl_batch_next, sl_iter_next, sl_map_get,
 * sl_read_value): it is copied as it is, not checked again. Bytes from
 * elsewhere go through sl_bb_raw(), which checks them.
 */
int sl_bb_value(sl_builder *bb, const sl_value *v);

/**
 * Copy `len` bytes that hold exactly `nvalues` complete msgpack values (from
 * another builder's sl_bb_data(), say). Checked: -1 when they do not.
 */
int sl_bb_raw(sl_builder *bb, const void *bytes, size_t len, uint32_t nvalues);

/**
 * Copy every value packed into the scratch builder `src` (loose values, no
 * events) as that many values, without reading them again: `src` wrote
 * them whole. -1 when `src` holds an unfinished container or events.
 */
int sl_bb_append_values(sl_builder *bb, const sl_builder *src);

/** Append a complete event as sl_batch_next gave it, unchanged. */
int sl_bb_append_event(sl_builder *bb, const sl_event *ev);

/** What sl_bb_copy_event() does to one body field. */
typedef enum sl_edit_op {
    SL_EDIT_REMOVE = 1, /**< drop the field */
    SL_EDIT_RENAME = 2, /**< keep its value under the name `to` */
} sl_edit_op;

/** One body field edit; `key`/`to` need not be NUL-terminated. */
typedef struct sl_edit {
    const char *key;
    size_t key_len;
    sl_edit_op op;
    const char *to; /**< SL_EDIT_RENAME: the new name */
    size_t to_len;
} sl_edit;

/**
 * Begin a copy of `ev`: its time and meta as they are, its body with the
 * `nedits` edits applied (a field matching several edits gets the first),
 * and room for `extra` more key/value pairs, which the caller packs next.
 * Then sl_bb_end(). Setting a field is "remove it, then pack it as an
 * extra pair". Returns 0, or -1 (nothing is left open).
 */
int sl_bb_copy_event(sl_builder *bb, const sl_event *ev, const sl_edit *edits,
                     size_t nedits, uint32_t extra);

/** A point to roll back to; take it between events. */
typedef struct sl_bb_mark {
    size_t size;
    uint32_t count;
    uint32_t reserved;
} sl_bb_mark;

/** Remember where the builder is (between events). */
sl_bb_mark sl_bb_get_mark(const sl_builder *bb);

/**
 * Forget everything written after `mark` (events, an open event, loose
 * values, a failure). Used to undo a batch's output when process() fails.
 */
void sl_bb_rollback(sl_builder *bb, sl_bb_mark mark);

/** Wall-clock time now, in nanoseconds since the Unix epoch. */
int64_t sl_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif
