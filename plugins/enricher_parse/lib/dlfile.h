/*
 * A dead-letter file shared by the parse and activity enrichers: JSON lines
 * a plugin appends for events it will not pass on (a line that does not
 * parse, an activity that would be invalid).
 *
 * Lines are collected per batch in memory and written by dlfile_flush
 * before process() returns, so an event is never acknowledged downstream
 * without its dead letter on disk. The file is opened O_APPEND (mode 0600:
 * rejected events may carry cookies and tokens) and each flush is one
 * write() loop, so lines of several writers never interleave.
 */
#ifndef DLFILE_H
#define DLFILE_H

#include <stddef.h>

#include "sluice/json.h"

typedef struct dlfile {
    int fd;
    char *path;
    sl_buf buf;   /* lines of the current batch; append with sl_buf_* */
} dlfile;

/* Zero state (fd -1); safe to dlfile_close without opening. */
void dlfile_init(dlfile *d);

/*
 * Open `path`, or <dir>/dead_letter.jsonl when path is NULL or empty (dir
 * is the component's state directory; NULL when it could not be made).
 * 0, or -1 with err naming the option.
 */
int dlfile_open(dlfile *d, const char *path, const char *dir, char *err, size_t errlen);

/* Forget lines collected but not flushed (the batch failed). */
void dlfile_discard(dlfile *d);

/* Write the collected lines. 0, or -1 with err (the lines are dropped). */
int dlfile_flush(dlfile *d, char *err, size_t errlen);

void dlfile_close(dlfile *d);

#endif
