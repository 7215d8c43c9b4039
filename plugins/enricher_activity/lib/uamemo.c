/* Remembered user-agent verdicts; see uamemo.h. */
#include "uamemo.h"

#include <stdlib.h>
#include <string.h>

int uamemo_init(uamemo *m)
{
    m->slot = calloc(UAMEMO_SLOTS, sizeof *m->slot);
    return m->slot ? 0 : -1;
}

static uint64_t word(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* Length and three words (start, middle, end) are enough to spread agents
 * that differ in a version number; a collision only costs a rescan. */
static size_t slot_of(const char *ua, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9e3779b97f4a7c15ULL;
    if (n >= 8)
        h ^= word(ua) + word(ua + (n - 8) / 2) * 0xff51afd7ed558ccdULL +
             word(ua + n - 8) * 0xc4ceb9fe1a85ec53ULL;
    else
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)ua[i]) * 0x100000001b3ULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return (size_t)(h >> 32) & (UAMEMO_SLOTS - 1);
}

int uamemo_get(const uamemo *m, const char *ua, size_t n)
{
    if (!m->slot || n == 0 || n > UAMEMO_MAX_LEN)
        return -1;
    const uamemo_slot *s = &m->slot[slot_of(ua, n)];
    return s->len == n && memcmp(s->ua, ua, n) == 0 ? s->verdict : -1;
}

void uamemo_put(uamemo *m, const char *ua, size_t n, int verdict)
{
    if (!m->slot || n == 0 || n > UAMEMO_MAX_LEN)
        return;
    uamemo_slot *s = &m->slot[slot_of(ua, n)];
    s->len = (uint16_t)n;
    s->verdict = (uint8_t)(verdict != 0);
    memcpy(s->ua, ua, n);
}

void uamemo_free(uamemo *m)
{
    free(m->slot);
    m->slot = NULL;
}
