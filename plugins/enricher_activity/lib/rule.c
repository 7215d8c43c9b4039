/* Rule construction and matching; see act.h. */
#include "act.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const act_type_names[ACT_NTYPES] = {
    "product_view", "page_view", "category_view", "search",
    "product_add_to_cart", "product_remove_from_cart",
    "product_add_to_wishlist", "product_remove_from_wishlist",
    "product_purchase", "product_rating",
};

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

static pcre2_code *compile(const char *pattern, uint32_t flags, int *jit, char *err,
                           size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &ec,
                                   &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "regex '%s': %s at offset %zu", pattern, (const char *)msg,
                 (size_t)off);
        return NULL;
    }
    *jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    return re;
}

/* The rule's match context (limits, see rxlimit.h), made with its first
 * regex. 0 or -1 (out of memory). */
static int need_limits(act_rule *r, char *err, size_t errlen)
{
    if (!r->mc && !(r->mc = sl_rx_context()))
        return oom(err, errlen);
    return 0;
}

/* A subject that costs more than the limits allow is no match, counted. */
static int run(act_rule *r, pcre2_code *re, pcre2_match_data *md, int jit, const char *s,
               size_t n)
{
    int m = sl_rx_match(re, jit, r->mc, md, s, n);
    if (m == SL_RX_LIMIT)
        r->limit_hits++;
    return m == SL_RX_MATCH;
}

int act_rule_init(act_rule *r, int index, const char *type, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->type = -1;
    for (int i = 0; type && i < ACT_NTYPES; i++)
        if (strcmp(type, act_type_names[i]) == 0)
            r->type = i;
    if (r->type < 0) {
        snprintf(err, errlen, "type: '%s' is not one of product_view, page_view, "
                 "category_view, search, product_add_to_cart, product_remove_from_cart, "
                 "product_add_to_wishlist, product_remove_from_wishlist, product_purchase, "
                 "product_rating", type ? type : "(missing)");
        return -1;
    }
    snprintf(r->label, sizeof r->label, "rule %d (%s)", index + 1, type);
    return 0;
}

int act_rule_method(act_rule *r, const char *method, char *err, size_t errlen)
{
    char **m = realloc(r->methods, (r->nmethods + 1) * sizeof *m);
    if (!m)
        return oom(err, errlen);
    r->methods = m;
    size_t *l = realloc(r->method_lens, (r->nmethods + 1) * sizeof *l);
    if (!l)
        return oom(err, errlen);
    r->method_lens = l;
    if (!(m[r->nmethods] = strdup(method)))
        return oom(err, errlen);
    l[r->nmethods++] = strlen(method);
    return 0;
}

/*
 * The literal text every match must start with: '^' then characters that
 * are not regex syntax. A quantifier after the run makes its last character
 * optional, so it is left out; any '|' could open another branch, so then
 * there is no prefix at all.
 */
static void derive_prefix(const char *re, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    *len = 0;
    if (re[0] != '^' || strchr(re, '|'))
        return;
    for (const char *p = re + 1; *p && !strchr("\\^$.|?*+()[]{}", *p) && n + 1 < cap; p++)
        out[n++] = *p;
    const char *after = re + 1 + n;
    if (n > 0 && *after && strchr("?*{", *after))
        n--;
    *len = n;
}

int act_rule_path(act_rule *r, const char *regex, char *err, size_t errlen)
{
    if (r->re) {
        snprintf(err, errlen, "path: given twice");
        return -1;
    }
    if (!(r->re = compile(regex, 0, &r->jit, err, errlen)))
        return -1;
    if (!(r->md = pcre2_match_data_create_from_pattern(r->re, NULL)))
        return oom(err, errlen);
    if (need_limits(r, err, errlen) != 0)
        return -1;
    if (!r->prefix) {
        char buf[256];
        size_t n;
        derive_prefix(regex, buf, sizeof buf, &n);
        if (n && !(r->prefix = strndup(buf, n)))
            return oom(err, errlen);
        r->prefix_len = n;
    }
    return 0;
}

int act_rule_path_prefix(act_rule *r, const char *prefix, char *err, size_t errlen)
{
    free(r->prefix); /* an explicit prefix wins over a derived one */
    if (!(r->prefix = strdup(prefix)))
        return oom(err, errlen);
    r->prefix_len = strlen(prefix);
    return 0;
}

int act_rule_param(act_rule *r, const char *name, const char *regex, char *err, size_t errlen)
{
    act_param *p = realloc(r->params, (r->nparams + 1) * sizeof *p);
    if (!p)
        return oom(err, errlen);
    r->params = p;
    p += r->nparams;
    memset(p, 0, sizeof *p);
    r->nparams++;
    if (!(p->name = strdup(name)))
        return oom(err, errlen);
    p->len = strlen(name);
    if (!regex)
        return 0;
    int jit; /* parameter values are short: the interpreter is fine */
    if (!(p->re = compile(regex, 0, &jit, err, errlen)))
        return -1;
    if (!(p->md = pcre2_match_data_create_from_pattern(p->re, NULL)))
        return oom(err, errlen);
    return need_limits(r, err, errlen);
}

int act_rule_status(act_rule *r, const char *spec, char *err, size_t errlen)
{
    size_t n = strlen(spec);
    r->status_set = 1;
    if (strcasecmp(spec, "any") == 0) {
        memset(r->status_class, 1, sizeof r->status_class);
        return 0;
    }
    if (n == 3 && spec[0] >= '1' && spec[0] <= '5' && (spec[1] == 'x' || spec[1] == 'X') &&
        (spec[2] == 'x' || spec[2] == 'X')) {
        r->status_class[spec[0] - '0'] = 1;
        return 0;
    }
    if (n == 3 && spec[0] >= '1' && spec[0] <= '5' && spec[1] >= '0' && spec[1] <= '9' &&
        spec[2] >= '0' && spec[2] <= '9') {
        int64_t *s = realloc(r->statuses, (r->nstatuses + 1) * sizeof *s);
        if (!s)
            return oom(err, errlen);
        r->statuses = s;
        s[r->nstatuses++] = strtol(spec, NULL, 10);
        return 0;
    }
    snprintf(err, errlen, "status: '%s' is not 2xx-style, an HTTP status or any", spec);
    return -1;
}

static vsrc *value_slot(act_rule *r, const char *which)
{
    return !strcmp(which, "productId") ? &r->product
         : !strcmp(which, "pageId") ? &r->page
         : !strcmp(which, "categoryId") ? &r->category
         : !strcmp(which, "query") ? &r->query
         : !strcmp(which, "pageUrl") ? &r->page_url
         : !strcmp(which, "pageLang") ? &r->page_lang : NULL;
}

int act_rule_value(act_rule *r, const char *which, const char *src, int quoted, char *err,
                   size_t errlen)
{
    vsrc *v = value_slot(r, which);
    if (!v) {
        snprintf(err, errlen, "'%s' is not productId, pageId, categoryId, query, pageUrl or "
                 "pageLang", which);
        return -1;
    }
    vsrc_free(v);
    return vsrc_parse(v, src, quoted, 0, err, errlen);
}

int act_rule_meta(act_rule *r, const char *key, const char *src, int quoted, char *err,
                  size_t errlen)
{
    if (r->nmeta == ACT_MAX_META) {
        snprintf(err, errlen, "meta: at most %d entries", ACT_MAX_META);
        return -1;
    }
    act_meta *m = realloc(r->meta, (r->nmeta + 1) * sizeof *m);
    if (!m)
        return oom(err, errlen);
    r->meta = m;
    m += r->nmeta;
    memset(m, 0, sizeof *m);
    r->nmeta++;
    if (!(m->key = strdup(key)))
        return oom(err, errlen);
    return vsrc_parse(&m->src, src, quoted, 0, err, errlen);
}

static int push_str(char ***list, size_t *n, const char *s, char *err, size_t errlen)
{
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return oom(err, errlen);
    *list = l;
    if (!(l[*n] = strdup(s)))
        return oom(err, errlen);
    (*n)++;
    return 0;
}

int act_rule_exclude_ua(act_rule *r, const char *substring, char *err, size_t errlen)
{
    if (!*substring) {
        snprintf(err, errlen, "exclude user_agents: an empty text would exclude everything");
        return -1;
    }
    return push_str(&r->ex_ua_src, &r->nex_ua, substring, err, errlen);
}

int act_rule_exclude_path(act_rule *r, const char *regex, char *err, size_t errlen)
{
    /* Compiled alone first, so an error names the regex as written. */
    int jit;
    pcre2_code *re = compile(regex, 0, &jit, err, errlen);
    if (!re)
        return -1;
    pcre2_code_free(re);
    return push_str(&r->ex_path_src, &r->nex_path, regex, err, errlen);
}

static void free_strs(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* The exclude lists into one substring set and one regex alternation. */
static int finish_excludes(act_rule *r, char *err, size_t errlen)
{
    if (r->nex_ua && uaset_init(&r->ex_ua, (const char *const *)r->ex_ua_src, r->nex_ua, err,
                                errlen) != 0)
        return -1;
    if (!r->nex_path)
        return 0;
    size_t cap = 1;
    for (size_t i = 0; i < r->nex_path; i++)
        cap += strlen(r->ex_path_src[i]) + 6;
    char *pat = malloc(cap);
    if (!pat)
        return oom(err, errlen);
    size_t o = 0;
    for (size_t i = 0; i < r->nex_path; i++)
        o += (size_t)sprintf(pat + o, "%s(?:%s)", i ? "|" : "", r->ex_path_src[i]);
    r->ex_path = compile(pat, 0, &r->ex_jit, err, errlen);
    free(pat);
    if (!r->ex_path)
        return -1;
    if (!(r->ex_md = pcre2_match_data_create(1, NULL)))
        return oom(err, errlen);
    return need_limits(r, err, errlen);
}

/* Resolve a capture name to its group number in the path regex. */
static int resolve_capture(act_rule *r, vsrc *v, const char *what, char *err, size_t errlen)
{
    if (v->kind != VS_CAPTURE)
        return 0;
    int g = r->re ? pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)v->name) : -1;
    if (g <= 0) {
        snprintf(err, errlen, "%s: capture '%s' is not a named group (?<%s>...) of path",
                 what, v->name, v->name);
        return -1;
    }
    v->group = (uint32_t)g;
    return 0;
}

/* productId etc. default to the capture of the same name, when there is one. */
static int default_capture(act_rule *r, vsrc *v, const char *name, char *err, size_t errlen)
{
    if (v->kind != VS_NONE || !r->re ||
        pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)name) <= 0)
        return 0;
    char spec[64];
    snprintf(spec, sizeof spec, "capture:%s", name);
    return vsrc_parse(v, spec, 0, 0, err, errlen);
}

/* pageUrl and pageLang: only for page and category views, pageLang only
 * beside a pageUrl. */
static int finish_page_url(const act_rule *r, char *err, size_t errlen)
{
    const char *type = act_type_names[r->type];
    if ((r->page_url.kind != VS_NONE || r->page_lang.kind != VS_NONE) && r->type != 1 &&
        r->type != 2) {
        snprintf(err, errlen, "%s: pageUrl and pageLang are for page_view and category_view",
                 type);
        return -1;
    }
    if (r->page_lang.kind != VS_NONE && r->page_url.kind == VS_NONE) {
        snprintf(err, errlen, "%s: pageLang needs a pageUrl", type);
        return -1;
    }
    if ((r->type == 1 || r->type == 2) && r->page.kind == VS_NONE &&
        r->page_url.kind == VS_NONE) {
        snprintf(err, errlen, "%s needs pageId: a (?<pageId>...) group in path, or "
                 "pageId: param:NAME / capture:NAME / field:NAME, or pageUrl: capture:NAME "
                 "for a page handle the oneentry_pages enricher turns into pageId", type);
        return -1;
    }
    return 0;
}

int act_rule_finish(act_rule *r, char *err, size_t errlen)
{
    static const char *names[] = {"productId", "pageId", "categoryId", "query", "pageUrl",
                                  "pageLang"};
    vsrc *slots[] = {&r->product, &r->page, &r->category, &r->query, &r->page_url,
                     &r->page_lang};
    if (!r->status_set)
        r->status_class[2] = r->status_class[3] = 1;
    if (finish_excludes(r, err, errlen) != 0)
        return -1;
    int page_type = r->type == 1 || r->type == 2;
    for (int i = 0; i < 6; i++)
        if (((i < 4 || page_type) && default_capture(r, slots[i], names[i], err, errlen) != 0) ||
            resolve_capture(r, slots[i], names[i], err, errlen) != 0)
            return -1;
    for (size_t i = 0; i < r->nmeta; i++)
        if (resolve_capture(r, &r->meta[i].src, r->meta[i].key, err, errlen) != 0)
            return -1;
    const char *type = act_type_names[r->type];
    if (!strncmp(type, "product_", 8) && r->product.kind == VS_NONE) {
        snprintf(err, errlen, "%s needs productId: a (?<productId>...) group in path, or "
                 "productId: param:NAME / capture:NAME / field:NAME", type);
        return -1;
    }
    if (finish_page_url(r, err, errlen) != 0)
        return -1;
    if (r->type == 3 && r->query.kind == VS_NONE) {
        snprintf(err, errlen, "search needs query: e.g. query: param:q");
        return -1;
    }
    return 0;
}

void act_rule_free(act_rule *r)
{
    for (size_t i = 0; i < r->nmethods; i++)
        free(r->methods[i]);
    free(r->methods);
    free(r->method_lens);
    free(r->prefix);
    pcre2_match_data_free(r->md);
    pcre2_code_free(r->re);
    pcre2_match_context_free(r->mc);
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->params[i].name);
        pcre2_match_data_free(r->params[i].md);
        pcre2_code_free(r->params[i].re);
    }
    free(r->params);
    free(r->statuses);
    vsrc_free(&r->product);
    vsrc_free(&r->page);
    vsrc_free(&r->category);
    vsrc_free(&r->query);
    vsrc_free(&r->page_url);
    vsrc_free(&r->page_lang);
    for (size_t i = 0; i < r->nmeta; i++) {
        free(r->meta[i].key);
        vsrc_free(&r->meta[i].src);
    }
    free(r->meta);
    uaset_free(&r->ex_ua);
    pcre2_match_data_free(r->ex_md);
    pcre2_code_free(r->ex_path);
    free_strs(r->ex_path_src, r->nex_path);
    free_strs(r->ex_ua_src, r->nex_ua);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

static int status_ok(const act_rule *r, const act_req *q)
{
    if (!q->has_status)
        return 0;
    int64_t c = q->status / 100;
    if (c >= 1 && c <= 5 && r->status_class[c])
        return 1;
    for (size_t i = 0; i < r->nstatuses; i++)
        if (r->statuses[i] == q->status)
            return 1;
    return 0;
}

static int method_ok(const act_rule *r, const act_req *q)
{
    if (r->nmethods == 0)
        return 1;
    for (size_t i = 0; i < r->nmethods; i++)
        if (q->method_len && r->method_lens[i] == q->method_len &&
            strncasecmp(r->methods[i], q->method, q->method_len) == 0)
            return 1;
    return 0;
}

int act_param_value(const act_req *q, const char *name, size_t len, const char **s, size_t *n)
{
    sl_value v, first;
    if (!q->has_query || sl_map_get(&q->query, name, len, &v) != 1)
        return 0;
    if (v.type == SL_ARRAY) {
        sl_iter it;
        if (sl_iter_init(&it, &v) != 0 || sl_iter_next(&it, NULL, &first) != 1)
            return 0;
        v = first;
    }
    if (v.type != SL_STR)
        return 0;
    *s = v.v.s.ptr;
    *n = v.v.s.len;
    return 1;
}

static int params_ok(act_rule *r, const act_req *q)
{
    for (size_t i = 0; i < r->nparams; i++) {
        act_param *p = &r->params[i];
        const char *s;
        size_t n;
        if (!act_param_value(q, p->name, p->len, &s, &n))
            return 0;
        if (!p->re ? n == 0 : !run(r, p->re, p->md, 0, s, n))
            return 0;
    }
    return 1;
}

int act_rule_match(act_rule *r, const act_req *q)
{
    if (!status_ok(r, q) || !method_ok(r, q) || !q->path)
        return 0;
    if (r->prefix_len &&
        (q->path_len < r->prefix_len || memcmp(q->path, r->prefix, r->prefix_len) != 0))
        return 0;
    if (r->nparams && !params_ok(r, q))
        return 0;
    return !r->re || run(r, r->re, r->md, r->jit, q->path, q->path_len);
}

int act_rule_excluded(act_rule *r, const act_req *q)
{
    if (r->nex_ua && q->ua && uaset_match(&r->ex_ua, q->ua, q->ua_len))
        return 1;
    return r->ex_path && q->path &&
           run(r, r->ex_path, r->ex_md, r->ex_jit, q->path, q->path_len);
}

static int vsrc_is_cookie(const vsrc *v)
{
    return v->kind == VS_COOKIE;
}

int act_rule_uses_cookie(const act_rule *r)
{
    int c = vsrc_is_cookie(&r->product) || vsrc_is_cookie(&r->page) ||
            vsrc_is_cookie(&r->category) || vsrc_is_cookie(&r->query) ||
            vsrc_is_cookie(&r->page_url) || vsrc_is_cookie(&r->page_lang);
    for (size_t i = 0; i < r->nmeta; i++)
        c |= vsrc_is_cookie(&r->meta[i].src);
    return c;
}

/* ------------------------------------------------------------------ */
/* Bots                                                                */
/* ------------------------------------------------------------------ */

const char *const act_default_bots[] = {
    "bot", "crawl", "spider", "slurp", "facebookexternalhit", "mediapartners-google",
    "adsbot", "feedfetcher", "bingpreview", "curl/", "wget/", "python-requests",
    "python-urllib", "aiohttp", "go-http-client", "java/", "libwww-perl", "httpclient",
    "scrapy", "headlesschrome", "phantomjs", "lighthouse", "pingdom", "uptime",
    "ia_archiver", "archiver", "semrush", "ahrefs", "mj12", "dataprovider", "nutch",
    "whatsapp", "embedly", "preview", "validator", "monitoring", NULL,
};

int act_bots_init(act_bots *b, const char *const *list, size_t n, char *err, size_t errlen)
{
    if (!list) {
        list = act_default_bots;
        for (n = 0; list[n]; n++) {}
    }
    memset(b, 0, sizeof *b);
    if (uaset_init(&b->set, list, n, err, errlen) != 0)
        return -1;
    (void)uamemo_init(&b->memo); /* without it, every agent is scanned */
    return 0;
}

int act_is_bot(act_bots *b, const char *ua, size_t n)
{
    if (!ua)
        return 0;
    int v = uamemo_get(&b->memo, ua, n);
    if (v < 0) {
        v = uaset_match(&b->set, ua, n);
        uamemo_put(&b->memo, ua, n, v);
    }
    return v;
}

void act_bots_free(act_bots *b)
{
    uaset_free(&b->set);
    uamemo_free(&b->memo);
}
