/* Checkpoint store of the tail source, and the in-flight FIFO. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "pending.h"
#include "sl_test.h"

static void test_roundtrip(void)
{
    tail_ckpts c;
    tail_ckpts_init(&c);
    long a = tail_ckpts_add(&c, 2049, 77, "/var/log/a b.log");
    long b = tail_ckpts_add(&c, 2049, 78, "/var/log/b.log");
    CU_ASSERT(a >= 0 && b >= 0 && a != b);
    c.v[a].offset = 12345;
    c.v[a].fp_len = 256;
    c.v[a].fp_hash = tail_hash("x", 1);
    c.v[a].tail_len = 64;
    c.v[a].tail_hash = 0xdeadbeefcafef00dULL;
    tail_ckpts_remove(&c, (size_t)b);
    CU_ASSERT_EQUAL(tail_ckpts_find(&c, 2049, 78), -1);
    CU_ASSERT_EQUAL(tail_ckpts_add(&c, 1, 2, "/x"), b); /* slot reused */
    char *text;
    size_t len;
    CU_ASSERT_EQUAL(tail_ckpts_format(&c, &text, &len), 0);

    tail_ckpts d;
    tail_ckpts_init(&d);
    char err[128] = "";
    CU_ASSERT_EQUAL(tail_ckpts_parse(&d, text, len, err, sizeof err), 0);
    long i = tail_ckpts_find(&d, 2049, 77);
    CU_ASSERT_FATAL(i >= 0);
    CU_ASSERT_EQUAL(d.v[i].offset, 12345);
    CU_ASSERT_EQUAL(d.v[i].fp_len, 256);
    CU_ASSERT_EQUAL(d.v[i].fp_hash, tail_hash("x", 1));
    CU_ASSERT_EQUAL(d.v[i].tail_len, 64);
    CU_ASSERT_EQUAL(d.v[i].tail_hash, 0xdeadbeefcafef00dULL);
    CU_ASSERT_STRING_EQUAL(d.v[i].path, "/var/log/a b.log");
    CU_ASSERT(tail_ckpts_find(&d, 1, 2) >= 0);
    free(text);
    tail_ckpts_free(&c);
    tail_ckpts_free(&d);
}

static void test_parse_errors(void)
{
    tail_ckpts c;
    char err[128] = "";
    tail_ckpts_init(&c);
    const char *bad = "# header\n1 2 3 0 0 0 0 /p\n1 2 x\n";
    CU_ASSERT_EQUAL(tail_ckpts_parse(&c, bad, strlen(bad), err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "line 3: malformed");
    tail_ckpts_free(&c);
    tail_ckpts_init(&c);
    const char *torn = "1 2 3 0 0 0 0 /p";
    CU_ASSERT_EQUAL(tail_ckpts_parse(&c, torn, strlen(torn), err, sizeof err), -1);
    /* tail_len may not exceed the offset it vouches for */
    const char *inc = "1 2 3 0 0 9 0 /p\n";
    CU_ASSERT_EQUAL(tail_ckpts_parse(&c, inc, strlen(inc), err, sizeof err), -1);
    tail_ckpts_free(&c);
}

/* The plugin writes the file with host->file_replace; here, by hand. */
static void test_load_file(void)
{
    char dir[] = "/tmp/tail-ckpt-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char err[256] = "", path[512];
    snprintf(path, sizeof path, "%s/cp", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs("# h\n5 6 7 0 0 0 0 /f\n", f);
    fclose(f);
    tail_ckpts c;
    int existed = 0;
    tail_ckpts_init(&c);
    CU_ASSERT_EQUAL(tail_ckpts_load(&c, dir, "cp", &existed, err, sizeof err), 0);
    CU_ASSERT(existed);
    long i = tail_ckpts_find(&c, 5, 6);
    CU_ASSERT(i >= 0 && c.v[i].offset == 7);
    tail_ckpts_free(&c);
    tail_ckpts_init(&c);
    CU_ASSERT_EQUAL(tail_ckpts_load(&c, dir, "absent", &existed, err, sizeof err), 0);
    CU_ASSERT(!existed);
    tail_ckpts_free(&c);
    unlink(path);
    rmdir(dir);
}

/*
 * 100k entries, as a state dir that followed many files over time holds:
 * loading them and finding each must cost O(n), not O(n^2) (11 s before).
 * The index counts the buckets it looks at, so the bound needs no clock.
 */
#define MANY 100000
static void test_many_entries(void)
{
    char *text = malloc((size_t)MANY * 64 + 64), *p = text;
    CU_ASSERT_FATAL(text != NULL);
    p += sprintf(p, "# sluice tail checkpoints v1\n");
    for (uint64_t i = 0; i < MANY; i++) /* inodes in a run, as a file system hands them out */
        p += sprintf(p, "2049 %" PRIu64 " %" PRIu64 " 0 0 0 0 /var/log/app/a.log.%" PRIu64 "\n",
                     1000 + i, i * 7, i);
    p += sprintf(p, "2049 1000 5 0 0 0 0 /dup\n"); /* a second line for (2049, 1000) */
    tail_ckpts c;
    char err[128] = "";
    tail_ckpts_init(&c);
    CU_ASSERT_EQUAL_FATAL(tail_ckpts_parse(&c, text, (size_t)(p - text), err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.nused, MANY);
    CU_ASSERT(c.probes < 4ULL * MANY);
    c.probes = 0;
    for (uint64_t i = 0; i < MANY; i++) {
        long k = tail_ckpts_find(&c, 2049, 1000 + i);
        CU_ASSERT_FATAL(k >= 0);
        CU_ASSERT_EQUAL(c.v[k].offset, i * 7); /* the first line wins */
    }
    CU_ASSERT_EQUAL(tail_ckpts_find(&c, 2049, 1000 + MANY), -1);
    CU_ASSERT_EQUAL(tail_ckpts_find(&c, 2050, 1000), -1);
    CU_ASSERT(c.probes < 4ULL * MANY);
    /* Written back: one line each, the duplicate gone. */
    char *out;
    size_t len, lines = 0;
    CU_ASSERT_EQUAL_FATAL(tail_ckpts_format(&c, &out, &len), 0);
    for (size_t i = 0; i < len; i++)
        lines += out[i] == '\n';
    CU_ASSERT_EQUAL(lines, MANY + 1);
    free(out);
    free(text);
    tail_ckpts_free(&c);
}

/* Adds and removes in any order keep every key findable (the index moves
 * entries back on removal) and slots are reused, checked against a list. */
static void test_add_remove_random(void)
{
    enum { KEYS = 3000, OPS = 60000 };
    static long slot_of[KEYS];
    tail_ckpts c;
    unsigned seed = 12345;
    tail_ckpts_init(&c);
    for (size_t i = 0; i < KEYS; i++)
        slot_of[i] = -1;
    for (size_t op = 0; op < OPS; op++) {
        seed = seed * 1103515245u + 12345u;
        size_t key = (seed >> 8) % KEYS;
        uint64_t dev = key % 3, ino = key / 3 * 4096; /* collide on purpose */
        if (slot_of[key] < 0) {
            slot_of[key] = tail_ckpts_add(&c, dev, ino, "/p");
            CU_ASSERT_FATAL(slot_of[key] >= 0);
        } else {
            tail_ckpts_remove(&c, (size_t)slot_of[key]);
            slot_of[key] = -1;
        }
        if (op % 997 == 0 || op == OPS - 1) {
            size_t used = 0;
            for (size_t k = 0; k < KEYS; k++) {
                CU_ASSERT_EQUAL_FATAL(tail_ckpts_find(&c, k % 3, k / 3 * 4096), slot_of[k]);
                used += slot_of[k] >= 0;
            }
            CU_ASSERT_EQUAL(c.nused, used);
            CU_ASSERT(c.n <= KEYS); /* freed slots are taken again */
        }
    }
    tail_ckpts_free(&c);
}

static void test_pending_fifo(void)
{
    tail_pending p;
    tail_inflight e = {0}, out;
    tail_pending_init(&p);
    for (uint64_t s = 1; s <= 200; s++) { /* crosses several growths */
        e.seq = s;
        e.end = s * 10;
        CU_ASSERT_EQUAL(tail_pending_push(&p, &e), 0);
        if (s % 3 == 0) {
            CU_ASSERT_EQUAL(tail_pending_pop(&p, &out), 0);
            CU_ASSERT_EQUAL(out.seq, s / 3);
        }
    }
    CU_ASSERT_EQUAL(tail_pending_drop_back(&p), 0); /* 200 refused */
    uint64_t want = 67;
    while (tail_pending_pop(&p, &out) == 0) {
        CU_ASSERT_EQUAL(out.seq, want);
        CU_ASSERT_EQUAL(out.end, want * 10);
        want++;
    }
    CU_ASSERT_EQUAL(want, 200);
    tail_pending_free(&p);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"format and parse round trip, slot reuse", test_roundtrip},
        {"malformed and torn checkpoint files are refused", test_parse_errors},
        {"load a file; a missing file is not an error", test_load_file},
        {"in-flight FIFO keeps order across growth", test_pending_fifo},
        {"100k entries load and are found in O(n)", test_many_entries},
        {"random adds and removes keep every entry findable", test_add_remove_random},
        {NULL, NULL},
    };
    return sl_test_run("tail_ckpt", cases);
}
