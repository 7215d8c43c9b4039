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

#include "mpfast.h"

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
        if ((used = sl_mp_short_str(p, end, &k, &kn))) {
            p += used;
            i = field_of(f, left, k, kn);
        } else if (sl_read_value(&p, end, &v) != 0) {
            return NULL;
        } else if (v.type == SL_STR) {
            i = field_of(f, left, v.v.s.ptr, v.v.s.len);
        }
        if (i < 0) { /* not wanted: skip the value */
            if ((used = sl_mp_short_str(p, end, &vs, &vn)))
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

/* The fast path; 0 when the event is not in the common form. */
static int fast_event(const uint8_t *p, const uint8_t *end, sl_event *ev, act_req *q,
                      const act_keys *k)
{
    const uint8_t *s = p + 1, *body;
    sl_value t;
    uint32_t pairs;
    size_t hl;
    if (p >= end || *p != 0x93 || sl_read_value(&s, end, &t) != 0 ||
        sl_mp_fast_time(&t, &ev->time_ns) != 0 || sl_read_value(&s, end, &ev->meta) != 0 ||
        ev->meta.type != SL_MAP || !(hl = sl_mp_map_head(s, end, &pairs)))
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
