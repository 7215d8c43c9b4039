/*
 * sluice plugin descriptor — the one symbol a plugin exports.
 *
 * A plugin is a shared object that exports `const sl_plugin sluice_plugin`.
 * The first six fields are fixed forever; everything after them may only grow
 * at the end. The core reads a field only when `struct_size` covers it, so a
 * plugin built against an older minor version keeps loading in a newer core.
 *
 * Compatibility rule checked by the core when loading:
 *   plugin.abi_major == SL_ABI_MAJOR  and  plugin.abi_minor <= SL_ABI_MINOR
 * A plugin of another major version is refused with a message to rebuild it
 * against these headers. ABI 2.0 (sluice 0.2) changed from 1.0: the batch
 * builder is opaque (no msgpack-c type in these headers), metrics are
 * registered handles, and the host offers dead letters and safe file writes.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major version: bumped only on an incompatible change. */
#define SL_ABI_MAJOR 2
/** ABI minor version: bumped when a field is appended to a public struct. */
#define SL_ABI_MINOR 0

/** Name of the descriptor symbol the core looks up with dlsym(). */
#define SL_PLUGIN_SYMBOL "sluice_plugin"

/** Marks the descriptor as exported even when built with -fvisibility=hidden. */
#define SL_EXPORT __attribute__((visibility("default")))

/** What a plugin does; must match the YAML section it is used in. */
typedef enum sl_kind {
    SL_KIND_SOURCE = 1,   /**< produces events (`sources:`) */
    SL_KIND_ENRICHER = 2, /**< transforms batches (`enrichers:`) */
    SL_KIND_SINK = 3,     /**< delivers events somewhere (`sinks:`) */
} sl_kind;

/** Return codes of plugin callbacks and host functions. */
enum {
    SL_OK = 0,       /**< done */
    SL_ERR = -1,     /**< failed; the error buffer says why */
    SL_PENDING = 1,  /**< sink only: accepted, host->ack() will follow */
    SL_STOPPED = 2,  /**< the pipeline is stopping; give up quietly */
    SL_FATAL = -2,   /**< sink write only: this sink can never go on (its
                          reader is gone, ...). The batch is not
                          acknowledged, the pipeline stops, exit status 3. */
};

/** Type of an option value, checked by the core before init(). */
typedef enum sl_opt_type {
    SL_OPT_STRING = 1,   /**< any scalar, read with opt_str */
    SL_OPT_INT = 2,      /**< integer, read with opt_int */
    SL_OPT_BOOL = 3,     /**< true/false/yes/no/on/off, read with opt_bool */
    SL_OPT_DOUBLE = 4,   /**< number, read with opt_double */
    SL_OPT_SIZE = 5,     /**< bytes: 512, 64KiB, 8MiB, 1GiB (also KB/MB/GB = x1000); opt_int */
    SL_OPT_DURATION = 6, /**< 250ms, 5s, 2m, 1h (a bare number is seconds); opt_int gives ms */
    SL_OPT_LIST = 7,     /**< sequence of scalars (a single scalar is a 1-item list) */
    SL_OPT_MAP = 8,      /**< mapping; walk it with the node accessors */
    SL_OPT_ANY = 9,      /**< any YAML value; walk it with the node accessors */
    SL_OPT_SECRET = 10,  /**< a string the core never prints (tokens, keys);
                              shown as "secret" by describe; read with opt_str */
} sl_opt_type;

/**
 * One entry of a plugin's option table. The table ends with an entry whose
 * `name` is NULL. `choices`, when set, is a '|'-separated list of the only
 * accepted values of a string option ("keep|drop|dead_letter").
 */
typedef struct sl_option {
    const char *name;          /**< key in the component's YAML mapping */
    sl_opt_type type;          /**< expected type */
    const char *default_value; /**< used when absent; NULL = no default.
                                    A LIST default is a YAML flow sequence:
                                    "[a, b]" */
    int required;              /**< non-zero: absent is a config error */
    const char *help;          /**< one line shown by `sluice plugins describe` */
    const char *choices;       /**< optional "a|b|c" for string options */
    /* ---- ABI 2.0 ---- */
    const char *min;           /**< optional lowest value of an INT, SIZE,
                                    DURATION or DOUBLE option, written as in
                                    YAML ("1", "4KiB", "10ms") */
    const char *max;           /**< optional highest value, likewise */
    uint32_t flags;            /**< SL_OPT_F_* */
} sl_option;

/** sl_option.flags: a STRING, SECRET or LIST option may not be empty. */
#define SL_OPT_F_NONEMPTY 1u

struct sl_ctx;  /* opaque: one per component instance, owned by the core */
struct sl_host; /* the host API table, see host.h */

/**
 * The plugin descriptor. Declare it with SL_PLUGIN_HEADER so the fixed fields
 * are filled from the headers you compiled against:
 *
 *   SL_EXPORT const sl_plugin sluice_plugin = {
 *       SL_PLUGIN_HEADER(SL_KIND_SINK, "csv", "1.0.0"),
 *       .description = "...", .options = opts, .init = ..., .write = ...,
 *   };
 *
 * Threading: init() and destroy() run on the main thread. A source's run()
 * runs on the source's own thread. A sink's write() and flush() run on the
 * sink's own thread. An enricher's process() runs on the enricher's own
 * thread (between its bounded input queue and its consumers' queues), never
 * concurrently for one instance. A source's acked() may run on any thread.
 */
typedef struct sl_plugin {
    /* ---- fixed forever ---- */
    uint16_t abi_major;   /**< SL_ABI_MAJOR at build time */
    uint16_t abi_minor;   /**< SL_ABI_MINOR at build time */
    uint32_t struct_size; /**< sizeof(sl_plugin) at build time */
    uint32_t kind;        /**< an sl_kind */
    const char *name;     /**< plugin name, as written after `plugin:` */
    const char *version;  /**< plugin's own version string */

    /* ---- ABI 1.0 ---- */
    const char *description;  /**< one paragraph for `plugins describe` */
    const sl_option *options; /**< option table, NULL-name terminated; may be NULL */
    uint32_t option_size;     /**< sizeof(sl_option) at build time */

    /**
     * Create an instance. Read options through `host`, keep `ctx` for later
     * host calls, store your state in *state. Return SL_OK or SL_ERR with a
     * message in err (the core adds the component name).
     */
    int (*init)(struct sl_ctx *ctx, const struct sl_host *host, void **state,
                char *err, size_t errlen);

    /**
     * Source: produce events until the input ends or host->stopping() is true,
     * then return SL_OK. Emit with host->emit(). Return SL_ERR on a fatal error.
     * Must return within ~200 ms of stopping() becoming true.
     */
    int (*run)(void *state);

    /**
     * Source, optional: every batch emit() took is acknowledged exactly once,
     * in emit order, after every sink downstream acknowledged it (or after
     * enrichers filtered all of its events out). `seq` is the number emit()
     * gave the batch: 1 for the first batch taken, then 2, 3, ... with no
     * gaps. It may run on any thread, even on the source's own thread inside
     * emit() before emit() returns, so record what a batch covers (e.g. its
     * end offset) before emitting it. Keep it quick; it must not block on the
     * source thread. A batch that could not be delivered at teardown is never
     * acknowledged, and then neither is any later one.
     */
    void (*acked)(void *state, uint64_t seq);

    /**
     * Enricher: read `in`, write the resulting events into `out` (may be none,
     * may be more). Return SL_OK or SL_ERR (the batch is then counted as failed
     * and passed on unchanged, so nothing is lost silently). Returning SL_OK
     * with an event still open (sl_bb_end forgotten) or with loose values in
     * `out` counts as SL_ERR, with the reason logged.
     */
    int (*process)(void *state, const sl_batch *in, sl_builder *out,
                   char *err, size_t errlen);

    /**
     * Sink: deliver `batch`. Return SL_OK when done (the core acknowledges),
     * SL_PENDING to keep the batch and call host->ack(ctx, ticket) later from
     * any thread (the batch stays valid until then), SL_ERR to have the core
     * retry the same batch after a backoff (100 ms doubling to 5 s), or
     * SL_FATAL when retrying can never help: the pipeline then stops.
     */
    int (*write)(void *state, const sl_batch *batch, uint64_t ticket,
                 char *err, size_t errlen);

    /**
     * Sink, optional: called when the input queue runs empty and at stop.
     * At stop it is called before the core waits for the sink's pending
     * tickets, so a sink that acknowledges from flush() is not stalled.
     * Return SL_OK. At stop (host->stopping() is true), return SL_PENDING
     * when the sink keeps events it has not delivered for its next run (a
     * disk spool): the stop is still clean, but `run --once` then exits 4,
     * because a backfill that leaves events behind has not finished.
     */
    int (*flush)(void *state);

    /** Release the instance. After stop, before unload. May be NULL. */
    void (*destroy)(void *state);

    /**
     * Optional: judge the component's options beyond what the option table
     * says (a list of HTTP statuses, a URL's scheme), without side effects:
     * no files, no connections, no threads. `sluice validate` and every
     * start call it after the table's checks; return SL_OK, or SL_ERR with
     * the reason in err (reported at the component, and validate fails).
     * Read options through `host` with `ctx` as in init().
     */
    int (*check)(struct sl_ctx *ctx, const struct sl_host *host, char *err, size_t errlen);
} sl_plugin;

/** Fills the fixed fields of a descriptor for the headers in use. */
#define SL_PLUGIN_HEADER(kind_, name_, version_)                    \
    .abi_major = SL_ABI_MAJOR, .abi_minor = SL_ABI_MINOR,           \
    .struct_size = (uint32_t)sizeof(sl_plugin), .kind = (kind_),    \
    .name = (name_), .version = (version_),                         \
    .option_size = (uint32_t)sizeof(sl_option)

/** Name of a kind ("source", "enricher", "sink"), or "unknown". */
static inline const char *sl_kind_name(uint32_t kind)
{
    switch (kind) {
    case SL_KIND_SOURCE: return "source";
    case SL_KIND_ENRICHER: return "enricher";
    case SL_KIND_SINK: return "sink";
    default: return "unknown";
    }
}

#ifdef __cplusplus
}
#endif
#endif
