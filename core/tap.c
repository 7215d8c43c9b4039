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

static int secret_key(const sl_value *k)
{
    static const char *const words[] = {"token", "secret", "password", "authorization", "api_key"};
    if (k->type != SL_STR)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t wl = strlen(words[i]);
        for (size_t j = 0; j + wl <= k->v.s.len; j++)
            if (strncasecmp(k->v.s.ptr + j, words[i], wl) == 0)
                return 1;
    }
    return 0;
}

/* A map with secret-looking values masked (top level only). */
static int render_map(sl_buf *out, const sl_value *map)
{
    if (map->type != SL_MAP)
        return sl_json_value(out, map);
    sl_iter it;
    sl_value k, v;
    int r, first = 1;
    if (sl_iter_init(&it, map) < 0 || sl_buf_puts(out, "{") < 0)
        return -1;
    while ((r = sl_iter_next(&it, &k, &v)) == 1) {
        if (!first && sl_buf_puts(out, ",") < 0)
            return -1;
        first = 0;
        int kr = k.type == SL_STR ? sl_json_str(out, k.v.s.ptr, k.v.s.len) : sl_json_value(out, &k);
        if (kr < 0 || sl_buf_puts(out, ":") < 0)
            return -1;
        if ((secret_key(&k) ? sl_buf_puts(out, "\"***\"") : sl_json_value(out, &v)) < 0)
            return -1;
    }
    return r < 0 ? -1 : sl_buf_puts(out, "}");
}

int sl_tap_render(sl_buf *out, const sl_event *ev)
{
    size_t mark = out->len;
    int rc = sl_buf_puts(out, "{\"time\":\"") < 0 || sl_json_rfc3339(out, ev->time_ns) < 0 ||
             sl_buf_puts(out, "\",\"meta\":") < 0 || render_map(out, &ev->meta) < 0 ||
             sl_buf_puts(out, ",\"body\":") < 0 || render_map(out, &ev->body) < 0 ||
             sl_buf_puts(out, "}\n") < 0;
    if (rc)
        out->len = mark;
    return rc ? -1 : 0;
}

/* Render into one tap; called with t->mu held. */
static void publish_one(sl_tap *tap, const sl_batch *b)
{
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, b);
    while (!tap->closed && sl_batch_next(&it, &ev) == 1) {
        if (tap->seen++ % tap->sample != 0)
            continue;
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
        if (sl_tap_render(&tap->buf, &ev) == 0)
            tap->sent++;
        else
            tap->dropped++;
    }
}

void sl_taps_publish(sl_taps *t, const sl_batch *b)
{
    if (atomic_load(&t->n) == 0)
        return;
    pthread_mutex_lock(&t->mu);
    for (sl_tap *p = t->list; p; p = p->next)
        publish_one(p, b);
    pthread_cond_broadcast(&t->ready);
    pthread_mutex_unlock(&t->mu);
}

sl_tap *sl_tap_open(sl_taps *t, uint64_t sample, uint64_t limit)
{
    sl_tap *tap = calloc(1, sizeof *tap);
    if (!tap)
        return NULL;
    tap->sample = sample ? sample : 1;
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
