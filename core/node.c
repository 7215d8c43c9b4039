/* Read access to the configuration tree, with the host API's semantics. */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_node_kind sl_node_kind_of(const sl_node *n)
{
    return n ? n->kind : SL_NODE_NONE;
}

const char *sl_node_str(const sl_node *n)
{
    return n && n->kind == SL_NODE_SCALAR ? n->str : NULL;
}

int sl_node_quoted(const sl_node *n)
{
    return n && n->kind == SL_NODE_SCALAR ? n->quoted : 0;
}

size_t sl_node_len(const sl_node *n)
{
    if (!n)
        return 0;
    return n->kind == SL_NODE_SCALAR ? 1 : n->n;
}

const sl_node *sl_node_at(const sl_node *n, size_t i)
{
    if (!n)
        return NULL;
    if (n->kind == SL_NODE_SCALAR)
        return i == 0 ? n : NULL;
    return i < n->n ? n->items[i] : NULL;
}

const char *sl_node_key(const sl_node *n, size_t i)
{
    if (!n || n->kind != SL_NODE_MAP || i >= n->n)
        return NULL;
    return n->keys[i]->str;
}

const sl_node *sl_node_key_node(const sl_node *map, const char *key)
{
    if (!map || map->kind != SL_NODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0)
            return map->keys[i];
    return NULL;
}

const sl_node *sl_node_get(const sl_node *map, const char *key)
{
    if (!map || map->kind != SL_NODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0)
            return map->items[i];
    return NULL;
}

void sl_node_where(const sl_node *n, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    if (!n)
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%s:%d:%d", n->file ? n->file : "?", n->line, n->col);
}

/* Partly built trees (loader errors) may hold NULL slots; skip them. */
void sl_node_free(sl_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            sl_node_free(n->keys[i]);
        if (n->items)
            sl_node_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->str);
    free(n);
}
