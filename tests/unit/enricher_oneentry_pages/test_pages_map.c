/* enricher_oneentry_pages: the (language, handle) table, the Pages API's
 * answers and the saved map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_pages.h"
#include "pg_tab.h"
#include "sl_test.h"

static void test_put_get_del(void)
{
    pg_tab t;
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&t, 0), 0);
    CU_ASSERT_PTR_NULL(pg_tab_get(&t, 0, "x", 1));
    pg_entry *e = pg_tab_put(&t, 0, "about", 5);
    CU_ASSERT_FATAL(e != NULL);
    e->state = PG_PAGE;
    e->value = 11;
    e = pg_tab_put(&t, 1, "about", 5); /* another language, another entry */
    CU_ASSERT_FATAL(e != NULL);
    e->state = PG_PAGE;
    e->value = 12;
    CU_ASSERT_EQUAL(pg_tab_count(&t), 2);
    CU_ASSERT_EQUAL(pg_tab_get(&t, 0, "about", 5)->value, 11);
    CU_ASSERT_EQUAL(pg_tab_get(&t, 1, "about", 5)->value, 12);
    CU_ASSERT_PTR_NULL(pg_tab_get(&t, 0, "abou", 4));
    CU_ASSERT_PTR_EQUAL(pg_tab_put(&t, 0, "about", 5), pg_tab_get(&t, 0, "about", 5));
    CU_ASSERT_EQUAL(pg_tab_count(&t), 2);
    pg_tab_del(&t, pg_tab_get(&t, 0, "about", 5));
    CU_ASSERT_PTR_NULL(pg_tab_get(&t, 0, "about", 5));
    CU_ASSERT_EQUAL(pg_tab_get(&t, 1, "about", 5)->value, 12);
    /* too long to be a handle */
    char big[PG_HANDLE_MAX + 2];
    memset(big, 'a', sizeof big);
    CU_ASSERT_PTR_NULL(pg_tab_put(&t, 0, big, sizeof big));
    CU_ASSERT_PTR_NOT_NULL(pg_tab_put(&t, 0, big, PG_HANDLE_MAX));
    pg_tab_free(&t);
}

/* Many entries, half deleted in a scattered order: every survivor is still
 * found (backward-shift deletion keeps probe runs whole). */
static void growth_and_deletes(int keyed)
{
    pg_tab t;
    char k[32];
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&t, keyed), 0);
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(k, sizeof k, "page-%d", i);
        pg_entry *e = pg_tab_put(&t, (unsigned)(i % 3), k, (size_t)n);
        CU_ASSERT_FATAL(e != NULL);
        e->state = PG_PAGE;
        e->value = i;
    }
    CU_ASSERT_EQUAL(pg_tab_count(&t), 20000);
    for (int i = 0; i < 20000; i += 2) {
        int j = (i * 7919) % 20000 & ~1; /* even, scattered */
        int n = snprintf(k, sizeof k, "page-%d", j);
        pg_entry *e = pg_tab_get(&t, (unsigned)(j % 3), k, (size_t)n);
        if (e)
            pg_tab_del(&t, e);
    }
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(k, sizeof k, "page-%d", i);
        pg_entry *e = pg_tab_get(&t, (unsigned)(i % 3), k, (size_t)n);
        if (i % 2 ? !e || e->value != i : e != NULL)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pg_tab_count(&t), 10000);
    pg_tab_free(&t);
}

static void test_growth_and_deletes(void)
{
    growth_and_deletes(0);
    growth_and_deletes(1);
}

static int odd_value(const pg_entry *e, void *arg)
{
    (void)arg;
    return e->value % 2 != 0;
}

static void test_sweep(void)
{
    pg_tab t;
    char k[32];
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&t, 0), 0);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "h%d", i);
        pg_entry *e = pg_tab_put(&t, 0, k, (size_t)n);
        CU_ASSERT_FATAL(e != NULL);
        e->value = i;
        if (i % 2)
            e->why = strdup("failed"); /* freed by the sweep */
    }
    CU_ASSERT_EQUAL(pg_tab_sweep(&t, odd_value, NULL), 2500);
    CU_ASSERT_EQUAL(pg_tab_count(&t), 2500);
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "h%d", i);
        bad += (pg_tab_get(&t, 0, k, (size_t)n) != NULL) != (i % 2 == 0);
    }
    CU_ASSERT_EQUAL(bad, 0);
    pg_tab_free(&t);
}

/* Two tables hash the same key differently: the key is random. */
static void test_random_key(void)
{
    pg_tab a, b;
    for (int keyed = 0; keyed < 2; keyed++) {
        CU_ASSERT_EQUAL_FATAL(pg_tab_init(&a, keyed), 0);
        CU_ASSERT_EQUAL_FATAL(pg_tab_init(&b, keyed), 0);
        CU_ASSERT(memcmp(a.key, b.key, sizeof a.key) != 0);
        CU_ASSERT(pg_tab_put(&a, 0, "x", 1)->hash != pg_tab_put(&b, 0, "x", 1)->hash);
        pg_tab_free(&a);
        pg_tab_free(&b);
    }
}

static int64_t id_of(const pg_tab *t, unsigned lang, const char *k)
{
    pg_entry *e = pg_tab_get(t, lang, k, strlen(k));
    return e && e->state == PG_PAGE ? e->value : -1;
}

static void test_read_list(void)
{
    const char *ans =
        "[{\"id\":11,\"parentId\":null,\"pageUrl\":\"about-us\",\"depth\":0,\"isVisible\":true,"
        "\"type\":\"common_page\",\"localizeInfos\":{\"title\":\"About \\\"us\\\"\",\"menuTitle\":"
        "\"About\"},\"attributeValues\":{}},"
        "{\"pageUrl\":\"t-shirts\",\"id\":21,\"type\":\"catalog_page\"},"
        "{\"id\":\"7\",\"pageUrl\":\"string-id\"},"   /* skipped: id not a number */
        "{\"id\":8},"                                 /* skipped: no pageUrl */
        "{\"id\":-1,\"pageUrl\":\"negative\"},"       /* skipped: id out of range */
        "{\"id\":30,\"pageUrl\":\"caf\\u00e9\"}]";
    pg_tab t;
    size_t skipped = 0;
    char err[200] = "";
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&t, 0), 0);
    CU_ASSERT_EQUAL(pg_read_list(ans, strlen(ans), &t, 1, &skipped, err, sizeof err), 0);
    CU_ASSERT_EQUAL(skipped, 3);
    CU_ASSERT_EQUAL(pg_tab_count(&t), 3);
    CU_ASSERT_EQUAL(id_of(&t, 1, "about-us"), 11);
    CU_ASSERT_EQUAL(id_of(&t, 1, "t-shirts"), 21);
    CU_ASSERT_EQUAL(id_of(&t, 1, "caf\xc3\xa9"), 30);
    CU_ASSERT_EQUAL(id_of(&t, 0, "about-us"), -1);
    CU_ASSERT_EQUAL(pg_read_list("[{\"id\":1,", 9, &t, 0, NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at byte"));
    CU_ASSERT_EQUAL(pg_read_list("{\"statusCode\":500}", 18, &t, 0, NULL, err, sizeof err), -1);
    pg_tab_free(&t);
}

static void test_read_page_and_message(void)
{
    const char *page = "{\"id\":42,\"pageUrl\":\"new-page\",\"localizeInfos\":{\"title\":\"x\"}}";
    const char *e404 = "{\"statusCode\":404,\"message\":\"Page not found\",\"pageData\":null}";
    int64_t id = 0;
    char err[200], msg[64];
    CU_ASSERT_EQUAL(pg_read_page(page, strlen(page), &id, err, sizeof err), 0);
    CU_ASSERT_EQUAL(id, 42);
    CU_ASSERT_EQUAL(pg_read_page(e404, strlen(e404), &id, err, sizeof err), -1);
    CU_ASSERT_EQUAL(pg_read_page("true", 4, &id, err, sizeof err), -1);
    pg_read_message(e404, strlen(e404), msg, sizeof msg);
    CU_ASSERT_STRING_EQUAL(msg, "Page not found");
    pg_read_message("<html>", 6, msg, sizeof msg);
    CU_ASSERT_STRING_EQUAL(msg, "");
}

/* The saved map reads back to the same map; languages the configuration
 * no longer has are ignored. */
static void test_save_round_trip(void)
{
    static const char *const codes[] = {"en_US", "de_DE"};
    static const char *const now[] = {"de_DE", "fr_FR"};
    pg_tab t, back, other;
    sl_buf b = {0};
    char err[200] = "";
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&t, 0), 0);
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&back, 0), 0);
    CU_ASSERT_EQUAL_FATAL(pg_tab_init(&other, 0), 0);
    const char *keys[] = {"about-us", "quote\"d", "t-shirts"};
    for (int i = 0; i < 3; i++) {
        pg_entry *e = pg_tab_put(&t, (unsigned)(i % 2), keys[i], strlen(keys[i]));
        e->state = PG_PAGE;
        e->value = 100 + i;
    }
    CU_ASSERT_EQUAL(pg_save_encode(&t, codes, 2, &b), 0);
    CU_ASSERT_EQUAL(pg_save_decode(b.data, b.len, codes, 2, &back, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pg_tab_count(&back), 3);
    CU_ASSERT_EQUAL(id_of(&back, 0, "about-us"), 100);
    CU_ASSERT_EQUAL(id_of(&back, 1, "quote\"d"), 101);
    CU_ASSERT_EQUAL(id_of(&back, 0, "t-shirts"), 102);
    CU_ASSERT_EQUAL(pg_save_decode(b.data, b.len, now, 2, &other, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pg_tab_count(&other), 1);
    CU_ASSERT_EQUAL(id_of(&other, 0, "quote\"d"), 101); /* de_DE is index 0 now */
    CU_ASSERT_EQUAL(pg_save_decode("{\"version\":1}", 13, codes, 2, &other, err, sizeof err), -1);
    CU_ASSERT_EQUAL(pg_save_decode(b.data, b.len - 3, codes, 2, &other, err, sizeof err), -1);
    sl_buf_free(&b);
    pg_tab_free(&t);
    pg_tab_free(&back);
    pg_tab_free(&other);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"put, get, del; languages apart", test_put_get_del},
        {"20000 entries, scattered deletes", test_growth_and_deletes},
        {"sweep removes what it is told", test_sweep},
        {"random hash key per table", test_random_key},
        {"a page list answer", test_read_list},
        {"a page answer and an error's message", test_read_page_and_message},
        {"the saved map reads back", test_save_round_trip},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_pages map", cases);
}
