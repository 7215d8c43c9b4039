/*
 * enricher oneentry_pages: sets pageId on events that carry a page handle
 * (pageUrl, and the URL's language as pageLang), from OneEntry's Pages API.
 *
 *   enrichers:
 *     pages:
 *       plugin: oneentry_pages
 *       inputs: [activity]
 *       url: ${ONEENTRY_URL}
 *       token: ${ONEENTRY_TOKEN}
 *       langs: { en: en_US, de: de_DE }
 *
 * Every page of the project is loaded at start and every refresh_interval
 * (lib/pg_client.c, a worker thread) and saved in the component's state
 * directory, so a start while OneEntry is away resolves from the saved map.
 * A handle not in the map is looked up on its own, in the background, and
 * the batch holding the event waits for the answer at most max_wait
 * (lib/pg_hold.c says how and why). An event that gets no pageId is
 * dead-lettered with the reason, or passed on without it
 * (on_unresolved: pass). The activity enricher leaves pageId to this one
 * when a rule names pageUrl; this is where the pageId check happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pg_client.h"
#include "pg_hold.h"
#include "pg_pages.h"
#include "sl_clock.h"
#include "sluice/host.h"
#include "sluice/json.h"
#include "sluice/plugin.h"
#include "throttle.h"

#define SAVED_MAX (256u << 20) /* largest saved map read back */
#define LOG_EVERY_MS 60000     /* repeated failures: one line a minute */

typedef struct pages {
    sl_ctx *ctx;
    const sl_host *host;
    pg_hold hold;
    pg_client *client;
    pg_answers answers;
    char *save_path;       /* NULL: nowhere to save */
    int64_t timeout_ms;
    int ready;             /* the first batch has been let through */
    atomic_size_t known;   /* pages in the map, for the worker's log lines */
    atomic_size_t last_loaded;
    sl_throttle refresh_log, lookup_log;
    sl_metric *m_hits, *m_misses, *m_lookups, *m_not_found, *m_refresh_failures,
        *m_unresolved, *m_pages;
} pages;

#define NONEMPTY NULL, NULL, SL_OPT_F_NONEMPTY
static const sl_option options[] = {
    {"url", SL_OPT_STRING, NULL, 1, "OneEntry project URL, e.g. https://myproject.oneentry.cloud",
     NULL, NONEMPTY},
    {"path", SL_OPT_STRING, "/api/content/pages", 0, "Pages API path", NULL, NONEMPTY},
    {"token", SL_OPT_SECRET, NULL, 0, "app token sent as x-app-token (never printed or logged)",
     NULL, NULL, NULL, 0},
    {"langs", SL_OPT_MAP, NULL, 0,
     "the URL's language (an event's pageLang) to a langCode, e.g. {en: en_US, de: de_DE}",
     NULL, NULL, NULL, 0},
    {"lang_code", SL_OPT_STRING, "en_US", 0, "langCode of events without pageLang", NULL,
     NONEMPTY},
    {"refresh_interval", SL_OPT_DURATION, "5m", 0,
     "reload every page this often (after a failure: sooner, backing off from 1s to 1m)", NULL,
     "1s", NULL, 0},
    {"negative_ttl", SL_OPT_DURATION, "5m", 0,
     "how long a handle OneEntry has no page for is remembered (not asked again)", NULL, "1s",
     NULL, 0},
    {"max_wait", SL_OPT_DURATION, "2s", 0,
     "longest an event waits for its handle to be looked up", NULL, "50ms", "60s", 0},
    {"max_lookups", SL_OPT_INT, "8", 0, "single-page lookups in flight at most", NULL, "1",
     "64", 0},
    {"on_unresolved", SL_OPT_STRING, "dead_letter", 0,
     "an event left without pageId: dead_letter (with the reason) or pass (on, without "
     "pageId, its pageUrl kept)", "dead_letter|pass", NULL, NULL, 0},
    {"connect_timeout", SL_OPT_DURATION, "5s", 0, "TCP/TLS connect timeout", NULL, "1ms", NULL,
     0},
    {"timeout", SL_OPT_DURATION, "10s", 0,
     "whole-request timeout; also how long the first batch waits for the first page list "
     "when no saved map exists", NULL, "1ms", NULL, 0},
    {"tls_verify", SL_OPT_BOOL, "true", 0, "verify the server certificate", NULL, NULL, NULL, 0},
    {"ca_file", SL_OPT_STRING, NULL, 0, "CA bundle to verify the server with", NULL, NULL, NULL,
     0},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};
#undef NONEMPTY

/* ------------------------------------------------------------------ */
/* Between the client's mailbox and the hold (the enricher's thread)   */
/* ------------------------------------------------------------------ */

static void apply_answer(void *arg, const pg_result *r)
{
    pg_hold_result(arg, r);
}

static void drain(pages *p)
{
    pg_tab map;
    int has_map;
    if (!pg_client_news(p->client))
        return;
    pg_client_take(p->client, &map, &has_map, &p->answers);
    if (has_map)
        pg_hold_set_map(&p->hold, &map);
    for (size_t i = 0; i < p->answers.n; i++)
        pg_hold_result(&p->hold, &p->answers.v[i]);
    pg_answers_clear(&p->answers);
    atomic_store(&p->known, pg_tab_count(&p->hold.map));
    p->host->metric_set(p->m_pages, (int64_t)pg_tab_count(&p->hold.map));
}

static int64_t io_now(void *ud)
{
    (void)ud;
    return sl_mono_ms();
}

static int io_submit(void *ud, unsigned lang, const char *handle, size_t len)
{
    pages *p = ud;
    return pg_client_submit(p->client, lang, handle, len);
}

static void io_poll(void *ud)
{
    drain(ud);
}

static void io_wait(void *ud, int64_t deadline_ms)
{
    pages *p = ud;
    pg_client_wait(p->client, deadline_ms);
    drain(p);
}

static void io_cancel(void *ud)
{
    pages *p = ud;
    pg_client_cancel(p->client, apply_answer, &p->hold);
}

static int io_dead_letter(void *ud, const sl_event *ev, const char *reason)
{
    pages *p = ud;
    return p->host->dead_letter(p->ctx, ev, reason);
}

/* ------------------------------------------------------------------ */
/* The client's hooks (its worker thread)                              */
/* ------------------------------------------------------------------ */

static void on_loaded(void *ud, const pg_tab *map, size_t skipped)
{
    pages *p = ud;
    char err[300];
    size_t n = pg_tab_count(map);
    size_t before = atomic_exchange(&p->last_loaded, n);
    if (before != n)
        p->host->log(p->ctx, SL_LOG_INFO, "%zu pages loaded from the Pages API%s", n,
                     skipped ? " (some page objects had no id or pageUrl: skipped)" : "");
    if (!p->save_path)
        return;
    sl_buf b = {0};
    if (pg_save_encode(map, (const char *const *)p->hold.codes, p->hold.ncodes, &b) < 0)
        snprintf(err, sizeof err, "out of memory");
    if (!b.data || p->host->file_replace(p->ctx, p->save_path, b.data, b.len, err,
                                         sizeof err) != SL_OK)
        p->host->log(p->ctx, SL_LOG_WARN, "cannot save the page map to %s: %s", p->save_path,
                     err);
    sl_buf_free(&b);
}

static void on_load_failed(void *ud, const char *why)
{
    pages *p = ud;
    unsigned long long held = 0;
    p->host->metric_add(p->m_refresh_failures, 1);
    if (sl_throttle_pass(&p->refresh_log, LOG_EVERY_MS, &held))
        p->host->log(p->ctx, SL_LOG_WARN, "loading the pages failed: %s; events are resolved "
                     "from the %zu pages known (%llu more failures not logged)", why,
                     atomic_load(&p->known), held);
}

static void on_looked_up(void *ud, const pg_result *r)
{
    pages *p = ud;
    unsigned long long held = 0;
    p->host->metric_add(p->m_lookups, 1);
    if (r->kind == PG_R_NOT_FOUND)
        p->host->metric_add(p->m_not_found, 1);
    if (r->kind == PG_R_FAILED && sl_throttle_pass(&p->lookup_log, LOG_EVERY_MS, &held))
        p->host->log(p->ctx, SL_LOG_WARN, "page lookup failed: %s (%llu more not logged)",
                     r->why, held);
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

static void pages_free(pages *p)
{
    if (!p)
        return;
    pg_client_stop(p->client);
    pg_hold_free(&p->hold);
    pg_answers_free(&p->answers);
    free(p->save_path);
    free(p);
}

/* Index of code in codes[0..*n), appended when new. */
static unsigned code_of(const char **codes, size_t *n, const char *code)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(codes[i], code))
            return (unsigned)i;
    codes[*n] = code;
    return (unsigned)(*n)++;
}

/* langs and lang_code into the hold: langCodes (lang_code first) and the
 * URL languages. */
static int init_hold(pages *p, char *err, size_t errlen)
{
    const sl_host *h = p->host;
    const sl_node *langs = h->opt_node(p->ctx, "langs");
    size_t nl = langs ? h->node_len(langs) : 0, nc = 0;
    const char **codes = calloc(nl + 1, sizeof *codes), **names = calloc(nl + 1, sizeof *names);
    unsigned *idx = calloc(nl + 1, sizeof *idx);
    int rc = -1;
    if (!codes || !names || !idx) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    code_of(codes, &nc, h->opt_str(p->ctx, "lang_code"));
    for (size_t i = 0; i < nl; i++) {
        const sl_node *v = h->node_at(langs, i);
        const char *code = h->node_kind(v) == SL_NODE_SCALAR ? h->node_str(v) : NULL;
        names[i] = h->node_key(langs, i);
        if (!code || !*code || !names[i] || !*names[i]) {
            char at[160] = "";
            h->node_where(v, at, sizeof at);
            snprintf(err, errlen, "%s%slangs: expected URL language: langCode, e.g. en: en_US",
                     at, *at ? ": " : "");
            goto out;
        }
        idx[i] = code_of(codes, &nc, code);
    }
    rc = pg_hold_init(&p->hold, codes, nc, names, idx, nl, err, errlen);
out:
    free(codes);
    free(names);
    free(idx);
    return rc;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    char *buf = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size > SAVED_MAX ||
        !(buf = malloc((size_t)st.st_size + 1))) {
        snprintf(err, errlen, "%s", fd < 0 ? strerror(errno) : "too large or out of memory");
        goto fail;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            snprintf(err, errlen, "%s", n < 0 ? strerror(errno) : "file shrank");
            goto fail;
        }
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return buf;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

/* The map an earlier run saved, if any: a start during an outage works. */
static void load_saved(pages *p)
{
    const char *dir = p->host->state_dir(p->ctx);
    char err[300];
    size_t len;
    pg_tab map;
    if (!dir || asprintf(&p->save_path, "%s/pages.json", dir) < 0) {
        p->save_path = NULL;
        p->host->log(p->ctx, SL_LOG_WARN, "no state directory: the page map is not saved, "
                     "and a start while OneEntry is away cannot resolve pages");
        return;
    }
    char *text = read_file(p->save_path, &len, err, sizeof err);
    if (!text) {
        if (access(p->save_path, F_OK) == 0)
            p->host->log(p->ctx, SL_LOG_WARN, "cannot read the saved page map %s: %s",
                         p->save_path, err);
        return;
    }
    if (pg_tab_init(&map, 0) < 0 ||
        pg_save_decode(text, len, (const char *const *)p->hold.codes, p->hold.ncodes, &map,
                       err, sizeof err) < 0) {
        p->host->log(p->ctx, SL_LOG_WARN, "ignoring the saved page map %s: %s", p->save_path,
                     err);
        pg_tab_free(&map);
    } else {
        pg_hold_set_map(&p->hold, &map);
        p->host->log(p->ctx, SL_LOG_INFO, "%zu pages from the saved map %s until the Pages "
                     "API answers", pg_tab_count(&p->hold.map), p->save_path);
    }
    free(text);
}

static void register_metrics(pages *p)
{
    const sl_host *h = p->host;
    p->m_hits = h->metric(p->ctx, "hits", SL_METRIC_COUNTER);
    p->m_misses = h->metric(p->ctx, "misses", SL_METRIC_COUNTER);
    p->m_lookups = h->metric(p->ctx, "lookups", SL_METRIC_COUNTER);
    p->m_not_found = h->metric(p->ctx, "not_found", SL_METRIC_COUNTER);
    p->m_refresh_failures = h->metric(p->ctx, "refresh_failures", SL_METRIC_COUNTER);
    p->m_unresolved = h->metric(p->ctx, "unresolved", SL_METRIC_COUNTER);
    p->m_pages = h->metric(p->ctx, "pages", SL_METRIC_GAUGE);
}

static int start_client(pages *p, char *err, size_t errlen)
{
    const sl_host *h = p->host;
    sl_ctx *ctx = p->ctx;
    pg_client_cfg cfg = {
        .url = h->opt_str(ctx, "url"),
        .path = h->opt_str(ctx, "path"),
        .token = h->opt_str(ctx, "token"),
        .ca_file = h->opt_str(ctx, "ca_file"),
        .tls_verify = h->opt_bool(ctx, "tls_verify"),
        .connect_timeout_ms = (long)h->opt_int(ctx, "connect_timeout"),
        .timeout_ms = (long)p->timeout_ms,
        .max_lookups = (int)h->opt_int(ctx, "max_lookups"),
        .codes = (const char *const *)p->hold.codes,
        .ncodes = p->hold.ncodes,
        .refresh_ms = h->opt_int(ctx, "refresh_interval"),
        .ud = p,
        .loaded = on_loaded,
        .load_failed = on_load_failed,
        .looked_up = on_looked_up,
    };
    if (strncmp(cfg.url, "http://", 7) != 0 && strncmp(cfg.url, "https://", 8) != 0) {
        snprintf(err, errlen, "url: expected http:// or https://, got '%s'", cfg.url);
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        return -1;
    }
    return pg_client_start(&p->client, &cfg, err, errlen);
}

static int pages_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                      size_t errlen)
{
    pages *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    p->ctx = ctx;
    p->host = host;
    if (init_hold(p, err, errlen) < 0) {
        free(p);
        return SL_ERR;
    }
    p->timeout_ms = host->opt_int(ctx, "timeout");
    p->hold.max_wait_ms = host->opt_int(ctx, "max_wait");
    p->hold.negative_ttl_ms = host->opt_int(ctx, "negative_ttl");
    /* a lookup unanswered this long was lost (it cannot take longer) */
    p->hold.stale_ms = p->timeout_ms + p->hold.max_wait_ms + 5000;
    p->hold.pass_unresolved = !strcmp(host->opt_str(ctx, "on_unresolved"), "pass");
    p->hold.io = (pg_io){p, io_now, io_submit, io_poll, io_wait, io_cancel, io_dead_letter};
    register_metrics(p);
    load_saved(p);
    atomic_store(&p->known, pg_tab_count(&p->hold.map));
    host->metric_set(p->m_pages, (int64_t)pg_tab_count(&p->hold.map));
    if (start_client(p, err, errlen) < 0) {
        pages_free(p);
        return SL_ERR;
    }
    *state = p;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* process                                                             */
/* ------------------------------------------------------------------ */

/* Before the first batch: with no saved map, wait (up to `timeout`) for
 * the first page list, so a start does not look every handle up alone. */
static void first_batch(pages *p)
{
    p->ready = 1;
    if (pg_tab_count(&p->hold.map) > 0)
        return;
    int64_t deadline = sl_mono_ms() + p->timeout_ms;
    while (pg_client_loads(p->client) == 0 && sl_mono_ms() < deadline) {
        pg_client_wait(p->client, deadline);
        drain(p);
    }
    drain(p);
}

static int pages_process(void *state, const sl_batch *in, sl_builder *out, char *err,
                         size_t errlen)
{
    pages *p = state;
    if (!p->ready)
        first_batch(p);
    pg_counts was = p->hold.counts;
    int rc = pg_hold_process(&p->hold, in, out, err, errlen);
    const pg_counts *now = &p->hold.counts;
    p->host->metric_add(p->m_hits, now->hits - was.hits);
    p->host->metric_add(p->m_misses, now->misses - was.misses);
    p->host->metric_add(p->m_unresolved, now->unresolved - was.unresolved);
    return rc;
}

static void pages_destroy(void *state)
{
    pages *p = state;
    if (p)
        p->host->log(p->ctx, SL_LOG_INFO, "%" PRIu64 " events given a pageId, %" PRIu64
                     " misses, %" PRIu64 " left without one", p->hold.counts.hits,
                     p->hold.counts.misses, p->hold.counts.unresolved);
    pages_free(p);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "oneentry_pages", "1.0.0"),
    .description =
        "Sets pageId on events that carry a page handle (pageUrl, and the URL's language as "
        "pageLang; the activity enricher's rules write them) from OneEntry's Pages API: every "
        "page is loaded at start and every refresh_interval, and saved in the component's "
        "state directory (pages.json) so a start while OneEntry is away still resolves; a "
        "handle not in the map is looked up on its own in the background (at most max_lookups "
        "at a time; a 404 is remembered for negative_ttl). The batch holding such an event "
        "waits for the answer at most max_wait, its events kept in order; an event left "
        "without pageId is dead-lettered with the reason (unknown_page, page_lookup_failed, "
        "page_lookup_timeout, unknown_lang, missing_id) or, with on_unresolved: pass, passed "
        "on. Counters: hits, misses, lookups, not_found, refresh_failures, unresolved; gauge "
        "pages.",
    .options = options,
    .init = pages_init,
    .process = pages_process,
    .destroy = pages_destroy,
};
