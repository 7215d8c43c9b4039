/*
 * enricher modify: remove, rename and set top-level body fields.
 *
 * Applied in that order: `remove` drops fields by their original names,
 * `rename` renames what is left, `set` writes fields last. No rule makes a
 * duplicate key: a renamed field replaces a field that already had the new
 * name (of several renamed to one name, the one last in the body wins), and
 * a set field replaces any field of its name. Rules act on names, so every
 * field of a repeated key is treated alike. Untouched fields are copied byte
 * for byte (sl_bb_copy_event); set fields are appended after them.
 *
 * All of it is a list of body edits: the remove, rename and set rules make
 * a fixed list at init; only a rename into a name the event already has
 * adds edits per event (see event_edits).
 *
 * Set values: unquoted scalars that parse as int64 become integers, true /
 * false booleans, null / ~ / empty nil; anything else, and every quoted
 * scalar, a string. They are typed once at init.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

typedef struct name {
    const char *s; /* lives as long as the ctx (config node text) */
    size_t len;
} name;

typedef struct rename_rule {
    name from, to;
} rename_rule;

typedef enum set_kind { SET_NIL, SET_BOOL, SET_INT, SET_STR } set_kind;

typedef struct set_rule {
    name key;
    set_kind kind;
    int64_t i;     /* SET_BOOL, SET_INT */
    const char *s; /* SET_STR: config node text */
} set_rule;

typedef struct modify {
    name *remove;
    size_t n_remove;
    rename_rule *rename;
    size_t n_rename;
    set_rule *set;
    size_t n_set;
    sl_edit *fixed;    /* remove, rename and set as edits, in that order */
    size_t n_fixed;
    sl_edit *edits;    /* one event's edits (renames only): per-event part */
    size_t edits_cap;
    int64_t *last;     /* per rename rule: position of its field in the body */
} modify;

static const sl_option options[] = {
    {"set", SL_OPT_MAP, NULL, 0,
     "fields to set, field: value (unquoted ints/true/false/null are typed)", NULL, NULL, NULL,
     0},
    {"rename", SL_OPT_MAP, NULL, 0, "fields to rename, old: new", NULL, NULL, NULL, 0},
    {"remove", SL_OPT_LIST, NULL, 0, "fields to remove", NULL, NULL, NULL, 0},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int name_eq(const name *a, const char *s, size_t len)
{
    return a->len == len && (len == 0 || memcmp(a->s, s, len) == 0);
}

/* ------------------------------------------------------------------ */
/* init: options into plain arrays                                     */
/* ------------------------------------------------------------------ */

static void modify_free(modify *m)
{
    if (!m)
        return;
    free(m->remove);
    free(m->rename);
    free(m->set);
    free(m->fixed);
    free(m->edits);
    free(m->last);
    free(m);
}

static int where_err(const sl_host *host, const sl_node *n, char *err, size_t errlen,
                     const char *what)
{
    char at[128] = "";
    if (n)
        host->node_where(n, at, sizeof at);
    snprintf(err, errlen, "%s%s%s", at, *at ? ": " : "", what);
    return SL_ERR;
}

/* Strict decimal int64: optional sign, digits, nothing else. */
static int parse_i64(const char *s, int64_t *out)
{
    const char *p = s + (*s == '-' || *s == '+');
    if (!*p)
        return -1;
    uint64_t limit = *s == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (acc > (limit - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    if (*s != '-')
        *out = (int64_t)acc;
    else
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    return 0;
}

/* Type a scalar set value. */
static void type_value(const sl_host *host, const sl_node *n, set_rule *r)
{
    const char *text = n ? host->node_str(n) : NULL;
    int quoted = n && host->node_quoted(n);
    if (!text || (!quoted && (!*text || !strcmp(text, "null") || !strcmp(text, "~")))) {
        r->kind = SET_NIL;
    } else if (!quoted && (!strcmp(text, "true") || !strcmp(text, "false"))) {
        r->kind = SET_BOOL;
        r->i = !strcmp(text, "true");
    } else if (!quoted && parse_i64(text, &r->i) == 0) {
        r->kind = SET_INT;
    } else {
        r->kind = SET_STR;
        r->s = text;
    }
}

static int parse_remove(const sl_host *host, const sl_node *node, modify *m,
                        char *err, size_t errlen)
{
    size_t n = node ? host->node_len(node) : 0;
    if (n == 0)
        return SL_OK;
    if (!(m->remove = calloc(n, sizeof *m->remove)))
        return where_err(host, NULL, err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const sl_node *it = host->node_at(node, i);
        const char *s = host->node_kind(it) == SL_NODE_SCALAR ? host->node_str(it) : NULL;
        if (!s)
            return where_err(host, it, err, errlen, "remove: each item must be a field name");
        m->remove[m->n_remove++] = (name){s, strlen(s)};
    }
    return SL_OK;
}

static int parse_rename(const sl_host *host, const sl_node *node, modify *m,
                        char *err, size_t errlen)
{
    size_t n = node ? host->node_len(node) : 0;
    if (n == 0)
        return SL_OK;
    if (host->node_kind(node) != SL_NODE_MAP)
        return where_err(host, node, err, errlen, "rename: expected a mapping old: new");
    if (!(m->rename = calloc(n, sizeof *m->rename)))
        return where_err(host, NULL, err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *from = host->node_key(node, i);
        const sl_node *v = host->node_at(node, i);
        const char *to = host->node_kind(v) == SL_NODE_SCALAR ? host->node_str(v) : NULL;
        if (!from || !to || !*to)
            return where_err(host, v ? v : node, err, errlen,
                             "rename: each value must be the new field name");
        m->rename[m->n_rename++] = (rename_rule){{from, strlen(from)}, {to, strlen(to)}};
    }
    return SL_OK;
}

static int parse_set(const sl_host *host, const sl_node *node, modify *m, char *err,
                     size_t errlen)
{
    size_t n = node ? host->node_len(node) : 0;
    if (n == 0)
        return SL_OK;
    if (host->node_kind(node) != SL_NODE_MAP)
        return where_err(host, node, err, errlen, "set: expected a mapping field: value");
    if (!(m->set = calloc(n, sizeof *m->set)))
        return where_err(host, NULL, err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *key = host->node_key(node, i);
        const sl_node *v = host->node_at(node, i);
        sl_node_kind k = host->node_kind(v);
        if (!key)
            return where_err(host, node, err, errlen, "set: bad key");
        if (k != SL_NODE_SCALAR && k != SL_NODE_NONE)
            return where_err(host, v, err, errlen, "set: values must be scalars");
        set_rule *r = &m->set[m->n_set++];
        r->key = (name){key, strlen(key)};
        type_value(host, k == SL_NODE_NONE ? NULL : v, r);
    }
    return SL_OK;
}

static int is_set(const modify *m, const name *k)
{
    for (size_t i = 0; i < m->n_set; i++)
        if (name_eq(&m->set[i].key, k->s, k->len))
            return 1;
    return 0;
}

static void add_edit(sl_edit *e, size_t *n, const name *key, sl_edit_op op, const name *to)
{
    e[(*n)++] = (sl_edit){key->s, key->len, op, to ? to->s : NULL, to ? to->len : 0};
}

/* The rules as one list of edits, first match wins: remove, then rename (a
 * field renamed to a name that `set` writes is simply removed), then the
 * set names (their old values go; the new ones are appended). */
static int make_fixed(modify *m)
{
    size_t total = m->n_remove + m->n_rename + m->n_set, n = 0;
    if (total == 0)
        return 0;
    m->fixed = calloc(total, sizeof *m->fixed);
    m->edits = calloc(2 * m->n_rename + total, sizeof *m->edits);
    m->last = calloc(m->n_rename + 1, sizeof *m->last);
    if (!m->fixed || !m->edits || !m->last)
        return -1;
    m->edits_cap = 2 * m->n_rename + total;
    for (size_t i = 0; i < m->n_remove; i++)
        add_edit(m->fixed, &n, &m->remove[i], SL_EDIT_REMOVE, NULL);
    for (size_t i = 0; i < m->n_rename; i++) {
        const rename_rule *r = &m->rename[i];
        int gone = is_set(m, &r->to);
        add_edit(m->fixed, &n, &r->from, gone ? SL_EDIT_REMOVE : SL_EDIT_RENAME, &r->to);
    }
    for (size_t i = 0; i < m->n_set; i++)
        add_edit(m->fixed, &n, &m->set[i].key, SL_EDIT_REMOVE, NULL);
    m->n_fixed = n;
    return 0;
}

static int modify_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                       size_t errlen)
{
    modify *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    if (parse_remove(host, host->opt_node(ctx, "remove"), m, err, errlen) != SL_OK ||
        parse_rename(host, host->opt_node(ctx, "rename"), m, err, errlen) != SL_OK ||
        parse_set(host, host->opt_node(ctx, "set"), m, err, errlen) != SL_OK) {
        modify_free(m);
        return SL_ERR;
    }
    if (make_fixed(m) != 0) {
        modify_free(m);
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    if (m->n_remove + m->n_rename + m->n_set == 0)
        host->log(ctx, SL_LOG_WARN, "no set, rename or remove given: events pass unchanged");
    *state = m;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* process                                                             */
/* ------------------------------------------------------------------ */

/* The fixed edit a string key gets (first match), or NULL. */
static const sl_edit *fixed_edit(const modify *m, const sl_value *k)
{
    for (size_t i = 0; i < m->n_fixed; i++)
        if (m->fixed[i].key_len == k->v.s.len &&
            memcmp(m->fixed[i].key, k->v.s.ptr, k->v.s.len) == 0)
            return &m->fixed[i];
    return NULL;
}

/* Where each rename rule's field is in this body (the last one; -1 when
 * absent). 0, or -1 when the body is malformed. */
static int find_renamed(const modify *m, const sl_value *body)
{
    sl_iter it;
    sl_value k, v;
    int r;
    int64_t pos = 0;
    for (size_t i = 0; i < m->n_rename; i++)
        m->last[i] = -1;
    if (sl_iter_init(&it, body) != 0)
        return -1;
    for (; (r = sl_iter_next(&it, &k, &v)) == 1; pos++) {
        const sl_edit *e = k.type == SL_STR ? fixed_edit(m, &k) : NULL;
        if (e && e->op == SL_EDIT_RENAME)
            m->last[(size_t)(e - m->fixed) - m->n_remove] = pos;
    }
    return r;
}

/*
 * This event's edits. A rename into a name the body already has replaces
 * that field: a REMOVE of the name, after the fixed edits (so a field that
 * is itself renamed or removed keeps its own edit). Of several renames into
 * one name, the field last in the body wins: the others' old names are
 * removed before the fixed edits. Returns how many, or -1 (malformed).
 */
static int64_t event_edits(modify *m, const sl_value *body, const sl_edit **out)
{
    *out = m->fixed;
    if (m->n_rename == 0)
        return (int64_t)m->n_fixed;
    if (find_renamed(m, body) != 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < m->n_rename; i++) {
        const rename_rule *r = &m->rename[i];
        for (size_t j = 0; m->last[i] >= 0 && j < m->n_rename; j++)
            if (j != i && m->last[j] > m->last[i] && name_eq(&m->rename[j].to, r->to.s, r->to.len)) {
                add_edit(m->edits, &n, &r->from, SL_EDIT_REMOVE, NULL);
                break;
            }
    }
    memcpy(m->edits + n, m->fixed, m->n_fixed * sizeof *m->edits);
    n += m->n_fixed;
    for (size_t i = 0; i < m->n_rename; i++)
        if (m->last[i] >= 0)
            add_edit(m->edits, &n, &m->rename[i].to, SL_EDIT_REMOVE, NULL);
    *out = m->edits;
    return (int64_t)n;
}

static int pack_set(sl_builder *out, const set_rule *r)
{
    sl_bb_str(out, r->key.s, r->key.len);
    switch (r->kind) {
    case SET_NIL: return sl_bb_nil(out);
    case SET_BOOL: return sl_bb_bool(out, (int)r->i);
    case SET_INT: return sl_bb_int(out, r->i);
    case SET_STR: return sl_bb_cstr(out, r->s);
    }
    return -1;
}

static int write_event(modify *m, const sl_event *ev, sl_builder *out)
{
    const sl_edit *edits;
    int64_t n = event_edits(m, &ev->body, &edits);
    if (n < 0 || sl_bb_copy_event(out, ev, edits, (size_t)n, (uint32_t)m->n_set) != 0)
        return -1;
    for (size_t i = 0; i < m->n_set; i++)
        pack_set(out, &m->set[i]);
    return sl_bb_end(out); /* any failed pack fails here */
}

static int modify_process(void *state, const sl_batch *in, sl_builder *out,
                          char *err, size_t errlen)
{
    modify *m = state;
    sl_batch_iter it;
    sl_event ev;
    int r;
    uint32_t i = 0;
    /* On failure, leave `out` as we found it: the core passes `in` on. */
    sl_bb_mark mark = sl_bb_get_mark(out);
    sl_batch_iter_init(&it, in);
    while ((r = sl_batch_next(&it, &ev)) == 1) {
        if (write_event(m, &ev, out) != 0) {
            snprintf(err, errlen, "event %u: out of memory or malformed body", i);
            goto fail;
        }
        i++;
    }
    if (r == 0)
        return SL_OK;
    snprintf(err, errlen, "event %u: malformed event", i);
fail:
    sl_bb_rollback(out, mark);
    return SL_ERR;
}

static void modify_destroy(void *state)
{
    modify_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "modify", "1.0.0"),
    .description = "Removes, renames and sets top-level body fields (in that order); a "
                   "renamed or set field replaces any field of its name. Set values that "
                   "look like ints, true/false or null are typed unless quoted.",
    .options = options,
    .init = modify_init,
    .process = modify_process,
    .destroy = modify_destroy,
};
