/* The Pages API's content; see pages.h. */
#include "pages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "sluice/json.h"

#define URL_MAX 4096
#define FILE_MAX (256u << 20)

static void lang_free(oe_lang_pages *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].url);
    free(l->v);
    free(l->code);
    free(l->list);
}

void oe_pages_free(oe_pages *p)
{
    for (size_t i = 0; i < p->nlangs; i++)
        lang_free(&p->langs[i]);
    free(p->langs);
    free(p->text);
    memset(p, 0, sizeof *p);
}

static int scan_err(const sl_jscan *j, char *err, size_t errlen)
{
    char why[160];
    sl_jscan_error(j, why, sizeof why);
    snprintf(err, errlen, "pages file: %s", why);
    return -1;
}

/* The "pageUrl" of the page object at the scanner, skipping the object. */
static int page_url(sl_jscan *j, char *url, size_t cap, int *found)
{
    char key[16];
    size_t kl, ul;
    int r;
    *found = 0;
    if (sl_jscan_enter(j, '{') < 0)
        return -1;
    while ((r = sl_jscan_more(j, '}')) == 1) {
        if (sl_jscan_key(j, key, sizeof key, &kl) < 0)
            return -1;
        if (!strcmp(key, "pageUrl") && sl_jscan_string(j, url, cap, &ul) == 0)
            *found = 1;
        else if (sl_jscan_skip(j, NULL, NULL) < 0)
            return -1;
    }
    return r;
}

static int add_page(oe_lang_pages *l, const char *url, const char *raw, size_t raw_len)
{
    oe_page *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    v[l->n] = (oe_page){strdup(url), raw, raw_len};
    return v[l->n++].url ? 0 : -1;
}

static int build_list(oe_lang_pages *l)
{
    sl_buf b = {0};
    int rc = sl_buf_puts(&b, "[");
    for (size_t i = 0; i < l->n; i++)
        rc |= (i ? sl_buf_puts(&b, ",") : 0) | sl_buf_append(&b, l->v[i].raw, l->v[i].raw_len);
    rc |= sl_buf_puts(&b, "]") | sl_buf_append(&b, "", 1);
    if (rc) {
        sl_buf_free(&b);
        return -1;
    }
    l->list = b.data;
    l->list_len = b.len - 1;
    return 0;
}

/* One array of page objects. */
static int read_array(sl_jscan *j, oe_lang_pages *l, char *err, size_t errlen)
{
    char url[URL_MAX];
    int r;
    if (sl_jscan_enter(j, '[') < 0)
        return scan_err(j, err, errlen);
    while ((r = sl_jscan_more(j, ']')) == 1) {
        const char *raw;
        size_t raw_len;
        int found;
        sl_jscan probe = *j; /* read the object twice: its pageUrl, then its text */
        if (page_url(&probe, url, sizeof url, &found) < 0 || sl_jscan_skip(j, &raw, &raw_len) < 0)
            return scan_err(probe.why ? &probe : j, err, errlen);
        if (!found) {
            snprintf(err, errlen, "pages file: page %zu%s%s has no pageUrl string", l->n + 1,
                     l->code ? " of " : "", l->code ? l->code : "");
            return -1;
        }
        if (oe_pages_find(l, url)) {
            snprintf(err, errlen, "pages file: pageUrl '%s' twice", url);
            return -1;
        }
        if (add_page(l, url, raw, raw_len) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (r < 0)
        return scan_err(j, err, errlen);
    if (build_list(l) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static oe_lang_pages *new_lang(oe_pages *p, const char *code)
{
    oe_lang_pages *v = realloc(p->langs, (p->nlangs + 1) * sizeof *v);
    if (!v)
        return NULL;
    p->langs = v;
    memset(&v[p->nlangs], 0, sizeof v[0]);
    if (code && !(v[p->nlangs].code = strdup(code)))
        return NULL;
    return &v[p->nlangs++];
}

static int read_langs(sl_jscan *j, oe_pages *p, char *err, size_t errlen)
{
    char code[64];
    size_t cl;
    int r;
    sl_jscan_enter(j, '{');
    while ((r = sl_jscan_more(j, '}')) == 1) {
        oe_lang_pages *l;
        if (sl_jscan_key(j, code, sizeof code, &cl) != 0)
            return scan_err(j, err, errlen);
        if (!(l = new_lang(p, code))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (read_array(j, l, err, errlen) < 0)
            return -1;
    }
    return r < 0 ? scan_err(j, err, errlen) : 0;
}

int oe_pages_parse(oe_pages *p, char *text, size_t len, char *err, size_t errlen)
{
    sl_jscan j;
    memset(p, 0, sizeof *p);
    p->text = text;
    sl_jscan_init(&j, text, len);
    int c = sl_jscan_peek(&j), rc;
    if (c == '[') {
        oe_lang_pages *l = new_lang(p, NULL);
        rc = l ? read_array(&j, l, err, errlen) : (snprintf(err, errlen, "out of memory"), -1);
    } else if (c == '{') {
        rc = read_langs(&j, p, err, errlen);
    } else {
        snprintf(err, errlen, "pages file: expected an array of pages or an object of "
                 "langCode: [pages]");
        rc = -1;
    }
    if (rc == 0 && sl_jscan_end(&j) < 0)
        rc = scan_err(&j, err, errlen);
    if (rc < 0)
        oe_pages_free(p);
    return rc;
}

int oe_pages_load(oe_pages *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    sl_buf b = {0};
    char chunk[65536];
    size_t n;
    memset(p, 0, sizeof *p);
    if (!f) {
        snprintf(err, errlen, "cannot open pages file %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (b.len + n > FILE_MAX || sl_buf_append(&b, chunk, n) < 0) {
            fclose(f);
            sl_buf_free(&b);
            snprintf(err, errlen, "pages file %s: too large or out of memory", path);
            return -1;
        }
    int bad = ferror(f);
    fclose(f);
    if (bad || sl_buf_append(&b, "", 1) < 0) {
        sl_buf_free(&b);
        snprintf(err, errlen, "cannot read pages file %s", path);
        return -1;
    }
    return oe_pages_parse(p, b.data, b.len - 1, err, errlen);
}

const oe_lang_pages *oe_pages_lang(const oe_pages *p, const char *code)
{
    for (size_t i = 0; i < p->nlangs; i++)
        if (!p->langs[i].code || !strcmp(p->langs[i].code, code))
            return &p->langs[i];
    return NULL;
}

const oe_page *oe_pages_find(const oe_lang_pages *l, const char *url)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (!strcmp(l->v[i].url, url))
            return &l->v[i];
    return NULL;
}

size_t oe_pages_count(const oe_pages *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nlangs; i++)
        n += p->langs[i].n;
    return n;
}
