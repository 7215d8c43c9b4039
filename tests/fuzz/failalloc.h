/*
 * A failing allocator for allocation-failure tortures: the Nth allocation
 * made while armed fails (the others succeed), and torture() runs a piece
 * of code for N = 0, 1, 2, ... until a run makes fewer than N allocations.
 * Every run must report the failure as an error and leave nothing
 * allocated.
 *
 * malloc, calloc, realloc, strdup, strndup and free defined here take
 * precedence over libc's for the whole process, so allocations inside
 * libyaml, msgpack-c and PCRE2 fail too (what -Wl,--wrap would miss). They
 * forward to the next definition (RTLD_NEXT): libc's, or ASan's in the
 * sanitizer build, so ASan and LSan still see every block. Blocks allocated
 * while armed are counted, so a leak fails the test in the plain build too.
 * Valgrind replaces these functions in the main program as well: run such
 * tests under ASan, not valgrind.
 *
 * Include this header from exactly one .c file of a test program, after
 * sl_test.h.
 */
#ifndef SL_FAILALLOC_H
#define SL_FAILALLOC_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The interposer                                                      */
/* ------------------------------------------------------------------ */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym may allocate before the real functions are known: serve those
 * requests from a small static arena that free() then ignores. */
static _Alignas(16) char boot[8192];
static size_t boot_used;
static int resolving;

static int armed;          /* counting only while the code under test runs */
static long fail_at = -1;  /* index of the allocation to fail */
static long n_allocs;      /* allocations seen since arming */
static long live;          /* blocks allocated while armed and not yet freed */
static int injected;       /* the failure happened in this run */
static int injected_in_yaml; /* ... and libyaml made the failing call */

static void resolve(void)
{
    if (real_free || resolving)
        return;
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    resolving = 0;
    if (!real_malloc || !real_calloc || !real_realloc || !real_free)
        abort();
}

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (boot_used + n > sizeof boot)
        return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p; /* static storage: already zero */
}

static int from_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

/* Whether code at `pc` belongs to libyaml. */
static int in_libyaml(const void *pc)
{
    Dl_info info;
    return dladdr(pc, &info) && info.dli_fname && strstr(info.dli_fname, "libyaml");
}

/* 1 when this allocation (requested from `caller`) is the one to fail. */
static int fail_now(const void *caller)
{
    if (!armed)
        return 0;
    if (n_allocs++ == fail_at) {
        injected = 1;
        injected_in_yaml = in_libyaml(caller);
        return 1;
    }
    return 0;
}

static void note_alloc(const void *p)
{
    if (armed && p)
        live++;
}

void *malloc(size_t n)
{
    resolve();
    if (resolving)
        return boot_alloc(n);
    if (fail_now(__builtin_return_address(0)))
        return NULL;
    void *p = real_malloc(n);
    note_alloc(p);
    return p;
}

void *calloc(size_t n, size_t size)
{
    resolve();
    if (resolving)
        return size && n > SIZE_MAX / size ? NULL : boot_alloc(n * size);
    if (fail_now(__builtin_return_address(0)))
        return NULL;
    void *p = real_calloc(n, size);
    note_alloc(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    resolve();
    if (from_boot(old) || resolving)
        abort(); /* the bootstrap arena is never grown */
    if (fail_now(__builtin_return_address(0)))
        return NULL;
    void *p = real_realloc(old, n);
    if (!old)
        note_alloc(p);
    else if (n == 0 && armed)
        live--; /* glibc: realloc(p, 0) frees p */
    return p;
}

void free(void *p)
{
    if (!p || from_boot(p))
        return;
    resolve();
    if (armed)
        live--;
    real_free(p);
}

/* strdup and strndup count as their caller's allocations. */
char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    resolve();
    if (fail_now(__builtin_return_address(0)))
        return NULL;
    char *p = real_malloc(n);
    note_alloc(p);
    return p ? memcpy(p, s, n) : NULL;
}

char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    resolve();
    if (fail_now(__builtin_return_address(0)))
        return NULL;
    char *p = real_malloc(n + 1);
    note_alloc(p);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void arm(long n)
{
    fail_at = n;
    n_allocs = 0;
    live = 0;
    injected = 0;
    injected_in_yaml = 0;
    armed = 1;
}

static void disarm(void)
{
    armed = 0;
}

/* ------------------------------------------------------------------ */
/* Driving the code under test                                         */
/* ------------------------------------------------------------------ */

/* Upper bound on N, so a bug that allocates forever still ends the test. */
#define MAX_N 200000

/*
 * libyaml 0.2.5 leaks one block when growing its document's node stack
 * fails inside yaml_parser_load (a mapping's pairs or a sequence's items
 * stack, allocated just before, is not freed on that error path). Nothing
 * sluice can free: the pointer never leaves libyaml. Runs whose failure
 * was injected into libyaml may therefore leave exactly that one block;
 * every other run must leave none. LSan is told the same, and only that.
 */
#define LIBYAML_OOM_LEAK 1
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:yaml_parser_load\n";
}

typedef int (*run_fn)(const void *arg); /* 0 success, -1 error reported */

/*
 * Run fn with the Nth allocation failing for every N until a run completes
 * without reaching N. Checks each run: an injected failure is reported as
 * an error (unless `may_absorb`: the code may legitimately retry or go
 * without), nothing stays allocated. Returns the number of runs.
 */
static long torture(const char *what, run_fn fn, const void *arg, int want_ok, int may_absorb)
{
    /* A first run unarmed: libc fills its lazy caches (the time zone for
     * gmtime_r, stdio buffers), which then are not leaks of the code. */
    CU_ASSERT_EQUAL(fn(arg), want_ok ? 0 : -1);
    long n;
    for (n = 0; n < MAX_N; n++) {
        arm(n);
        int rc = fn(arg);
        disarm();
        if (live != 0 && !(injected_in_yaml && live <= LIBYAML_OOM_LEAK)) {
            fprintf(stderr, "\n%s: allocation %ld failed: %ld block(s) leaked\n", what, n, live);
            CU_FAIL("leak after a failed allocation");
            return n;
        }
        if (!injected) {
            /* fewer than n+1 allocations: the unharmed run */
            if (rc != (want_ok ? 0 : -1))
                fprintf(stderr, "\n%s: unharmed run returned %d\n", what, rc);
            CU_ASSERT_EQUAL(rc, want_ok ? 0 : -1);
            return n + 1;
        }
        if (rc != -1 && !may_absorb) {
            fprintf(stderr, "\n%s: allocation %ld failed but the call returned %d\n", what, n,
                    rc);
            CU_FAIL("a failed allocation was not reported");
            return n;
        }
    }
    CU_FAIL("the code under test never stopped allocating");
    return n;
}

#endif
