/* Page objects in and out of JSON; see pg_pages.h. */
#include "pg_pages.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"

static int scan_err(const sl_jscan *j, const char *what, char *err, size_t errlen)
{
    char why[160];
    sl_jscan_error(j, why, sizeof why);
    snprintf(err, errlen, "%s: %s", what, why);
    return -1;
}

/* One page object at the scanner: *id and url (cap bytes) when present;
 * *has says which (1 id, 2 url). 0, or -1 on malformed JSON. */
static int read_object(sl_jscan *j, int64_t *id, char *url, size_t cap, size_t *url_len,
                       int *has)
{
    char key[16];
    size_t kl;
    int r;
    *has = 0;
    if (sl_jscan_peek(j) != '{')
        return sl_jscan_skip(j, NULL, NULL); /* not an object: not a page */
    sl_jscan_enter(j, '{');
    while ((r = sl_jscan_more(j, '}')) == 1) {
        if (sl_jscan_key(j, key, sizeof key, &kl) < 0)
            return -1;
        int rc = 1; /* 1: the value is left to skip */
        if (!strcmp(key, "id") && (rc = sl_jscan_int(j, id)) == 0)
            *has |= *id >= 0 && *id <= PG_MAX_ID ? 1 : 0;
        else if (!strcmp(key, "pageUrl") && (rc = sl_jscan_string(j, url, cap, url_len)) == 0)
            *has |= 2;
        if (rc < 0 || (rc == 1 && sl_jscan_skip(j, NULL, NULL) < 0))
            return -1;
    }
    return r;
}

typedef struct list_ctx {
    pg_tab *map;
    unsigned lang;
    size_t skipped;
} list_ctx;

static int read_array(sl_jscan *j, list_ctx *lc, char *err, size_t errlen)
{
    char url[PG_HANDLE_MAX + 1];
    int r, has;
    if (sl_jscan_enter(j, '[') < 0)
        return scan_err(j, "pages", err, errlen);
    while ((r = sl_jscan_more(j, ']')) == 1) {
        int64_t id = 0;
        size_t n = 0;
        if (read_object(j, &id, url, sizeof url, &n, &has) < 0)
            return scan_err(j, "pages", err, errlen);
        if (has != 3 || n == 0) {
            lc->skipped++;
            continue;
        }
        pg_entry *e = pg_tab_put(lc->map, lc->lang, url, n);
        if (!e) {
            snprintf(err, errlen, "pages: out of memory");
            return -1;
        }
        e->state = PG_PAGE;
        e->value = id;
    }
    return r < 0 ? scan_err(j, "pages", err, errlen) : 0;
}

int pg_read_list(const char *json, size_t n, pg_tab *map, unsigned lang, size_t *skipped,
                 char *err, size_t errlen)
{
    sl_jscan j;
    list_ctx lc = {map, lang, 0};
    sl_jscan_init(&j, json, n);
    int rc = read_array(&j, &lc, err, errlen);
    if (rc == 0 && sl_jscan_end(&j) < 0)
        rc = scan_err(&j, "pages", err, errlen);
    if (skipped)
        *skipped = lc.skipped;
    return rc;
}

int pg_read_page(const char *json, size_t n, int64_t *id, char *err, size_t errlen)
{
    sl_jscan j;
    char url[PG_HANDLE_MAX + 1];
    size_t ul;
    int has;
    sl_jscan_init(&j, json, n);
    if (sl_jscan_peek(&j) != '{') {
        snprintf(err, errlen, "the answer is not a page object");
        return -1;
    }
    if (read_object(&j, id, url, sizeof url, &ul, &has) < 0 || sl_jscan_end(&j) < 0)
        return scan_err(&j, "page", err, errlen);
    if (!(has & 1)) {
        snprintf(err, errlen, "the page object has no id in range");
        return -1;
    }
    return 0;
}

void pg_read_message(const char *json, size_t n, char *buf, size_t cap)
{
    sl_jscan j;
    char key[16];
    size_t kl, ml;
    buf[0] = 0;
    sl_jscan_init(&j, json, n);
    if (sl_jscan_enter(&j, '{') < 0)
        return;
    while (sl_jscan_more(&j, '}') == 1) {
        if (sl_jscan_key(&j, key, sizeof key, &kl) < 0)
            return;
        if (!strcmp(key, "message") && sl_jscan_string(&j, buf, cap, &ml) == 0)
            return;
        if (sl_jscan_skip(&j, NULL, NULL) < 0)
            break;
    }
    buf[0] = 0;
}

/* ------------------------------------------------------------------ */
/* The saved file                                                      */
/* ------------------------------------------------------------------ */

static int encode_lang(const pg_tab *map, unsigned lang, const char *code, sl_buf *out)
{
    int rc = sl_json_str(out, code, strlen(code)) | sl_buf_puts(out, ":[");
    int first = 1;
    for (size_t i = 0; i < pg_tab_slots(map); i++) {
        const pg_entry *e = pg_tab_at(map, i);
        char id[32];
        if (!e || e->lang != lang || e->state != PG_PAGE)
            continue;
        snprintf(id, sizeof id, "%s{\"id\":%" PRId64 ",\"pageUrl\":", first ? "" : ",",
                 e->value);
        rc |= sl_buf_puts(out, id) | sl_json_str(out, e->key, e->len) | sl_buf_puts(out, "}");
        first = 0;
    }
    return rc | sl_buf_puts(out, "]");
}

int pg_save_encode(const pg_tab *map, const char *const *codes, size_t ncodes, sl_buf *out)
{
    int rc = sl_buf_puts(out, "{\"version\":1,\"pages\":{");
    for (size_t i = 0; i < ncodes; i++)
        rc |= (i ? sl_buf_puts(out, ",") : 0) | encode_lang(map, (unsigned)i, codes[i], out);
    return rc | sl_buf_puts(out, "}}\n") ? -1 : 0;
}

static long code_index(const char *const *codes, size_t ncodes, const char *code)
{
    for (size_t i = 0; i < ncodes; i++)
        if (!strcmp(codes[i], code))
            return (long)i;
    return -1;
}

static int decode_pages(sl_jscan *j, const char *const *codes, size_t ncodes, pg_tab *map,
                        char *err, size_t errlen)
{
    char code[64];
    size_t cl;
    int r;
    if (sl_jscan_enter(j, '{') < 0)
        return scan_err(j, "saved pages", err, errlen);
    while ((r = sl_jscan_more(j, '}')) == 1) {
        if (sl_jscan_key(j, code, sizeof code, &cl) < 0)
            return scan_err(j, "saved pages", err, errlen);
        long lang = code_index(codes, ncodes, code);
        if (lang < 0) {
            if (sl_jscan_skip(j, NULL, NULL) < 0)
                return scan_err(j, "saved pages", err, errlen);
            continue;
        }
        list_ctx lc = {map, (unsigned)lang, 0};
        if (read_array(j, &lc, err, errlen) < 0)
            return -1;
    }
    return r < 0 ? scan_err(j, "saved pages", err, errlen) : 0;
}

int pg_save_decode(const char *json, size_t n, const char *const *codes, size_t ncodes,
                   pg_tab *map, char *err, size_t errlen)
{
    sl_jscan j;
    char key[16];
    size_t kl;
    int r, seen = 0;
    sl_jscan_init(&j, json, n);
    if (sl_jscan_enter(&j, '{') < 0)
        return scan_err(&j, "saved pages", err, errlen);
    while ((r = sl_jscan_more(&j, '}')) == 1) {
        if (sl_jscan_key(&j, key, sizeof key, &kl) < 0)
            return scan_err(&j, "saved pages", err, errlen);
        if (!strcmp(key, "pages")) {
            if (decode_pages(&j, codes, ncodes, map, err, errlen) < 0)
                return -1;
            seen = 1;
        } else if (sl_jscan_skip(&j, NULL, NULL) < 0) {
            return scan_err(&j, "saved pages", err, errlen);
        }
    }
    if (r < 0 || sl_jscan_end(&j) < 0)
        return scan_err(&j, "saved pages", err, errlen);
    if (!seen) {
        snprintf(err, errlen, "saved pages: no \"pages\" member");
        return -1;
    }
    return 0;
}
