/* sink_oneentry per-visitor ordering table: claim/queue/release, many
 * identities through growth and deletion, and a random run checked
 * against a plain model (per identity, items come out in claim order and
 * never two at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oe_order.h"
#include "sl_test.h"

static void test_one_identity(void)
{
    oe_order o;
    int a = 1, b = 2, c = 3, d = 4;
    oe_order_init(&o);
    CU_ASSERT_EQUAL(oe_order_claim(&o, "x-guest-id: g1", &a), 1);
    CU_ASSERT_EQUAL(oe_order_claim(&o, "x-guest-id: g1", &b), 0);
    CU_ASSERT_EQUAL(oe_order_claim(&o, "x-guest-id: g1", &c), 0);
    CU_ASSERT_EQUAL(oe_order_claim(&o, "x-guest-id: g2", &d), 1); /* another visitor */
    CU_ASSERT_EQUAL(oe_order_waiting(&o), 2);
    CU_ASSERT_PTR_EQUAL(oe_order_holder(&o, "x-guest-id: g1"), &a);
    CU_ASSERT_PTR_EQUAL(oe_order_release(&o, "x-guest-id: g1"), &b);
    CU_ASSERT_PTR_EQUAL(oe_order_holder(&o, "x-guest-id: g1"), &b);
    CU_ASSERT_PTR_EQUAL(oe_order_release(&o, "x-guest-id: g1"), &c);
    CU_ASSERT_EQUAL(oe_order_waiting(&o), 0);
    CU_ASSERT_PTR_NULL(oe_order_release(&o, "x-guest-id: g1"));
    /* Free again: the next claim goes at once. */
    CU_ASSERT_EQUAL(oe_order_claim(&o, "x-guest-id: g1", &a), 1);
    CU_ASSERT_PTR_NULL(oe_order_release(&o, "x-guest-id: g1"));
    CU_ASSERT_PTR_NULL(oe_order_release(&o, "x-guest-id: g2"));
    CU_ASSERT_PTR_NULL(oe_order_release(&o, "never seen"));
    CU_ASSERT_PTR_NULL(oe_order_holder(&o, "x-guest-id: g1"));
    CU_ASSERT_EQUAL(oe_order_held(&o), 0);
    oe_order_free(&o);
}

/* Ids differ only in content, not pointer: the table compares strings. */
static void test_equal_strings(void)
{
    oe_order o;
    char k1[] = "Authorization: Bearer t", k2[] = "Authorization: Bearer t";
    int a, b;
    oe_order_init(&o);
    CU_ASSERT_EQUAL(oe_order_claim(&o, k1, &a), 1);
    CU_ASSERT_EQUAL(oe_order_claim(&o, k2, &b), 0);
    CU_ASSERT_PTR_EQUAL(oe_order_release(&o, k1), &b);
    /* b holds now, under its own string: k1 may go away. */
    memset(k1, 'z', sizeof k1 - 1);
    CU_ASSERT_PTR_NULL(oe_order_release(&o, k2));
    CU_ASSERT_EQUAL(oe_order_held(&o), 0);
    oe_order_free(&o);
}

#define NID 3000
#define NITEMS 60000

typedef struct item {
    int id, seq;
} item;

/* Random claims and releases over many identities, through table growth
 * and backward-shift deletion, checked against per-identity counters. */
static void test_random_model(void)
{
    static char names[NID][24];
    static int next_claim[NID], next_out[NID], holder[NID];
    static item items[NITEMS];
    oe_order o;
    unsigned seed = 12345;
    int claimed = 0, finished = 0, bad = 0;
    int *active = malloc(NITEMS * sizeof *active), nactive = 0;
    oe_order_init(&o);
    for (int i = 0; i < NID; i++) {
        snprintf(names[i], sizeof names[i], "x-guest-id: v%d", i);
        holder[i] = -1;
    }
    while (finished < NITEMS) {
        int r = rand_r(&seed);
        if (claimed < NITEMS && (r % 3 != 0 || nactive == 0)) {
            item *it = &items[claimed];
            it->id = rand_r(&seed) % (claimed < NITEMS / 2 ? NID : 40); /* then hot ones */
            it->seq = next_claim[it->id]++;
            int c = oe_order_claim(&o, names[it->id], it);
            if (c == 1) {
                bad += holder[it->id] != -1 || it->seq != next_out[it->id];
                bad += oe_order_holder(&o, names[it->id]) != it;
                holder[it->id] = claimed;
                active[nactive++] = claimed;
            } else {
                bad += c != 0 || holder[it->id] == -1;
            }
            claimed++;
            continue;
        }
        /* Finish a random holder; whatever it releases holds next. */
        int k = rand_r(&seed) % nactive, idx = active[k];
        item *it = &items[idx];
        active[k] = active[--nactive];
        next_out[it->id]++;
        finished++;
        item *nx = oe_order_release(&o, names[it->id]);
        holder[it->id] = -1;
        if (nx) {
            bad += nx->id != it->id || nx->seq != next_out[it->id];
            holder[nx->id] = (int)(nx - items);
            active[nactive++] = (int)(nx - items);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(oe_order_waiting(&o), 0);
    CU_ASSERT_EQUAL(oe_order_held(&o), 0);
    for (int i = 0; i < NID; i++)
        bad += next_out[i] != next_claim[i];
    CU_ASSERT_EQUAL(bad, 0);
    free(active);
    oe_order_free(&o);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"one identity queues in order", test_one_identity},
        {"identities compare by content", test_equal_strings},
        {"random claims and releases match a model", test_random_model},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_order", cases);
}
