/*
 * The progress line `sluice run --once` shows on a terminal: how much of
 * the files is read, how fast, and when it should be done. Formatting only;
 * the plugin decides when to print it (stderr is a TTY, quiet: false).
 */
#ifndef TAIL_PROGRESS_H
#define TAIL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/** "1.5 GiB": n bytes in binary units, one decimal from KiB up. */
void tail_progress_bytes(char *buf, size_t len, uint64_t n);

/**
 * One progress line, no newline or control characters:
 *   "tail: 1.0 GiB / 2.0 GiB (50%), 7.8M lines, 6.19M lines/s, ETA 0:02"
 * done/total are bytes (done past total reads as 100%), lines the lines
 * read, secs the time since reading began. With final set, the ETA gives
 * way to "done in 1.3 s". Returns what snprintf would (the full length).
 */
int tail_progress_format(char *buf, size_t len, uint64_t done, uint64_t total, uint64_t lines,
                         double secs, int final);

#endif
