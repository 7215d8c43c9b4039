/*
 * Fuzz target: sink_oneentry's disk spool as found after a crash, torn
 * write or disk damage. The input, up to its first "\n", is the `pos` file
 * (the committed position); the rest is the first segment file. The spool
 * must open, read every record it trusts, then still work: a record appended
 * afterwards is the last one read after a reopen.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/sink_oneentry/spool_io.h"
#include "fuzz.h"
#include "oe_spool.h"

static const char SENTINEL[] = "fuzz-sentinel-record";
static char dir[64];

static void clear_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void remove_dir(void)
{
    clear_dir();
    rmdir(dir);
}

static void put_file(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
        abort();
    close(fd);
}

/* Read and finish every record; returns how many, the last one in *last. */
static size_t drain(oe_spool *s, sl_buf *last)
{
    char err[256];
    uint64_t id;
    size_t n = 0;
    int r;
    while ((r = oe_spool_read(s, last, &id, err, sizeof err)) == 1) {
        if (last->len > OE_SPOOL_MAX_RECORD)
            abort();
        oe_spool_done(s, id);
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sluice-fuzz-spool.XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
    }
    clear_dir();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t poslen = nl ? (size_t)(nl - data) : 0;
    if (nl)
        put_file("pos", data, poslen);
    put_file("seg-00000000000000000001.oes", data + (nl ? poslen + 1 : 0),
             size - (nl ? poslen + 1 : 0));

    oe_spool *s;
    char err[256];
    sl_buf rec = {0};
    if (oe_spool_open(&s, dir, 0, 1u << 16, &spool_io, err, sizeof err) == 0) {
        drain(s, &rec);
        if (oe_spool_append(s, SENTINEL, sizeof SENTINEL, err, sizeof err) != 0)
            abort();
        oe_spool_close(s);
        if (oe_spool_open(&s, dir, 0, 1u << 16, &spool_io, err, sizeof err) != 0)
            abort(); /* it opened a moment ago */
        size_t n = drain(s, &rec);
        if (n < 1 || rec.len != sizeof SENTINEL || memcmp(rec.data, SENTINEL, rec.len) != 0)
            abort(); /* the record appended after recovery was lost */
        oe_spool_close(s);
    }
    sl_buf_free(&rec);
    return 0;
}
