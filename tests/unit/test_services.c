/* Host services: safe file writes and dead letters (core/services.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services.h"
#include "sl_test.h"
#include "sluice/json.h"

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl-services-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static char *path_in(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* The whole file, NUL-terminated (static buffer). */
static const char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_replace_and_symlinks(void)
{
    make_dir();
    char err[256];
    const char *victim = path_in("victim");
    const char *target = path_in("state");
    FILE *f = fopen(victim, "w");
    fputs("precious", f);
    fclose(f);
    /* A planted <file>.tmp symlink is removed, not written through. */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", target);
    CU_ASSERT_EQUAL_FATAL(symlink(victim, tmp), 0);
    CU_ASSERT_EQUAL(sl_file_replace(target, "new", 3, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(slurp(victim), "precious");
    CU_ASSERT_STRING_EQUAL(slurp(target), "new");
    struct stat st;
    CU_ASSERT_EQUAL(stat(target, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(lstat(tmp, &st), -1);

    /* open never follows a symlink in the last component */
    const char *link = path_in("out.log");
    CU_ASSERT_EQUAL_FATAL(symlink(victim, link), 0);
    CU_ASSERT_EQUAL(sl_file_open(link, SL_FILE_APPEND, 0600, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "refusing to follow a symlink"));
    CU_ASSERT_STRING_EQUAL(slurp(victim), "precious");

    /* missing directories are made on request, 0700 */
    const char *deep = path_in("a/b/c.log");
    CU_ASSERT_EQUAL(sl_file_open(deep, SL_FILE_APPEND, 0600, err, sizeof err), -1);
    int fd = sl_file_open(deep, SL_FILE_APPEND | SL_FILE_MKDIRS, 0600, err, sizeof err);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(sl_file_write(fd, "x\n", 2, 1, err, sizeof err), 0);
    close(fd);
    CU_ASSERT_EQUAL(stat(path_in("a/b"), &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
    CU_ASSERT_STRING_EQUAL(slurp(deep), "x\n");
    remove_dir();
}

/* An event {meta: {source: s}, body: {k: v}} at time 0. */
static sl_builder *one_event(const char *v)
{
    sl_builder *bb = sl_bb_new();
    sl_bb_begin(bb, 0);
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "source");
    sl_bb_cstr(bb, "s");
    sl_bb_map(bb, 1);
    sl_bb_cstr(bb, "k");
    sl_bb_cstr(bb, v);
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    return bb;
}

static void first_event(sl_builder *bb, sl_event *ev)
{
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, ev), 1);
}

static void test_dead_letter_line(void)
{
    make_dir();
    sl_deadletter d;
    sl_deadletter_init(&d);
    d.path = strdup(path_in("sub/dead-letters.jsonl"));
    sl_builder *bb = one_event("v\"1");
    sl_event ev;
    first_event(bb, &ev);
    /* A hostile server message: quotes, a bad escape, a newline, bad UTF-8. */
    CU_ASSERT_EQUAL(sl_deadletter_write(&d, "oe", &ev, "HTTP 400: {\"message\":\"bad \\q\"}\n\xff"),
                    0);
    const char *got = slurp(d.path);
    CU_ASSERT_EQUAL(strchr(got, '\n'), got + strlen(got) - 1); /* one line */
    CU_ASSERT_EQUAL(strncmp(got, "{\"time\":\"", 9), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"component\":\"oe\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"reason\":\"HTTP 400: {\\\"message\\\":\\\"bad \\\\q\\\"}\\n\xef\xbf\xbd\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"event\":{\"time\":\"1970-01-01T00:00:00.000000000Z\",\"meta\":{\"source\":\"s\"},\"body\":{\"k\":\"v\\\"1\"}}}\n"));
    struct stat st;
    CU_ASSERT_EQUAL(stat(d.path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    sl_bb_free(bb);
    sl_deadletter_destroy(&d);
    remove_dir();
}

static void test_dead_letter_turns_over(void)
{
    make_dir();
    sl_deadletter d;
    sl_deadletter_init(&d);
    d.path = strdup(path_in("dl.jsonl"));
    d.rotate_bytes = 300;
    sl_builder *bb = one_event("x");
    sl_event ev;
    first_event(bb, &ev);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(sl_deadletter_write(&d, "c", &ev, "r"), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(d.path, &st), 0);
    CU_ASSERT(st.st_size <= 300);
    char old[300];
    snprintf(old, sizeof old, "%s.1", d.path);
    CU_ASSERT_EQUAL(stat(old, &st), 0);
    CU_ASSERT(st.st_size <= 300);
    sl_bb_free(bb);
    sl_deadletter_destroy(&d);
    remove_dir();
}

static const sl_test_case cases[] = {
    {"replace, open: no symlinks followed, 0600/0700", test_replace_and_symlinks},
    {"dead letter: one valid JSON line", test_dead_letter_line},
    {"dead letter: turns over at its size bound", test_dead_letter_turns_over},
    {0},
};

int main(void)
{
    return sl_test_run("services", cases);
}
