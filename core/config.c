/*
 * Pipeline YAML -> pipeline spec.
 *
 * libyaml's document API gives a node graph in which an alias is simply a
 * second reference to the anchored node; converting it into our own tree
 * expands aliases, so the conversion counts nodes and bounds depth to survive
 * "billion laughs" files and self-referencing anchors. Every string is copied:
 * the tree outlives the yaml_document.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "interp.h"
#include "options.h"
#include "grow.h"

/* Larger pipeline files are a mistake, not a configuration. */
#define MAX_FILE_BYTES (16u * 1024 * 1024)

typedef struct loader {
    sl_errs *errs;
    const char *file;
    yaml_document_t *doc;
    size_t count;            /* sl_nodes made so far */
    int fatal;               /* limits or memory: stop converting */
    int bad;                 /* any error reported */
    unsigned char *reported; /* per yaml node: an error was already shown */
    size_t n_yaml;
    const sl_node **tainted; /* scalars whose interpolation failed */
    size_t n_tainted, cap_tainted;
    const char *text;        /* the YAML source, for hints about syntax errors */
    size_t text_len;
} loader;

#define ERR_AT(ld, node, ...) (sl_errs_at((ld)->errs, (node), __VA_ARGS__), (ld)->bad = 1)

static sl_node mark_node(const loader *ld, yaml_mark_t m)
{
    sl_node n = {0};
    n.file = ld->file;
    n.line = (int)m.line + 1;
    n.col = (int)m.column + 1;
    return n;
}

/* Aliases repeat a node; its problems should be shown once, not per copy. */
static int first_report(loader *ld, const yaml_node_t *yn)
{
    size_t i = (size_t)(yn - ld->doc->nodes.start);
    if (!ld->reported || i >= ld->n_yaml)
        return 1;
    if (ld->reported[i])
        return 0;
    ld->reported[i] = 1;
    return 1;
}

static void oom(loader *ld)
{
    if (!ld->fatal)
        sl_errs_addf(ld->errs, "%s: out of memory while loading", ld->file);
    ld->fatal = ld->bad = 1;
}

static void taint(loader *ld, const sl_node *n)
{
    const sl_node **t = sl_grow(ld->tainted, ld->n_tainted + 1, &ld->cap_tainted, sizeof *t, 16);
    if (!t)
        return; /* only costs a possible second message */
    ld->tainted = t;
    ld->tainted[ld->n_tainted++] = n;
}

static int tainted(const loader *ld, const sl_node *n)
{
    for (size_t i = 0; i < ld->n_tainted; i++)
        if (ld->tainted[i] == n)
            return 1;
    return 0;
}

/* ---- duplicate detection (sort, so a 50k-key mapping stays fast) ---- */

typedef struct ent {
    const sl_node *n;
    size_t i;
} ent;

static int cmp_ent(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    int c = strcmp(x->n->str, y->n->str);
    if (c)
        return c;
    if (x->n->line != y->n->line)
        return x->n->line < y->n->line ? -1 : 1;
    if (x->n->col != y->n->col)
        return x->n->col < y->n->col ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* first[i] = the earliest (in the file) name equal to names[i] when names[i]
 * is not itself the earliest, else NULL. NULL names are skipped. */
static int find_dups(const sl_node *const *names, size_t n, const sl_node **first)
{
    ent *e = malloc((n ? n : 1) * sizeof *e);
    if (!e)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        first[i] = NULL;
        if (names[i])
            e[m++] = (ent){names[i], i};
    }
    qsort(e, m, sizeof *e, cmp_ent);
    for (size_t k = 1; k < m; k++) {
        size_t g = k - 1;
        while (g > 0 && strcmp(e[g - 1].n->str, e[k].n->str) == 0)
            g--;
        if (strcmp(e[g].n->str, e[k].n->str) == 0)
            first[e[k].i] = e[g].n;
    }
    free(e);
    return 0;
}

/* ---- yaml document -> sl_node tree ---- */

static sl_node *new_node(loader *ld, const yaml_node_t *yn, sl_node_kind kind)
{
    if (++ld->count > SL_CONFIG_MAX_NODES) {
        sl_node at = mark_node(ld, yn->start_mark);
        ERR_AT(ld, &at, "alias/anchor expansion exceeds %d nodes", SL_CONFIG_MAX_NODES);
        ld->fatal = 1;
        return NULL;
    }
    sl_node *n = calloc(1, sizeof *n);
    if (!n) {
        oom(ld);
        return NULL;
    }
    n->kind = kind;
    n->file = ld->file;
    n->line = (int)yn->start_mark.line + 1;
    n->col = (int)yn->start_mark.column + 1;
    return n;
}

static char *copy(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static sl_node *conv(loader *ld, yaml_node_t *yn, int depth, int is_key);

static sl_node *conv_scalar(loader *ld, yaml_node_t *yn, int is_key)
{
    sl_node *n = new_node(ld, yn, SL_NODE_SCALAR);
    if (!n)
        return NULL;
    const char *raw = (const char *)yn->data.scalar.value;
    size_t len = yn->data.scalar.length;
    n->quoted = yn->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                yn->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    char err[512];
    if (!is_key && sl_interpolate(raw, len, &n->str, &n->str_len, err, sizeof err)) {
        if (first_report(ld, yn))
            ERR_AT(ld, n, "%s", err);
        ld->bad = 1;
        taint(ld, n);
    }
    if (!n->str) {
        n->str = copy(raw, len);
        n->str_len = len;
        if (!n->str) {
            sl_node_free(n);
            oom(ld);
            return NULL;
        }
    }
    return n;
}

static sl_node *conv_seq(loader *ld, yaml_node_t *yn, int depth)
{
    sl_node *n = new_node(ld, yn, SL_NODE_SEQ);
    if (!n)
        return NULL;
    size_t cnt = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
    n->items = calloc(cnt ? cnt : 1, sizeof *n->items);
    if (!n->items) {
        sl_node_free(n);
        oom(ld);
        return NULL;
    }
    n->n = cnt;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *c = yaml_document_get_node(ld->doc, yn->data.sequence.items.start[i]);
        if (!c || !(n->items[i] = conv(ld, c, depth + 1, 0))) {
            sl_node_free(n);
            return NULL;
        }
    }
    return n;
}

/* Keys first, so duplicates are found (libyaml does not) before their values
 * are converted; a duplicate pair is reported and left out. */
static sl_node *conv_map(loader *ld, yaml_node_t *yn, int depth)
{
    sl_node *n = new_node(ld, yn, SL_NODE_MAP);
    if (!n)
        return NULL;
    yaml_node_pair_t *pairs = yn->data.mapping.pairs.start;
    size_t cnt = (size_t)(yn->data.mapping.pairs.top - pairs);
    size_t sz = cnt ? cnt : 1;
    sl_node **keys = calloc(sz, sizeof *keys);
    const sl_node **first = calloc(sz, sizeof *first);
    n->keys = calloc(sz, sizeof *n->keys);
    n->items = calloc(sz, sizeof *n->items);
    if (!keys || !first || !n->keys || !n->items) {
        oom(ld);
        goto fail;
    }
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *k = yaml_document_get_node(ld->doc, pairs[i].key);
        if (!k)
            goto fail;
        if (k->type != YAML_SCALAR_NODE) {
            if (first_report(ld, k)) {
                sl_node at = mark_node(ld, k->start_mark);
                ERR_AT(ld, &at, "mapping keys must be plain strings, not a %s",
                       k->type == YAML_MAPPING_NODE ? "mapping" : "list");
            }
            ld->bad = 1;
            continue;
        }
        if (!(keys[i] = conv(ld, k, depth + 1, 1)))
            goto fail;
    }
    if (find_dups((const sl_node *const *)keys, cnt, first)) {
        oom(ld);
        goto fail;
    }
    for (size_t i = 0; i < cnt; i++) {
        if (!keys[i])
            continue;
        if (first[i]) {
            yaml_node_t *k = yaml_document_get_node(ld->doc, pairs[i].key);
            if (first_report(ld, k))
                ERR_AT(ld, keys[i], "duplicate key '%s' (first at line %d)", keys[i]->str,
                       first[i]->line);
            ld->bad = 1;
            sl_node_free(keys[i]);
            keys[i] = NULL;
            continue;
        }
        yaml_node_t *v = yaml_document_get_node(ld->doc, pairs[i].value);
        sl_node *val = v ? conv(ld, v, depth + 1, 0) : NULL;
        if (!val)
            goto fail;
        n->keys[n->n] = keys[i];
        n->items[n->n++] = val;
        keys[i] = NULL;
    }
    free(keys);
    free(first);
    return n;
fail:
    for (size_t i = 0; keys && i < cnt; i++)
        sl_node_free(keys[i]);
    free(keys);
    free(first);
    sl_node_free(n);
    return NULL;
}

/* Returns NULL only when conversion must stop (ld->fatal). */
static sl_node *conv(loader *ld, yaml_node_t *yn, int depth, int is_key)
{
    if (depth > SL_CONFIG_MAX_DEPTH) {
        sl_node at = mark_node(ld, yn->start_mark);
        ERR_AT(ld, &at, "nesting deeper than %d levels", SL_CONFIG_MAX_DEPTH);
        ld->fatal = 1;
        return NULL;
    }
    switch (yn->type) {
    case YAML_SCALAR_NODE: return conv_scalar(ld, yn, is_key);
    case YAML_SEQUENCE_NODE: return conv_seq(ld, yn, depth);
    case YAML_MAPPING_NODE: return conv_map(ld, yn, depth);
    default:
        ld->fatal = ld->bad = 1;
        sl_errs_addf(ld->errs, "%s: unexpected YAML node type", ld->file);
        return NULL;
    }
}

/* ---- shape of the pipeline ---- */

static const char *what(const sl_node *n, char *buf, size_t len)
{
    switch (sl_node_kind_of(n)) {
    case SL_NODE_SCALAR:
        snprintf(buf, len, "\"%.60s%s\"", n->str, strlen(n->str) > 60 ? "..." : "");
        return buf;
    case SL_NODE_SEQ: return "a list";
    case SL_NODE_MAP: return "a mapping";
    default: return "nothing";
    }
}

/* An empty value (`key:`), `~` or `null` — YAML's null, written plainly. */
static int is_null(const sl_node *n)
{
    return !n || (n->kind == SL_NODE_SCALAR && !n->quoted &&
                  (n->str_len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0));
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

const char *const sl_config_reserved_keys[] = {"plugin", "path", "inputs", "queue_max_bytes",
                                               "dead_letter_path", NULL};

int sl_config_reserved_key(const sl_component_spec *c, const char *key)
{
    if (key && strcmp(key, "path") == 0)
        return c && !c->plugin;
    for (size_t i = 0; key && sl_config_reserved_keys[i]; i++)
        if (strcmp(key, sl_config_reserved_keys[i]) == 0)
            return 1;
    return 0;
}

/* A size > 0 at `v`; `label` prefixes the message. Returns 0 or -1. */
static int size_at(loader *ld, const sl_node *v, const char *label, int64_t *out)
{
    char b[80];
    if (tainted(ld, v))
        return -1;
    if (v->kind != SL_NODE_SCALAR || sl_parse_size(v->str, out) || *out <= 0) {
        ERR_AT(ld, v, "%s: expected a size like 8MiB, got %s", label, what(v, b, sizeof b));
        return -1;
    }
    return 0;
}

int sl_split_host_port(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (hl == 0 || hl >= hostlen || *end || end == colon + 1 || p < 0 || p > 65535)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

/* Only a numeric loopback address or "localhost": "127.evil.example" starts
 * like one and resolves anywhere. */
static int loopback_host(const char *h)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(h, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* admin.tap_mask: a list of key words, kept as a NULL-terminated array. */
static void tap_masks(loader *ld, sl_service_spec *svc, const sl_node *x)
{
    size_t n = x->kind == SL_NODE_SEQ ? x->n : 0;
    if (x->kind != SL_NODE_SEQ) {
        ERR_AT(ld, x, "service.admin.tap_mask: expected a list of key words like [ssn, iban]");
        return;
    }
    free(svc->tap_masks);
    svc->tap_masks = calloc(n + 1, sizeof *svc->tap_masks);
    if (!svc->tap_masks) {
        oom(ld);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (x->items[i]->kind != SL_NODE_SCALAR || !*x->items[i]->str)
            ERR_AT(ld, x->items[i], "service.admin.tap_mask: each item is a key word");
        else
            svc->tap_masks[i] = x->items[i]->str;
    }
}

/* admin: "ADDR:PORT" or {listen: ADDR:PORT, allow_remote: bool, stuck_after: 60s,
 * token: SECRET, tap_mask: [words]} */
static void admin(loader *ld, sl_service_spec *svc, const sl_node *v)
{
    char b[80];
    const sl_node *listen = v;
    if (v->kind == SL_NODE_MAP) {
        listen = sl_node_get(v, "listen");
        for (size_t i = 0; i < v->n; i++) {
            const char *k = v->keys[i]->str;
            const sl_node *x = v->items[i];
            int ok = x->kind == SL_NODE_SCALAR;
            if (strcmp(k, "allow_remote") == 0)
                ok = ok && sl_parse_bool(x->str, &svc->admin_allow_remote) == 0;
            else if (strcmp(k, "stuck_after") == 0)
                ok = ok && sl_parse_duration_ms(x->str, &svc->stuck_after_ms) == 0;
            else if (strcmp(k, "token") == 0)
                ok = ok && *(svc->admin_token = x->str) != '\0';
            else if (strcmp(k, "tap_mask") == 0) {
                tap_masks(ld, svc, x);
                continue;
            } else if (strcmp(k, "listen") != 0) {
                ERR_AT(ld, v->keys[i], "unknown key '%s' in service.admin (expected one of: "
                       "listen, allow_remote, stuck_after, token, tap_mask)", k);
                continue;
            }
            if (!ok)
                ERR_AT(ld, x, "service.admin.%s: unexpected value %s", k, what(x, b, sizeof b));
        }
    }
    char host[256];
    int port;
    if (!listen || listen->kind != SL_NODE_SCALAR ||
        sl_split_host_port(listen->str, host, sizeof host, &port) < 0) {
        ERR_AT(ld, listen ? listen : v, "service.admin: expected an address like "
               "127.0.0.1:2021, got %s", listen ? what(listen, b, sizeof b) : "no listen key");
        return;
    }
    svc->admin_listen = listen->str;
    svc->admin_node = listen;
    if (!loopback_host(host) && !svc->admin_allow_remote)
        ERR_AT(ld, listen, "service.admin: %s is not a loopback address; the admin endpoint "
               "shows events and metrics, so set admin.allow_remote: true to expose it", host);
}

static void service(loader *ld, sl_service_spec *svc, const sl_node *sv)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    char b[80];
    if (is_null(sv))
        return;
    if (sv->kind != SL_NODE_MAP) {
        ERR_AT(ld, sv, "service: expected a mapping of settings, got %s", what(sv, b, sizeof b));
        return;
    }
    for (size_t i = 0; i < sv->n; i++) {
        const char *k = sv->keys[i]->str;
        const sl_node *v = sv->items[i];
        int scalar = v->kind == SL_NODE_SCALAR;
        if (tainted(ld, v))
            continue;
        if (strcmp(k, "state_dir") == 0) {
            if (!scalar || v->str_len == 0)
                ERR_AT(ld, v, "service.state_dir: expected a directory path, got %s",
                       v->str_len == 0 && scalar ? "nothing" : what(v, b, sizeof b));
            else
                svc->state_dir = v->str;
        } else if (strcmp(k, "queue_max_bytes") == 0) {
            size_at(ld, v, "service.queue_max_bytes", &svc->queue_max_bytes);
        } else if (strcmp(k, "shutdown_timeout") == 0) {
            if (!scalar || sl_parse_duration_ms(v->str, &svc->shutdown_timeout_ms))
                ERR_AT(ld, v, "service.shutdown_timeout: expected a duration like 10s or 500ms, got %s",
                       what(v, b, sizeof b));
        } else if (strcmp(k, "log_level") == 0) {
            size_t l = 0;
            while (scalar && l < 4 && strcmp(v->str, levels[l]) != 0)
                l++;
            if (!scalar || l == 4)
                ERR_AT(ld, v, "service.log_level: expected one of error, warn, info, debug, got %s",
                       what(v, b, sizeof b));
            else
                svc->log_level = (sl_log_level)l;
        } else if (strcmp(k, "log_format") == 0) {
            if (!scalar || (strcmp(v->str, "text") && strcmp(v->str, "json")))
                ERR_AT(ld, v, "service.log_format: expected text or json, got %s",
                       what(v, b, sizeof b));
            else
                svc->log_json = strcmp(v->str, "json") == 0;
        } else if (strcmp(k, "admin") == 0) {
            admin(ld, svc, v);
        } else {
            ERR_AT(ld, sv->keys[i],
                   "unknown key '%s' in service (expected one of: state_dir, queue_max_bytes, "
                   "shutdown_timeout, log_level, log_format, admin)", k);
        }
    }
}

static void inputs(loader *ld, sl_component_spec *c, const sl_node *in)
{
    const char *kn = sl_kind_name(c->kind);
    char b[80];
    if (is_null(in) || tainted(ld, in))
        return; /* none: graph.c says so once */
    if (in->kind == SL_NODE_MAP) {
        ERR_AT(ld, in, "%s '%s': inputs: expected a component name or a list of names, got a mapping",
               kn, c->name);
        return;
    }
    size_t cnt = sl_node_len(in);
    c->inputs = calloc(cnt ? cnt : 1, sizeof *c->inputs);
    if (!c->inputs) {
        oom(ld);
        return;
    }
    for (size_t i = 0; i < cnt; i++) {
        const sl_node *it = sl_node_at(in, i);
        if (it->kind != SL_NODE_SCALAR)
            ERR_AT(ld, it, "%s '%s': inputs: expected component names, got %s", kn, c->name,
                   what(it, b, sizeof b));
        else if (!tainted(ld, it))
            c->inputs[c->n_inputs++] = it;
    }
}

/* `plugin:` or `path:` value: a non-empty scalar. */
static const char *locator(loader *ld, const sl_component_spec *c, const sl_node *v,
                           const char *key, const char *expect)
{
    char b[80];
    if (!v || tainted(ld, v))
        return NULL;
    if (v->kind != SL_NODE_SCALAR || v->str_len == 0) {
        ERR_AT(ld, v, "%s '%s': %s: expected %s, got %s", sl_kind_name(c->kind), c->name, key,
               expect, v->kind == SL_NODE_SCALAR ? "nothing" : what(v, b, sizeof b));
        return NULL;
    }
    return v->str;
}

static void component(loader *ld, sl_pipeline_spec *s, sl_kind kind, const sl_node *key,
                      const sl_node *val)
{
    sl_component_spec *c = &s->comps[s->n_comps++];
    const char *kn = sl_kind_name(kind);
    char b[80];
    c->name = key->str;
    c->name_node = key;
    c->kind = kind;
    c->node = val;
    if (!valid_name(key->str))
        ERR_AT(ld, key, "%s name '%s' is not valid (use letters, digits, '_' and '-')", kn,
               key->str);
    if (val->kind != SL_NODE_MAP) {
        ERR_AT(ld, is_null(val) ? key : val,
               "%s '%s': expected a mapping with 'plugin: NAME' and its options, got %s", kn,
               c->name, is_null(val) ? "nothing" : what(val, b, sizeof b));
        return;
    }
    /* With `plugin:` present, `path` belongs to the plugin's options. */
    const sl_node *pl = sl_node_get(val, "plugin");
    const sl_node *pa = pl ? NULL : sl_node_get(val, "path");
    c->plugin = locator(ld, c, pl, "plugin", "a plugin name");
    c->path = locator(ld, c, pa, "path", "the path of a .so file");
    c->where = c->plugin ? pl : c->path ? pa : NULL;
    if (!pl && !pa)
        ERR_AT(ld, key, "%s '%s': missing 'plugin: NAME' (or 'path: FILE.so' for a plugin "
               "outside the plugin path)", kn, c->name);

    const sl_node *in = sl_node_get(val, "inputs");
    if (in && kind == SL_KIND_SOURCE)
        ERR_AT(ld, sl_node_key_node(val, "inputs"), "source '%s': a source takes no inputs",
               c->name);
    else if (in)
        inputs(ld, c, in);

    const sl_node *q = sl_node_get(val, "queue_max_bytes");
    if (q && kind != SL_KIND_SINK)
        ERR_AT(ld, sl_node_key_node(val, "queue_max_bytes"),
               "%s '%s': queue_max_bytes is only allowed for sinks", kn, c->name);
    else if (q) {
        char label[300];
        snprintf(label, sizeof label, "sink '%s': queue_max_bytes", c->name);
        size_at(ld, q, label, &c->queue_max_bytes);
    }
    const sl_node *dl = sl_node_get(val, "dead_letter_path");
    if (dl && (sl_node_kind_of(dl) != SL_NODE_SCALAR || !*sl_node_str(dl)))
        ERR_AT(ld, dl, "%s '%s': dead_letter_path must be a file name", kn, c->name);
    else if (dl)
        c->dead_letter_path = sl_node_str(dl);
}

static const char *const sections[] = {"sources", "enrichers", "sinks"};
static const sl_kind section_kind[] = {SL_KIND_SOURCE, SL_KIND_ENRICHER, SL_KIND_SINK};

static void unique_names(loader *ld, sl_pipeline_spec *s)
{
    size_t n = s->n_comps;
    const sl_node **names = malloc((n ? n : 1) * sizeof *names);
    const sl_node **first = malloc((n ? n : 1) * sizeof *first);
    for (size_t i = 0; names && i < n; i++)
        names[i] = s->comps[i].name_node;
    if (!names || !first || find_dups(names, n, first)) {
        oom(ld);
    } else {
        for (size_t i = 0; i < n; i++)
            if (first[i])
                ERR_AT(ld, names[i], "duplicate component name '%s' (first defined at line %d)",
                       names[i]->str, first[i]->line);
    }
    free(names);
    free(first);
}

static void shape(loader *ld, sl_pipeline_spec *s)
{
    const sl_node *root = s->root;
    char b[80];
    if (root->kind != SL_NODE_MAP) {
        ERR_AT(ld, root, "top level: expected a mapping with keys service, sources, enrichers, "
               "sinks, got %s", is_null(root) ? "nothing" : what(root, b, sizeof b));
        return;
    }
    for (size_t i = 0; i < root->n; i++) {
        const char *k = root->keys[i]->str;
        if (strcmp(k, "service") && strcmp(k, "sources") && strcmp(k, "enrichers") &&
            strcmp(k, "sinks") && strcmp(k, "tests"))
            ERR_AT(ld, root->keys[i], "unknown key '%s' at top level (expected one of: service, "
                   "sources, enrichers, sinks)", k);
    }
    /* `tests:` is read by `sluice test` only (pipetest.c); here just its shape. */
    const sl_node *tests = sl_node_get(root, "tests");
    if (!is_null(tests) && tests->kind != SL_NODE_SEQ)
        ERR_AT(ld, tests, "tests: expected a sequence of tests (- name: ...), got %s",
               what(tests, b, sizeof b));
    service(ld, &s->service, sl_node_get(root, "service"));

    size_t total = 0;
    for (size_t k = 0; k < 3; k++) {
        const sl_node *sec = sl_node_get(root, sections[k]);
        if (sl_node_kind_of(sec) == SL_NODE_MAP)
            total += sec->n;
    }
    s->comps = calloc(total ? total : 1, sizeof *s->comps);
    if (!s->comps) {
        oom(ld);
        return;
    }
    for (size_t k = 0; k < 3; k++) {
        const sl_node *sec = sl_node_get(root, sections[k]);
        const sl_node *key = sl_node_key_node(root, sections[k]);
        if (!is_null(sec) && sec->kind != SL_NODE_MAP) {
            ERR_AT(ld, sec, "%s: expected a mapping of component names to their settings, got %s",
                   sections[k], what(sec, b, sizeof b));
            continue;
        }
        size_t cnt = sl_node_kind_of(sec) == SL_NODE_MAP ? sec->n : 0;
        if (cnt == 0 && section_kind[k] != SL_KIND_ENRICHER)
            ERR_AT(ld, key ? key : root, "%s: the pipeline needs at least one %s (none defined)",
                   sections[k], sl_kind_name(section_kind[k]));
        for (size_t i = 0; i < cnt; i++)
            component(ld, s, section_kind[k], sec->keys[i], sec->items[i]);
    }
    unique_names(ld, s);
}

/* ---- entry points ---- */

/* In a flow mapping or sequence ({ } or [ ]) the '{' of an unquoted
 * ${VAR} opens another mapping, and libyaml's complaint names neither. */
static const char *flow_dollar_hint(const loader *ld, const yaml_parser_t *p)
{
    size_t from = p->context_mark.index, to = p->problem_mark.index;
    if (!p->context || strncmp(p->context, "while parsing a flow", 20) != 0 || !ld->text ||
        from >= to || to >= ld->text_len)
        return "";
    for (size_t i = from; i < to; i++) /* the error may point at the '{' itself */
        if (ld->text[i] == '$' && ld->text[i + 1] == '{')
            return "; inside { } or [ ] a ${VAR} must be quoted: '${VAR:-default}'";
    return "";
}

static void yaml_error(loader *ld, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR) {
        oom(ld);
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        sl_errs_addf(ld->errs, "%s: YAML read error: %s at byte %zu", ld->file,
                     p->problem ? p->problem : "invalid input", p->problem_offset);
        ld->bad = 1;
        return;
    }
    sl_node at = mark_node(ld, p->problem_mark);
    const char *hint = flow_dollar_hint(ld, p);
    if (p->error == YAML_COMPOSER_ERROR && p->context)
        /* e.g. "found duplicate anchor; first occurrence" + "second occurrence" */
        ERR_AT(ld, &at, "YAML error: %s at line %d, column %d, %s here", p->context,
               (int)p->context_mark.line + 1, (int)p->context_mark.column + 1,
               p->problem ? p->problem : "problem");
    else if (p->context)
        ERR_AT(ld, &at, "YAML syntax error: %s (%s at line %d, column %d)%s",
               p->problem ? p->problem : "invalid YAML", p->context,
               (int)p->context_mark.line + 1, (int)p->context_mark.column + 1, hint);
    else
        ERR_AT(ld, &at, "YAML syntax error: %s", p->problem ? p->problem : "invalid YAML");
}

/*
 * Walk the YAML as events and stop at the first container nested deeper than
 * the limit, before libyaml builds a document: building one for 100,000
 * nested '[' takes it most of a minute. Returns 0, or -1 with the error
 * reported. Syntax errors are left to the real load, which words them.
 */
static int depth_ok(loader *ld)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        oom(ld);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(ld->text ? ld->text : ""),
                                 ld->text_len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            if (p.error == YAML_MEMORY_ERROR) {
                oom(ld);
                rc = -1;
            }
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > SL_CONFIG_MAX_DEPTH) {
                sl_node at = mark_node(ld, ev.start_mark);
                ERR_AT(ld, &at, "nesting deeper than %d levels", SL_CONFIG_MAX_DEPTH);
                rc = -1;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

/* Convert the first document; a second one is refused rather than ignored. */
static void load_yaml(loader *ld, yaml_parser_t *p, sl_pipeline_spec *out)
{
    yaml_document_t doc;
    if (depth_ok(ld) < 0) {
        ld->fatal = 1;
        return;
    }
    if (!yaml_parser_load(p, &doc)) {
        yaml_error(ld, p);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        sl_errs_addf(ld->errs, "%s: the pipeline file is empty (expected a mapping with "
                     "'sources' and 'sinks')", ld->file);
        ld->bad = 1;
        yaml_document_delete(&doc);
        return;
    }
    ld->doc = &doc;
    ld->n_yaml = (size_t)(doc.nodes.top - doc.nodes.start);
    ld->reported = calloc(ld->n_yaml ? ld->n_yaml : 1, 1);
    if (!ld->reported)
        oom(ld);
    else
        out->root = conv(ld, root, 1, 0);
    free(ld->reported);
    ld->reported = NULL;
    ld->doc = NULL;
    yaml_document_delete(&doc);
    if (ld->fatal)
        return;

    yaml_document_t next;
    if (!yaml_parser_load(p, &next)) {
        yaml_error(ld, p);
        return;
    }
    yaml_node_t *r2 = yaml_document_get_root_node(&next);
    if (r2) {
        sl_node at = mark_node(ld, r2->start_mark);
        ERR_AT(ld, &at, "a second YAML document is not allowed (one pipeline per file)");
    }
    yaml_document_delete(&next);
}

/* keep: on shape errors keep the spec and return 1 instead of -1. */
static int load_buffer(const char *data, size_t len, const char *name,
                       sl_pipeline_spec *out, sl_errs *errs, int keep)
{
    memset(out, 0, sizeof *out);
    out->service.state_dir = "./state";
    out->service.queue_max_bytes = 8 * 1024 * 1024;
    out->service.shutdown_timeout_ms = 10000;
    out->service.log_level = SL_LOG_INFO;
    out->service.stuck_after_ms = 60000;
    out->file = copy(name ? name : "<config>", strlen(name ? name : "<config>"));
    if (!out->file) {
        sl_errs_addf(errs, "out of memory while loading %s", name ? name : "<config>");
        return -1;
    }
    loader ld = {.errs = errs, .file = out->file, .text = data, .text_len = data ? len : 0};
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        oom(&ld);
    } else {
        yaml_parser_set_input_string(&p, (const unsigned char *)(data ? data : ""),
                                     data ? len : 0);
        load_yaml(&ld, &p, out);
        yaml_parser_delete(&p);
    }
    if (out->root && !ld.fatal)
        shape(&ld, out);
    free(ld.tainted);
    if (keep && ld.bad && !ld.fatal && out->root)
        return 1;
    if (ld.bad || ld.fatal || !out->root) {
        sl_config_free(out);
        return -1;
    }
    return 0;
}

sl_node *sl_config_parse_value(const char *text, const char *name, sl_errs *errs)
{
    loader ld = {.errs = errs, .file = name, .text = text, .text_len = strlen(text)};
    yaml_parser_t p;
    yaml_document_t doc;
    sl_node *out = NULL;
    if (!yaml_parser_initialize(&p)) {
        oom(&ld);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, ld.text_len);
    if (!yaml_parser_load(&p, &doc)) {
        yaml_error(&ld, &p);
        yaml_parser_delete(&p);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    ld.doc = &doc;
    ld.n_yaml = (size_t)(doc.nodes.top - doc.nodes.start);
    ld.reported = calloc(ld.n_yaml ? ld.n_yaml : 1, 1);
    if (root && ld.reported)
        out = conv(&ld, root, 1, 0);
    free(ld.reported);
    free(ld.tainted);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    if (out && (ld.bad || ld.fatal)) {
        sl_node_free(out);
        out = NULL;
    }
    return out;
}

int sl_config_load_buffer(const char *data, size_t len, const char *name,
                          sl_pipeline_spec *out, sl_errs *errs)
{
    return load_buffer(data, len, name, out, errs, 0);
}

static int load_file(const char *path, sl_pipeline_spec *out, sl_errs *errs, int keep)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_errs_addf(errs, "%s: cannot open pipeline file: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr || n > MAX_FILE_BYTES) {
        if (!buf)
            sl_errs_addf(errs, "%s: out of memory", path);
        else if (rerr)
            sl_errs_addf(errs, "%s: cannot read pipeline file", path);
        else
            sl_errs_addf(errs, "%s: pipeline file is larger than %u bytes", path, MAX_FILE_BYTES);
        free(buf);
        return -1;
    }
    int rc = load_buffer(buf, n, path, out, errs, keep);
    free(buf);
    return rc;
}

int sl_config_load_file(const char *path, sl_pipeline_spec *out, sl_errs *errs)
{
    return load_file(path, out, errs, 0);
}

int sl_config_load_file_keep(const char *path, sl_pipeline_spec *out, sl_errs *errs)
{
    return load_file(path, out, errs, 1);
}

void sl_config_free(sl_pipeline_spec *spec)
{
    if (!spec)
        return;
    sl_node_free(spec->root);
    free(spec->service.tap_masks);
    for (size_t i = 0; spec->comps && i < spec->n_comps; i++)
        free(spec->comps[i].inputs);
    free(spec->comps);
    free(spec->file);
    memset(spec, 0, sizeof *spec);
}
