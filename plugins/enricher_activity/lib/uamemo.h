/*
 * Remembered bot verdicts of recent user agents. Access logs repeat a few
 * hundred agents over and over (browsers auto-update in lockstep), so a
 * small direct-mapped table answers most lookups with one hash of three
 * words and one memcmp instead of a scan of the whole agent.
 *
 * Per instance and not locked: one enricher instance runs process() on one
 * thread at a time; separate instances have separate memos.
 */
#ifndef UAMEMO_H
#define UAMEMO_H

#include <stddef.h>
#include <stdint.h>

#define UAMEMO_SLOTS 128      /* power of two */
#define UAMEMO_MAX_LEN 320    /* longer agents are not remembered */

typedef struct uamemo_slot {
    uint16_t len;             /* 0: empty */
    uint8_t verdict;
    char ua[UAMEMO_MAX_LEN];
} uamemo_slot;

typedef struct uamemo {
    uamemo_slot *slot;        /* NULL: nothing is remembered */
} uamemo;

/* 0, or -1 when out of memory (the memo then stays off, which is harmless). */
int uamemo_init(uamemo *m);
/* The remembered verdict of ua[0..n) (0 or 1), or -1. */
int uamemo_get(const uamemo *m, const char *ua, size_t n);
void uamemo_put(uamemo *m, const char *ua, size_t n, int verdict);
void uamemo_free(uamemo *m);

#endif
