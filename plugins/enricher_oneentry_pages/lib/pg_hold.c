/* Page ids for a batch of events, and the hold; see pg_hold.h. */
#include "pg_hold.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_walk.h"
#include "sluice/plugin.h"
#include "unescape.h"

int pg_hold_init(pg_hold *h, const char *const *codes, size_t ncodes, const char *const *lang_names,
                 const unsigned *lang_codes, size_t nlangs, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    if (pg_tab_init(&h->map, 0) < 0 || pg_tab_init(&h->miss, 1) < 0) {
        snprintf(err, errlen, "no random key for the page tables");
        return -1;
    }
    h->codes = calloc(ncodes ? ncodes : 1, sizeof *h->codes);
    h->langs = calloc(nlangs ? nlangs : 1, sizeof *h->langs);
    if (!h->codes || !h->langs)
        goto oom;
    for (size_t i = 0; i < ncodes; i++, h->ncodes++)
        if (!(h->codes[i] = strdup(codes[i])))
            goto oom;
    for (size_t i = 0; i < nlangs; i++, h->nlangs++) {
        if (!(h->langs[i].name = strdup(lang_names[i])))
            goto oom;
        h->langs[i].len = strlen(lang_names[i]);
        h->langs[i].code = lang_codes[i];
    }
    h->max_wait_ms = 2000;
    h->negative_ttl_ms = 300000;
    h->stale_ms = 60000;
    return 0;
oom:
    pg_hold_free(h);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void pg_hold_free(pg_hold *h)
{
    for (size_t i = 0; i < h->ncodes; i++)
        free(h->codes[i]);
    for (size_t i = 0; i < h->nlangs; i++)
        free(h->langs[i].name);
    free(h->codes);
    free(h->langs);
    pg_tab_free(&h->map);
    pg_tab_free(&h->miss);
    memset(h, 0, sizeof *h);
}

void pg_hold_set_map(pg_hold *h, pg_tab *map)
{
    pg_tab_free(&h->map);
    h->map = *map;
    memset(map, 0, sizeof *map);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

static void remember(pg_entry *e, pg_state state, int64_t until, const char *why)
{
    free(e->why);
    e->why = why ? strdup(why) : NULL;
    e->state = (uint8_t)state;
    e->value = until;
}

void pg_hold_result(pg_hold *h, const pg_result *r)
{
    int64_t now = h->io.now_ms(h->io.ud);
    pg_entry *e = pg_tab_get(&h->miss, r->lang, r->handle, r->len);
    if (e && e->state == PG_PENDING && e->stamp == h->batch && h->waiting)
        h->waiting--; /* the batch being held waited for this one */
    switch (r->kind) {
    case PG_R_FOUND: {
        if (e)
            pg_tab_del(&h->miss, e);
        pg_entry *p = pg_tab_put(&h->map, r->lang, r->handle, r->len);
        if (p) {
            p->state = PG_PAGE;
            p->value = r->id;
        }
        break;
    }
    case PG_R_NOT_FOUND:
    case PG_R_FAILED:
        if (!e)
            e = pg_tab_put(&h->miss, r->lang, r->handle, r->len);
        if (e && r->kind == PG_R_NOT_FOUND)
            remember(e, PG_NOT_FOUND, now + h->negative_ttl_ms, NULL);
        else if (e)
            remember(e, PG_FAILED, now + PG_ERROR_TTL_MS, r->why ? r->why : "failed");
        break;
    case PG_R_CANCELLED:
        if (e && e->state == PG_PENDING)
            pg_tab_del(&h->miss, e);
        break;
    }
}

/* ------------------------------------------------------------------ */
/* One event                                                           */
/* ------------------------------------------------------------------ */

enum { EV_PASS, EV_HIT, EV_WAIT, EV_UNRESOLVED };

typedef struct look {
    int kind;
    int64_t id;
    char reason[400];
} look;

int pg_hold_lang(const pg_hold *h, const char *s, size_t len)
{
    for (size_t i = 0; i < h->nlangs; i++)
        if (h->langs[i].len == len && memcmp(h->langs[i].name, s, len) == 0)
            return (int)h->langs[i].code;
    for (size_t i = 0; i < h->ncodes; i++)
        if (strlen(h->codes[i]) == len && memcmp(h->codes[i], s, len) == 0)
            return (int)i;
    return -1;
}

/* A handle as logged ("t%2Dshirts") as OneEntry knows it: percent escapes
 * decoded into h->handle. Returns the handle to use (s when there is
 * nothing to decode or an escape is broken) and its length. */
static const char *decode(pg_hold *h, const char *s, size_t n, size_t *out)
{
    *out = n;
    if (!memchr(s, '%', n) || n > PG_HANDLE_MAX)
        return s;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] != '%') {
            h->handle[o++] = s[i];
            continue;
        }
        if (i + 2 >= n || (hi = sl_hexval(s[i + 1])) < 0 || (lo = sl_hexval(s[i + 2])) < 0)
            return s;
        h->handle[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    *out = o;
    return h->handle;
}

static int unresolved(look *lk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The event will not get a pageId: why, for its dead letter. Returns 0. */
static int unresolved(look *lk, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lk->reason, sizeof lk->reason, fmt, ap);
    va_end(ap);
    lk->kind = EV_UNRESOLVED;
    return 0;
}

#define SHOWN(n) (int)((n) > 200 ? 200 : (n)) /* of a handle in a reason */

static int expired(const pg_entry *e, void *arg)
{
    return e->state != PG_PENDING && e->value <= *(const int64_t *)arg;
}

static int answered(const pg_entry *e, void *arg)
{
    (void)arg;
    return e->state != PG_PENDING;
}

/* Room for one more entry in the lookups table: 0, or -1 when only
 * pending lookups fill it. */
static int miss_room(pg_hold *h, int64_t now)
{
    if (pg_tab_count(&h->miss) < PG_MISS_MAX)
        return 0;
    pg_tab_sweep(&h->miss, expired, &now);
    if (pg_tab_count(&h->miss) >= PG_MISS_MAX)
        pg_tab_sweep(&h->miss, answered, NULL);
    return pg_tab_count(&h->miss) < PG_MISS_MAX ? 0 : -1;
}

/* A handle that is not in the map: what the lookups table says, asking
 * for it when nobody has (not when `final`). */
static int from_lookups(pg_hold *h, unsigned lang, const char *k, size_t n, int final,
                        look *lk)
{
    const char *code = h->codes[lang];
    int64_t now = h->io.now_ms(h->io.ud);
    pg_entry *e = pg_tab_get(&h->miss, lang, k, n);
    /* Expiry is judged when an event comes, not after it waited: an answer
     * that came during the wait is the answer, however short its life. */
    if (!final && e && e->state != PG_PENDING && e->value <= now) {
        pg_tab_del(&h->miss, e); /* expired: ask again */
        e = NULL;
    } else if (!final && e && e->state == PG_PENDING && now - e->value > h->stale_ms) {
        pg_tab_del(&h->miss, e); /* its answer was lost: ask again */
        e = NULL;
    }
    if (e && e->state == PG_NOT_FOUND)
        return unresolved(lk, "unknown_page: OneEntry has no page '%.*s' (langCode %s)",
                          SHOWN(n), k, code);
    if (e && e->state == PG_FAILED)
        return unresolved(lk, "page_lookup_failed: page '%.*s' (langCode %s): %s", SHOWN(n), k,
                          code, e->why ? e->why : "failed");
    if (final)
        return unresolved(lk, "page_lookup_timeout: page '%.*s' (langCode %s): no answer from "
                          "the Pages API within max_wait (%lld ms)", SHOWN(n), k, code,
                          (long long)h->max_wait_ms);
    if (e) { /* pending */
        if (e->stamp != h->batch) { /* asked for by an earlier batch */
            e->stamp = h->batch;
            h->waiting++;
        }
        lk->kind = EV_WAIT;
        return 0;
    }
    if (miss_room(h, now) < 0)
        return unresolved(lk, "page_lookup_failed: page '%.*s' (langCode %s): too many unknown "
                          "page handles at once", SHOWN(n), k, code);
    if (!(e = pg_tab_put(&h->miss, lang, k, n)))
        return -1;
    e->state = PG_PENDING;
    e->value = now;
    e->stamp = h->batch;
    if (h->io.submit(h->io.ud, lang, k, n) != 0) {
        pg_tab_del(&h->miss, e);
        return -1;
    }
    h->waiting++;
    lk->kind = EV_WAIT;
    return 0;
}

/* What to do with one event (its fields read by pg_walk_next). `final`:
 * waiting is over, nothing is asked. 0, or -1 (out of memory). */
static int classify(pg_hold *h, const pg_walk *w, int final, look *lk)
{
    if (!(w->has & (1u << PG_F_URL))) {
        lk->kind = EV_PASS;
        return 0;
    }
    const sl_value *url = &w->field[PG_F_URL], *lang = &w->field[PG_F_LANG];
    if (url->type != SL_STR || url->v.s.len == 0)
        return unresolved(lk, "missing_id: pageUrl is empty or not text");
    int code = 0;
    if (w->has & (1u << PG_F_LANG)) {
        const char *ls = lang->type == SL_STR ? lang->v.s.ptr : "";
        size_t ln = lang->type == SL_STR ? lang->v.s.len : 0;
        if ((code = pg_hold_lang(h, ls, ln)) < 0)
            return unresolved(lk, "unknown_lang: pageLang '%.*s' is not in the langs table",
                              SHOWN(ln), ls);
    }
    size_t n;
    const char *k = decode(h, url->v.s.ptr, url->v.s.len, &n);
    if (n > PG_HANDLE_MAX)
        return unresolved(lk, "unknown_page: a pageUrl of %zu bytes is no page handle", n);
    pg_entry *p = pg_tab_get(&h->map, (unsigned)code, k, n);
    if (p) {
        lk->kind = EV_HIT;
        lk->id = p->value;
        return 0;
    }
    if (!final)
        h->counts.misses++;
    return from_lookups(h, (unsigned)code, k, n, final, lk);
}

/* Write one classified event (not EV_WAIT) to out. 0, -1 out of memory,
 * -2 the dead letter was not written. */
static int emit(pg_hold *h, const pg_walk *w, const look *lk, sl_builder *out)
{
    switch (lk->kind) {
    case EV_HIT:
        h->counts.hits++;
        return pg_walk_write_id(w, lk->id, out);
    case EV_UNRESOLVED:
        h->counts.unresolved++;
        if (h->pass_unresolved)
            return sl_bb_append_event(out, &w->ev);
        return h->io.dead_letter(h->io.ud, &w->ev, lk->reason) == SL_OK ? 0 : -2;
    default:
        return sl_bb_append_event(out, &w->ev);
    }
}

/* Wait until every handle this batch asked for is answered, or the deadline. */
static void wait_answers(pg_hold *h, int64_t deadline)
{
    h->io.poll(h->io.ud);
    while (h->waiting > 0 && h->io.now_ms(h->io.ud) < deadline)
        h->io.wait(h->io.ud, deadline);
}

static int fail(int rc, uint32_t i, char *err, size_t errlen)
{
    snprintf(err, errlen, "event %u: %s", i,
             rc == -2 ? "its dead letter was not written" : "malformed or out of memory");
    return SL_ERR;
}

/* From `it` on, every event is final: emitted as resolved, or not. */
static int finish(pg_hold *h, sl_batch_iter it, uint32_t i, sl_builder *out, char *err,
                  size_t errlen)
{
    pg_walk w;
    look lk;
    int r, rc;
    while ((r = pg_walk_next(&it, &w)) == 1) {
        if (classify(h, &w, 1, &lk) < 0)
            return fail(-1, i, err, errlen);
        if ((rc = emit(h, &w, &lk, out)) != 0)
            return fail(rc, i, err, errlen);
        i++;
    }
    return r < 0 ? fail(-1, i, err, errlen) : SL_OK;
}

int pg_hold_process(pg_hold *h, const sl_batch *in, sl_builder *out, char *err, size_t errlen)
{
    sl_bb_mark mark = sl_bb_get_mark(out);
    int64_t deadline = h->io.now_ms(h->io.ud) + h->max_wait_ms;
    sl_batch_iter it, held;
    pg_walk w;
    look lk;
    uint32_t i = 0, first_held = 0;
    int r, rc = SL_OK, holding = 0;
    h->batch++;
    h->waiting = 0;
    h->io.poll(h->io.ud);
    sl_batch_iter_init(&it, in);
    for (;;) {
        sl_batch_iter before = it;
        if ((r = pg_walk_next(&it, &w)) != 1)
            break;
        if (classify(h, &w, 0, &lk) < 0) {
            rc = fail(-1, i, err, errlen);
            break;
        }
        if (lk.kind == EV_WAIT && !holding) {
            holding = 1; /* from here on, events go out after the answers */
            held = before;
            first_held = i;
        }
        if (!holding && (r = emit(h, &w, &lk, out)) != 0) {
            rc = fail(r, i, err, errlen);
            break;
        }
        i++;
    }
    if (rc == SL_OK && r < 0)
        rc = fail(-1, i, err, errlen);
    if (rc == SL_OK && holding) {
        wait_answers(h, deadline);
        rc = finish(h, held, first_held, out, err, errlen);
        h->io.cancel(h->io.ud);
    }
    h->waiting = 0;
    if (rc != SL_OK)
        sl_bb_rollback(out, mark);
    return rc;
}
