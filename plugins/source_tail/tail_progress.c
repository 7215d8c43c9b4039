/*
 * The progress line of `sluice run --once` on a terminal: redrawn in place
 * on stderr at most every PROGRESS_EVERY_MS, ended with a newline when the
 * files are read (or the run is stopped). Off unless stderr is a TTY, so
 * logs captured to a file or a pipe never get control characters;
 * quiet: true turns it off on a terminal too.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"
#include "tail.h"

#define PROGRESS_EVERY_MS 250

void tail_progress_start(tail_src *s, int64_t now)
{
    s->prog_on = s->once && !s->quiet && isatty(STDERR_FILENO);
    s->prog_t0 = now;
    s->prog_next = now + PROGRESS_EVERY_MS;
}

/* Bytes of the followed files not read yet: what the ETA is made of. */
static uint64_t remaining(tail_src *s)
{
    uint64_t left = 0;
    for (size_t i = 0; i < s->n_files; i++) {
        tfile *f = s->files[i];
        struct stat st;
        int r = f->fd >= 0 ? fstat(f->fd, &st) : stat(f->path, &st);
        /* A file still waiting for a descriptor starts at 0 (a guess when
         * it has a checkpoint) or, first met with read_from: end, where
         * it ended. */
        uint64_t from = f->started || (f->first && !s->store_existed && !s->from_head)
                            ? f->read_off : 0;
        if (r == 0 && (uint64_t)st.st_size > from)
            left += (uint64_t)st.st_size - from;
    }
    return left;
}

static void draw(tail_src *s, int64_t now, int final, const char *end)
{
    char line[256];
    uint64_t done = s->bytes_read, total = done + (final ? 0 : remaining(s));
    /* "\r" and erase-to-end redraw the line in place. */
    int n = snprintf(line, sizeof line, "\r\033[K");
    n += tail_progress_format(line + n, sizeof line - (size_t)n, done, total, s->lines_read,
                              (double)(now - s->prog_t0) / 1000.0, final);
    if ((size_t)n >= sizeof line - strlen(end))
        n = (int)(sizeof line - strlen(end) - 1);
    memcpy(line + n, end, strlen(end));
    n += (int)strlen(end);
    /* One write, so a log line from another thread lands before or after. */
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        s->prog_on = 0; /* the terminal is gone: stop trying */
    s->prog_shown = 1;
}

void tail_progress_tick(tail_src *s, int64_t now)
{
    if (!s->prog_on || now < s->prog_next)
        return;
    s->prog_next = now + PROGRESS_EVERY_MS;
    draw(s, now, 0, "");
}

void tail_progress_end(tail_src *s, int64_t now, int finished)
{
    if (!s->prog_on)
        return;
    if (finished)
        draw(s, now, 1, "\n");
    else if (s->prog_shown)
        draw(s, now, 0, "\n"); /* stopped early: keep the last state, end the line */
    s->prog_on = 0;
}
