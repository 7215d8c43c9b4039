/* Checkpoint store of the tail source, and the in-flight FIFO. */
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
        {NULL, NULL},
    };
    return sl_test_run("tail_ckpt", cases);
}
