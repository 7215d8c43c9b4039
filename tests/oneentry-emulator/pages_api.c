/*
 * The Pages API: GET {pages_api}?langCode=L answers every page of L as a
 * JSON array, GET {pages_api}/url/{handle}?langCode=L the page with that
 * handle or a 404 error object. langCode defaults to en_US, as in
 * OneEntry's SDK. The same x-app-token rule as the UserActivity endpoint.
 *
 * Faults of its own, decided before anything else, like the UserActivity
 * endpoint's: down (a TCP reset), random failures (--pages-fail, drawn from
 * the emulator's seed), and added latency (--pages-latency-ms). The pages
 * file is read again when it changes (its inode, size or mtime), so a test
 * adds a page to the project by renaming a new file over it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Under pages_mu: read the file again when it changed. A file that does not
 * parse leaves the pages as they were (logged). */
static void reload_if_changed(oe_server *s)
{
    struct stat st;
    oe_pages fresh;
    char err[300];
    if (stat(s->pages_file, &st) != 0 || same_file(&st, &s->pages_st))
        return;
    if (oe_pages_load(&fresh, s->pages_file, err, sizeof err) < 0) {
        if (!s->quiet)
            fprintf(stderr, "oneentry-emulator: pages not reloaded: %s\n", err);
        return;
    }
    oe_pages_free(&s->pages);
    s->pages = fresh;
    s->pages_st = st;
    if (!s->quiet)
        fprintf(stderr, "oneentry-emulator: %zu pages reloaded from %s\n",
                oe_pages_count(&s->pages), s->pages_file);
}

int oe_pages_init(oe_server *s, const oe_config *cfg, char *err, size_t errlen)
{
    if (!cfg->pages_file)
        return 0;
    if (!(s->pages_file = strdup(cfg->pages_file)) ||
        !(s->pages_api = strdup(cfg->pages_api ? cfg->pages_api : "/api/content/pages"))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (stat(cfg->pages_file, &s->pages_st) != 0) {
        snprintf(err, errlen, "cannot read pages file %s", cfg->pages_file);
        return -1;
    }
    if (oe_pages_load(&s->pages, cfg->pages_file, err, errlen) < 0)
        return -1;
    oe_set_pages_fail(s, &cfg->pages_fail);
    atomic_store(&s->pages_latency_ms, cfg->pages_latency_ms);
    if (cfg->pages_down_ms)
        atomic_store(&s->pages_down_until_ns,
                     oe_now_ns() + (uint64_t)cfg->pages_down_ms * 1000000u);
    return 0;
}

void oe_pages_fini(oe_server *s)
{
    oe_pages_free(&s->pages);
    free(s->pages_file);
    free(s->pages_api);
}

void oe_set_pages_fail(oe_server *s, const oe_fail *f)
{
    pthread_mutex_lock(&s->fail_mu);
    s->pages_fail = *f;
    atomic_store(&s->pages_fail_on, f->chance > 0);
    pthread_mutex_unlock(&s->fail_mu);
}

int oe_pages_route(oe_server *s, const char *url)
{
    if (!s->pages_api)
        return 0;
    size_t n = strlen(s->pages_api);
    return strncmp(url, s->pages_api, n) == 0 && (url[n] == 0 || url[n] == '/');
}

static int pages_down(oe_server *s)
{
    uint64_t until = atomic_load(&s->pages_down_until_ns);
    return until != 0 && oe_now_ns() < until;
}

static int pages_random_failure(oe_server *s, oe_fail *f)
{
    if (!atomic_load(&s->pages_fail_on))
        return 0;
    pthread_mutex_lock(&s->fail_mu);
    *f = s->pages_fail;
    pthread_mutex_unlock(&s->fail_mu);
    return oe_fail_draw(f, s->seed ^ 0x9E3779B97F4A7C15ull, atomic_fetch_add(&s->pages_draws, 1));
}

/* The answer to a list or a lookup, decided under pages_mu. */
static int decide_pages(oe_server *s, req *r, const char *rest, const char *code)
{
    int rc;
    pthread_mutex_lock(&s->pages_mu);
    reload_if_changed(s);
    const oe_lang_pages *l = oe_pages_lang(&s->pages, code);
    if (*rest == 0) {
        atomic_fetch_add(&s->pages_lists, 1);
        rc = l ? oe_req_json(r, l->list, l->list_len) : oe_req_json(r, "[]", 2);
    } else if (strncmp(rest, "/url/", 5) == 0 && rest[5]) {
        const oe_page *p = oe_pages_find(l, rest + 5);
        atomic_fetch_add(&s->pages_lookups, 1);
        atomic_fetch_add(p ? &s->pages_found : &s->pages_not_found, 1);
        rc = p ? oe_req_json(r, p->raw, p->raw_len) : oe_req_error(r, 404, "Page not found");
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "no route %.200s", rest);
        rc = oe_req_error(r, 404, msg);
    }
    pthread_mutex_unlock(&s->pages_mu);
    return rc;
}

enum MHD_Result oe_pages_request(oe_server *s, struct MHD_Connection *c, req *r, const char *url,
                                 const char *method)
{
    char err[256];
    oe_fail f;
    unsigned latency = atomic_load(&s->pages_latency_ms);
    int rc;
    atomic_fetch_add(&s->pages_requests, 1);
    if (pages_down(s)) {
        atomic_fetch_add(&s->pages_injected, 1);
        return oe_reset_connection(c);
    }
    if (pages_random_failure(s, &f)) {
        atomic_fetch_add(&s->pages_injected, 1);
        rc = oe_req_fault(r, f.status, f.retry_after, "injected by the emulator's pages_fail");
    } else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        atomic_fetch_add(&s->pages_rejected, 1);
        rc = oe_req_error(r, 405, "the Pages API takes GET");
    } else if (oe_check_token(s, c, err, sizeof err) < 0) {
        atomic_fetch_add(&s->pages_rejected, 1);
        rc = oe_req_error(r, 401, err);
    } else {
        const char *code = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "langCode");
        rc = decide_pages(s, r, url + strlen(s->pages_api), code && *code ? code : "en_US");
    }
    if (rc < 0)
        return MHD_NO;
    return oe_req_answer_after(s, c, r, latency);
}

enum MHD_Result oe_pages_stats(oe_server *s, struct MHD_Connection *c, const char *method)
{
    char text[320];
    size_t n = 0;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return oe_reply_error(c, 405, "use GET /_pages", NULL);
    if (s->pages_file) {
        pthread_mutex_lock(&s->pages_mu);
        n = oe_pages_count(&s->pages);
        pthread_mutex_unlock(&s->pages_mu);
    }
    snprintf(text, sizeof text,
             "{\"pages\":%zu,\"requests\":%llu,\"lists\":%llu,\"lookups\":%llu,\"found\":%llu,"
             "\"not_found\":%llu,\"injected\":%llu,\"rejected\":%llu}", n,
             (unsigned long long)atomic_load(&s->pages_requests),
             (unsigned long long)atomic_load(&s->pages_lists),
             (unsigned long long)atomic_load(&s->pages_lookups),
             (unsigned long long)atomic_load(&s->pages_found),
             (unsigned long long)atomic_load(&s->pages_not_found),
             (unsigned long long)atomic_load(&s->pages_injected),
             (unsigned long long)atomic_load(&s->pages_rejected));
    return oe_reply_text(c, 200, "application/json", text);
}
