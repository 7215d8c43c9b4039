/* sluice plugins list | describe NAME */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "loader.h"
#include "options.h"

static const char usage_plugins[] =
    "Usage: sluice plugins list [--plugin-path DIRS]\n"
    "       sluice plugins describe NAME [--kind source|enricher|sink] [--markdown]\n"
    "       sluice plugins check FILE.so [--kind source|enricher|sink]\n"
    "\n"
    "list      every plugin on the search path, with kind, version and file\n"
    "describe  a plugin's description and option table (name, type, default, help);\n"
    "          NAME is the plugin name (e.g. file) or <kind>_<name> (e.g. sink_file);\n"
    "          --markdown prints the reference page kept in docs/plugins/\n"
    "check     load one .so in isolation and list every problem (ABI, descriptor,\n"
    "          callbacks, option table); exit 0 when the core would load it, 1 otherwise\n";

static void print_list_entry(const char *file, const sl_plugin *p, const char *why, void *arg)
{
    (void)arg;
    if (p)
        printf("%-9s %-16s %-8s %s\n", sl_kind_name(p->kind), p->name,
               p->version ? p->version : "-", file);
    else
        printf("%-9s %-16s %-8s %s\n", "(broken)", "-", "-", why);
}

static const char *type_name(sl_opt_type t)
{
    static const char *const names[] = {"?", "string", "int", "bool", "double",
                                        "size", "duration", "list", "map", "any", "secret"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

/* " (1 to 64)", " (at least 4KiB)", " (not empty)" or "": the range the
 * option table declares, which validate enforces. */
static const char *range_text(const sl_option *o, char *buf, size_t len)
{
    if (o->min && o->max)
        snprintf(buf, len, " (%s to %s)", o->min, o->max);
    else if (o->min)
        snprintf(buf, len, " (at least %s)", o->min);
    else if (o->max)
        snprintf(buf, len, " (at most %s)", o->max);
    else if (o->flags & SL_OPT_F_NONEMPTY)
        snprintf(buf, len, " (not empty)");
    else
        buf[0] = '\0';
    return buf;
}

/* Keys the core takes on every component, beside the plugin's options;
 * q quotes a key ("`" in markdown). */
static void component_keys(const sl_plugin *p, const char *q)
{
    printf("\nThe core also takes %sdead_letter_path%s on every component (where its dead "
           "letters go; default dead-letters.jsonl in its state directory)", q, q);
    if (p->kind == SL_KIND_ENRICHER)
        printf(" and %sinputs%s", q, q);
    else if (p->kind == SL_KIND_SINK)
        printf(", %sinputs%s and %squeue_max_bytes%s", q, q, q, q);
    printf(".\n");
}

void cli_describe_plugin(const sl_loaded *l)
{
    const sl_plugin *p = l->p;
    printf("%s %s %s (ABI %u.%u)\n  %s\n\n", sl_kind_name(p->kind), p->name,
           p->version ? p->version : "", p->abi_major, p->abi_minor, l->file);
    if (p->description)
        printf("%s\n\n", p->description);
    if (!sl_plugin_option(p, 0)) {
        printf("No options.\n");
        return;
    }
    printf("Options:\n");
    for (size_t i = 0; sl_plugin_option(p, i); i++) {
        const sl_option *o = sl_plugin_option(p, i);
        char dflt[160];
        if (o->required)
            snprintf(dflt, sizeof dflt, "required");
        else if (o->default_value)
            snprintf(dflt, sizeof dflt, "default %s", o->default_value);
        else
            snprintf(dflt, sizeof dflt, "optional");
        char range[160];
        printf("  %-18s %-9s %-22s %s%s", o->name, type_name(o->type), dflt,
               o->help ? o->help : "", range_text(o, range, sizeof range));
        if (o->choices)
            printf(" (one of: %s)", o->choices);
        printf("\n");
    }
    component_keys(p, "");
}

/* Markdown table cells: a '|' would end the cell, a newline the row. */
static void md_cell(const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else
            putchar(*s == '\n' ? ' ' : *s);
    }
}

/* The reference page docs/plugins/<kind>_<name>.md is exactly this output. */
static void describe_markdown(const sl_loaded *l)
{
    const sl_plugin *p = l->p;
    printf("# %s `%s`\n\n", sl_kind_name(p->kind), p->name);
    printf("Version %s, plugin ABI %u.%u. Use it as `plugin: %s` under `%ss:`.\n\n",
           p->version ? p->version : "-", p->abi_major, p->abi_minor, p->name,
           sl_kind_name(p->kind));
    if (p->description)
        printf("%s\n\n", p->description);
    if (!sl_plugin_option(p, 0)) {
        printf("No options.\n");
        return;
    }
    printf("| option | type | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; sl_plugin_option(p, i); i++) {
        const sl_option *o = sl_plugin_option(p, i);
        printf("| `%s` | %s | ", o->name, type_name(o->type));
        if (o->required)
            printf("**required**");
        else if (o->default_value && *o->default_value)
            printf("`"), md_cell(o->default_value), printf("`");
        else
            printf("-");
        printf(" | ");
        md_cell(o->help);
        char range[160];
        md_cell(range_text(o, range, sizeof range));
        for (const char *ch = o->choices; ch && *ch;) {
            size_t n = strcspn(ch, "|");
            printf("%s`%.*s`", ch == o->choices ? " (one of: " : ", ", (int)n, ch);
            ch += n + (ch[n] == '|');
            if (!*ch)
                printf(")");
        }
        printf(" |\n");
    }
    component_keys(p, "`");
    printf("\nGenerated by `sluice plugins describe %s_%s --markdown`; do not edit.\n",
           sl_kind_name(p->kind), p->name);
}

static int parse_kind(const char *s, sl_kind *k)
{
    for (int i = SL_KIND_SOURCE; i <= SL_KIND_SINK; i++)
        if (!strcmp(s, sl_kind_name((uint32_t)i)))
            return *k = (sl_kind)i, 0;
    return -1;
}

/* NAME may be "file" (any kind, each match shown) or "sink_file". */
static int cmd_describe(const cli *c, const sl_plugin_path *pp)
{
    sl_kind only = 0;
    if (c->kind && parse_kind(c->kind, &only) < 0)
        return cli_usage_error(usage_plugins, "--kind '%s': expected source, enricher or sink", c->kind);
    const char *name = c->args[1];
    const char *us = strchr(name, '_');
    if (us && !only) {
        char kind[16];
        size_t n = (size_t)(us - name);
        snprintf(kind, sizeof kind, "%.*s", (int)(n < sizeof kind ? n : sizeof kind - 1), name);
        if (parse_kind(kind, &only) == 0)
            name = us + 1;
    }
    int found = 0;
    char err[1024];
    for (int k = SL_KIND_SOURCE; k <= SL_KIND_SINK; k++) {
        if (only && only != (sl_kind)k)
            continue;
        sl_loaded l;
        if (sl_plugin_load(pp, (sl_kind)k, name, NULL, &l, err, sizeof err) == 0) {
            if (found++)
                printf("\n");
            if (c->markdown)
                describe_markdown(&l);
            else
                cli_describe_plugin(&l);
            sl_plugin_close(&l);
        } else if (only || strstr(err, "unknown ") != err) {
            fprintf(stderr, "sluice: %s\n", err); /* a broken file, or the kind asked for */
        }
    }
    if (!found && !only)
        fprintf(stderr, "sluice: no plugin named '%s' (see `sluice plugins list`)\n", name);
    return found ? 0 : SL_EXIT_INVALID;
}

int cli_plugins(const cli *c)
{
    if (c->help)
        return printf("%s", usage_plugins), 0;
    const char *sub = c->nargs ? c->args[0] : NULL;
    if (sub && !strcmp(sub, "check")) {
        sl_kind only = 0;
        if (c->nargs != 2)
            return cli_usage_error(usage_plugins, "%s", "plugins check needs one FILE.so");
        if (c->kind && parse_kind(c->kind, &only) < 0)
            return cli_usage_error(usage_plugins, "--kind '%s': expected source, enricher or sink",
                                   c->kind);
        return cli_plugins_check(c, only);
    }
    if (!sub || (strcmp(sub, "list") && strcmp(sub, "describe")))
        return cli_usage_error(usage_plugins, "%s",
                               "plugins needs 'list', 'describe NAME' or 'check FILE.so'");
    if (!strcmp(sub, "describe") && c->nargs != 2)
        return cli_usage_error(usage_plugins, "%s", "plugins describe needs a NAME");
    sl_plugin_path pp;
    if (sl_plugin_path_init(&pp, c->plugin_path) < 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return SL_RUN_FAILED;
    }
    int rc = 0;
    if (!strcmp(sub, "list")) {
        printf("%-9s %-16s %-8s %s\n", "KIND", "NAME", "VERSION", "FILE");
        sl_plugin_scan(&pp, print_list_entry, NULL);
    } else {
        rc = cmd_describe(c, &pp);
    }
    sl_plugin_path_free(&pp);
    return rc;
}

