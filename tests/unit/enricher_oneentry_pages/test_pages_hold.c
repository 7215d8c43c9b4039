/* enricher_oneentry_pages: the hold — page ids from the map, lookups and
 * their answers, the negative cache, max_wait, order, dead letters — with a
 * fake clock and a fake Pages API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_hold.h"
#include "sl_test.h"
#include "sluice/json.h"
#include "sluice/plugin.h"

/* ------------------------------------------------------------------ */
/* The fake world                                                      */
/* ------------------------------------------------------------------ */

#define MAXQ 64

typedef struct ask {
    unsigned lang;
    char handle[64];
    int done;
} ask;

typedef struct world {
    int64_t now;
    /* the Pages API: handle -> id (0: 404; -1: fails), answering after `latency` ms */
    const char *const *known;
    const int64_t *ids;
    int64_t latency;
    ask asks[MAXQ];
    int nasks, cancels;
    char reasons[MAXQ][400];
    int ndead, dead_fails;
} world;

static world W;
static pg_hold H;

static int64_t f_now(void *ud)
{
    (void)ud;
    return W.now;
}

static int f_submit(void *ud, unsigned lang, const char *k, size_t n)
{
    (void)ud;
    CU_ASSERT_FATAL(W.nasks < MAXQ);
    ask *a = &W.asks[W.nasks++];
    a->lang = lang;
    snprintf(a->handle, sizeof a->handle, "%.*s", (int)n, k);
    a->done = 0;
    return 0;
}

/* Answer every ask asked at least `latency` ms ago (all asks are "now"). */
static void answer_due(int force)
{
    if (!force && W.latency > 0)
        return;
    for (int i = 0; i < W.nasks; i++) {
        ask *a = &W.asks[i];
        if (a->done)
            continue;
        a->done = 1;
        pg_result r = {PG_R_NOT_FOUND, a->lang, a->handle, strlen(a->handle), 0, NULL};
        for (int j = 0; W.known && W.known[j]; j++)
            if (!strcmp(W.known[j], a->handle)) {
                r.kind = W.ids[j] > 0 ? PG_R_FOUND : W.ids[j] < 0 ? PG_R_FAILED : PG_R_NOT_FOUND;
                r.id = W.ids[j];
                r.why = "HTTP 503: down for maintenance";
            }
        pg_hold_result(&H, &r);
    }
}

static void f_poll(void *ud)
{
    (void)ud;
    answer_due(0);
}

/* Time passes to the answers (latency) or to the deadline, whichever first. */
static void f_wait(void *ud, int64_t deadline)
{
    (void)ud;
    if (W.latency > 0 && W.now + W.latency <= deadline) {
        W.now += W.latency;
        answer_due(1);
    } else {
        W.now = deadline;
    }
}

static void f_cancel(void *ud)
{
    (void)ud;
    for (int i = 0; i < W.nasks; i++)
        if (!W.asks[i].done) {
            ask *a = &W.asks[i];
            pg_result r = {PG_R_CANCELLED, a->lang, a->handle, strlen(a->handle), 0, NULL};
            a->done = 1;
            W.cancels++;
            pg_hold_result(&H, &r);
        }
}

static int f_dead(void *ud, const sl_event *ev, const char *reason)
{
    (void)ud, (void)ev;
    if (W.dead_fails)
        return SL_ERR;
    CU_ASSERT_FATAL(W.ndead < MAXQ);
    snprintf(W.reasons[W.ndead++], sizeof W.reasons[0], "%s", reason);
    return SL_OK;
}

/* A hold with langCodes en_US (default), de_DE; URL languages en, de. */
static void setup(int pass)
{
    static const char *const codes[] = {"en_US", "de_DE"};
    static const char *const names[] = {"en", "de"};
    static const unsigned idx[] = {0, 1};
    char err[200];
    memset(&W, 0, sizeof W);
    W.now = 1000000;
    CU_ASSERT_EQUAL_FATAL(pg_hold_init(&H, codes, 2, names, idx, 2, err, sizeof err), 0);
    H.io = (pg_io){NULL, f_now, f_submit, f_poll, f_wait, f_cancel, f_dead};
    H.max_wait_ms = 2000;
    H.negative_ttl_ms = 60000;
    H.pass_unresolved = pass;
    /* the loaded map */
    static const char *const en[] = {"about-us", "t-shirts", "t-shirts-2"};
    for (int i = 0; i < 3; i++) {
        pg_entry *e = pg_tab_put(&H.map, 0, en[i], strlen(en[i]));
        e->state = PG_PAGE;
        e->value = 11 + i;
    }
    pg_entry *e = pg_tab_put(&H.map, 1, "ueber-uns", 9);
    e->state = PG_PAGE;
    e->value = 51;
}

/* ------------------------------------------------------------------ */
/* Batches in, bodies out                                              */
/* ------------------------------------------------------------------ */

static int64_t first_time = 1000; /* before 1970 takes the general reader */

/* One event per spec: "TYPE URL LANG" ("-" = absent) or "product_view". */
static sl_builder *batch_of(const char *const *specs)
{
    sl_builder *bb = sl_bb_new();
    CU_ASSERT_FATAL(bb != NULL);
    for (int i = 0; specs[i]; i++) {
        char type[32], url[64], lang[16];
        int n = sscanf(specs[i], "%31s %63s %15s", type, url, lang);
        int has_url = n >= 2 && strcmp(url, "-") != 0, has_lang = n >= 3;
        sl_bb_begin(bb, first_time + i);
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "n");
        sl_bb_int(bb, i);
        sl_bb_map(bb, 2 + (uint32_t)has_url + (uint32_t)has_lang);
        sl_bb_cstr(bb, "type");
        sl_bb_cstr(bb, type);
        if (has_url) {
            sl_bb_cstr(bb, "pageUrl");
            sl_bb_cstr(bb, url);
        }
        sl_bb_cstr(bb, "guest_id");
        sl_bb_cstr(bb, "g");
        if (has_lang) {
            sl_bb_cstr(bb, "pageLang");
            sl_bb_cstr(bb, lang);
        }
        CU_ASSERT_EQUAL_FATAL(sl_bb_end(bb), 0);
    }
    return bb;
}

/* The output's bodies as JSON, each "n:<meta n>:<body>" on its own line. */
static char *bodies(const sl_builder *out)
{
    sl_batch b = sl_bb_batch(out);
    sl_batch_iter it;
    sl_event ev;
    sl_buf s = {0};
    sl_batch_iter_init(&it, &b);
    while (sl_batch_next(&it, &ev) == 1) {
        sl_value n;
        char head[32];
        CU_ASSERT_EQUAL(sl_map_gets(&ev.meta, "n", &n), 1);
        snprintf(head, sizeof head, "%llu:", (unsigned long long)n.v.u);
        sl_buf_puts(&s, head);
        sl_json_value(&s, &ev.body);
        sl_buf_puts(&s, "\n");
    }
    sl_buf_append(&s, "", 1);
    return s.data;
}

static char *run(const char *const *specs, int want_rc)
{
    sl_builder *in = batch_of(specs), *out = sl_bb_new();
    char err[200] = "";
    sl_batch b = sl_bb_batch(in);
    int rc = pg_hold_process(&H, &b, out, err, sizeof err);
    CU_ASSERT_EQUAL(rc, want_rc);
    if (rc != want_rc)
        fprintf(stderr, "\nprocess: %d %s\n", rc, err);
    char *got = bodies(out);
    sl_bb_free(in);
    sl_bb_free(out);
    return got;
}

static void expect(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "\n got:\n%s want:\n%s", got, want);
        CU_FAIL("output");
    }
}

#define G ",\"guest_id\":\"g\"}\n"

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

/* A loaded map: every event in one pass, pageUrl/pageLang replaced by
 * pageId, other events untouched, no lookup, no waiting. */
static void test_hits(void)
{
    static const char *const in[] = {"page_view about-us", "product_view", "category_view t-shirts en",
                                     "page_view ueber-uns de", "page_view about-us en_US", NULL};
    setup(0);
    char *got = run(in, SL_OK);
    expect(got,
           "0:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":11}\n"
           "1:{\"type\":\"product_view\"" G
           "2:{\"type\":\"category_view\",\"guest_id\":\"g\",\"pageId\":12}\n"
           "3:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":51}\n"
           "4:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":11}\n");
    CU_ASSERT_EQUAL(W.nasks, 0);
    CU_ASSERT_EQUAL(W.now, 1000000);
    CU_ASSERT_EQUAL(H.counts.hits, 4);
    CU_ASSERT_EQUAL(H.counts.misses, 0);
    free(got);
    pg_hold_free(&H);
}

/* Events in a form the one-walk reader leaves to sl_batch_next (a time
 * before 1970 is a 12-byte timestamp) come out the same. */
static void test_general_reader(void)
{
    static const char *const in[] = {"page_view about-us", "product_view", "page_view ueber-uns de",
                                     NULL};
    setup(0);
    first_time = -5000000000;
    char *got = run(in, SL_OK);
    first_time = 1000;
    expect(got,
           "0:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":11}\n"
           "1:{\"type\":\"product_view\"" G
           "2:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":51}\n");
    free(got);
    pg_hold_free(&H);
}

/* A miss holds the rest of the batch, in order, until the answer; the
 * answer lands in the map, so the next batch hits without asking. */
static void test_miss_then_found(void)
{
    static const char *const known[] = {"new-page", NULL};
    static const int64_t ids[] = {77};
    static const char *const in[] = {"page_view about-us", "page_view new-page", "product_view",
                                     "page_view new-page", "page_view t-shirts", NULL};
    setup(0);
    W.known = known;
    W.ids = ids;
    W.latency = 150;
    char *got = run(in, SL_OK);
    expect(got,
           "0:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":11}\n"
           "1:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":77}\n"
           "2:{\"type\":\"product_view\"" G
           "3:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":77}\n"
           "4:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":12}\n");
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 1); /* one lookup for two events */
    CU_ASSERT_STRING_EQUAL(W.asks[0].handle, "new-page");
    CU_ASSERT_EQUAL(W.now, 1000150); /* waited for the answer, not for max_wait */
    CU_ASSERT_EQUAL(H.counts.misses, 2);
    CU_ASSERT_EQUAL(H.counts.hits, 4);
    got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 1);
    CU_ASSERT_EQUAL(W.now, 1000150);
    pg_hold_free(&H);
}

/* A 404: dead-lettered with the reason; remembered for negative_ttl (no
 * new lookup, no wait), then asked again. */
static void test_not_found_and_negative_cache(void)
{
    static const char *const in[] = {"page_view nope", "page_view about-us", NULL};
    setup(0);
    W.latency = 40;
    char *got = run(in, SL_OK);
    expect(got, "1:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":11}\n");
    free(got);
    CU_ASSERT_EQUAL(W.ndead, 1);
    CU_ASSERT_STRING_EQUAL(W.reasons[0], "unknown_page: OneEntry has no page 'nope' (langCode en_US)");
    int64_t t = W.now;
    got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 1);
    CU_ASSERT_EQUAL(W.ndead, 2);
    CU_ASSERT_EQUAL(W.now, t); /* answered from the negative cache at once */
    W.now += 60000;          /* negative_ttl later */
    got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 2);
    CU_ASSERT_EQUAL(W.ndead, 3);
    pg_hold_free(&H);
}

/* No answer within max_wait: the event is dead-lettered with a timeout,
 * what was not sent is cancelled, and the hold never waits longer. */
static void test_max_wait(void)
{
    static const char *const in[] = {"page_view slow", "page_view about-us", NULL};
    setup(0);
    W.latency = 5000; /* longer than max_wait */
    int64_t t0 = W.now;
    char *got = run(in, SL_OK);
    expect(got, "1:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":11}\n");
    free(got);
    CU_ASSERT_EQUAL(W.now - t0, 2000);
    CU_ASSERT_EQUAL(W.ndead, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(W.reasons[0], "page_lookup_timeout: page 'slow' (langCode en_US): "
                                                "no answer from the Pages API within max_wait (2000 ms)"));
    CU_ASSERT_EQUAL(W.cancels, 1);
    pg_hold_free(&H);
}

/* A failed lookup (not a 404) is remembered briefly with its reason. */
static void test_failed_lookup(void)
{
    static const char *const known[] = {"broken", NULL};
    static const int64_t ids[] = {-1};
    static const char *const in[] = {"page_view broken", NULL};
    setup(0);
    W.known = known;
    W.ids = ids;
    char *got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.ndead, 1);
    CU_ASSERT_STRING_EQUAL(W.reasons[0], "page_lookup_failed: page 'broken' (langCode en_US): "
                                         "HTTP 503: down for maintenance");
    got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 1);
    W.now += PG_ERROR_TTL_MS;
    got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 2);
    pg_hold_free(&H);
}

/* on_unresolved: pass keeps the event, pageUrl and all, without pageId. */
static void test_pass(void)
{
    static const char *const in[] = {"page_view nope de", "category_view t-shirts", NULL};
    setup(1);
    char *got = run(in, SL_OK);
    expect(got,
           "0:{\"type\":\"page_view\",\"pageUrl\":\"nope\",\"guest_id\":\"g\",\"pageLang\":\"de\"}\n"
           "1:{\"type\":\"category_view\",\"guest_id\":\"g\",\"pageId\":12}\n");
    free(got);
    CU_ASSERT_EQUAL(W.ndead, 0);
    CU_ASSERT_EQUAL(H.counts.unresolved, 1);
    pg_hold_free(&H);
}

/* Languages: the table, a langCode as is, an unknown one; a handle is
 * looked up under its language only; percent escapes are decoded. */
static void test_langs_and_escapes(void)
{
    static const char *const in[] = {"page_view about-us de", "page_view ueber-uns xx",
                                     "page_view t%2Dshirts", "page_view ueber-uns de_DE",
                                     "page_view - en", NULL};
    setup(0);
    char *got = run(in, SL_OK);
    expect(got,
           "2:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":12}\n"
           "3:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":51}\n"
           "4:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageLang\":\"en\"}\n");
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 1);
    CU_ASSERT_EQUAL(W.asks[0].lang, 1); /* about-us is not known in de_DE */
    CU_ASSERT_EQUAL(W.ndead, 2);
    CU_ASSERT_STRING_EQUAL(W.reasons[0], "unknown_page: OneEntry has no page 'about-us' (langCode de_DE)");
    CU_ASSERT_STRING_EQUAL(W.reasons[1], "unknown_lang: pageLang 'xx' is not in the langs table");
    pg_hold_free(&H);
}

/* A refreshed map replaces the old one; handles it brings hit at once. */
static void test_new_map(void)
{
    static const char *const in[] = {"page_view fresh", "page_view about-us", NULL};
    setup(0);
    pg_tab m;
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&m, 0), 0);
    pg_entry *e = pg_tab_put(&m, 0, "fresh", 5);
    e->state = PG_PAGE;
    e->value = 99;
    pg_hold_set_map(&H, &m);
    CU_ASSERT_EQUAL(pg_tab_count(&m), 0);
    char *got = run(in, SL_OK);
    expect(got, "0:{\"type\":\"page_view\",\"guest_id\":\"g\",\"pageId\":99}\n");
    free(got);
    CU_ASSERT_EQUAL(W.ndead, 1); /* about-us is gone from the project */
    pg_hold_free(&H);
}

/* A dead letter that cannot be written fails the batch; out is untouched. */
static void test_dead_letter_fails(void)
{
    static const char *const in[] = {"page_view about-us", "page_view nope", NULL};
    setup(0);
    W.dead_fails = 1;
    char *got = run(in, SL_ERR);
    CU_ASSERT_STRING_EQUAL(got, "");
    free(got);
    pg_hold_free(&H);
}

/* The lookups table is bounded: when only pending lookups fill it, the
 * next unknown handle is set aside at once. */
static void test_miss_table_bound(void)
{
    setup(0);
    W.latency = 1; /* answers come only while waiting */
    int64_t now = W.now;
    char k[32];
    for (int i = 0; i < PG_MISS_MAX; i++) {
        int n = snprintf(k, sizeof k, "p%d", i);
        pg_entry *e = pg_tab_put(&H.miss, 0, k, (size_t)n);
        CU_ASSERT_FATAL(e != NULL);
        e->state = i % 2 ? PG_PENDING : PG_NOT_FOUND;
        e->value = i % 2 ? now : now + 1000000;
    }
    static const char *const in[] = {"page_view one-more", NULL};
    char *got = run(in, SL_OK);
    free(got);
    /* the answers went, the pending stayed, and one-more was asked for */
    CU_ASSERT_EQUAL(W.nasks, 1);
    CU_ASSERT(pg_tab_count(&H.miss) <= PG_MISS_MAX / 2 + 1);
    pg_hold_free(&H);
    setup(0);
    for (int i = 0; i < PG_MISS_MAX; i++) {
        int n = snprintf(k, sizeof k, "p%d", i);
        pg_entry *e = pg_tab_put(&H.miss, 0, k, (size_t)n);
        e->state = PG_PENDING;
        e->value = W.now;
    }
    got = run(in, SL_OK);
    free(got);
    CU_ASSERT_EQUAL(W.nasks, 0);
    CU_ASSERT_EQUAL(W.ndead, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(W.reasons[0], "too many unknown page handles at once"));
    pg_hold_free(&H);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"a loaded map: one pass, no lookup", test_hits},
        {"events the one-walk reader leaves to the general one", test_general_reader},
        {"a miss holds the batch in order until the answer", test_miss_then_found},
        {"a 404 is dead-lettered and remembered for negative_ttl", test_not_found_and_negative_cache},
        {"no answer within max_wait: timeout, the rest cancelled", test_max_wait},
        {"a failed lookup is remembered briefly", test_failed_lookup},
        {"on_unresolved: pass", test_pass},
        {"languages and percent escapes", test_langs_and_escapes},
        {"a refreshed map replaces the old", test_new_map},
        {"an unwritable dead letter fails the batch", test_dead_letter_fails},
        {"the lookups table is bounded", test_miss_table_bound},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_pages hold", cases);
}
