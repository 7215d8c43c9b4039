/* The Pages API client; see pg_client.h. */
#include "pg_client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pg_pages.h"
#include "sl_clock.h"
#include "sluice/json.h"
#include "grow.h"

#define LIST_MAX (64u << 20) /* largest page list answer read */
#define PAGE_MAX (1u << 20)  /* largest single page answer read */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000

typedef struct req {
    struct req *next;
    pg_client *c;
    int list;      /* the whole list of a language, else one handle */
    unsigned lang;
    char *handle;
    size_t len;
    CURL *easy;
    char *url;
    sl_buf body;
    size_t max;
    int too_big;
    char error[CURL_ERROR_SIZE];
} req;

struct pg_client {
    pg_client_cfg cfg;
    char *url, *path, *token_hdr, *ca_file;
    char **codes;
    /* Accept and the token, as list nodes of our own: curl_slist_append
     * would keep a copy of the token we could not wipe. */
    struct curl_slist hdrs[2];
    CURLM *multi;
    pthread_t thread;
    int started;
    atomic_int stop, news, loads;
    /* under mu: the mailbox and the queue of lookups not started */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req *queue, *queue_tail;
    pg_answers answers;
    pg_tab ready;
    int has_ready;
    /* the worker's own */
    req *inflight;
    int lookups_inflight;
    pg_tab building;
    int refreshing, refresh_left, refresh_failed;
    size_t skipped;
    char refresh_why[512];
    int64_t next_refresh_ms, backoff_ms;
};

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

static int answers_push(pg_answers *a, const pg_result *r)
{
    pg_result *v = sl_grow(a->v, a->n + 1, &a->cap, sizeof *v, 16);
    if (!v)
        return -1;
    a->v = v;
    pg_result c = *r;
    c.handle = strndup(r->handle, r->len);
    c.why = r->why ? strdup(r->why) : NULL;
    if (!c.handle || (r->why && !c.why)) {
        free((char *)c.handle);
        free((char *)c.why);
        return -1;
    }
    a->v[a->n++] = c;
    return 0;
}

void pg_answers_clear(pg_answers *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free((char *)a->v[i].handle);
        free((char *)a->v[i].why);
    }
    a->n = 0;
}

void pg_answers_free(pg_answers *a)
{
    pg_answers_clear(a);
    free(a->v);
    a->v = NULL;
    a->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* Percent-encode everything but RFC 3986 unreserved characters. */
static int put_escaped(sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (plain ? sl_buf_append(b, s + i, 1) : sl_buf_append(b, e, 3))
            return -1;
    }
    return 0;
}

static char *request_url(const pg_client *c, const req *r)
{
    sl_buf b = {0};
    const char *code = c->codes[r->lang];
    int rc = sl_buf_puts(&b, c->url) | sl_buf_puts(&b, c->path);
    if (!r->list)
        rc |= sl_buf_puts(&b, "/url/") | put_escaped(&b, r->handle, r->len);
    rc |= sl_buf_puts(&b, "?langCode=") | put_escaped(&b, code, strlen(code)) |
          sl_buf_append(&b, "", 1);
    if (rc) {
        sl_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    req *r = ud;
    size_t len = size * n;
    if (r->body.len + len > r->max) {
        r->too_big = 1;
        return 0; /* aborts the transfer */
    }
    return sl_buf_append(&r->body, p, len) == 0 ? len : 0;
}

static void req_free(req *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r->handle);
    free(r->url);
    sl_buf_free(&r->body);
    free(r);
}

static int req_setup(pg_client *c, req *r)
{
    CURL *e = r->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, &c->hdrs[0]) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->cfg.tls_verify ? 1L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->cfg.tls_verify ? 2L : 0L) != CURLE_OK;
    if (c->ca_file)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
    /* A project's page list can be large: take it compressed if offered. */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Only http(s), and never follow redirects with the token on. */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    return bad ? -1 : 0;
}

/* Start a request; on failure it is answered at once by finish(). */
static void finish(pg_client *c, req *r, CURLcode code, long status);

static void start(pg_client *c, req *r)
{
    r->c = c;
    r->max = r->list ? LIST_MAX : PAGE_MAX;
    if (!(r->url = request_url(c, r)) || !(r->easy = curl_easy_init()) ||
        req_setup(c, r) < 0 || curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
        snprintf(r->error, sizeof r->error, "cannot start the request (out of memory)");
        finish(c, r, CURLE_OUT_OF_MEMORY, 0);
        return;
    }
    r->next = c->inflight;
    c->inflight = r;
    if (!r->list)
        c->lookups_inflight++;
}

static void unlink_inflight(pg_client *c, req *r)
{
    for (req **p = &c->inflight; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
}

/* ------------------------------------------------------------------ */
/* The mailbox                                                         */
/* ------------------------------------------------------------------ */

static void post(pg_client *c)
{
    atomic_store(&c->news, 1);
    pthread_cond_broadcast(&c->cv);
}

static void post_answer(pg_client *c, const pg_result *res)
{
    if (c->cfg.looked_up)
        c->cfg.looked_up(c->cfg.ud, res);
    pthread_mutex_lock(&c->mu);
    /* Out of memory: the answer is lost, and the enricher asks again once
     * its pending entry is stale. */
    (void)answers_push(&c->answers, res);
    post(c);
    pthread_mutex_unlock(&c->mu);
}

/* "HTTP 503: message" or the transport error, into buf. */
static void describe(const req *r, CURLcode code, long status, char *buf, size_t len)
{
    char msg[200];
    if (code != CURLE_OK) {
        snprintf(buf, len, "%s", r->too_big ? "answer too large"
                                 : r->error[0] ? r->error : curl_easy_strerror(code));
        return;
    }
    pg_read_message(r->body.data ? r->body.data : "", r->body.len, msg, sizeof msg);
    snprintf(buf, len, "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
}

static void finish_lookup(pg_client *c, req *r, CURLcode code, long status)
{
    char why[400], perr[200];
    pg_result res = {PG_R_FAILED, r->lang, r->handle, r->len, 0, why};
    if (code == CURLE_OK && status == 200) {
        if (pg_read_page(r->body.data ? r->body.data : "", r->body.len, &res.id, perr,
                         sizeof perr) == 0) {
            res.kind = PG_R_FOUND;
            res.why = NULL;
        } else {
            snprintf(why, sizeof why, "HTTP 200 but %s", perr);
        }
    } else if (code == CURLE_OK && status == 404) {
        res.kind = PG_R_NOT_FOUND;
        res.why = NULL;
    } else {
        describe(r, code, status, why, sizeof why);
    }
    post_answer(c, &res);
}

static void end_refresh(pg_client *c)
{
    int64_t now = sl_mono_ms();
    c->refreshing = 0;
    if (c->refresh_failed) {
        if (c->cfg.load_failed)
            c->cfg.load_failed(c->cfg.ud, c->refresh_why);
        pg_tab_free(&c->building);
        c->next_refresh_ms = now + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        if (c->backoff_ms > c->cfg.refresh_ms)
            c->backoff_ms = c->cfg.refresh_ms;
    } else {
        if (c->cfg.loaded)
            c->cfg.loaded(c->cfg.ud, &c->building, c->skipped);
        c->next_refresh_ms = now + c->cfg.refresh_ms;
        c->backoff_ms = BACKOFF_FIRST_MS;
    }
    pthread_mutex_lock(&c->mu);
    if (!c->refresh_failed) {
        if (c->has_ready) /* the enricher has not taken the last one: this one is newer */
            pg_tab_free(&c->ready);
        c->ready = c->building;
        c->has_ready = 1;
        memset(&c->building, 0, sizeof c->building);
    }
    atomic_fetch_add(&c->loads, 1);
    post(c);
    pthread_mutex_unlock(&c->mu);
}

static void refresh_fail(pg_client *c, const char *fmt, const char *code, const char *why)
{
    if (!c->refresh_failed)
        snprintf(c->refresh_why, sizeof c->refresh_why, fmt, code, why);
    c->refresh_failed = 1;
}

static void finish_list(pg_client *c, req *r, CURLcode code, long status)
{
    char why[300];
    size_t skipped = 0;
    const char *lc = c->codes[r->lang];
    if (code != CURLE_OK || status != 200) {
        describe(r, code, status, why, sizeof why);
        refresh_fail(c, "page list (langCode %s): %s", lc, why);
    } else if (!c->refresh_failed &&
               pg_read_list(r->body.data ? r->body.data : "", r->body.len, &c->building,
                            r->lang, &skipped, why, sizeof why) < 0) {
        refresh_fail(c, "page list (langCode %s): %s", lc, why);
    }
    c->skipped += skipped;
    if (--c->refresh_left == 0)
        end_refresh(c);
}

static void finish(pg_client *c, req *r, CURLcode code, long status)
{
    if (r->list)
        finish_list(c, r, code, status);
    else
        finish_lookup(c, r, code, status);
    req_free(r);
}

/* ------------------------------------------------------------------ */
/* The worker                                                          */
/* ------------------------------------------------------------------ */

static void start_refresh(pg_client *c)
{
    c->refreshing = 1;
    c->refresh_failed = 0;
    c->skipped = 0;
    c->refresh_left = (int)c->cfg.ncodes;
    if (pg_tab_init(&c->building, 0) < 0) {
        c->refresh_left = 0;
        refresh_fail(c, "page list%s: %s", "", "no random key");
        end_refresh(c);
        return;
    }
    for (size_t i = 0; i < c->cfg.ncodes; i++) {
        req *r = calloc(1, sizeof *r);
        if (!r) {
            refresh_fail(c, "page list%s: %s", "", "out of memory");
            if (--c->refresh_left == 0)
                end_refresh(c);
            continue;
        }
        r->list = 1;
        r->lang = (unsigned)i;
        start(c, r);
    }
}

static void start_lookups(pg_client *c)
{
    req *take = NULL, **tail = &take;
    pthread_mutex_lock(&c->mu);
    for (int room = c->cfg.max_lookups - c->lookups_inflight; room > 0 && c->queue; room--) {
        req *r = c->queue;
        c->queue = r->next;
        r->next = NULL;
        *tail = r;
        tail = &r->next;
    }
    if (!c->queue)
        c->queue_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    while (take) {
        req *r = take;
        take = r->next;
        start(c, r);
    }
}

static void collect(pg_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        req *r;
        long status = 0;
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(c->multi, m->easy_handle);
        unlink_inflight(c, r);
        if (!r->list)
            c->lookups_inflight--;
        finish(c, r, code, status);
    }
}

static void *worker(void *arg)
{
    pg_client *c = arg;
    while (!atomic_load(&c->stop)) {
        int running;
        if (!c->refreshing && sl_mono_ms() >= c->next_refresh_ms)
            start_refresh(c);
        start_lookups(c);
        curl_multi_perform(c->multi, &running);
        collect(c);
        int64_t wait = c->refreshing ? 1000 : c->next_refresh_ms - sl_mono_ms();
        wait = wait < 0 ? 0 : wait > 1000 ? 1000 : wait;
        curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The enricher's side                                                 */
/* ------------------------------------------------------------------ */

int pg_client_submit(pg_client *c, unsigned lang, const char *handle, size_t len)
{
    req *r = calloc(1, sizeof *r);
    if (!r || !(r->handle = strndup(handle, len))) {
        free(r);
        return -1;
    }
    r->lang = lang;
    r->len = len;
    pthread_mutex_lock(&c->mu);
    if (c->queue_tail)
        c->queue_tail->next = r;
    else
        c->queue = r;
    c->queue_tail = r;
    pthread_mutex_unlock(&c->mu);
    curl_multi_wakeup(c->multi);
    return 0;
}

void pg_client_cancel(pg_client *c, void (*fn)(void *arg, const pg_result *r), void *arg)
{
    pthread_mutex_lock(&c->mu);
    req *r = c->queue;
    c->queue = c->queue_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    while (r) {
        req *next = r->next;
        pg_result res = {PG_R_CANCELLED, r->lang, r->handle, r->len, 0, NULL};
        fn(arg, &res);
        req_free(r);
        r = next;
    }
}

int pg_client_news(pg_client *c)
{
    return atomic_load_explicit(&c->news, memory_order_acquire);
}

void pg_client_take(pg_client *c, pg_tab *map, int *has_map, pg_answers *answers)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->news, 0);
    *has_map = c->has_ready;
    if (c->has_ready) {
        *map = c->ready;
        memset(&c->ready, 0, sizeof c->ready);
        c->has_ready = 0;
    }
    if (answers->n == 0) { /* the usual case: hand the whole list over */
        pg_answers t = *answers;
        *answers = c->answers;
        c->answers = t;
    } else {
        for (size_t i = 0; i < c->answers.n; i++)
            if (answers_push(answers, &c->answers.v[i]) < 0)
                break; /* lost; asked again once stale */
        pg_answers_clear(&c->answers);
    }
    pthread_mutex_unlock(&c->mu);
}

void pg_client_wait(pg_client *c, int64_t deadline_ms)
{
    pthread_mutex_lock(&c->mu);
    while (!atomic_load(&c->news)) {
        int64_t left = deadline_ms - sl_mono_ms();
        if (left <= 0)
            break;
        struct timespec t = sl_deadline_in(left);
        pthread_cond_timedwait(&c->cv, &c->mu, &t);
    }
    pthread_mutex_unlock(&c->mu);
}

int pg_client_loads(pg_client *c)
{
    return atomic_load(&c->loads);
}

/* ------------------------------------------------------------------ */
/* Life                                                                */
/* ------------------------------------------------------------------ */

static void free_client(pg_client *c)
{
    for (req *r = c->inflight, *next; r; r = next) {
        next = r->next;
        curl_multi_remove_handle(c->multi, r->easy);
        req_free(r);
    }
    for (req *r = c->queue, *next; r; r = next) {
        next = r->next;
        req_free(r);
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->token_hdr) {
        /* the token must not linger in freed memory */
        explicit_bzero(c->token_hdr, strlen(c->token_hdr));
        free(c->token_hdr);
    }
    for (size_t i = 0; c->codes && i < c->cfg.ncodes; i++)
        free(c->codes[i]);
    free(c->codes);
    free(c->url);
    free(c->path);
    free(c->ca_file);
    pg_answers_free(&c->answers);
    pg_tab_free(&c->ready);
    pg_tab_free(&c->building);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static int copy_cfg(pg_client *c, const pg_client_cfg *cfg)
{
    c->cfg = *cfg;
    size_t ul = strlen(cfg->url);
    while (ul && cfg->url[ul - 1] == '/')
        ul--; /* "https://x/" + "/api/..." */
    if (!(c->url = strndup(cfg->url, ul)) || !(c->path = strdup(cfg->path)) ||
        (cfg->ca_file && *cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file))) ||
        !(c->codes = calloc(cfg->ncodes, sizeof *c->codes)))
        return -1;
    for (size_t i = 0; i < cfg->ncodes; i++)
        if (!(c->codes[i] = strdup(cfg->codes[i])))
            return -1;
    c->cfg.url = c->cfg.path = c->cfg.token = c->cfg.ca_file = NULL;
    c->cfg.codes = NULL;
    static char accept[] = "Accept: application/json";
    c->hdrs[0].data = accept;
    if (cfg->token && *cfg->token) {
        if (asprintf(&c->token_hdr, "x-app-token: %s", cfg->token) < 0) {
            c->token_hdr = NULL;
            return -1;
        }
        c->hdrs[0].next = &c->hdrs[1];
        c->hdrs[1].data = c->token_hdr;
    }
    return 0;
}

int pg_client_start(pg_client **out, const pg_client_cfg *cfg, char *err, size_t errlen)
{
    pg_client *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&c->mu, NULL);
    sl_cond_init_monotonic(&c->cv);
    c->backoff_ms = BACKOFF_FIRST_MS;
    if (copy_cfg(c, cfg) < 0 || !(c->multi = curl_multi_init())) {
        free_client(c);
        snprintf(err, errlen, "cannot set up the Pages API client: out of memory");
        return -1;
    }
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (pthread_create(&c->thread, NULL, worker, c) != 0) {
        free_client(c);
        snprintf(err, errlen, "cannot start the Pages API thread");
        return -1;
    }
    c->started = 1;
    *out = c;
    return 0;
}

void pg_client_stop(pg_client *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    curl_multi_wakeup(c->multi);
    if (c->started)
        pthread_join(c->thread, NULL);
    free_client(c);
}
