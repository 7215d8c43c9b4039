/*
 * A hash table keyed by (language, page handle), for the page map (handle
 * -> page id) and the lookups table beside it (pending, not found, failed).
 * The probing is support's sl_oatab (no tombstones). Keys are hashed
 * with SipHash under a random key: the lookups table holds handles taken
 * from request URLs, which anyone can choose, and must not be made to
 * collide. The page map holds only OneEntry's handles (a lookup of any other
 * handle inserts nothing), so it takes a cheaper seeded hash: it is looked
 * up for every page view. Not thread-safe: one owner at a time.
 */
#ifndef PG_TAB_H
#define PG_TAB_H

#include <stddef.h>
#include <stdint.h>

#include "oatab.h"

/* Longest page handle kept (bytes); a longer one is never a page. */
#define PG_HANDLE_MAX 1024

typedef enum pg_state {
    PG_PAGE = 1,      /* a page: value = its id */
    PG_PENDING = 2,   /* a lookup is under way: value = when it was asked (ms) */
    PG_NOT_FOUND = 3, /* OneEntry has no such page: value = until when (ms) */
    PG_FAILED = 4,    /* the lookup failed: value = until when (ms), why = reason */
} pg_state;

typedef struct pg_entry {
    uint64_t hash;  /* 0 = empty slot */
    char *key;      /* the handle, NUL-terminated, owned */
    uint32_t len;
    uint16_t lang;  /* index of the langCode */
    uint8_t state;  /* pg_state */
    uint32_t stamp; /* the owner's mark (the batch that waits for it) */
    int64_t value;
    char *why;      /* PG_FAILED: the reason, owned; else NULL */
} pg_entry;

typedef struct pg_tab {
    sl_oatab tab;  /* of pg_entry */
    uint8_t key[16];
    int keyed;     /* SipHash; else the seeded multiply-xor hash */
} pg_tab;

/* An empty table with a fresh random hash key: keyed (SipHash) for handles
 * anyone can choose, else for handles from OneEntry. 0, or -1 (no entropy). */
int pg_tab_init(pg_tab *t, int keyed);

/* The entry of (lang, handle), or NULL. */
pg_entry *pg_tab_get(const pg_tab *t, unsigned lang, const char *k, size_t n);

/*
 * The entry of (lang, handle), inserted when absent (state 0, value 0, why
 * NULL; the caller fills them). Pointers to entries are valid until the
 * next put or del. NULL when out of memory or the handle is too long.
 */
pg_entry *pg_tab_put(pg_tab *t, unsigned lang, const char *k, size_t n);

/* Remove an entry returned by get or put. */
void pg_tab_del(pg_tab *t, pg_entry *e);

/* Remove every entry for which drop(e, arg) is non-zero; how many. */
size_t pg_tab_sweep(pg_tab *t, int (*drop)(const pg_entry *e, void *arg), void *arg);

void pg_tab_free(pg_tab *t);

/* Entries in the table. */
static inline size_t pg_tab_count(const pg_tab *t)
{
    return t->tab.n;
}

/* Walks: slot i of pg_tab_slots(t) (NULL when its hash is 0, i.e. empty). */
static inline size_t pg_tab_slots(const pg_tab *t)
{
    return t->tab.cap;
}
static inline const pg_entry *pg_tab_at(const pg_tab *t, size_t i)
{
    const pg_entry *e = (const pg_entry *)sl_oatab_slot(&t->tab, i);
    return e->hash ? e : NULL;
}

#endif
