/*
 * sluice plugins check FILE.so: load one plugin in isolation and list every
 * problem with it, not only the first one the loader would stop at.
 *
 * The descriptor is read through a zero-filled copy of its first struct_size
 * bytes, so a plugin built for an older ABI minor (a smaller descriptor) is
 * judged on the fields it has and nothing past them is ever read. Only when
 * no error was found does the core's own loader (sl_plugin_open) get the file,
 * and its verdict is the final word.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "descriptor.h"
#include "loader.h"
#include "options.h"


static void print_problem(void *arg, int is_error, const char *msg)
{
    printf("  %s: %s\n", is_error ? "error" : "warning", msg);
}


/* A file found on the plugin path must be called <kind>_<name>.so. */
static void check_file_name(const char *file, const sl_plugin *d, sl_problems *r)
{
    if (!d->name || d->kind < SL_KIND_SOURCE || d->kind > SL_KIND_SINK)
        return;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char want[256];
    snprintf(want, sizeof want, "%s_%s.so", sl_kind_name(d->kind), d->name);
    if (strcmp(base, want))
        sl_problem(r, 0, "file is %s: `plugin: %s` looks for %s on the plugin path (or use "
                "`path:`)", base, d->name, want);
}

/* The size the linker gave the exported object, 0 when unknown. */
static size_t symbol_size(const void *addr)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
        return 0;
    return (size_t)sym->st_size;
}

static void print_summary(const char *file, const sl_plugin *d, uint32_t real_size)
{
    printf("%s\n", file);
    printf("  descriptor: %s %s %s\n", sl_kind_name(d->kind), d->name ? d->name : "(no name)",
           d->version ? d->version : "(no version)");
    printf("  ABI:        %u.%u, descriptor %u bytes (this sluice: ABI %d.%d, %zu bytes)\n",
           d->abi_major, d->abi_minor, real_size, SL_ABI_MAJOR, SL_ABI_MINOR, sizeof(sl_plugin));
}

static int open_failed(const char *file, const char *why)
{
    printf("%s\n  error: %s\n%s: FAILED (1 error)\n", file, why, file);
    return SL_EXIT_INVALID;
}

/* After our checks passed: the loader the engine uses must agree. */
static int final_load(const char *file, sl_kind want, sl_problems *r)
{
    sl_loaded l;
    char err[1024];
    if (sl_plugin_open(file, want, &l, err, sizeof err) < 0) {
        sl_problem(r, 1, "the loader refuses it: %s", err);
        return -1;
    }
    printf("\n");
    cli_describe_plugin(&l);
    sl_plugin_close(&l);
    return 0;
}

int cli_plugins_check(const cli *c, sl_kind want)
{
    char local[4096];
    const char *file = sl_plugin_local_path(c->args[1], local, sizeof local);
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
        return open_failed(file, "not found or not a regular file");
    void *dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *why = dlerror();
        return open_failed(file, why ? why : "dlopen failed");
    }
    const sl_plugin *raw = dlsym(dl, SL_PLUGIN_SYMBOL);
    if (!raw) {
        dlclose(dl);
        return open_failed(file, "no 'sluice_plugin' symbol: not a sluice plugin (export "
                                 "SL_EXPORT const sl_plugin sluice_plugin)");
    }
    size_t sym = symbol_size(raw);
    if (sym && sym < offsetof(sl_plugin, kind)) {
        dlclose(dl);
        return open_failed(file, "the 'sluice_plugin' symbol is too small to be a descriptor");
    }
    uint32_t real_size = raw->struct_size;
    /* Never read past struct_size, nor past the object the linker made. */
    size_t copy = real_size < sizeof(sl_plugin) ? real_size : sizeof(sl_plugin);
    if (sym && sym < copy)
        copy = sym;
    sl_plugin d;
    memset(&d, 0, sizeof d);
    memcpy(&d, raw, copy);
    print_summary(file, &d, real_size);
    sl_problems r = {.fn = print_problem};
    if (sym && sym < real_size)
        sl_problem(&r, 1, "struct_size says %u bytes but the exported object is only %zu: the core "
                "would read past it", real_size, sym);
    sl_descriptor_check(&d, real_size, &r);
    if (want && d.kind != (uint32_t)want)
        sl_problem(&r, 1, "it is a %s plugin, not a %s", sl_kind_name(d.kind), sl_kind_name(want));
    check_file_name(file, &d, &r);
    dlclose(dl);
    if (!r.errors)
        final_load(file, want, &r);
    printf("%s: %s (%d error%s, %d warning%s)\n", file, r.errors ? "FAILED" : "OK", r.errors,
           r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s");
    return r.errors ? SL_EXIT_INVALID : 0;
}
