#include "loader.h"
#include "descriptor.h"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLUICE_PLUGIN_INSTALL_DIR
#define SLUICE_PLUGIN_INSTALL_DIR "/usr/local/lib/sluice/plugins"
#endif


static int path_add(sl_plugin_path *pp, const char *dir, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < pp->n; i++)
        if (strlen(pp->dirs[i]) == len && memcmp(pp->dirs[i], dir, len) == 0)
            return 0;
    char **nd = realloc(pp->dirs, (pp->n + 1) * sizeof *nd);
    if (!nd)
        return -1;
    pp->dirs = nd;
    if (!(pp->dirs[pp->n] = strndup(dir, len)))
        return -1;
    pp->n++;
    return 0;
}

static int path_add_list(sl_plugin_path *pp, const char *list)
{
    while (list && *list) {
        const char *colon = strchr(list, ':');
        size_t len = colon ? (size_t)(colon - list) : strlen(list);
        if (path_add(pp, list, len) < 0)
            return -1;
        list = colon ? colon + 1 : NULL;
    }
    return 0;
}

int sl_plugin_path_init(sl_plugin_path *pp, const char *cli)
{
    *pp = (sl_plugin_path){0};
    if (path_add_list(pp, cli) < 0 || path_add_list(pp, getenv("SLUICE_PLUGIN_PATH")) < 0)
        return -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *dir = dirname(exe);
        char buf[PATH_MAX + 32];
        snprintf(buf, sizeof buf, "%s/plugins", dir);
        if (path_add(pp, buf, strlen(buf)) < 0)
            return -1;
        snprintf(buf, sizeof buf, "%s/../lib/sluice/plugins", dir);
        if (path_add(pp, buf, strlen(buf)) < 0)
            return -1;
    }
    return path_add_list(pp, SLUICE_PLUGIN_INSTALL_DIR);
}

void sl_plugin_path_free(sl_plugin_path *pp)
{
    for (size_t i = 0; i < pp->n; i++)
        free(pp->dirs[i]);
    free(pp->dirs);
    *pp = (sl_plugin_path){0};
}

typedef struct first_error {
    char *buf;
    size_t len;
    int have;
} first_error;

static void keep_first(void *arg, int is_error, const char *msg)
{
    first_error *f = arg;
    if (is_error && !f->have) {
        snprintf(f->buf, f->len, "%s", msg);
        f->have = 1;
    }
}

/* Checks of a descriptor; a non-NULL return is the reason for refusing it.
 * The same checks as `sluice plugins check` (descriptor.c): errors refuse. */
static const char *check_descriptor(const sl_plugin *p, sl_kind kind, char *buf, size_t len)
{
    first_error f = {buf, len, 0};
    sl_problems r = {.fn = keep_first, .arg = &f};
    if (sl_descriptor_check(p, p->struct_size, &r) > 0)
        return buf;
    if (kind && p->kind != (uint32_t)kind) {
        snprintf(buf, len, "plugin '%s' is a %s, but it is used as a %s", p->name,
                 sl_kind_name(p->kind), sl_kind_name(kind));
        return buf;
    }
    return NULL;
}

/*
 * Copy the descriptor, reading no further than it says it reaches nor than
 * the symbol's size in the ELF table (when known): a plugin built for an
 * older ABI minor has a shorter struct, and what follows it is not ours.
 */
static int copy_descriptor(const sl_plugin *sym, sl_plugin *desc)
{
    size_t limit = sizeof *desc;
    Dl_info info;
    const ElfW(Sym) *es = NULL;
    if (dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) && es && es->st_size)
        limit = es->st_size < limit ? es->st_size : limit;
    if (limit < offsetof(sl_plugin, struct_size) + sizeof sym->struct_size)
        return -1;
    size_t n = sym->struct_size < limit ? sym->struct_size : limit;
    memset(desc, 0, sizeof *desc);
    memcpy(desc, sym, n);
    desc->struct_size = (uint32_t)n < sym->struct_size ? (uint32_t)n : sym->struct_size;
    return 0;
}

const char *sl_plugin_local_path(const char *file, char *buf, size_t len)
{
    if (strchr(file, '/'))
        return file;
    snprintf(buf, len, "./%s", file);
    return buf;
}

int sl_plugin_open(const char *file, sl_kind kind, sl_loaded *out, char *err, size_t errlen)
{
    char local[4096];
    /* dlopen would look for a bare name on the library path, while stat
     * looks in the working directory: read it as written, a file here. */
    file = sl_plugin_local_path(file, local, sizeof local);
    *out = (sl_loaded){0};
    struct stat st;
    if (stat(file, &st) != 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", file);
        return -1;
    }
    void *dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        /* dlerror() already names the file: keep its text as is. */
        const char *why = dlerror();
        snprintf(err, errlen, "%s", why ? why : "dlopen failed");
        return -1;
    }
    dlerror();
    const sl_plugin *sym = dlsym(dl, SL_PLUGIN_SYMBOL);
    if (!sym) {
        snprintf(err, errlen, "%s: no '%s' symbol; not a sluice plugin (export "
                 "SL_EXPORT const sl_plugin sluice_plugin)", file, SL_PLUGIN_SYMBOL);
        dlclose(dl);
        return -1;
    }
    if (copy_descriptor(sym, &out->desc) < 0) {
        snprintf(err, errlen, "%s: '%s' is too small to be a plugin descriptor", file,
                 SL_PLUGIN_SYMBOL);
        dlclose(dl);
        return -1;
    }
    const sl_plugin *p = &out->desc;
    char why_buf[1024];
    const char *why = check_descriptor(p, kind, why_buf, sizeof why_buf);
    if (why) {
        snprintf(err, errlen, "%s: %s", file, why);
        dlclose(dl);
        return -1;
    }
    out->dl = dl;
    out->p = &out->desc;
    if (!(out->file = strdup(file))) {
        dlclose(dl);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void sl_plugin_close(sl_loaded *l)
{
    if (l->dl)
        dlclose(l->dl);
    free(l->file);
    *l = (sl_loaded){0};
}

int sl_plugin_load(const sl_plugin_path *pp, sl_kind kind, const char *name,
                   const char *path, sl_loaded *out, char *err, size_t errlen)
{
    if (path)
        return sl_plugin_open(path, kind, out, err, errlen);
    for (const char *c = name; *c; c++) {
        if (*c == '/' || *c == '.') {
            snprintf(err, errlen, "plugin name '%s' may not contain '/' or '.'; use path: "
                     "for a file", name);
            return -1;
        }
    }
    char file[PATH_MAX];
    for (size_t i = 0; i < pp->n; i++) {
        snprintf(file, sizeof file, "%s/%s_%s.so", pp->dirs[i], sl_kind_name(kind), name);
        if (access(file, F_OK) == 0)
            return sl_plugin_open(file, kind, out, err, errlen);
    }
    int n = snprintf(err, errlen, "unknown %s plugin '%s': no %s_%s.so in", sl_kind_name(kind),
                     name, sl_kind_name(kind), name);
    for (size_t i = 0; i < pp->n && n > 0 && (size_t)n < errlen; i++)
        n += snprintf(err + n, errlen - (size_t)n, "%s %s", i ? "," : "", pp->dirs[i]);
    if (n > 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n, " (see `sluice plugins list`, --plugin-path, "
                 "SLUICE_PLUGIN_PATH)");
    return -1;
}

static int seen_name(char **seen, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(seen[i], name) == 0)
            return 1;
    return 0;
}

void sl_plugin_scan(const sl_plugin_path *pp, sl_plugin_visit_fn fn, void *arg)
{
    char **seen = NULL;
    size_t nseen = 0;
    for (size_t i = 0; i < pp->n; i++) {
        struct dirent **list;
        int cnt = scandir(pp->dirs[i], &list, NULL, alphasort);
        if (cnt < 0)
            continue;
        for (int j = 0; j < cnt; j++) {
            const char *nm = list[j]->d_name;
            size_t len = strlen(nm);
            if (len > 3 && strcmp(nm + len - 3, ".so") == 0 && !seen_name(seen, nseen, nm)) {
                char file[PATH_MAX], err[512];
                snprintf(file, sizeof file, "%s/%s", pp->dirs[i], nm);
                sl_loaded l;
                if (sl_plugin_open(file, 0, &l, err, sizeof err) == 0) {
                    fn(file, l.p, NULL, arg);
                    sl_plugin_close(&l);
                } else {
                    fn(file, NULL, err, arg);
                }
                char **ns = realloc(seen, (nseen + 1) * sizeof *ns);
                if (ns) {
                    seen = ns;
                    if ((seen[nseen] = strdup(nm)))
                        nseen++;
                }
            }
            free(list[j]);
        }
        free(list);
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
}
