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
#include "loader.h"
#include "options.h"

#define MIN_SIZE (offsetof(sl_plugin, option_size) + sizeof(uint32_t))

typedef struct report {
    int errors, warnings;
} report;

static void problem(report *r, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(report *r, int is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s: ", is_error ? "error" : "warning");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (is_error)
        r->errors++;
    else
        r->warnings++;
}

/* The name is what users write after `plugin:` and part of the file name. */
static int name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static void check_header(const sl_plugin *d, uint32_t real_size, report *r)
{
    if (d->abi_major != SL_ABI_MAJOR)
        problem(r, 1, "built for ABI major %u, this sluice speaks %u: rebuild it against "
                "this sluice's headers", d->abi_major, SL_ABI_MAJOR);
    else if (d->abi_minor > SL_ABI_MINOR)
        problem(r, 1, "built for ABI %u.%u, newer than this sluice (%u.%u): upgrade sluice",
                d->abi_major, d->abi_minor, SL_ABI_MAJOR, SL_ABI_MINOR);
    if (real_size < MIN_SIZE)
        problem(r, 1, "struct_size %u is smaller than the %zu bytes every ABI 1.x descriptor "
                "has", real_size, MIN_SIZE);
    else if (real_size > sizeof(sl_plugin) && d->abi_minor <= SL_ABI_MINOR)
        problem(r, 0, "struct_size %u is larger than ABI %u.%u's %zu although the plugin claims "
                "minor %u: its extra fields are ignored", real_size, SL_ABI_MAJOR,
                SL_ABI_MINOR, sizeof(sl_plugin), d->abi_minor);
    if (!d->name || !*d->name)
        problem(r, 1, "descriptor has no name");
    else if (!name_ok(d->name))
        problem(r, 1, "name '%s' may only use letters, digits, '_' and '-' (it is written after "
                "`plugin:` and is part of the file name)", d->name);
    if (d->kind < SL_KIND_SOURCE || d->kind > SL_KIND_SINK)
        problem(r, 1, "unknown plugin kind %u (1 source, 2 enricher, 3 sink)", d->kind);
    if (!d->version || !*d->version)
        problem(r, 0, "descriptor has no version string");
}

/* Fields past struct_size are zero in the copy, so "missing" covers both
 * a NULL callback and one the plugin's ABI minor does not have. */
static void check_callbacks(const sl_plugin *d, uint32_t real_size, report *r)
{
    const char *beyond = real_size < sizeof(sl_plugin) ? " (or struct_size ends before it)" : "";
    if (!d->description || !*d->description)
        problem(r, 0, "no description: `plugins describe` will show none");
    if (!d->init)
        problem(r, 1, "no init callback%s", beyond);
    static const char *const work[] = {"", "run", "process", "write"};
    int has[4] = {0, d->run != NULL, d->process != NULL, d->write != NULL};
    if (d->kind >= SL_KIND_SOURCE && d->kind <= SL_KIND_SINK) {
        if (!has[d->kind])
            problem(r, 1, "a %s plugin needs its %s callback%s", sl_kind_name(d->kind),
                    work[d->kind], beyond);
        for (uint32_t k = SL_KIND_SOURCE; k <= SL_KIND_SINK; k++)
            if (k != d->kind && has[k])
                problem(r, 0, "%s callback set on a %s plugin: never called", work[k],
                        sl_kind_name(d->kind));
        if (d->acked && d->kind != SL_KIND_SOURCE)
            problem(r, 0, "acked callback set on a %s plugin: never called",
                    sl_kind_name(d->kind));
        if (d->flush && d->kind != SL_KIND_SINK)
            problem(r, 0, "flush callback set on a %s plugin: never called",
                    sl_kind_name(d->kind));
    }
    if (!d->destroy)
        problem(r, 0, "no destroy callback: whatever init allocated is never freed");
}

/* A default the core would refuse for every user who leaves the option out. */
static const char *bad_default(const sl_option *o)
{
    int64_t i;
    double f;
    int b;
    const char *v = o->default_value;
    switch (o->type) {
    case SL_OPT_INT: return sl_parse_int(v, &i) ? "an integer" : NULL;
    case SL_OPT_BOOL: return sl_parse_bool(v, &b) ? "true or false" : NULL;
    case SL_OPT_DOUBLE: return sl_parse_double(v, &f) ? "a number" : NULL;
    case SL_OPT_SIZE: return sl_parse_size(v, &i) ? "a size like 64KiB" : NULL;
    case SL_OPT_DURATION: return sl_parse_duration_ms(v, &i) ? "a duration like 5s" : NULL;
    default: return NULL;
    }
}

static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, v, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static void check_option(const sl_plugin *d, size_t i, const sl_option *o, report *r)
{
    if (!*o->name) {
        problem(r, 1, "option %zu has an empty name", i);
        return;
    }
    /* Judged as for a component written with `plugin:`, where `path` is free. */
    const sl_component_spec by_name = {.plugin = d->name};
    if (sl_config_reserved_key(&by_name, o->name))
        problem(r, 1, "option '%s' clashes with the component key of that name: users could "
                "never set it", o->name);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(sl_plugin_option(d, j)->name, o->name))
            problem(r, 1, "option '%s' is declared twice", o->name);
    if (o->type < SL_OPT_STRING || o->type > SL_OPT_SECRET) {
        problem(r, 1, "option '%s' has unknown type %d", o->name, (int)o->type);
        return;
    }
    if (o->choices && o->type != SL_OPT_STRING)
        problem(r, 1, "option '%s': choices are only checked for string options", o->name);
    if (o->default_value) {
        const char *want = bad_default(o);
        if (want)
            problem(r, 1, "option '%s': default '%s' is not %s", o->name, o->default_value, want);
        if (o->choices && !in_choices(o->choices, o->default_value))
            problem(r, 1, "option '%s': default '%s' is not one of %s", o->name,
                    o->default_value, o->choices);
        if (o->required)
            problem(r, 0, "option '%s' is required and has a default: the default is never used",
                    o->name);
    }
    if (!o->help || !*o->help)
        problem(r, 0, "option '%s' has no help line", o->name);
}

static void check_options(const sl_plugin *d, report *r)
{
    if (!d->options)
        return;
    if (d->option_size < sizeof(sl_option)) {
        problem(r, 1, "option_size %u is smaller than sl_option (%zu): the option table cannot "
                "be read (fill the descriptor with SL_PLUGIN_HEADER)", d->option_size,
                sizeof(sl_option));
        return;
    }
    for (size_t i = 0; sl_plugin_option(d, i); i++)
        check_option(d, i, sl_plugin_option(d, i), r);
}

/* A file found on the plugin path must be called <kind>_<name>.so. */
static void check_file_name(const char *file, const sl_plugin *d, report *r)
{
    if (!d->name || d->kind < SL_KIND_SOURCE || d->kind > SL_KIND_SINK)
        return;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char want[256];
    snprintf(want, sizeof want, "%s_%s.so", sl_kind_name(d->kind), d->name);
    if (strcmp(base, want))
        problem(r, 0, "file is %s: `plugin: %s` looks for %s on the plugin path (or use "
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
static int final_load(const char *file, sl_kind want, report *r)
{
    sl_loaded l;
    char err[1024];
    if (sl_plugin_open(file, want, &l, err, sizeof err) < 0) {
        problem(r, 1, "the loader refuses it: %s", err);
        return -1;
    }
    printf("\n");
    cli_describe_plugin(&l);
    sl_plugin_close(&l);
    return 0;
}

int cli_plugins_check(const cli *c, sl_kind want)
{
    const char *file = c->args[1];
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
    report r = {0};
    if (sym && sym < real_size)
        problem(&r, 1, "struct_size says %u bytes but the exported object is only %zu: the core "
                "would read past it", real_size, sym);
    check_header(&d, real_size, &r);
    if (want && d.kind != (uint32_t)want)
        problem(&r, 1, "it is a %s plugin, not a %s", sl_kind_name(d.kind), sl_kind_name(want));
    if (real_size >= MIN_SIZE) {
        check_callbacks(&d, real_size, &r);
        check_options(&d, &r);
    }
    check_file_name(file, &d, &r);
    dlclose(dl);
    if (!r.errors)
        final_load(file, want, &r);
    printf("%s: %s (%d error%s, %d warning%s)\n", file, r.errors ? "FAILED" : "OK", r.errors,
           r.errors == 1 ? "" : "s", r.warnings, r.warnings == 1 ? "" : "s");
    return r.errors ? SL_EXIT_INVALID : 0;
}
