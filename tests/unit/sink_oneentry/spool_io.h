/*
 * The spool's file services for tests: the core's own functions behind
 * host->file_open/file_write/file_replace (core/services.c), so a test
 * writes spool files exactly as the running plugin does. Counts replaces.
 */
#ifndef SPOOL_IO_H
#define SPOOL_IO_H

#include "oe_spool.h"
#include "services.h"

static unsigned spool_io_replaces;

static int spool_io_open(void *ctx, const char *path, char *err, size_t errlen)
{
    (void)ctx;
    return sl_file_open(path, SL_FILE_APPEND | SL_FILE_MKDIRS, 0600, err, errlen);
}

static int spool_io_write(void *ctx, int fd, const void *data, size_t len, char *err,
                          size_t errlen)
{
    (void)ctx;
    return sl_file_write(fd, data, len, 0, err, errlen);
}

static int spool_io_replace(void *ctx, const char *path, const void *data, size_t len,
                            char *err, size_t errlen)
{
    (void)ctx;
    spool_io_replaces++;
    return sl_file_replace(path, data, len, err, errlen);
}

static const oe_spool_io spool_io = {NULL, spool_io_open, spool_io_write, spool_io_replace};

#endif
