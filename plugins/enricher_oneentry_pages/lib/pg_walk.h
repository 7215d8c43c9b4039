/*
 * Reading an event for the pages enricher in one walk: where it ends, its
 * pageUrl and pageLang, and where the body pairs the enricher replaces
 * (pageUrl, pageLang, pageId) lie, so a resolved event is written by
 * copying the other pairs as they are.
 *
 * sl_batch_next already skips every item of an event to find where the next
 * one starts; looking the fields up afterwards (sl_map_gets) walks the body
 * again, and sl_bb_copy_event twice more. Every event of the pipeline passes
 * this enricher, so those walks were most of its cost. pg_walk_next reads
 * the common encodings itself (fixarray 3, a map meta, a map body) and hands
 * anything else to sl_batch_next, so what is accepted stays the same.
 */
#ifndef PG_WALK_H
#define PG_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/event.h"

enum { PG_F_URL = 0, PG_F_LANG = 1, PG_F_ID = 2, PG_NF = 3 };

typedef struct pg_walk {
    sl_event ev;
    sl_value field[PG_NF]; /* pageUrl, pageLang, pageId when present */
    unsigned has;          /* bit i: field[i] present (the first of a repeated key) */
    /* the body's pairs: where they start, and the replaced ones */
    const uint8_t *pairs, *end;
    uint32_t npairs;
    struct {
        const uint8_t *p; /* the pair's key */
        size_t n;         /* key and value bytes */
        uint32_t index;   /* of the pair in the body */
    } cut[8];
    unsigned ncut;         /* pairs with one of the three keys (repeats too) */
    int slow;              /* cut[] is not filled: copy with sl_bb_copy_event */
} pg_walk;

/* The next event of the batch. 1, 0 at the end, -1 malformed. */
int pg_walk_next(sl_batch_iter *it, pg_walk *w);

/*
 * Write w's event with its pageUrl, pageLang and pageId pairs replaced by
 * pageId: id. 0, or -1 (the builder failed; nothing is left open).
 */
int pg_walk_write_id(const pg_walk *w, int64_t id, sl_builder *out);

#endif
