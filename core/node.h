/*
 * The configuration tree: YAML after alias expansion and ${VAR} interpolation,
 * every node carrying the file, line and column it came from.
 */
#ifndef SL_NODE_H
#define SL_NODE_H

#include <stddef.h>

#include "sluice/host.h"

struct sl_node {
    sl_node_kind kind;
    const char *file; /* shared with the pipeline spec; not owned */
    int line, col;    /* 1-based */
    char *str;        /* SCALAR: text after interpolation, NUL-terminated */
    size_t str_len;
    int quoted;       /* SCALAR: was single- or double-quoted */
    size_t n;         /* SEQ: items; MAP: pairs */
    struct sl_node **keys;  /* MAP: key scalars (n of them) */
    struct sl_node **items; /* SEQ: items; MAP: values */
};

/* Accessors with the host API's semantics (NULL-safe). */
sl_node_kind sl_node_kind_of(const sl_node *n);
const char *sl_node_str(const sl_node *n);
int sl_node_quoted(const sl_node *n);
size_t sl_node_len(const sl_node *n);
const sl_node *sl_node_at(const sl_node *n, size_t i);
const char *sl_node_key(const sl_node *n, size_t i);
const sl_node *sl_node_get(const sl_node *map, const char *key);
/* The key node of `key` in a map, for error locations; NULL when absent. */
const sl_node *sl_node_key_node(const sl_node *map, const char *key);
void sl_node_where(const sl_node *n, char *buf, size_t len);

/* Free a tree built by the config loader. */
void sl_node_free(sl_node *n);

#endif
