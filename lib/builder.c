/*
 * sluice batch builder: writes msgpack events into one growable buffer,
 * encoded by msgpack-c's packer. See include/sluice/event.h for the contract.
 *
 * The builder is opaque, so its layout is nobody's ABI: it lives in libsluice
 * only, and the core and every plugin call the same code. It keeps the bytes
 * well-formed by construction: inside an event it counts the values still
 * owed (an event owes two: meta and body; a map of n pairs owes 2n more, an
 * array n), which is exactly the counter a reader uses to skip a value, so
 * "owed == 0 at sl_bb_end" means "the event is one complete value".
 */
#include "sluice_priv.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

/* The first buffer of a builder that never held a batch: small, because
 * many batches are small and queues count what a batch holds. Later
 * batches start at the size of the previous one. */
#define BB_MIN_CAP 256

struct sl_builder {
    msgpack_packer pk; /* msgpack-c encodes; bb_write stores */
    uint8_t *data;
    size_t len, cap;
    size_t hint;      /* capacity to start a taken builder with */
    size_t ev_start;  /* offset of the open event */
    size_t meta_off;  /* offset of the open event's meta map */
    size_t body_off;  /* offset of its body, 0 until known */
    uint64_t owed;    /* values the open event still needs */
    uint32_t count;   /* complete events */
    uint32_t dropped; /* events dropped by a failed sl_bb_end since reset */
    int open;         /* an event is begun and not ended */
    int failed;       /* a write of the open event failed */
    int loose;        /* values were packed outside any event */
    uint32_t ltop;    /* complete or started top-level loose values */
    uint64_t lowed;   /* values the loose ones still owe; -1 unknown */
};

static int bb_write(void *data, const char *buf, size_t len);

sl_builder *sl_bb_new(void)
{
    sl_builder *bb = calloc(1, sizeof *bb);
    if (!bb)
        return NULL;
    bb->hint = BB_MIN_CAP;
    msgpack_packer_init(&bb->pk, bb, bb_write);
    return bb;
}

void sl_bb_free(sl_builder *bb)
{
    if (!bb)
        return;
    free(bb->data);
    free(bb);
}

void sl_bb_reset(sl_builder *bb)
{
    bb->len = bb->ev_start = bb->meta_off = 0;
    bb->owed = 0;
    bb->count = bb->dropped = 0;
    bb->open = bb->failed = bb->loose = 0;
    bb->ltop = 0;
    bb->lowed = 0;
}

uint32_t sl_bb_count(const sl_builder *bb) { return bb->count; }
size_t sl_bb_size(const sl_builder *bb) { return bb->len; }
int sl_bb_open(const sl_builder *bb) { return bb->open; }

sl_batch sl_bb_batch(const sl_builder *bb)
{
    sl_batch b = {bb->data, bb->open ? bb->ev_start : bb->len, bb->count};
    return b;
}

const uint8_t *sl_bb_data(const sl_builder *bb, size_t *len)
{
    if (len)
        *len = bb->len;
    return bb->data;
}

/* ------------------------------------------------------------------ */
/* Writing bytes                                                       */
/* ------------------------------------------------------------------ */

static int bb_grow(sl_builder *bb, size_t need)
{
    size_t cap = bb->cap ? bb->cap : bb->hint;
    if (cap < BB_MIN_CAP)
        cap = BB_MIN_CAP;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *d = realloc(bb->data, cap);
    if (!d)
        return -1;
    bb->data = d;
    bb->cap = cap;
    return 0;
}

/* msgpack-c's packer writes through this; a failed write fails the open
 * event, and every later write of it is refused. */
static int bb_write(void *data, const char *buf, size_t len)
{
    sl_builder *bb = data;
    if (bb->failed)
        return -1;
    if (len > bb->cap - bb->len && bb_grow(bb, bb->len + len) != 0) {
        bb->failed = 1;
        return -1;
    }
    memcpy(bb->data + bb->len, buf, len);
    bb->len += len;
    return 0;
}

/*
 * Account for one value about to be written that brings `children` more
 * values with it. Returns 0, or -1 when it may not be written: the builder
 * failed, the open event owes nothing more, or loose values would follow
 * complete events (the batch would no longer be readable).
 */
static int bb_acct(sl_builder *bb, uint64_t children)
{
    if (bb->open) {
        if (bb->failed)
            return -1;
        if (bb->owed == 0) {
            bb->failed = 1;
            return -1;
        }
        /* One value owed means the meta is complete: this one is the body. */
        if (bb->owed == 1 && !bb->body_off)
            bb->body_off = bb->len;
        bb->owed = bb->owed - 1 + children;
        return 0;
    }
    bb->loose = 1;
    if (bb->count > 0)
        return -1;
    /* Count the top-level values, so a scratch builder's contents can be
     * copied (sl_bb_append_values) without reading them again. */
    if (bb->lowed == 0)
        bb->ltop++;
    else if (bb->lowed != UINT64_MAX)
        bb->lowed--;
    if (bb->lowed != UINT64_MAX)
        bb->lowed += children;
    return 0;
}

/* The result of a msgpack-c pack call, with a failure kept. */
static int bb_done(sl_builder *bb, int rc)
{
    if (rc != 0 && !bb->open)
        bb->failed = 0; /* a loose value: only the caller learns of it */
    return rc != 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */
/* ------------------------------------------------------------------ */

int sl_bb_nil(sl_builder *bb)
{
    return bb_acct(bb, 0) ? -1 : bb_done(bb, msgpack_pack_nil(&bb->pk));
}

int sl_bb_bool(sl_builder *bb, int b)
{
    if (bb_acct(bb, 0))
        return -1;
    return bb_done(bb, b ? msgpack_pack_true(&bb->pk) : msgpack_pack_false(&bb->pk));
}

int sl_bb_uint(sl_builder *bb, uint64_t u)
{
    return bb_acct(bb, 0) ? -1 : bb_done(bb, msgpack_pack_uint64(&bb->pk, u));
}

int sl_bb_int(sl_builder *bb, int64_t i)
{
    return bb_acct(bb, 0) ? -1 : bb_done(bb, msgpack_pack_int64(&bb->pk, i));
}

int sl_bb_double(sl_builder *bb, double d)
{
    return bb_acct(bb, 0) ? -1 : bb_done(bb, msgpack_pack_double(&bb->pk, d));
}

/* A length msgpack cannot carry, or bytes missing: the value is refused
 * and the open event fails. */
static int bb_bad_len(sl_builder *bb, const void *p, size_t len)
{
    if (len <= UINT32_MAX && (p || len == 0))
        return 0;
    bb->failed = bb->open;
    return -1;
}

/* Header and body in one reserve and copy: msgpack-c's packer calls
 * bb_write twice per string (170 instructions a string), and strings are
 * most of what plugins pack (a parsed access-log line is about 19). */
static int put_str(sl_builder *bb, const char *s, size_t len)
{
    if (len + 5 > bb->cap - bb->len && bb_grow(bb, bb->len + len + 5) != 0) {
        bb->failed = bb->open;
        return -1;
    }
    uint8_t *d = bb->data + bb->len;
    size_t h = 1;
    if (len < 32) {
        d[0] = (uint8_t)(0xa0 | len); /* fixstr */
    } else if (len < 256) {
        d[0] = 0xd9; /* str 8 */
        d[h++] = (uint8_t)len;
    } else if (len < 65536) {
        d[0] = 0xda; /* str 16 */
        d[h++] = (uint8_t)(len >> 8);
        d[h++] = (uint8_t)len;
    } else {
        d[0] = 0xdb; /* str 32 */
        for (int i = 3; i >= 0; i--)
            d[h++] = (uint8_t)(len >> (8 * i));
    }
    if (len)
        memcpy(d + h, s, len);
    bb->len += h + len;
    return 0;
}

int sl_bb_str(sl_builder *bb, const char *s, size_t len)
{
    if (bb_bad_len(bb, s, len) || bb_acct(bb, 0))
        return -1;
    return put_str(bb, s, len);
}

int sl_bb_cstr(sl_builder *bb, const char *s)
{
    return sl_bb_str(bb, s ? s : "", s ? strlen(s) : 0);
}

int sl_bb_bin(sl_builder *bb, const void *data, size_t len)
{
    if (bb_bad_len(bb, data, len) || bb_acct(bb, 0))
        return -1;
    return bb_done(bb, msgpack_pack_bin_with_body(&bb->pk, data ? data : "", len));
}

int sl_bb_time(sl_builder *bb, int64_t time_ns)
{
    uint8_t buf[12];
    size_t n = sl__time_encode(time_ns, buf);
    if (bb_acct(bb, 0))
        return -1;
    return bb_done(bb, msgpack_pack_ext_with_body(&bb->pk, buf, n, -1));
}

/* ------------------------------------------------------------------ */
/* Containers and copies                                               */
/* ------------------------------------------------------------------ */

int sl_bb_map(sl_builder *bb, uint32_t n)
{
    return bb_acct(bb, 2 * (uint64_t)n) ? -1 : bb_done(bb, msgpack_pack_map(&bb->pk, n));
}

int sl_bb_array(sl_builder *bb, uint32_t n)
{
    return bb_acct(bb, n) ? -1 : bb_done(bb, msgpack_pack_array(&bb->pk, n));
}

/* Copy bytes known to be one complete value. */
static int bb_copy_value(sl_builder *bb, const uint8_t *raw, size_t len)
{
    return bb_acct(bb, 0) ? -1 : bb_done(bb, bb_write(bb, (const char *)raw, len));
}

int sl_bb_value(sl_builder *bb, const sl_value *v)
{
    /* A value the reader gave is one complete encoding (it read its head
     * and skipped its children with bounds checks): copied as it is, not
     * read a third time. */
    if (!v || !v->raw || v->raw_len == 0) {
        bb->failed = bb->open;
        return -1;
    }
    return bb_copy_value(bb, v->raw, v->raw_len);
}

int sl_bb_raw(sl_builder *bb, const void *bytes, size_t len, uint32_t nvalues)
{
    const uint8_t *p = bytes, *end = p ? p + len : NULL;
    for (uint32_t i = 0; i < nvalues; i++) {
        sl_value v;
        if (!p || sl_read_value(&p, end, &v) != 0)
            goto bad;
    }
    if (p != end || (bb->open && bb->owed < nvalues))
        goto bad;
    if (nvalues == 0)
        return 0;
    if (bb_copy_value(bb, bytes, len) != 0)
        return -1;
    if (bb->open)
        bb->owed -= nvalues - 1; /* bb_value counted one */
    return 0;
bad:
    bb->failed = bb->open;
    return -1;
}

int sl_bb_append_values(sl_builder *bb, const sl_builder *src)
{
    if (!src || src->open || src->count > 0 || src->lowed == UINT64_MAX) {
        bb->failed = bb->open;
        return -1;
    }
    if (src->ltop == 0)
        return 0;
    /* The source is a builder: its values are whole once none owes more. */
    if (src->lowed != 0 || (bb->open && bb->owed < src->ltop)) {
        bb->failed = bb->open;
        return -1;
    }
    if (bb_copy_value(bb, src->data, src->len) != 0)
        return -1;
    if (bb->open)
        bb->owed -= src->ltop - 1; /* bb_copy_value counted one */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

int sl_bb_begin(sl_builder *bb, int64_t time_ns)
{
    if (bb->open || bb->loose) {
        /* A nested begin is a bug in the caller: poison the open event so
         * that its sl_bb_end fails and says so. */
        bb->failed = 1;
        return -1;
    }
    bb->ev_start = bb->len;
    bb->open = 1;
    bb->failed = 0;
    bb->owed = 1;
    bb->body_off = 0;
    if (sl_bb_array(bb, 3) != 0 || sl_bb_time(bb, time_ns) != 0)
        return -1;
    bb->meta_off = bb->len;
    bb->body_off = 0; /* the header's own accounting passed owed == 1 */
    return 0;
}

int sl_bb_begin_from(sl_builder *bb, const sl_event *ev, int64_t time_ns)
{
    if (!ev || !ev->meta.raw || sl_bb_begin(bb, time_ns) != 0)
        return -1;
    /* The meta was read from a batch (sl_batch_next checked the event):
     * one complete value, copied as it is. */
    return bb_copy_value(bb, ev->meta.raw, ev->meta.raw_len);
}

void sl_bb_abort(sl_builder *bb)
{
    if (!bb->open)
        return;
    bb->len = bb->ev_start;
    bb->open = bb->failed = 0;
    bb->owed = 0;
}

static int is_map_head(uint8_t c)
{
    return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

int sl_bb_end(sl_builder *bb)
{
    if (!bb->open)
        return -1;
    int ok = !bb->failed && bb->owed == 0 && is_map_head(bb->data[bb->meta_off]);
    if (ok && bb->body_off > bb->meta_off) {
        ok = is_map_head(bb->data[bb->body_off]);
    } else if (ok) {
        /* Meta and body came in one sl_bb_raw: find the body by reading. */
        const uint8_t *p = bb->data + bb->meta_off;
        sl_value meta;
        ok = sl_read_value(&p, bb->data + bb->len, &meta) == 0 && p < bb->data + bb->len &&
             is_map_head(*p);
    }
    if (!ok) {
        sl_bb_abort(bb);
        bb->dropped++;
        return -1;
    }
    bb->open = 0;
    bb->count++;
    return 0;
}

int sl_bb_append_event(sl_builder *bb, const sl_event *ev)
{
    /* An event sl_batch_next gave was checked whole when it was read. */
    if (!ev || !ev->raw || ev->raw_len == 0 || bb->open || bb->loose)
        return -1;
    if (ev->raw_len > bb->cap - bb->len && bb_grow(bb, bb->len + ev->raw_len) != 0)
        return -1;
    memcpy(bb->data + bb->len, ev->raw, ev->raw_len);
    bb->len += ev->raw_len;
    bb->count++;
    return 0;
}

static const sl_edit *find_edit(const sl_value *key, const sl_edit *edits, size_t n)
{
    if (key->type != SL_STR)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (edits[i].key_len == key->v.s.len &&
            memcmp(edits[i].key, key->v.s.ptr, key->v.s.len) == 0)
            return &edits[i];
    return NULL;
}

/* Set the 5-byte map header placeholder at `head` to n pairs, in the
 * smallest form (moving the pairs after it back by what that saves): the
 * body is copied in one pass, before its count is known. */
static void compact_map(sl_builder *bb, size_t head, uint32_t n)
{
    uint8_t *d = bb->data + head;
    size_t hl = n < 16 ? 1 : n <= 0xffff ? 3 : 5;
    if (hl < 5) {
        memmove(d + hl, d + 5, bb->len - head - 5);
        bb->len -= 5 - hl;
    }
    if (hl == 1) {
        d[0] = (uint8_t)(0x80 | n);
    } else if (hl == 3) {
        d[0] = 0xde;
        d[1] = (uint8_t)(n >> 8);
        d[2] = (uint8_t)n;
    } else {
        d[0] = 0xdf;
        d[1] = (uint8_t)(n >> 24);
        d[2] = (uint8_t)(n >> 16);
        d[3] = (uint8_t)(n >> 8);
        d[4] = (uint8_t)n;
    }
}

int sl_bb_copy_event(sl_builder *bb, const sl_event *ev, const sl_edit *edits,
                     size_t nedits, uint32_t extra)
{
    sl_iter it;
    sl_value k, v;
    if (!ev || sl_iter_init(&it, &ev->body) != 0 || sl_bb_begin_from(bb, ev, ev->time_ns) != 0)
        goto fail;
    /* The body's header as a placeholder: the count is known at the end. */
    size_t head = bb->len;
    if (bb_acct(bb, 0) != 0 || bb_done(bb, bb_write(bb, "\xdf\0\0\0\0", 5)) != 0)
        goto fail;
    uint64_t kept = 0;
    int r;
    while ((r = sl_iter_next(&it, &k, &v)) == 1) {
        const sl_edit *e = find_edit(&k, edits, nedits);
        if (e && e->op == SL_EDIT_REMOVE)
            continue;
        /* Pairs are written raw, outside the value count: the placeholder
         * counted none, and the count is set right below. */
        int rc = e && e->op == SL_EDIT_RENAME ? put_str(bb, e->to, e->to_len)
                                              : bb_done(bb, bb_write(bb, (const char *)k.raw, k.raw_len));
        if (rc != 0 || bb_done(bb, bb_write(bb, (const char *)v.raw, v.raw_len)) != 0)
            goto fail;
        kept++;
    }
    if (r < 0 || kept + extra > UINT32_MAX)
        goto fail;
    compact_map(bb, head, (uint32_t)(kept + extra));
    bb->owed += 2 * (uint64_t)extra; /* the caller packs the extra pairs */
    return 0;
fail:
    sl_bb_abort(bb);
    return -1;
}

sl_bb_mark sl_bb_get_mark(const sl_builder *bb)
{
    sl_bb_mark m = {bb->open ? bb->ev_start : bb->len, bb->count, 0};
    return m;
}

void sl_bb_rollback(sl_builder *bb, sl_bb_mark mark)
{
    if (mark.size > bb->len || mark.count > bb->count)
        return; /* not a mark of this builder's present */
    bb->len = mark.size;
    bb->count = mark.count;
    bb->open = bb->failed = 0;
    bb->owed = 0;
    if (bb->count > 0 || bb->len == 0) {
        bb->loose = 0;
        bb->ltop = 0;
        bb->lowed = 0;
    } else if (bb->loose) {
        bb->lowed = UINT64_MAX; /* counts unknown: append_values refuses */
    }
}

/* ------------------------------------------------------------------ */
/* For the core (sluice_priv.h)                                        */
/* ------------------------------------------------------------------ */

const char *sl__bb_problem(const sl_builder *bb)
{
    if (bb->open)
        return "an event was begun and not ended (sl_bb_end missing)";
    if (bb->loose)
        return "values were packed outside any event";
    return NULL;
}

uint32_t sl__bb_dropped(const sl_builder *bb) { return bb->dropped; }

uint8_t *sl__bb_take(sl_builder *bb, sl_batch *out)
{
    uint8_t *data = bb->data;
    out->data = data;
    out->len = bb->len;
    out->count = bb->count;
    /* Hand over an allocation the size of its contents: queues bound memory
     * by what batches hold, so slack would be memory nobody counts. */
    if (data && bb->cap - bb->len > bb->len / 8 + 64) {
        uint8_t *d = realloc(data, bb->len ? bb->len : 1);
        if (d)
            data = d;
        out->data = data;
    }
    bb->hint = bb->len > BB_MIN_CAP ? bb->len : BB_MIN_CAP;
    bb->data = NULL;
    bb->cap = 0;
    sl_bb_reset(bb);
    return data;
}
