/*
 * Pipeline YAML -> pipeline spec. Loading checks the shape of the file (known
 * sections and keys, types of the service settings, `plugin`/`path`/`inputs`
 * of each component) and reports every problem with file:line:col. Options of
 * a component are checked later against its plugin's table (options.h), and
 * the graph by graph.h.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "errs.h"
#include "node.h"
#include "sluice/plugin.h"

/* Hard limits that keep a hostile file from exhausting memory or stack. */
#define SL_CONFIG_MAX_NODES 100000 /* after alias expansion */
#define SL_CONFIG_MAX_DEPTH 64

typedef struct sl_service_spec {
    const char *state_dir;       /* default "./state" */
    int64_t queue_max_bytes;     /* per sink input queue; default 8 MiB */
    int64_t shutdown_timeout_ms; /* drain limit on stop; default 10 s */
    sl_log_level log_level;      /* default SL_LOG_INFO */
    int log_json;                /* log_format: json */
    const char *admin_listen;    /* admin: "127.0.0.1:2021"; NULL = no admin endpoint */
    const sl_node *admin_node;   /* for error locations */
    int admin_allow_remote;      /* admin.allow_remote */
    int64_t stuck_after_ms;      /* admin.stuck_after: a sink without progress this
                                    long makes /health not ready; default 60 s */
    const char *admin_token;     /* admin.token: bearer token for /reload and /tap */
    const char **tap_masks;      /* admin.tap_mask: more key words taps mask;
                                    NULL-terminated, owned by the spec */
} sl_service_spec;

typedef struct sl_component_spec {
    const char *name;          /* key in its section */
    const sl_node *name_node;  /* that key, for error locations */
    sl_kind kind;              /* from the section it is in */
    const sl_node *node;       /* the component's mapping */
    const char *plugin;        /* `plugin:` value, or NULL */
    const char *path;          /* `path:` value (explicit .so), or NULL */
    const sl_node *where;      /* node of `plugin:`/`path:` for loader errors */
    const sl_node **inputs;    /* scalar nodes of `inputs:` */
    size_t n_inputs;
    int64_t queue_max_bytes;   /* sinks: `queue_max_bytes:`, 0 = service's */
    const char *dead_letter_path; /* `dead_letter_path:`, NULL = in its state dir */
} sl_component_spec;

typedef struct sl_pipeline_spec {
    char *file;  /* path given to the loader */
    sl_node *root;
    sl_service_spec service;
    sl_component_spec *comps; /* sources, then enrichers, then sinks, */
    size_t n_comps;           /* each in file order */
} sl_pipeline_spec;

/*
 * Keys a component may have besides its plugin's options. `path` is one only
 * for a component without `plugin:`, where it names the .so to load; next to
 * `plugin:` it is an ordinary option (sink_file's output file, say).
 */
int sl_config_reserved_key(const sl_component_spec *c, const char *key);

/* The reserved keys, NULL-terminated, for "did you mean" hints. */
extern const char *const sl_config_reserved_keys[];

/* Split "host:port" ("[::1]:port" for IPv6) with a numeric port 0..65535,
 * as service.admin and `sluice tap/reload --admin` take it. Returns 0 or -1. */
int sl_split_host_port(const char *s, char *host, size_t hostlen, int *port);

/* Load and shape-check a pipeline file. Returns 0, or -1 with errs filled;
 * on -1 *out is freed and zeroed. */
int sl_config_load_file(const char *path, sl_pipeline_spec *out, sl_errs *errs);

/*
 * Like sl_config_load_file, but when the YAML parsed and only shape checks
 * failed, keeps the spec and returns 1 (errors in errs, free the spec as
 * usual) so plugin, option and graph checks can add theirs: that is how
 * `sluice validate` lists every problem at once. -1 as above otherwise.
 */
int sl_config_load_file_keep(const char *path, sl_pipeline_spec *out, sl_errs *errs);

/* Same from memory; `name` stands for the file name in messages. */
int sl_config_load_buffer(const char *data, size_t len, const char *name,
                          sl_pipeline_spec *out, sl_errs *errs);

/* Parse one YAML value (a plugin's LIST default "[a, b]", say) into a node
 * tree the caller frees with sl_node_free. `name` (static) stands for the
 * file in positions. NULL with the reason in errs. */
sl_node *sl_config_parse_value(const char *text, const char *name, sl_errs *errs);

void sl_config_free(sl_pipeline_spec *spec);

#endif
