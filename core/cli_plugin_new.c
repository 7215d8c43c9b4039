/*
 * sluice plugin new --kind source|enricher|sink NAME [DIR]: write an
 * out-of-tree plugin project that builds unchanged with `make` against an
 * installed sluice (pkg-config sluice): the plugin with every callback at a
 * working default, a CUnit test over a small fake host, a Makefile and a
 * sample pipeline. Existing files are never overwritten.
 *
 * The files are core/templates/, embedded at build time into the generated
 * header sl_plugin_templates.h (core/templates/templates.cmake), which also
 * compiles and tests them in the test build.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sl_plugin_templates.h"
#include "sluice/json.h"

static const char usage_plugin[] =
    "Usage: sluice plugin new --kind source|enricher|sink NAME [DIR]\n"
    "\n"
    "Scaffolds an out-of-tree plugin project in DIR (default ./<kind>_<NAME>):\n"
    "  <kind>_<NAME>.c    the plugin, every callback stubbed to a working default\n"
    "  test_<NAME>.c      a CUnit test driving the callbacks through fake_host.c\n"
    "  fake_host.c/.h     a small stand-in for the core, for the unit test\n"
    "  Makefile           make | make test | make check | make pipetest | make run |\n"
    "                     make install, built with `pkg-config sluice` (set\n"
    "                     PKG_CONFIG_PATH for a prefix) and linked with -z defs\n"
    "  pipeline.yaml      a pipeline using the plugin: sluice run pipeline.yaml --plugin-path .\n"
    "                     (an enricher's also has tests: for sluice test)\n"
    "  README.md          what is where, and where the plugin guide is installed\n"
    "NAME: a lower-case letter, then lower-case letters, digits or '_' (at most 40).\n"
    "DIR must not exist or be empty; no file is ever overwritten.\n";

typedef struct tpl_file {
    const char *name; /* file name, may hold @NAME@ / @PLUGIN@ */
    const char *tpl;  /* its template in core/templates/ */
} tpl_file;

/* The text of template `file`; NULL only if the build embedded no such file. */
static const char *template_text(const char *file)
{
    for (const sl_template *t = sl_templates; t->file; t++)
        if (!strcmp(t->file, file))
            return t->text;
    return NULL;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40 || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* Replace the placeholders; returns 0 or -1 (out of memory). */
static int expand(sl_buf *out, const char *text, const char *name, const char *plugin,
                  const char *kind)
{
    static const char *const keys[] = {"@NAME@", "@PLUGIN@", "@KIND@"};
    const char *vals[] = {name, plugin, kind};
    out->len = 0;
    for (const char *p = text; *p;) {
        size_t k = 0;
        while (k < 3 && strncmp(p, keys[k], strlen(keys[k])))
            k++;
        if (k < 3) {
            if (sl_buf_puts(out, vals[k]) < 0)
                return -1;
            p += strlen(keys[k]);
        } else if (sl_buf_append(out, p++, 1) < 0) {
            return -1;
        }
    }
    return sl_buf_append(out, "", 1); /* NUL, not counted by callers */
}

/* O_EXCL: a scaffold never overwrites anything. Returns 0 or -1 (printed). */
static int write_new(const char *dir, const char *file, const sl_buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "sluice: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = b->len - 1, off = 0;
    while (off < len) {
        ssize_t n = write(fd, b->data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "sluice: cannot write %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "sluice: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("  %s\n", path);
    return 0;
}

/* mkdir DIR, or accept an existing empty directory. */
static int make_dir(const char *dir)
{
    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno != EEXIST) {
        fprintf(stderr, "sluice: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "sluice: %s exists and is not a directory\n", dir);
        return -1;
    }
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    if (!empty)
        fprintf(stderr, "sluice: %s exists and is not empty; choose another DIR\n", dir);
    return empty ? 0 : -1;
}

#define N_FILES 7

/* What to write for a kind: the kind's plugin, test and pipeline templates
 * (<kind>.c, test_<kind>.c, pipeline_<kind>.yaml) and the common files. */
static void files_for(sl_kind k, tpl_file f[N_FILES], char tpl[3][32])
{
    const char *kn = sl_kind_name(k);
    snprintf(tpl[0], sizeof tpl[0], "%s.c", kn);
    snprintf(tpl[1], sizeof tpl[1], "test_%s.c", kn);
    snprintf(tpl[2], sizeof tpl[2], "pipeline_%s.yaml", kn);
    f[0] = (tpl_file){"@PLUGIN@.c", tpl[0]};
    f[1] = (tpl_file){"test_@NAME@.c", tpl[1]};
    f[2] = (tpl_file){"fake_host.h", "fake_host.h"};
    f[3] = (tpl_file){"fake_host.c", "fake_host.c"};
    f[4] = (tpl_file){"Makefile", "Makefile"};
    f[5] = (tpl_file){"pipeline.yaml", tpl[2]};
    f[6] = (tpl_file){"README.md", "README.md"};
}

/* Expand and write one file. 0, or SL_EXIT_INVALID (printed). */
static int write_one(const char *dir, const tpl_file *f, const char *name, const char *plugin,
                     const char *kn, sl_buf *fname, sl_buf *text)
{
    const char *t = template_text(f->tpl);
    if (!t) {
        fprintf(stderr, "sluice: this build has no template %s\n", f->tpl);
        return SL_EXIT_INVALID;
    }
    if (expand(fname, f->name, name, plugin, kn) < 0 || expand(text, t, name, plugin, kn) < 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return SL_EXIT_INVALID;
    }
    return write_new(dir, fname->data, text) < 0 ? SL_EXIT_INVALID : 0;
}

static int scaffold(sl_kind kind, const char *name, const char *dir)
{
    const char *kn = sl_kind_name(kind);
    char plugin[64];
    snprintf(plugin, sizeof plugin, "%s_%s", kn, name);
    if (make_dir(dir) < 0)
        return SL_EXIT_INVALID;
    tpl_file files[N_FILES];
    char tpl[3][32];
    files_for(kind, files, tpl);
    sl_buf fname = {0}, text = {0};
    int rc = 0;
    printf("sluice: new %s plugin '%s' in %s:\n", kn, name, dir);
    for (size_t i = 0; rc == 0 && i < N_FILES; i++)
        rc = write_one(dir, &files[i], name, plugin, kn, &fname, &text);
    sl_buf_free(&fname);
    sl_buf_free(&text);
    if (rc == 0)
        printf("Next: cd %s && make && make test && make check && make run\n"
               "(export PKG_CONFIG_PATH=<prefix>/lib/pkgconfig if sluice is installed "
               "under a prefix pkg-config does not search)\n", dir);
    return rc;
}

int cli_plugin_new(const cli *c)
{
    if (c->help)
        return printf("%s", usage_plugin), 0;
    if (c->nargs < 1 || strcmp(c->args[0], "new"))
        return cli_usage_error(usage_plugin, "%s", "plugin needs 'new'");
    if (c->nargs < 2 || c->nargs > 3)
        return cli_usage_error(usage_plugin, "%s", "plugin new needs NAME and at most one DIR");
    sl_kind kind = 0;
    for (int k = SL_KIND_SOURCE; c->kind && k <= SL_KIND_SINK; k++)
        if (!strcmp(c->kind, sl_kind_name((uint32_t)k)))
            kind = (sl_kind)k;
    if (!kind)
        return cli_usage_error(usage_plugin, "%s", "plugin new needs --kind source, enricher or sink");
    const char *name = c->args[1];
    if (!valid_name(name))
        return cli_usage_error(usage_plugin, "invalid plugin name '%s'", name);
    char dflt[64];
    snprintf(dflt, sizeof dflt, "%s_%s", sl_kind_name(kind), name);
    return scaffold(kind, name, c->nargs == 3 ? c->args[2] : dflt);
}
