/*
 * sluice host API — what the core offers a plugin.
 *
 * init() receives a `const sl_host *`; keep it with your ctx. The table only
 * grows at the end: check `host->struct_size` before using a function added
 * after the ABI minor you were built for (SL_HOST_HAS below does that).
 *
 * Every function is safe to call from any thread unless noted.
 */
#ifndef SLUICE_HOST_H
#define SLUICE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"
#include "sluice/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_ctx sl_ctx;   /**< one component instance; owned by the core */
typedef struct sl_metric sl_metric; /**< a registered counter or gauge */
typedef struct sl_node sl_node; /**< a node of the YAML configuration */

/** Log levels, most severe first. */
typedef enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN = 1,
    SL_LOG_INFO = 2,
    SL_LOG_DEBUG = 3,
} sl_log_level;

/** Kinds of metric. */
typedef enum sl_metric_kind {
    SL_METRIC_COUNTER = 1, /**< only grows; exported as sluice_<name>_total */
    SL_METRIC_GAUGE = 2,   /**< a level; exported as sluice_<name> */
} sl_metric_kind;

/** Flags of host->file_open(). */
#define SL_FILE_APPEND 1u  /**< append (else truncate) */
#define SL_FILE_MKDIRS 2u  /**< create missing parent directories (0700) */

/** Kinds of configuration node. */
typedef enum sl_node_kind {
    SL_NODE_NONE = 0, /**< NULL node */
    SL_NODE_SCALAR = 1,
    SL_NODE_SEQ = 2,
    SL_NODE_MAP = 3,
} sl_node_kind;

typedef struct sl_host {
    uint32_t struct_size; /**< sizeof(sl_host) of the running core */
    uint16_t abi_major;   /**< SL_ABI_MAJOR of the running core */
    uint16_t abi_minor;   /**< SL_ABI_MINOR of the running core */

    /* ---- identity and lifecycle ---- */

    /** Log a line, prefixed with the component name. Never pass secrets. */
    void (*log)(sl_ctx *ctx, sl_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /** The component's name in the pipeline file. */
    const char *(*name)(sl_ctx *ctx);
    /**
     * The component's private state directory, <service.state_dir>/<name>,
     * created on first call. NULL (and an error logged) when it cannot be made.
     */
    const char *(*state_dir)(sl_ctx *ctx);
    /** Non-zero once the pipeline is stopping; sources should return. */
    int (*stopping)(sl_ctx *ctx);
    /** Non-zero in `--once` mode: sources read what exists, then return. */
    int (*once)(sl_ctx *ctx);
    /**
     * While stopping: milliseconds left until the core's drain deadline
     * (service.shutdown_timeout after the stop began), at least 0. -1 when
     * the pipeline is not stopping. A sink's flush() at stop uses it to
     * bound its own waiting.
     */
    int64_t (*drain_left_ms)(sl_ctx *ctx);

    /* ---- options (validated and defaulted by the core before init) ---- */

    /** Scalar text of an option, NULL when absent and without default. */
    const char *(*opt_str)(sl_ctx *ctx, const char *name);
    /** INT, SIZE (bytes) or DURATION (milliseconds) option; 0 when absent. */
    int64_t (*opt_int)(sl_ctx *ctx, const char *name);
    /** DOUBLE option; 0 when absent. */
    double (*opt_double)(sl_ctx *ctx, const char *name);
    /** BOOL option; 0 when absent. */
    int (*opt_bool)(sl_ctx *ctx, const char *name);
    /** Non-zero when the user wrote the option (as opposed to a default). */
    int (*opt_isset)(sl_ctx *ctx, const char *name);
    /** The option's node (LIST, MAP, ANY); NULL when absent. */
    const sl_node *(*opt_node)(sl_ctx *ctx, const char *name);

    /* ---- configuration nodes (read-only, live as long as the ctx) ---- */

    /** Kind of node (SL_NODE_NONE for NULL). */
    sl_node_kind (*node_kind)(const sl_node *n);
    /** Text of a scalar after ${VAR} interpolation; NULL for other kinds. */
    const char *(*node_str)(const sl_node *n);
    /** Non-zero when a scalar was quoted in YAML ('x' or "x"). */
    int (*node_quoted)(const sl_node *n);
    /** Items of a sequence, pairs of a map; 1 for a scalar, 0 for NULL. */
    size_t (*node_len)(const sl_node *n);
    /** Item i of a sequence, value i of a map; a scalar is its own item 0. */
    const sl_node *(*node_at)(const sl_node *n, size_t i);
    /** Key i of a map; NULL for other kinds or i out of range. */
    const char *(*node_key)(const sl_node *n, size_t i);
    /** Value of `key` in a map, NULL when absent. */
    const sl_node *(*node_get)(const sl_node *n, const char *key);
    /** Writes "file:line:col" of the node into buf, for error messages. */
    void (*node_where)(const sl_node *n, char *buf, size_t len);

    /* ---- data flow ---- */

    /**
     * Source: hand the builder's events to the pipeline. The core takes the
     * bytes and leaves `bb` empty and reusable. Blocks while the queues
     * downstream are full (backpressure). *seq (may be NULL) receives the
     * batch's sequence number (1, 2, 3, ... per source), later passed to the
     * plugin's acked() — possibly before emit returns. An empty builder is
     * not a batch: SL_OK with *seq = 0. Returns SL_OK; SL_ERR when the bytes
     * are not well-formed events (rejected, logged, counted; no number
     * used); SL_STOPPED when the pipeline is being torn down (the batch may
     * have been taken only in part and will never be acknowledged).
     */
    int (*emit)(sl_ctx *ctx, sl_builder *bb, uint64_t *seq);

    /** Sink: acknowledge a batch for which write() returned SL_PENDING. */
    void (*ack)(sl_ctx *ctx, uint64_t ticket);

    /* ---- metrics ---- */

    /**
     * Register the component's counter or gauge `name` (letters, digits and
     * '_'), at init. Registering a name again returns the same handle.
     * Exported by /metrics as sluice_<name>_total{component="<name>"} (a
     * counter) or sluice_<name>{component="<name>"} (a gauge). NULL, with
     * the reason logged, for a bad name or a kind that differs from the
     * first registration; metric_add/metric_set ignore a NULL handle.
     */
    sl_metric *(*metric)(sl_ctx *ctx, const char *name, sl_metric_kind kind);
    /** Add to a counter. Lock-free: fine once per event. */
    void (*metric_add)(sl_metric *m, uint64_t delta);
    /** Set a gauge. Lock-free. */
    void (*metric_set)(sl_metric *m, int64_t value);

    /* ---- services ---- */

    /**
     * Set `ev` aside with `reason` (any bytes; escaped): one JSON line
     * {"time","component","reason","event":{"time","meta","body"}} appended
     * to dead-letters.jsonl in the component's state directory, which turns
     * over to dead-letters.jsonl.1 at 64 MiB. Counted as
     * sluice_dead_letters_total. Returns SL_OK or SL_ERR (logged).
     */
    int (*dead_letter)(sl_ctx *ctx, const sl_event *ev, const char *reason);
    /**
     * Replace the file at `path` with `len` bytes atomically and durably:
     * a temporary file (mode 0600, never through a symlink) is written,
     * fsynced and renamed over path, and the directory is fsynced. A crash
     * leaves the old or the new content, never a mix. SL_OK or SL_ERR.
     */
    int (*file_replace)(sl_ctx *ctx, const char *path, const void *data,
                        size_t len, char *err, size_t errlen);
    /**
     * Open `path` for writing (SL_FILE_* flags, `mode` for a new file),
     * close-on-exec, never through a symlink in its last component. The fd,
     * or -1 with the reason in err.
     */
    int (*file_open)(sl_ctx *ctx, const char *path, unsigned flags, unsigned mode,
                     char *err, size_t errlen);
    /**
     * Write all `len` bytes to fd (retrying short writes and EINTR), then
     * fdatasync it when `sync` is non-zero. SL_OK or SL_ERR.
     */
    int (*file_write)(sl_ctx *ctx, int fd, const void *data, size_t len, int sync,
                      char *err, size_t errlen);
} sl_host;

/** Non-zero when `host` is new enough to have member `fn`. */
#define SL_HOST_HAS(host, fn) \
    ((host)->struct_size >= offsetof(sl_host, fn) + sizeof((host)->fn))

#ifdef __cplusplus
}
#endif
#endif
