#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_clock.h"

void sl_taps_init(sl_taps *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    sl_cond_init_monotonic(&t->ready);
}

void sl_taps_destroy(sl_taps *t)
{
    for (sl_tap *p = t->list, *next; p; p = next) {
        next = p->next;
        sl_buf_free(&p->buf);
        free(p);
    }
    t->list = NULL;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->ready);
}

/* Key words whose values a tap never shows, matched anywhere in a key
 * without regard to case ("user_token", "http_cookie", "X-Api-Key"). */
static const char *const default_masks[] = {
    "token", "secret", "passw", "pwd", "authorization", "api_key", "apikey",
    "jwt", "cookie", "session", "credential", "private_key", "access_key", "signature", NULL,
};

static int has_word(const sl_value *k, const char *w)
{
    size_t wl = strlen(w);
    for (size_t j = 0; wl && j + wl <= k->v.s.len; j++)
        if (strncasecmp(k->v.s.ptr + j, w, wl) == 0)
            return 1;
    return 0;
}

static int secret_key(const sl_value *k, const char *const *extra)
{
    if (k->type != SL_STR)
        return 0;
    for (size_t i = 0; default_masks[i]; i++)
        if (has_word(k, default_masks[i]))
            return 1;
    for (size_t i = 0; extra && extra[i]; i++)
        if (has_word(k, extra[i]))
            return 1;
    return 0;
}

/* Nesting a tap follows; deeper values are shown as null, never unmasked. */
#define TAP_MAX_DEPTH 32

static int render_value(sl_buf *out, const sl_value *v, const char *const *extra, int depth);

static int render_items(sl_buf *out, const sl_value *c, const char *const *extra, int depth)
{
    sl_iter it;
    sl_value k, v;
    int r, first = 1, is_map = c->type == SL_MAP;
    if (sl_iter_init(&it, c) < 0 || sl_buf_puts(out, is_map ? "{" : "[") < 0)
        return -1;
    while ((r = sl_iter_next(&it, is_map ? &k : NULL, &v)) == 1) {
        if (!first && sl_buf_puts(out, ",") < 0)
            return -1;
        first = 0;
        if (is_map) {
            /* JSON keys are strings: a non-string key is written as its JSON
             * text, quoted. */
            int kr = k.type == SL_STR ? sl_json_str(out, k.v.s.ptr, k.v.s.len)
                                      : sl_json_value(out, &k);
            if (kr < 0 || sl_buf_puts(out, ":") < 0)
                return -1;
            if (secret_key(&k, extra)) {
                if (sl_buf_puts(out, "\"***\"") < 0)
                    return -1;
                continue;
            }
        }
        if (render_value(out, &v, extra, depth + 1) < 0)
            return -1;
    }
    return r < 0 ? -1 : sl_buf_puts(out, is_map ? "}" : "]");
}

/* A value with the values of secret-looking keys masked at every depth. */
static int render_value(sl_buf *out, const sl_value *v, const char *const *extra, int depth)
{
    if (v->type != SL_MAP && v->type != SL_ARRAY)
        return sl_json_value(out, v);
    if (depth >= TAP_MAX_DEPTH)
        return sl_buf_puts(out, "null");
    return render_items(out, v, extra, depth);
}

int sl_tap_render(sl_buf *out, const sl_event *ev, const char *const *extra)
{
    size_t mark = out->len;
    int rc = sl_buf_puts(out, "{\"time\":\"") < 0 || sl_json_rfc3339(out, ev->time_ns) < 0 ||
             sl_buf_puts(out, "\",\"meta\":") < 0 || render_value(out, &ev->meta, extra, 0) < 0 ||
             sl_buf_puts(out, ",\"body\":") < 0 || render_value(out, &ev->body, extra, 0) < 0 ||
             sl_buf_puts(out, "}\n") < 0;
    if (rc)
        out->len = mark;
    return rc ? -1 : 0;
}

/* Whether the tap's per-second budget allows one more event now. */
static int within_rate(sl_tap *tap, int64_t now_ms)
{
    if (!tap->max_rate)
        return 1;
    if (now_ms - tap->window_ms >= 1000) {
        tap->window_ms = now_ms;
        tap->in_window = 0;
    }
    return tap->in_window++ < tap->max_rate;
}

/* Render into one tap; called with t->mu held. */
static void publish_one(sl_taps *t, sl_tap *tap, const sl_batch *b, int64_t now_ms)
{
    /* Over this second's budget already: the batch is not even read, so a
     * reader costs a busy pipeline a lock and a clock read per batch. */
    if (tap->max_rate && now_ms - tap->window_ms < 1000 && tap->in_window >= tap->max_rate) {
        tap->seen += b->count;
        tap->skipped += b->count;
        return;
    }
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, b);
    while (!tap->closed && sl_batch_next(&it, &ev) == 1) {
        if (tap->seen++ % tap->sample != 0)
            continue;
        if (!within_rate(tap, now_ms)) {
            tap->skipped++;
            continue;
        }
        if (tap->limit && tap->sent >= tap->limit)
            return;
        if (tap->buf.len - tap->read_pos > SL_TAP_MAX_BYTES) {
            tap->dropped++;
            continue;
        }
        if (tap->dropped) {
            char line[64];
            snprintf(line, sizeof line, "{\"tap_dropped\":%llu}\n", (unsigned long long)tap->dropped);
            if (sl_buf_puts(&tap->buf, line) == 0)
                tap->dropped = 0;
        }
        if (sl_tap_render(&tap->buf, &ev, t->masks) == 0)
            tap->sent++;
        else
            tap->dropped++;
    }
}

void sl_taps_publish(sl_taps *t, const sl_batch *b)
{
    if (atomic_load(&t->n) == 0)
        return;
    int64_t now = sl_mono_ms();
    pthread_mutex_lock(&t->mu);
    for (sl_tap *p = t->list; p; p = p->next)
        publish_one(t, p, b, now);
    pthread_cond_broadcast(&t->ready);
    pthread_mutex_unlock(&t->mu);
}

sl_tap *sl_tap_open(sl_taps *t, uint64_t sample, uint64_t limit, uint64_t max_rate)
{
    sl_tap *tap = calloc(1, sizeof *tap);
    if (!tap)
        return NULL;
    tap->sample = sample ? sample : 1;
    tap->max_rate = max_rate;
    tap->limit = limit;
    pthread_mutex_lock(&t->mu);
    tap->next = t->list;
    t->list = tap;
    atomic_fetch_add(&t->n, 1);
    pthread_mutex_unlock(&t->mu);
    return tap;
}

static int ended(const sl_tap *tap)
{
    return tap->read_pos == tap->buf.len &&
           (tap->closed || (tap->limit && tap->sent >= tap->limit));
}

long sl_tap_read(sl_taps *t, sl_tap *tap, char *out, size_t max, int wait_ms)
{
    struct timespec deadline = sl_deadline_in(wait_ms);
    pthread_mutex_lock(&t->mu);
    while (tap->read_pos == tap->buf.len && !ended(tap) &&
           pthread_cond_timedwait(&t->ready, &t->mu, &deadline) == 0)
        ;
    long n = -1;
    if (!ended(tap)) {
        size_t avail = tap->buf.len - tap->read_pos;
        n = (long)(avail < max ? avail : max);
        if (n > 0)
            memcpy(out, tap->buf.data + tap->read_pos, (size_t)n);
        tap->read_pos += (size_t)n;
        if (tap->read_pos == tap->buf.len) {
            tap->buf.len = tap->read_pos = 0; /* keep the memory, drop the bytes */
        } else if (tap->read_pos > tap->buf.len / 2) {
            /* A reader that never quite catches up must not grow the buffer. */
            memmove(tap->buf.data, tap->buf.data + tap->read_pos, tap->buf.len - tap->read_pos);
            tap->buf.len -= tap->read_pos;
            tap->read_pos = 0;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

void sl_tap_close(sl_taps *t, sl_tap *tap)
{
    pthread_mutex_lock(&t->mu);
    for (sl_tap **pp = &t->list; *pp; pp = &(*pp)->next) {
        if (*pp == tap) {
            *pp = tap->next;
            atomic_fetch_sub(&t->n, 1);
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    sl_buf_free(&tap->buf);
    free(tap);
}

void sl_taps_close_all(sl_taps *t)
{
    pthread_mutex_lock(&t->mu);
    for (sl_tap *p = t->list; p; p = p->next)
        p->closed = 1;
    pthread_cond_broadcast(&t->ready);
    pthread_mutex_unlock(&t->mu);
}
