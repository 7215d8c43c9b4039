/*
 * Finding and loading plugin shared objects. Every refusal is one line that
 * names the file and the reason: missing file, not a shared object, no
 * descriptor symbol, another ABI major, a newer ABI minor, a truncated
 * descriptor, or a kind that does not match the YAML section.
 */
#ifndef SL_LOADER_H
#define SL_LOADER_H

#include <stddef.h>

#include "sluice/plugin.h"

typedef struct sl_plugin_path {
    char **dirs;
    size_t n;
} sl_plugin_path;

typedef struct sl_loaded {
    void *dl;
    const sl_plugin *p; /* points at desc: never copy an sl_loaded by value */
    char *file;
    /* The plugin's descriptor copied up to its struct_size (and the symbol's
     * size); fields it does not have read as zero. The core reads only this
     * copy, so an older plugin's shorter descriptor is never read past. */
    sl_plugin desc;
} sl_loaded;

/*
 * Search order: `cli` (':'-separated, may be NULL), $SLUICE_PLUGIN_PATH,
 * <dir of the sluice binary>/plugins (the build tree),
 * <dir of the binary>/../lib/sluice/plugins and the compiled-in install dir.
 */
int sl_plugin_path_init(sl_plugin_path *pp, const char *cli);
void sl_plugin_path_free(sl_plugin_path *pp);

/*
 * Load a plugin: from `path` when given (an explicit .so), else by looking
 * for <kind>_<name>.so on the search path. `kind` 0 accepts any kind.
 * Returns 0, or -1 with the reason in err.
 */
int sl_plugin_load(const sl_plugin_path *pp, sl_kind kind, const char *name,
                   const char *path, sl_loaded *out, char *err, size_t errlen);

/* A .so path as users mean it: "ctor.so" is ./ctor.so, never a search of the
 * library path (which dlopen does for a name without '/'). */
const char *sl_plugin_local_path(const char *file, char *buf, size_t len);

/* dlopen + checks of one file. */
int sl_plugin_open(const char *file, sl_kind kind, sl_loaded *out, char *err, size_t errlen);

void sl_plugin_close(sl_loaded *l);

/* Calls fn for every loadable plugin on the path (first file of each name
 * wins, as for loading); files that fail to load are passed with p == NULL
 * and the reason. */
typedef void (*sl_plugin_visit_fn)(const char *file, const sl_plugin *p,
                                   const char *why, void *arg);
void sl_plugin_scan(const sl_plugin_path *pp, sl_plugin_visit_fn fn, void *arg);

#endif
