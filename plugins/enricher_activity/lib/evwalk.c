/*
 * Reading events for the activity enricher: the request fields of a body in
 * one walk, and the batch read so that walk is the only one over the body.
 *
 * sl_batch_next has to skip every item of a body to find where the next
 * event starts, and the rules then walk the same items again for their
 * fields; on a parsed access-log line that second walk was ~6% of the whole
 * pipeline. act_event_next walks each body once, to its end, and takes the
 * fields on the way. It reads the common encodings itself (fixarray 3, a
 * 4- or 8-byte timestamp extension or an integer, maps) and hands anything
 * else to sl_batch_next, so what is accepted and rejected stays the same.
 */
#include "act.h"

#include <string.h>

void act_keys_init(act_keys *k, const act_fields *f, unsigned want)
{
    const char *names[7] = {f->method, f->path, f->query, f->status,
                            f->user_agent, f->client_ip, f->cookie};
    k->want = 0;
    for (int i = 0; i < 7; i++) {
        k->name[i] = names[i];
        k->len[i] = names[i] ? strlen(names[i]) : 0;
        if (names[i] && (want & (1u << i)))
            k->want |= 1u << i;
    }
}

static void take_str(const sl_value *v, const char **s, size_t *n)
{
    if (v->type == SL_STR) {
        *s = v->v.s.ptr;
        *n = v->v.s.len;
    }
}

/* Which wanted field (bit index) the key s[0..n) names, or -1. */
static int field_of(const act_keys *k, unsigned left, const char *s, size_t n)
{
    /* the first byte before memcmp: most keys differ there, and memcmp of
     * a dozen bytes is a library call */
    for (int i = 0; i < 7; i++)
        if ((left & (1u << i)) && k->len[i] == n && n && s[0] == k->name[i][0] &&
            memcmp(s, k->name[i], n) == 0)
            return i;
    return -1;
}

/*
 * A short string at p (fixstr or str8, what every body key and most values
 * are): *s, *n and the bytes it spans; 0 when p holds anything else, which
 * then goes through the general reader.
 */
static size_t short_str(const uint8_t *p, const uint8_t *end, const char **s, size_t *n)
{
    if (p < end && (*p & 0xe0) == 0xa0) {
        *n = *p & 0x1f;
        *s = (const char *)p + 1;
        return (size_t)(end - p) > *n ? 1 + *n : 0;
    }
    if (end - p >= 2 && *p == 0xd9) {
        *n = p[1];
        *s = (const char *)p + 2;
        return (size_t)(end - p) >= 2 + *n ? 2 + *n : 0;
    }
    return 0;
}

static void take(int i, const sl_value *v, act_req *q)
{
    switch (i) {
    case 0: take_str(v, &q->method, &q->method_len); break;
    case 1: take_str(v, &q->path, &q->path_len); break;
    case 2:
        if (v->type == SL_MAP) {
            q->query = *v;
            q->has_query = 1;
        }
        break;
    case 3: q->has_status = sl_value_to_int(v, &q->status) == 0; break;
    case 4: take_str(v, &q->ua, &q->ua_len); break;
    case 5: take_str(v, &q->ip, &q->ip_len); break;
    case 6: take_str(v, &q->cookie, &q->cookie_len); break;
    }
}

/*
 * Walk `pairs` pairs from p: the wanted fields into q. Keys and string
 * values (nearly every pair of a parsed access-log line) are read in place,
 * anything else through sl_read_value. With all_pairs the walk goes to the
 * end and returns where the map ends; otherwise it stops once every wanted
 * field is seen. NULL when the bytes are malformed.
 */
static const uint8_t *walk(const uint8_t *p, const uint8_t *end, uint32_t pairs,
                           const act_keys *f, act_req *q, int all_pairs)
{
    unsigned left = f->want; /* the first of a repeated name wins */
    for (; pairs && (left || all_pairs); pairs--) {
        const char *k, *vs;
        size_t kn, vn, used;
        sl_value v;
        int i = -1;
        if ((used = short_str(p, end, &k, &kn))) {
            p += used;
            i = field_of(f, left, k, kn);
        } else if (sl_read_value(&p, end, &v) != 0) {
            return NULL;
        } else if (v.type == SL_STR) {
            i = field_of(f, left, v.v.s.ptr, v.v.s.len);
        }
        if (i < 0) { /* not wanted: skip the value */
            if ((used = short_str(p, end, &vs, &vn)))
                p += used;
            else if (sl_read_value(&p, end, &v) != 0)
                return NULL;
            continue;
        }
        if (sl_read_value(&p, end, &v) != 0)
            return NULL;
        left &= ~(1u << i);
        take(i, &v, q);
    }
    return p;
}

void act_req_load_keys(act_req *q, const sl_value *body, const act_keys *f)
{
    sl_iter it; /* only for where the pairs start and end */
    memset(q, 0, sizeof *q);
    q->body = body;
    if (body->type == SL_MAP && sl_iter_init(&it, body) == 0)
        (void)walk(it.p, it.end, it.left, f, q, 0);
}

void act_req_load(act_req *q, const sl_value *body, const act_fields *names)
{
    act_keys k;
    act_keys_init(&k, names, ACT_F_ALL);
    act_req_load_keys(q, body, &k);
}


#define NS 1000000000LL

/* Event time from the timestamp forms sluice itself packs for times after
 * 1970 (4 and 8 bytes) or an integer; -1 for the rest (then the general
 * reader decides). */
static int fast_time(const sl_value *t, int64_t *ns)
{
    if (t->type == SL_UINT || t->type == SL_INT)
        return sl_value_to_int(t, ns);
    if (t->type != SL_EXT || t->ext_type != -1)
        return -1;
    const uint8_t *d = (const uint8_t *)t->v.s.ptr;
    uint64_t sec, nsec = 0;
    if (t->v.s.len == 4) {
        sec = (uint64_t)d[0] << 24 | (uint64_t)d[1] << 16 | (uint64_t)d[2] << 8 | d[3];
    } else if (t->v.s.len == 8) {
        uint64_t w = 0;
        for (int i = 0; i < 8; i++)
            w = w << 8 | d[i];
        nsec = w >> 34;
        sec = w & ((1ULL << 34) - 1);
    } else {
        return -1;
    }
    if (nsec >= (uint64_t)NS || sec > (uint64_t)(INT64_MAX / NS) - 1)
        return -1;
    *ns = (int64_t)sec * NS + (int64_t)nsec;
    return 0;
}

/* A map header at p: pairs and header length, 0 when p is not a map. */
static size_t map_head(const uint8_t *p, const uint8_t *end, uint32_t *pairs)
{
    if (p >= end)
        return 0;
    if ((*p & 0xf0) == 0x80) {
        *pairs = *p & 0x0f;
        return 1;
    }
    if (*p == 0xde && end - p >= 3) {
        *pairs = (uint32_t)p[1] << 8 | p[2];
        return 3;
    }
    if (*p == 0xdf && end - p >= 5) {
        *pairs = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        return 5;
    }
    return 0;
}

/* The fast path; 0 when the event is not in the common form. */
static int fast_event(const uint8_t *p, const uint8_t *end, sl_event *ev, act_req *q,
                      const act_keys *k)
{
    const uint8_t *s = p + 1, *body;
    sl_value t;
    uint32_t pairs;
    size_t hl;
    if (p >= end || *p != 0x93 || sl_read_value(&s, end, &t) != 0 ||
        fast_time(&t, &ev->time_ns) != 0 || sl_read_value(&s, end, &ev->meta) != 0 ||
        ev->meta.type != SL_MAP || !(hl = map_head(s, end, &pairs)))
        return 0;
    body = s;
    memset(q, 0, sizeof *q);
    if (!(s = walk(body + hl, end, pairs, k, q, 1)))
        return 0;
    memset(&ev->body, 0, sizeof ev->body);
    ev->body.type = SL_MAP;
    ev->body.v.n = pairs;
    ev->body.raw = body;
    ev->body.raw_len = (size_t)(s - body);
    ev->raw = p;
    ev->raw_len = (size_t)(s - p);
    q->body = &ev->body;
    return 1;
}

int act_event_next(sl_batch_iter *it, sl_event *ev, act_req *q, const act_keys *k)
{
    if (it->left == 0)
        return 0;
    if (fast_event(it->p, it->end, ev, q, k)) {
        it->p += ev->raw_len;
        it->left--;
        return 1;
    }
    int r = sl_batch_next(it, ev);
    if (r == 1)
        act_req_load_keys(q, &ev->body, k);
    return r;
}
