/* One walk over an event for the pages enricher; see pg_walk.h. */
#include "pg_walk.h"

#include <string.h>

#include "mpfast.h"

static const struct {
    const char *name;
    size_t len;
} keys[PG_NF] = {{"pageUrl", 7}, {"pageLang", 8}, {"pageId", 6}};

static const sl_edit edits[PG_NF] = {
    {"pageUrl", 7, SL_EDIT_REMOVE, NULL, 0},
    {"pageLang", 8, SL_EDIT_REMOVE, NULL, 0},
    {"pageId", 6, SL_EDIT_REMOVE, NULL, 0},
};

/* Which of the three keys s[0..n) is, or -1; most keys fail at once. */
static int key_index(const char *s, size_t n)
{
    if (n < 6 || n > 8 || memcmp(s, "page", 4) != 0)
        return -1;
    for (int i = 0; i < PG_NF; i++)
        if (keys[i].len == n && memcmp(s + 4, keys[i].name + 4, n - 4) == 0)
            return i;
    return -1;
}

/* A map of plain scalars at *p (a source's meta: names, paths, offsets)
 * as *v, walked here; anything else through sl_read_value. 0 or -1. */
static int read_map(const uint8_t **p, const uint8_t *end, sl_value *v)
{
    const uint8_t *s = *p;
    uint32_t pairs;
    size_t hl = sl_mp_map_head(s, end, &pairs), used;
    if (hl) {
        const uint8_t *q = s + hl;
        uint64_t items = 2 * (uint64_t)pairs;
        for (; items && (used = sl_mp_plain_scalar(q, end)); items--)
            q += used;
        if (!items) {
            memset(v, 0, sizeof *v);
            v->type = SL_MAP;
            v->v.n = pairs;
            v->raw = s;
            v->raw_len = (size_t)(q - s);
            *p = q;
            return 0;
        }
    }
    return sl_read_value(p, end, v) == 0 && v->type == SL_MAP ? 0 : -1;
}

static void found(pg_walk *w, int f, const sl_value *v)
{
    if (!(w->has & (1u << f))) {
        w->field[f] = *v;
        w->has |= 1u << f;
    }
}

/* The body's pairs from p: fields and cut pairs. The end, or NULL when the
 * bytes are malformed or there are more cuts than cut[] holds. */
static const uint8_t *walk_pairs(pg_walk *w, const uint8_t *p, const uint8_t *end)
{
    for (uint32_t i = 0; i < w->npairs; i++) {
        const uint8_t *pair = p;
        const char *k;
        size_t kn, used;
        sl_value kv, v;
        int f = -1;
        if ((used = sl_mp_short_str(p, end, &k, &kn))) {
            p += used;
            f = key_index(k, kn);
        } else if (sl_read_value(&p, end, &kv) != 0) {
            return NULL;
        } else if (kv.type == SL_STR) {
            f = key_index(kv.v.s.ptr, kv.v.s.len);
        }
        if (f < 0) { /* not ours: skip the value, cheaply when it is plain */
            if ((used = sl_mp_plain_scalar(p, end)))
                p += used;
            else if (sl_read_value(&p, end, &v) != 0)
                return NULL;
            continue;
        }
        if (sl_read_value(&p, end, &v) != 0)
            return NULL;
        if (w->ncut == sizeof w->cut / sizeof w->cut[0])
            return NULL;
        w->cut[w->ncut].p = pair;
        w->cut[w->ncut].n = (size_t)(p - pair);
        w->cut[w->ncut].index = i;
        w->ncut++;
        found(w, f, &v);
    }
    return p;
}

/* The common form; 0 when the event is not in it. */
static int fast(const uint8_t *p, const uint8_t *end, pg_walk *w)
{
    const uint8_t *s = p + 1, *body;
    sl_value t;
    size_t hl;
    if (p >= end || *p != 0x93 || sl_read_value(&s, end, &t) != 0 ||
        sl_mp_fast_time(&t, &w->ev.time_ns) != 0 || read_map(&s, end, &w->ev.meta) != 0 ||
        !(hl = sl_mp_map_head(s, end, &w->npairs)))
        return 0;
    body = s;
    w->pairs = s + hl;
    if (!(s = walk_pairs(w, w->pairs, end)))
        return 0;
    w->end = s;
    memset(&w->ev.body, 0, sizeof w->ev.body);
    w->ev.body.type = SL_MAP;
    w->ev.body.v.n = w->npairs;
    w->ev.body.raw = body;
    w->ev.body.raw_len = (size_t)(s - body);
    w->ev.raw = p;
    w->ev.raw_len = (size_t)(s - p);
    return 1;
}

/* Anything else: the general reader, then the fields by name. */
static int slow(sl_batch_iter *it, pg_walk *w)
{
    sl_iter bi;
    sl_value k, v;
    int r = sl_batch_next(it, &w->ev);
    if (r != 1)
        return r;
    w->slow = 1;
    if (sl_iter_init(&bi, &w->ev.body) != 0)
        return -1;
    while ((r = sl_iter_next(&bi, &k, &v)) == 1) {
        int f = k.type == SL_STR ? key_index(k.v.s.ptr, k.v.s.len) : -1;
        if (f >= 0)
            found(w, f, &v);
    }
    return r < 0 ? -1 : 1;
}

int pg_walk_next(sl_batch_iter *it, pg_walk *w)
{
    if (it->left == 0)
        return 0;
    w->has = 0;
    w->ncut = 0;
    w->slow = 0;
    if (fast(it->p, it->end, w)) {
        it->p += w->ev.raw_len;
        it->left--;
        return 1;
    }
    w->has = 0;
    w->ncut = 0;
    return slow(it, w);
}

/* The kept pairs between two byte positions. A pair of short strings (the
 * type, a guest id: nearly all of them) is packed from what was read; the
 * rest is copied with sl_bb_raw, which checks the bytes again. */
static int copy_run(sl_builder *out, const uint8_t *from, const uint8_t *to, uint32_t pairs)
{
    int rc = 0;
    while (pairs && from < to) {
        const char *k, *v;
        size_t kn, vn, ku, vu;
        if (!(ku = sl_mp_short_str(from, to, &k, &kn)) ||
            !(vu = sl_mp_short_str(from + ku, to, &v, &vn)))
            break;
        rc |= sl_bb_str(out, k, kn) | sl_bb_str(out, v, vn);
        from += ku + vu;
        pairs--;
    }
    if (pairs && from < to)
        rc |= sl_bb_raw(out, from, (size_t)(to - from), 2 * pairs);
    return rc;
}

int pg_walk_write_id(const pg_walk *w, int64_t id, sl_builder *out)
{
    if (w->slow) {
        if (sl_bb_copy_event(out, &w->ev, edits, PG_NF, 1) != 0)
            return -1;
    } else {
        /* The kept pairs are runs between the cut ones: copied as they are. */
        const uint8_t *p = w->pairs;
        uint32_t next = 0; /* index of the pair at p */
        sl_bb_begin(out, w->ev.time_ns);
        sl_bb_value(out, &w->ev.meta);
        sl_bb_map(out, w->npairs - w->ncut + 1);
        for (unsigned i = 0; i < w->ncut; i++) {
            copy_run(out, p, w->cut[i].p, w->cut[i].index - next);
            p = w->cut[i].p + w->cut[i].n;
            next = w->cut[i].index + 1;
        }
        copy_run(out, p, w->end, w->npairs - next);
    }
    sl_bb_str(out, "pageId", 6);
    sl_bb_int(out, id);
    return sl_bb_end(out);
}
