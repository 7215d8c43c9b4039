/*
 * enricher modify: remove, rename and set top-level body fields.
 *
 * Applied in that order: `remove` drops fields by their original names,
 * `rename` renames what is left, `set` writes fields last. Output never has
 * duplicate keys: a renamed field replaces a field that already had the new
 * name, and a set field replaces any field of its name. Untouched fields are
 * copied byte for byte; set fields are appended after them.
 *
 * Set values: unquoted scalars that parse as int64 become integers, true /
 * false booleans, null / ~ / empty nil; anything else, and every quoted
 * scalar, a string. They are encoded once at init.
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

typedef struct set_rule {
    name key;
    uint8_t *val; /* encoded msgpack value */
    size_t val_len;
} set_rule;

/* One body field of the event being rewritten. */
typedef struct field {
    const uint8_t *kraw, *vraw;
    size_t klen_raw, vlen_raw;
    name key;        /* {NULL, 0} for non-string keys */
    const name *to;  /* new name when renamed */
    int drop;
} field;

typedef struct modify {
    name *remove;
    size_t n_remove;
    rename_rule *rename;
    size_t n_rename;
    set_rule *set;
    size_t n_set;
    field *fields; /* scratch, grown as bodies need */
    size_t fields_cap;
} modify;

static const sl_option options[] = {
    {"set", SL_OPT_MAP, NULL, 0,
     "fields to set, field: value (unquoted ints/true/false/null are typed)", NULL},
    {"rename", SL_OPT_MAP, NULL, 0, "fields to rename, old: new", NULL},
    {"remove", SL_OPT_LIST, NULL, 0, "fields to remove", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
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
    for (size_t i = 0; i < m->n_set; i++)
        free(m->set[i].val);
    free(m->remove);
    free(m->rename);
    free(m->set);
    free(m->fields);
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

/* Encode a scalar set value. Returns 0 or -1 (out of memory). */
static int encode_value(const sl_host *host, const sl_node *n, set_rule *r)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const char *text = n ? host->node_str(n) : NULL;
    int quoted = n && host->node_quoted(n);
    int64_t i;
    int rc;
    if (!text || (!quoted && (!*text || !strcmp(text, "null") || !strcmp(text, "~"))))
        rc = msgpack_pack_nil(&pk);
    else if (!quoted && !strcmp(text, "true"))
        rc = msgpack_pack_true(&pk);
    else if (!quoted && !strcmp(text, "false"))
        rc = msgpack_pack_false(&pk);
    else if (!quoted && parse_i64(text, &i) == 0)
        rc = msgpack_pack_int64(&pk, i);
    else
        rc = sl_pack_cstr(&pk, text);
    if (rc != 0) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    r->val_len = sb.size;
    r->val = (uint8_t *)msgpack_sbuffer_release(&sb);
    return 0;
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
        set_rule *r = &m->set[m->n_set];
        r->key = (name){key, strlen(key)};
        if (encode_value(host, k == SL_NODE_NONE ? NULL : v, r) != 0)
            return where_err(host, NULL, err, errlen, "out of memory");
        m->n_set++;
    }
    return SL_OK;
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
    if (m->n_remove + m->n_rename + m->n_set == 0)
        host->log(ctx, SL_LOG_WARN, "no set, rename or remove given: events pass unchanged");
    *state = m;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* process                                                             */
/* ------------------------------------------------------------------ */

static int in_remove(const modify *m, const name *k)
{
    for (size_t i = 0; i < m->n_remove; i++)
        if (name_eq(&m->remove[i], k->s, k->len))
            return 1;
    return 0;
}

static const name *renamed_to(const modify *m, const name *k)
{
    for (size_t i = 0; i < m->n_rename; i++)
        if (name_eq(&m->rename[i].from, k->s, k->len))
            return &m->rename[i].to;
    return NULL;
}

static int in_set(const modify *m, const name *k)
{
    for (size_t i = 0; i < m->n_set; i++)
        if (name_eq(&m->set[i].key, k->s, k->len))
            return 1;
    return 0;
}

/* Read the body's fields into m->fields. Returns the count, or -1. */
static int64_t load_fields(modify *m, const sl_value *body)
{
    sl_iter it;
    sl_value k, v;
    int r;
    if (body->v.n > m->fields_cap) {
        field *f = realloc(m->fields, (size_t)body->v.n * sizeof *f);
        if (!f)
            return -1;
        m->fields = f;
        m->fields_cap = body->v.n;
    }
    if (sl_iter_init(&it, body) != 0)
        return -1;
    size_t n = 0;
    while ((r = sl_iter_next(&it, &k, &v)) == 1) {
        field *f = &m->fields[n++];
        *f = (field){k.raw, v.raw, k.raw_len, v.raw_len, {NULL, 0}, NULL, 0};
        if (k.type == SL_STR)
            f->key = (name){k.v.s.ptr, k.v.s.len};
    }
    return r == 0 ? (int64_t)n : -1;
}

/* Apply remove, rename, set to the loaded fields; returns how many stay. */
static uint32_t apply_rules(const modify *m, field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!f[i].key.s)
            continue;
        if (in_remove(m, &f[i].key))
            f[i].drop = 1;
        else
            f[i].to = renamed_to(m, &f[i].key);
    }
    /* A renamed field wins over any other field ending up with its name
     * (among several renamed to one name, the last in the body). */
    for (size_t i = 0; i < n; i++) {
        if (!f[i].to || f[i].drop)
            continue;
        for (size_t j = 0; j < n; j++) {
            if (j == i || f[j].drop || !f[j].key.s)
                continue;
            const name *nj = f[j].to ? f[j].to : &f[j].key;
            if ((!f[j].to || j < i) && name_eq(nj, f[i].to->s, f[i].to->len))
                f[j].drop = 1;
        }
    }
    uint32_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!f[i].drop && f[i].key.s && in_set(m, f[i].to ? f[i].to : &f[i].key))
            f[i].drop = 1;
        kept += !f[i].drop;
    }
    return kept;
}

static int write_event(modify *m, const sl_event *ev, sl_batch_builder *out)
{
    int64_t n = load_fields(m, &ev->body);
    if (n < 0)
        return -1;
    uint32_t kept = apply_rules(m, m->fields, (size_t)n);
    msgpack_packer *pk = &out->pk;
    int rc = 0;
    sl_bb_begin(out, ev->time_ns);
    rc |= sl_pack_value(pk, &ev->meta);
    rc |= msgpack_pack_map(pk, kept + (uint32_t)m->n_set);
    for (int64_t i = 0; i < n; i++) {
        const field *f = &m->fields[i];
        if (f->drop)
            continue;
        if (f->to)
            rc |= sl_pack_str(pk, f->to->s, f->to->len);
        else
            rc |= pk->callback(pk->data, (const char *)f->kraw, f->klen_raw);
        rc |= pk->callback(pk->data, (const char *)f->vraw, f->vlen_raw);
    }
    for (size_t i = 0; i < m->n_set; i++) {
        rc |= sl_pack_str(pk, m->set[i].key.s, m->set[i].key.len);
        rc |= pk->callback(pk->data, (const char *)m->set[i].val, m->set[i].val_len);
    }
    sl_bb_end(out);
    return rc ? -1 : 0;
}

static int modify_process(void *state, const sl_batch *in, sl_batch_builder *out,
                          char *err, size_t errlen)
{
    modify *m = state;
    sl_batch_iter it;
    sl_event ev;
    int r;
    /* On failure, leave `out` as we found it: the core passes `in` on. */
    size_t size0 = out->sbuf.size;
    uint32_t count0 = out->count, i = 0;
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
    out->sbuf.size = size0;
    out->count = count0;
    return SL_ERR;
}

static void modify_destroy(void *state)
{
    modify_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "modify", "1.0.0"),
    .description = "Removes, renames and sets top-level body fields (in that order). "
                   "Set values that look like ints, true/false or null are typed "
                   "unless quoted.",
    .options = options,
    .init = modify_init,
    .process = modify_process,
    .destroy = modify_destroy,
};
