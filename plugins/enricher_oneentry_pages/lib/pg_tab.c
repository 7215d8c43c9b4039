/* The (language, handle) table; see pg_tab.h. */
#include "pg_tab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

int pg_tab_init(pg_tab *t, int keyed)
{
    memset(t, 0, sizeof *t);
    sl_oatab_init(&t->tab, sizeof(pg_entry));
    t->keyed = keyed;
    return getrandom(t->key, sizeof t->key, 0) == (ssize_t)sizeof t->key ? 0 : -1;
}

#define MIX 0x9E3779B97F4A7C15ull

/* Eight bytes at a time, multiply-xor, then murmur3's finaliser. */
static uint64_t fast_hash(uint64_t seed, const char *k, size_t n)
{
    uint64_t h = seed ^ (n * MIX), w;
    for (; n >= 8; k += 8, n -= 8) {
        memcpy(&w, k, 8);
        h = (h ^ w) * MIX;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, k, n);
    h = (h ^ w) * MIX;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t hash(const pg_tab *t, unsigned lang, const char *k, size_t n)
{
    uint64_t h;
    if (t->keyed) {
        uint8_t out[16];
        siphash128(t->key, k, n, out);
        memcpy(&h, out, sizeof h);
    } else {
        uint64_t seed;
        memcpy(&seed, t->key, sizeof seed);
        h = fast_hash(seed, k, n);
    }
    return h ^ (uint64_t)(lang + 1) * MIX;
}

typedef struct pg_key {
    unsigned lang;
    const char *k;
    size_t n;
} pg_key;

static int same(const void *slot, const void *key)
{
    const pg_entry *e = slot;
    const pg_key *q = key;
    return e->lang == q->lang && e->len == q->n && memcmp(e->key, q->k, q->n) == 0;
}

pg_entry *pg_tab_get(const pg_tab *t, unsigned lang, const char *k, size_t n)
{
    if (!t->tab.n || n > PG_HANDLE_MAX)
        return NULL;
    pg_key q = {lang, k, n};
    return sl_oatab_get(&t->tab, hash(t, lang, k, n), same, &q);
}

pg_entry *pg_tab_put(pg_tab *t, unsigned lang, const char *k, size_t n)
{
    if (n > PG_HANDLE_MAX || lang > UINT16_MAX)
        return NULL;
    pg_key q = {lang, k, n};
    int added;
    pg_entry *e = sl_oatab_insert(&t->tab, hash(t, lang, k, n), same, &q, &added);
    if (!e || !added)
        return e;
    if (!(e->key = malloc(n + 1))) {
        sl_oatab_remove(&t->tab, e);
        return NULL;
    }
    memcpy(e->key, k, n);
    e->key[n] = 0;
    e->len = (uint32_t)n;
    e->lang = (uint16_t)lang;
    return e;
}

void pg_tab_del(pg_tab *t, pg_entry *e)
{
    free(e->key);
    free(e->why);
    sl_oatab_remove(&t->tab, e);
}

size_t pg_tab_sweep(pg_tab *t, int (*drop)(const pg_entry *e, void *arg), void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < t->tab.cap;) {
        pg_entry *e = sl_oatab_slot(&t->tab, i);
        /* a deletion may shift the next entry into slot i: look again */
        if (e->hash && drop(e, arg)) {
            pg_tab_del(t, e);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

void pg_tab_free(pg_tab *t)
{
    for (size_t i = 0; i < t->tab.cap; i++) {
        pg_entry *e = sl_oatab_slot(&t->tab, i);
        if (e->hash) {
            free(e->key);
            free(e->why);
        }
    }
    sl_oatab_free(&t->tab);
}
