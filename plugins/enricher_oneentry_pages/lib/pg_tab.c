/* The (language, handle) table; see pg_tab.h. */
#include "pg_tab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

int pg_tab_init(pg_tab *t, int keyed)
{
    memset(t, 0, sizeof *t);
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
    h ^= (uint64_t)(lang + 1) * MIX;
    return h ? h : 1; /* 0 marks an empty slot */
}

static int same(const pg_entry *e, uint64_t h, unsigned lang, const char *k, size_t n)
{
    return e->hash == h && e->lang == lang && e->len == n && memcmp(e->key, k, n) == 0;
}

/* The slot of (lang, k), or the empty slot where it would go. */
static size_t find(const pg_tab *t, uint64_t h, unsigned lang, const char *k, size_t n)
{
    size_t mask = t->cap - 1, i = (size_t)h & mask;
    while (t->slots[i].hash && !same(&t->slots[i], h, lang, k, n))
        i = (i + 1) & mask;
    return i;
}

pg_entry *pg_tab_get(const pg_tab *t, unsigned lang, const char *k, size_t n)
{
    if (!t->n || n > PG_HANDLE_MAX)
        return NULL;
    size_t i = find(t, hash(t, lang, k, n), lang, k, n);
    return t->slots[i].hash ? &t->slots[i] : NULL;
}

static int grow(pg_tab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    pg_entry *old = t->slots, *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    size_t oldcap = t->cap;
    t->slots = s;
    t->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].hash)
            s[find(t, old[i].hash, old[i].lang, old[i].key, old[i].len)] = old[i];
    free(old);
    return 0;
}

pg_entry *pg_tab_put(pg_tab *t, unsigned lang, const char *k, size_t n)
{
    if (n > PG_HANDLE_MAX || lang > UINT16_MAX)
        return NULL;
    if ((t->n + 1) * 2 > t->cap && grow(t) < 0) /* at most half full */
        return NULL;
    uint64_t h = hash(t, lang, k, n);
    pg_entry *e = &t->slots[find(t, h, lang, k, n)];
    if (e->hash)
        return e;
    char *key = malloc(n + 1);
    if (!key)
        return NULL;
    memcpy(key, k, n);
    key[n] = 0;
    *e = (pg_entry){.hash = h, .key = key, .len = (uint32_t)n, .lang = (uint16_t)lang};
    t->n++;
    return e;
}

/* Backward shift: later entries of the probe run move into the hole when
 * their home slot does not lie between the hole and them. */
void pg_tab_del(pg_tab *t, pg_entry *e)
{
    size_t mask = t->cap - 1, hole = (size_t)(e - t->slots);
    free(e->key);
    free(e->why);
    t->n--;
    for (size_t j = (hole + 1) & mask; t->slots[j].hash; j = (j + 1) & mask) {
        size_t home = (size_t)t->slots[j].hash & mask;
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    memset(&t->slots[hole], 0, sizeof t->slots[hole]);
}

size_t pg_tab_sweep(pg_tab *t, int (*drop)(const pg_entry *e, void *arg), void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap;) {
        /* a deletion may shift the next entry into slot i: look again */
        if (t->slots[i].hash && drop(&t->slots[i], arg)) {
            pg_tab_del(t, &t->slots[i]);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

void pg_tab_free(pg_tab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].hash) {
            free(t->slots[i].key);
            free(t->slots[i].why);
        }
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}
