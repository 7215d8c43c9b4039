/*
 * support/oatab.c: inserts, lookups and backward-shift removals checked
 * against a plain array, with hashes chosen to collide (long probe runs
 * that wrap around the end of the table) and a key that hashes to 0.
 */
#include <stdint.h>
#include <stdlib.h>

#include "oatab.h"
#include "sl_test.h"

typedef struct slot {
    uint64_t hash;
    unsigned key;
    unsigned value;
} slot;

static int same(const void *s, const void *key)
{
    return ((const slot *)s)->key == *(const unsigned *)key;
}

/* Few distinct hashes, most of them landing near the table's end, so runs
 * collide, cluster and wrap; key 0 hashes to 0. */
static uint64_t bad_hash(unsigned key)
{
    return key == 0 ? 0 : UINT64_MAX - (key % 13);
}

#define UNIVERSE 600

/* Every key of the universe is where the model says, with its value. */
static int agrees(const sl_oatab *t, const int *present, const unsigned *value)
{
    size_t n = 0;
    for (unsigned k = 0; k < UNIVERSE; k++) {
        const slot *s = sl_oatab_get(t, bad_hash(k), same, &k);
        if (!present[k] != !s || (s && s->value != value[k]))
            return 0;
        n += present[k] != 0;
    }
    return n == t->n;
}

static void test_against_model(void)
{
    sl_oatab t;
    int present[UNIVERSE] = {0};
    unsigned value[UNIVERSE] = {0};
    srand(7);
    sl_oatab_init(&t, sizeof(slot));
    CU_ASSERT_PTR_NULL(sl_oatab_get(&t, 5, same, &(unsigned){5}));
    int ok = 1;
    for (int step = 0; step < 20000 && ok; step++) {
        unsigned k = (unsigned)rand() % UNIVERSE;
        if (rand() % 3) {
            int added;
            slot *s = sl_oatab_insert(&t, bad_hash(k), same, &k, &added);
            ok = s && added == !present[k] && s->hash;
            if (ok && added) {
                ok = s->key == 0 && s->value == 0; /* zeroed for the caller */
                s->key = k;
            }
            if (s)
                s->value = value[k] = (unsigned)step;
            present[k] = 1;
        } else if (present[k]) {
            sl_oatab_remove(&t, sl_oatab_get(&t, bad_hash(k), same, &k));
            present[k] = 0;
        }
        if (ok && step % 97 == 0)
            ok = agrees(&t, present, value);
    }
    CU_ASSERT(ok);
    CU_ASSERT(agrees(&t, present, value));
    CU_ASSERT(t.n * 2 <= t.cap); /* at most half full */
    sl_oatab_free(&t);
    CU_ASSERT_EQUAL(t.n, 0);
}

/* Removing while walking: a slot emptied may receive a later one, which
 * the walk must look at again (as pg_tab_sweep does). */
static void test_remove_during_walk(void)
{
    sl_oatab t;
    sl_oatab_init(&t, sizeof(slot));
    for (unsigned k = 1; k <= 40; k++) {
        int added;
        slot *s = sl_oatab_insert(&t, bad_hash(k), same, &k, &added);
        CU_ASSERT_FATAL(s != NULL);
        s->key = k;
    }
    size_t removed = 0;
    for (size_t i = 0; i < t.cap;) {
        slot *s = sl_oatab_slot(&t, i);
        if (s->hash && s->key % 2) {
            sl_oatab_remove(&t, s);
            removed++;
        } else {
            i++;
        }
    }
    CU_ASSERT_EQUAL(removed, 20);
    CU_ASSERT_EQUAL(t.n, 20);
    for (unsigned k = 1; k <= 40; k++)
        CU_ASSERT_EQUAL(sl_oatab_get(&t, bad_hash(k), same, &k) != NULL, k % 2 == 0);
    sl_oatab_free(&t);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"inserts, lookups and removals agree with a model under collisions", test_against_model},
        {"removal during a walk revisits the shifted slot", test_remove_during_walk},
        {NULL, NULL},
    };
    return sl_test_run("oatab", cases);
}
