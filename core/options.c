/* A component's options checked against its plugin's table, parsed once. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- scalar parsers ---- */

/* Unsigned decimal digits at *s into *out without wrapping. */
static int digits(const char **s, int64_t *out)
{
    const char *p = *s;
    int64_t v = 0;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *s = p;
    *out = v;
    return 0;
}

int sl_parse_int(const char *s, int64_t *out)
{
    if (!s)
        return -1;
    int neg = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    int64_t v;
    if (digits(&s, &v) || *s)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

int sl_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    if (!s)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

int sl_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static int mul(int64_t v, int64_t m, int64_t *out)
{
    if (v > INT64_MAX / m)
        return -1;
    *out = v * m;
    return 0;
}

int sl_parse_size(const char *s, int64_t *out)
{
    static const struct { const char *unit; int64_t mult; } units[] = {
        {"", 1}, {"B", 1},
        {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000},
        {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024 * 1024 * 1024},
    };
    int64_t v;
    if (!s || digits(&s, &v))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(s, units[i].unit) == 0)
            return mul(v, units[i].mult, out);
    return -1;
}

int sl_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
    };
    int64_t whole, frac = 0, scale = 1;
    if (!s || digits(&s, &whole))
        return -1;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        /* Digits past the ninth cannot change a millisecond count. */
        for (; isdigit((unsigned char)*s); s++) {
            if (scale < 1000000000) {
                frac = frac * 10 + (*s - '0');
                scale *= 10;
            }
        }
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(s, units[i].unit) != 0)
            continue;
        int64_t ms;
        if (mul(whole, units[i].ms, &ms))
            return -1;
        /* frac < scale <= 1e9 and ms-per-unit <= 3.6e6: no overflow. */
        int64_t part = (frac * units[i].ms + scale / 2) / scale;
        if (ms > INT64_MAX - part)
            return -1;
        *out = ms + part;
        return 0;
    }
    return -1;
}

/* ---- did you mean ---- */

size_t sl_edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAXLEN || lb > MAXLEN)
        return la > lb ? la : lb; /* long names: no hint rather than a slow one */
    size_t row[MAXLEN + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* ---- the option table ---- */

const sl_option *sl_plugin_option(const sl_plugin *p, size_t i)
{
    if (!p || p->struct_size < offsetof(sl_plugin, option_size) + sizeof(uint32_t) ||
        !p->options)
        return NULL;
    size_t stride = p->option_size ? p->option_size : sizeof(sl_option);
    /* A smaller entry than ours would make us read its neighbour's bytes. */
    if (stride < sizeof(sl_option))
        return NULL;
    const char *base = (const char *)p->options;
    for (size_t k = 0;; k++) {
        const sl_option *o = (const sl_option *)(const void *)(base + k * stride);
        if (!o->name)
            return NULL;
        if (k == i)
            return o;
    }
}

static const char *type_hint(sl_opt_type t)
{
    switch (t) {
    case SL_OPT_STRING: return "a string";
    case SL_OPT_SECRET: return "a string";
    case SL_OPT_INT: return "an integer";
    case SL_OPT_BOOL: return "true or false";
    case SL_OPT_DOUBLE: return "a number";
    case SL_OPT_SIZE: return "a size like 64KiB";
    case SL_OPT_DURATION: return "a duration like 5s or 250ms";
    case SL_OPT_LIST: return "a list of strings";
    case SL_OPT_MAP: return "a mapping";
    default: return "a value";
    }
}

static const char *kind_word(const sl_node *n)
{
    switch (sl_node_kind_of(n)) {
    case SL_NODE_SEQ: return "a list";
    case SL_NODE_MAP: return "a mapping";
    default: return "nothing";
    }
}

/* Parse scalar text s for option type t into v. */
static int parse_scalar(sl_opt_type t, const char *s, sl_opt_value *v)
{
    int b;
    switch (t) {
    case SL_OPT_INT:
        if (sl_parse_int(s, &v->i))
            return -1;
        v->d = (double)v->i;
        return 0;
    case SL_OPT_SIZE:
        if (sl_parse_size(s, &v->i))
            return -1;
        v->d = (double)v->i;
        return 0;
    case SL_OPT_DURATION:
        if (sl_parse_duration_ms(s, &v->i))
            return -1;
        v->d = (double)v->i;
        return 0;
    case SL_OPT_BOOL:
        if (sl_parse_bool(s, &b))
            return -1;
        v->i = b;
        return 0;
    case SL_OPT_DOUBLE:
        return sl_parse_double(s, &v->d);
    default:
        return 0;
    }
}

static int in_choices(const char *choices, const char *s)
{
    size_t n = strlen(s);
    for (const char *c = choices;;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, s, n) == 0)
            return 1;
        if (!bar)
            return 0;
        c = bar + 1;
    }
}

/* "a|b|c" -> "a, b, c" for messages. */
static void list_choices(const char *choices, char *buf, size_t len)
{
    size_t o = 0;
    for (const char *c = choices; *c && o + 3 < len; c++) {
        if (*c == '|') {
            buf[o++] = ',';
            buf[o++] = ' ';
        } else {
            buf[o++] = *c;
        }
    }
    buf[o] = '\0';
}

int sl_option_bound(const sl_option *o, const char *text, double *out)
{
    sl_opt_value v = {0};
    if (!text || (o->type != SL_OPT_INT && o->type != SL_OPT_SIZE &&
                  o->type != SL_OPT_DURATION && o->type != SL_OPT_DOUBLE))
        return -1;
    if (parse_scalar(o->type, text, &v))
        return -1;
    *out = v.d;
    return 0;
}

/* Number of items of a LIST value (a scalar is one). */
static size_t list_len(const sl_opt_value *v)
{
    if (v->node)
        return sl_node_len(v->node);
    return v->str ? 1 : 0;
}

const char *sl_option_range_problem(const sl_option *o, const sl_opt_value *v, char *buf,
                                    size_t len)
{
    double b;
    if (o->min && sl_option_bound(o, o->min, &b) == 0 && v->d < b) {
        snprintf(buf, len, "must be at least %s", o->min);
        return buf;
    }
    if (o->max && sl_option_bound(o, o->max, &b) == 0 && v->d > b) {
        snprintf(buf, len, "must be at most %s", o->max);
        return buf;
    }
    if (o->flags & SL_OPT_F_NONEMPTY) {
        int empty = o->type == SL_OPT_LIST ? list_len(v) == 0 : !v->str || !*v->str;
        if (empty) {
            snprintf(buf, len, "must not be empty");
            return buf;
        }
    }
    return NULL;
}

typedef struct ctx {
    const sl_component_spec *c;
    const sl_plugin *p;
    sl_errs *errs;
    int bad;
} ctx;

#define CNAME(x) sl_kind_name((x)->c->kind), (x)->c->name

static void check_range(ctx *x, const sl_option *o, const sl_node *n, const sl_opt_value *v)
{
    char why[128];
    if (sl_option_range_problem(o, v, why, sizeof why)) {
        sl_errs_at(x->errs, n, "%s '%s': option '%s' %s, got %s%s%s", CNAME(x), o->name, why,
                   v->str ? "\"" : "", v->str ? v->str : "an empty list", v->str ? "\"" : "");
        x->bad = 1;
    }
}

static void check_user(ctx *x, const sl_option *o, const sl_node *n, sl_opt_value *v)
{
    sl_node_kind k = sl_node_kind_of(n);
    int scalar_type = o->type != SL_OPT_LIST && o->type != SL_OPT_MAP && o->type != SL_OPT_ANY;
    if (scalar_type || (o->type == SL_OPT_LIST && k == SL_NODE_SCALAR) ||
        (o->type == SL_OPT_ANY && k == SL_NODE_SCALAR))
        v->str = sl_node_str(n);

    if (scalar_type && k != SL_NODE_SCALAR) {
        sl_errs_at(x->errs, n, "%s '%s': option '%s': expected %s, got %s", CNAME(x),
                   o->name, type_hint(o->type), kind_word(n));
        x->bad = 1;
        return;
    }
    if (o->type == SL_OPT_MAP && k != SL_NODE_MAP) {
        sl_errs_at(x->errs, n, "%s '%s': option '%s': expected a mapping, got %s", CNAME(x),
                   o->name, k == SL_NODE_SCALAR ? "a scalar" : kind_word(n));
        x->bad = 1;
        return;
    }
    if (o->type == SL_OPT_LIST) {
        if (k == SL_NODE_MAP) {
            sl_errs_at(x->errs, n, "%s '%s': option '%s': expected %s, got a mapping",
                       CNAME(x), o->name, type_hint(o->type));
            x->bad = 1;
        }
        check_range(x, o, n, v);
        for (size_t i = 0; k == SL_NODE_SEQ && i < n->n; i++) {
            if (sl_node_kind_of(n->items[i]) != SL_NODE_SCALAR) {
                sl_errs_at(x->errs, n->items[i],
                           "%s '%s': option '%s': list items must be strings, got %s",
                           CNAME(x), o->name, kind_word(n->items[i]));
                x->bad = 1;
            }
        }
        return;
    }
    if (!scalar_type)
        return;
    if (parse_scalar(o->type, v->str, v)) {
        sl_errs_at(x->errs, n, "%s '%s': option '%s': expected %s, got \"%s\"", CNAME(x),
                   o->name, type_hint(o->type), v->str);
        x->bad = 1;
        return;
    }
    if (o->choices && !in_choices(o->choices, v->str)) {
        char list[512];
        list_choices(o->choices, list, sizeof list);
        sl_errs_at(x->errs, n, "%s '%s': option '%s': expected one of %s, got \"%s\"",
                   CNAME(x), o->name, list, v->str);
        x->bad = 1;
        return;
    }
    check_range(x, o, n, v);
}

/* A LIST default is YAML text ("[a, b]", or one scalar): parsed once into
 * nodes, so host->opt_node serves it like a value the user wrote. */
static int list_default(ctx *x, const sl_option *o, sl_opt_value *v)
{
    v->owned = sl_config_parse_value(o->default_value, "(plugin default)", x->errs);
    sl_node_kind k = sl_node_kind_of(v->owned);
    if (k == SL_NODE_SEQ) {
        v->node = v->owned;
        v->str = NULL;
        return 0;
    }
    return k == SL_NODE_SCALAR ? 0 : -1;
}

/* A default the plugin's own parser rejects is the plugin author's bug. */
static void apply_default(ctx *x, const sl_option *o, sl_opt_value *v)
{
    v->str = o->default_value;
    char why[128];
    const char *bad = NULL;
    if (o->type == SL_OPT_LIST ? list_default(x, o, v) : parse_scalar(o->type, v->str, v))
        bad = o->type == SL_OPT_LIST ? "a YAML list" : type_hint(o->type);
    else if (o->choices && !in_choices(o->choices, o->default_value))
        bad = "one of its choices";
    else
        bad = sl_option_range_problem(o, v, why, sizeof why);
    if (bad) {
        sl_errs_at(x->errs, x->c->name_node,
                   "plugin '%s' (%s '%s'): default \"%s\" of option '%s' %s%s; "
                   "this is a bug in the plugin",
                   x->p->name ? x->p->name : "?", CNAME(x), o->default_value, o->name,
                   bad == why ? "" : "is not ", bad);
        x->bad = 1;
    }
}

static void check_unknown(ctx *x, const sl_options *out)
{
    const sl_node *m = x->c->node;
    for (size_t i = 0; sl_node_kind_of(m) == SL_NODE_MAP && i < m->n; i++) {
        const char *key = m->keys[i]->str;
        if (sl_config_reserved_key(x->c, key) || sl_options_find(out, key))
            continue;
        const char *best = NULL;
        size_t bestd = 3;
        for (size_t k = 0; k < out->n || sl_config_reserved_keys[k - out->n]; k++) {
            const char *cand = k < out->n ? out->v[k].def->name : sl_config_reserved_keys[k - out->n];
            size_t d = sl_edit_distance(key, cand);
            if (d < bestd) {
                bestd = d;
                best = cand;
            }
        }
        if (best)
            sl_errs_at(x->errs, m->keys[i],
                       "%s '%s': unknown option '%s' for plugin '%s' (did you mean '%s'?)",
                       CNAME(x), key, x->p->name ? x->p->name : "?", best);
        else
            sl_errs_at(x->errs, m->keys[i], "%s '%s': unknown option '%s' for plugin '%s'",
                       CNAME(x), key, x->p->name ? x->p->name : "?");
        x->bad = 1;
    }
}

int sl_options_resolve(const sl_component_spec *c, const sl_plugin *p, sl_options *out,
                       sl_errs *errs)
{
    ctx x = {c, p, errs, 0};
    out->v = NULL;
    out->n = 0;
    size_t n = 0;
    while (sl_plugin_option(p, n))
        n++;
    if (n) {
        out->v = calloc(n, sizeof *out->v);
        if (!out->v) {
            sl_errs_addf(errs, "out of memory");
            return -1;
        }
        out->n = n;
    }
    for (size_t i = 0; i < n; i++) {
        const sl_option *o = sl_plugin_option(p, i);
        sl_opt_value *v = &out->v[i];
        v->def = o;
        const sl_node *un = sl_node_get(c->node, o->name);
        if (un) {
            v->node = un;
            v->set = 1;
            check_user(&x, o, un, v);
        } else if (o->required) {
            if (o->help && *o->help)
                sl_errs_at(errs, c->name_node, "%s '%s': missing required option '%s' (%s)",
                           CNAME(&x), o->name, o->help);
            else
                sl_errs_at(errs, c->name_node, "%s '%s': missing required option '%s'",
                           CNAME(&x), o->name);
            x.bad = 1;
        } else if (o->default_value) {
            apply_default(&x, o, v);
        }
    }
    check_unknown(&x, out);
    return x.bad ? -1 : 0;
}

const sl_opt_value *sl_options_find(const sl_options *o, const char *name)
{
    if (!o || !name)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].def->name, name) == 0)
            return &o->v[i];
    return NULL;
}

void sl_options_free(sl_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        sl_node_free(o->v[i].owned);
    free(o->v);
    o->v = NULL;
    o->n = 0;
}
