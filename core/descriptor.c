#include "descriptor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "options.h"

void sl_problem(sl_problems *r, int is_error, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (is_error)
        r->errors++;
    else
        r->warnings++;
    if (r->fn)
        r->fn(r->arg, is_error, msg);
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

static void check_header(const sl_plugin *d, uint32_t real_size, sl_problems *r)
{
    if (d->abi_major != SL_ABI_MAJOR)
        sl_problem(r, 1, "built for plugin ABI %u.x, this sluice speaks ABI %u: rebuild it "
                   "against this sluice's headers (pkg-config sluice)%s", d->abi_major,
                   SL_ABI_MAJOR, d->abi_major < SL_ABI_MAJOR ? "; ABI 2 made the batch builder "
                   "opaque and metrics registered handles, see the plugin guide" : "");
    else if (d->abi_minor > SL_ABI_MINOR)
        sl_problem(r, 1, "built for ABI %u.%u, newer than this sluice (%u.%u): upgrade sluice",
                d->abi_major, d->abi_minor, SL_ABI_MAJOR, SL_ABI_MINOR);
    if (real_size < SL_PLUGIN_MIN_SIZE)
        sl_problem(r, 1, "struct_size %u is smaller than the %zu bytes every descriptor "
                "has", real_size, SL_PLUGIN_MIN_SIZE);
    else if (real_size > sizeof(sl_plugin) && d->abi_minor <= SL_ABI_MINOR)
        sl_problem(r, 0, "struct_size %u is larger than ABI %u.%u's %zu although the plugin claims "
                "minor %u: its extra fields are ignored", real_size, SL_ABI_MAJOR,
                SL_ABI_MINOR, sizeof(sl_plugin), d->abi_minor);
    if (!d->name || !*d->name)
        sl_problem(r, 1, "descriptor has no name");
    else if (!name_ok(d->name))
        sl_problem(r, 1, "name '%s' may only use letters, digits, '_' and '-' (it is written after "
                "`plugin:` and is part of the file name)", d->name);
    if (d->kind < SL_KIND_SOURCE || d->kind > SL_KIND_SINK)
        sl_problem(r, 1, "unknown plugin kind %u (1 source, 2 enricher, 3 sink)", d->kind);
    if (!d->version || !*d->version)
        sl_problem(r, 0, "descriptor has no version string");
}

/* Fields past struct_size are zero in the copy, so "missing" covers both
 * a NULL callback and one the plugin's ABI minor does not have. */
static void check_callbacks(const sl_plugin *d, uint32_t real_size, sl_problems *r)
{
    const char *beyond = real_size < sizeof(sl_plugin) ? " (or struct_size ends before it)" : "";
    if (!d->description || !*d->description)
        sl_problem(r, 0, "no description: `plugins describe` will show none");
    if (!d->init)
        sl_problem(r, 1, "no init callback%s", beyond);
    static const char *const work[] = {"", "run", "process", "write"};
    int has[4] = {0, d->run != NULL, d->process != NULL, d->write != NULL};
    if (d->kind >= SL_KIND_SOURCE && d->kind <= SL_KIND_SINK) {
        if (!has[d->kind])
            sl_problem(r, 1, "a %s plugin needs its %s callback%s", sl_kind_name(d->kind),
                    work[d->kind], beyond);
        for (uint32_t k = SL_KIND_SOURCE; k <= SL_KIND_SINK; k++)
            if (k != d->kind && has[k])
                sl_problem(r, 0, "%s callback set on a %s plugin: never called", work[k],
                        sl_kind_name(d->kind));
        if (d->acked && d->kind != SL_KIND_SOURCE)
            sl_problem(r, 0, "acked callback set on a %s plugin: never called",
                    sl_kind_name(d->kind));
        if (d->flush && d->kind != SL_KIND_SINK)
            sl_problem(r, 0, "flush callback set on a %s plugin: never called",
                    sl_kind_name(d->kind));
    }
    if (!d->destroy)
        sl_problem(r, 0, "no destroy callback: whatever init allocated is never freed");
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

/* A LIST default must read as a YAML sequence or one scalar. */
static int list_default_ok(const char *text)
{
    sl_errs errs = {0};
    sl_node *n = sl_config_parse_value(text, "(plugin default)", &errs);
    sl_node_kind k = sl_node_kind_of(n);
    sl_node_free(n);
    sl_errs_free(&errs);
    return k == SL_NODE_SEQ || k == SL_NODE_SCALAR;
}

static void check_bounds(const sl_option *o, sl_problems *r)
{
    double lo = 0, hi = 0;
    int numeric = o->type == SL_OPT_INT || o->type == SL_OPT_SIZE ||
                  o->type == SL_OPT_DURATION || o->type == SL_OPT_DOUBLE;
    if ((o->min || o->max) && !numeric) {
        sl_problem(r, 1, "option '%s': min/max only apply to int, size, duration and double "
                   "options", o->name);
        return;
    }
    if (o->min && sl_option_bound(o, o->min, &lo) != 0)
        sl_problem(r, 1, "option '%s': min '%s' is not a value of its type", o->name, o->min);
    else if (o->max && sl_option_bound(o, o->max, &hi) != 0)
        sl_problem(r, 1, "option '%s': max '%s' is not a value of its type", o->name, o->max);
    else if (o->min && o->max && lo > hi)
        sl_problem(r, 1, "option '%s': min %s is above max %s", o->name, o->min, o->max);
    if ((o->flags & SL_OPT_F_NONEMPTY) && o->type != SL_OPT_STRING &&
        o->type != SL_OPT_SECRET && o->type != SL_OPT_LIST)
        sl_problem(r, 0, "option '%s': SL_OPT_F_NONEMPTY only applies to string, secret and "
                   "list options", o->name);
    if (o->flags & ~SL_OPT_F_NONEMPTY)
        sl_problem(r, 0, "option '%s': unknown flags 0x%x are ignored", o->name,
                   (unsigned)(o->flags & ~SL_OPT_F_NONEMPTY));
}

/* The default against the table's own range, as the core would judge it. */
static void check_default_range(const sl_option *o, sl_problems *r)
{
    sl_opt_value v = {.def = o, .str = o->default_value};
    char why[128];
    if (o->type == SL_OPT_LIST || sl_option_bound(o, o->default_value, &v.d) != 0)
        v.d = 0;
    int numeric = o->type == SL_OPT_INT || o->type == SL_OPT_SIZE ||
                  o->type == SL_OPT_DURATION || o->type == SL_OPT_DOUBLE;
    if ((numeric || o->type == SL_OPT_STRING || o->type == SL_OPT_SECRET) &&
        sl_option_range_problem(o, &v, why, sizeof why))
        sl_problem(r, 1, "option '%s': default '%s' %s", o->name, o->default_value, why);
}

static void check_option(const sl_plugin *d, size_t i, const sl_option *o, sl_problems *r)
{
    if (!*o->name) {
        sl_problem(r, 1, "option %zu has an empty name", i);
        return;
    }
    /* Judged as for a component written with `plugin:`, where `path` is free. */
    const sl_component_spec by_name = {.plugin = d->name};
    if (sl_config_reserved_key(&by_name, o->name))
        sl_problem(r, 1, "option '%s' clashes with the component key of that name: users could "
                "never set it", o->name);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(sl_plugin_option(d, j)->name, o->name))
            sl_problem(r, 1, "option '%s' is declared twice", o->name);
    if (o->type < SL_OPT_STRING || o->type > SL_OPT_SECRET) {
        sl_problem(r, 1, "option '%s' has unknown type %d", o->name, (int)o->type);
        return;
    }
    if (o->choices && o->type != SL_OPT_STRING)
        sl_problem(r, 1, "option '%s': choices are only checked for string options", o->name);
    check_bounds(o, r);
    if (o->default_value) {
        check_default_range(o, r);
        const char *want = o->type == SL_OPT_LIST && !list_default_ok(o->default_value)
                               ? "a YAML list like [a, b]" : bad_default(o);
        if (want)
            sl_problem(r, 1, "option '%s': default '%s' is not %s", o->name, o->default_value, want);
        if (o->choices && !in_choices(o->choices, o->default_value))
            sl_problem(r, 1, "option '%s': default '%s' is not one of %s", o->name,
                    o->default_value, o->choices);
        if (o->required)
            sl_problem(r, 0, "option '%s' is required and has a default: the default is never used",
                    o->name);
    }
    if (!o->help || !*o->help)
        sl_problem(r, 0, "option '%s' has no help line", o->name);
}

static void check_options(const sl_plugin *d, sl_problems *r)
{
    if (!d->options)
        return;
    if (d->option_size < sizeof(sl_option)) {
        sl_problem(r, 1, "option_size %u is smaller than sl_option (%zu): the option table cannot "
                "be read (fill the descriptor with SL_PLUGIN_HEADER)", d->option_size,
                sizeof(sl_option));
        return;
    }
    for (size_t i = 0; sl_plugin_option(d, i); i++)
        check_option(d, i, sl_plugin_option(d, i), r);
}

int sl_descriptor_check(const sl_plugin *d, uint32_t real_size, sl_problems *r)
{
    int before = r->errors;
    check_header(d, real_size, r);
    if (real_size >= SL_PLUGIN_MIN_SIZE && d->abi_major == SL_ABI_MAJOR) {
        check_callbacks(d, real_size, r);
        check_options(d, r);
    }
    return r->errors - before;
}
