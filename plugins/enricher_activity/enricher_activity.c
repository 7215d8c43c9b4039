/*
 * enricher activity: parsed access-log requests to OneEntry UserActivity
 * events (body: type, productId/pageId/categoryId, query, meta, guest_id,
 * user_token; the contract is docs/oneentry-contract.md, the rules act.h).
 *
 * A page or category view may name its page by handle (pageUrl, with the
 * URL's language as pageLang) instead of pageId: the event then goes on
 * without pageId, and the enricher that knows the project's pages
 * (oneentry_pages) sets it, or dead-letters the event, at the end of the
 * chain; the contract check for pageId is made there (and again by the
 * oneentry sink, which rejects a page view without one).
 *
 * Ordered rules, first match wins. Bots (the global list) and the rule's
 * own `exclude` are checked after a rule matched, so the user-agent scan
 * runs only on requests that would become events; an excluded request is
 * dropped, not tried against later rules. Unmatched requests are dropped or
 * passed on unchanged; events that would be invalid (an id that is not a
 * number, a search without a query, no identity) are rejected with a
 * reason: counted, logged, set aside with the host's dead letters, never
 * sent on.
 *
 * process() keeps all its scratch in the instance (match data) and no
 * mutable globals, so separate instances may run at the same time; one
 * instance is not re-entrant (the core serialises it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "throttle.h"
#include "sluice/event.h"
#include "sluice/host.h"
#include "sluice/plugin.h"

#define REJECT_LOG_EVERY 10000 /* log the 1st, 10001st, ... rejection */
#define LIMIT_LOG_MS 60000     /* at most one regex-limit warning a minute */

typedef struct activity {
    sl_ctx *ctx;
    const sl_host *host;
    act_rule *rules;
    size_t nrules;
    act_bots bots;
    int exclude_bots;
    int pass_unmatched;
    act_ident ident;
    act_fields fields;
    act_keys keys;         /* fields, ready for the per-event walk */
    sl_metric *m_unmatched, *m_bots, *m_excluded, *m_rejected, *m_dead, *m_limit;
    sl_metric *m_code[ACT_NREJECT]; /* rejected_<code> */
    uint64_t rejected;
    sl_throttle limit_log;
} activity;

#define NONEMPTY NULL, NULL, SL_OPT_F_NONEMPTY
static const sl_option options[] = {
    {"rules", SL_OPT_ANY, NULL, 1,
     "ordered rules {type, method, path, path_prefix, params, status, exclude: {user_agents, "
     "paths}, productId, pageId, pageUrl, pageLang, categoryId, query, query_param, meta}; "
     "first match wins",
     NULL, NULL, NULL, 0},
    {"unmatched", SL_OPT_STRING, "drop", 0, "requests no rule matches", "drop|pass", NULL, NULL,
     0},
    {"exclude_bots", SL_OPT_BOOL, "true", 0, "drop requests from bots and crawlers", NULL,
     NULL, NULL, 0},
    {"bot_user_agents", SL_OPT_LIST, NULL, 0,
     "case-insensitive user-agent substrings that mark a bot (replaces the built-in list)",
     NULL, NONEMPTY},
    {"guest_id_from", SL_OPT_STRING, NULL, 0,
     "guest id source: a field (dotted path), cookie:NAME or param:NAME", NULL, NONEMPTY},
    {"user_token_from", SL_OPT_STRING, NULL, 0,
     "user token source: a field (dotted path), cookie:NAME or param:NAME", NULL, NONEMPTY},
    {"derive_guest_id", SL_OPT_BOOL, "false", 0,
     "without a guest id or token, derive a stable one from a keyed hash of IP + user agent",
     NULL, NULL, NULL, 0},
    {"guest_id_key", SL_OPT_SECRET, NULL, 0,
     "secret (16+ characters) keying derived guest ids; never logged", NULL, NONEMPTY},
    {"method_field", SL_OPT_STRING, "method", 0, "body field of the HTTP method", NULL,
     NONEMPTY},
    {"path_field", SL_OPT_STRING, "path", 0, "body field of the URL path", NULL, NONEMPTY},
    {"query_field", SL_OPT_STRING, "query", 0, "body field of the query parameter map", NULL,
     NONEMPTY},
    {"status_field", SL_OPT_STRING, "status", 0, "body field of the response status", NULL,
     NONEMPTY},
    {"user_agent_field", SL_OPT_STRING, "http_user_agent", 0, "body field of the user agent",
     NULL, NONEMPTY},
    {"client_ip_field", SL_OPT_STRING, "remote_addr", 0, "body field of the client address",
     NULL, NONEMPTY},
    {"cookie_field", SL_OPT_STRING, "http_cookie", 0,
     "body field of the Cookie header, for cookie:NAME sources", NULL, NONEMPTY},
    {NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, 0},
};
#undef NONEMPTY

static void activity_free(activity *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nrules; i++)
        act_rule_free(&a->rules[i]);
    free(a->rules);
    act_bots_free(&a->bots);
    vsrc_free(&a->ident.guest);
    vsrc_free(&a->ident.token);
    free(a);
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

/* "file:line:col: why" into err; returns -1. */
static int at_err(const sl_host *h, const sl_node *n, const char *why, char *err, size_t errlen)
{
    char at[160] = "";
    if (n)
        h->node_where(n, at, sizeof at);
    snprintf(err, errlen, "%s%s%s", at, *at ? ": " : "", why);
    return -1;
}

/* Call fn for each scalar of a scalar-or-list node. */
static int each_scalar(const sl_host *h, const sl_node *n, act_rule *r,
                       int (*fn)(act_rule *, const char *, char *, size_t), char *err,
                       size_t errlen)
{
    char why[300];
    size_t len = h->node_len(n);
    for (size_t i = 0; i < len; i++) {
        const sl_node *it = h->node_at(n, i);
        const char *s = h->node_kind(it) == SL_NODE_SCALAR ? h->node_str(it) : NULL;
        if (!s)
            return at_err(h, it, "expected a value or a list of values", err, errlen);
        if (fn(r, s, why, sizeof why) != 0)
            return at_err(h, it, why, err, errlen);
    }
    return 0;
}

static int rule_params(const sl_host *h, const sl_node *n, act_rule *r, char *err,
                       size_t errlen)
{
    char why[300];
    if (h->node_kind(n) != SL_NODE_MAP)
        return at_err(h, n, "params: expected a mapping name: regex ('' = present)", err,
                      errlen);
    for (size_t i = 0; i < h->node_len(n); i++) {
        const char *re = h->node_str(h->node_at(n, i));
        if (re && (!*re || !strcmp(re, "*")))
            re = NULL;
        if (act_rule_param(r, h->node_key(n, i), re, why, sizeof why) != 0)
            return at_err(h, h->node_at(n, i), why, err, errlen);
    }
    return 0;
}

/* exclude: { user_agents: [substrings], paths: [regexes] } */
static int rule_exclude(const sl_host *h, const sl_node *n, act_rule *r, char *err,
                        size_t errlen)
{
    if (h->node_kind(n) != SL_NODE_MAP)
        return at_err(h, n, "exclude: expected a mapping {user_agents: [...], paths: [...]}",
                      err, errlen);
    for (size_t i = 0; i < h->node_len(n); i++) {
        const char *key = h->node_key(n, i);
        const sl_node *v = h->node_at(n, i);
        int rc;
        if (!strcmp(key, "user_agents"))
            rc = each_scalar(h, v, r, act_rule_exclude_ua, err, errlen);
        else if (!strcmp(key, "paths"))
            rc = each_scalar(h, v, r, act_rule_exclude_path, err, errlen);
        else
            rc = at_err(h, v, "exclude: keys are user_agents and paths", err, errlen);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int rule_meta(const sl_host *h, const sl_node *n, act_rule *r, char *err, size_t errlen)
{
    char why[300];
    if (h->node_kind(n) != SL_NODE_MAP)
        return at_err(h, n, "meta: expected a mapping key: value", err, errlen);
    for (size_t i = 0; i < h->node_len(n); i++) {
        const sl_node *v = h->node_at(n, i);
        const char *s = h->node_str(v);
        if (!s || act_rule_meta(r, h->node_key(n, i), s, h->node_quoted(v), why, sizeof why))
            return at_err(h, v, s ? why : "meta: values must be scalars", err, errlen);
    }
    return 0;
}

/* One key of a rule mapping. */
static int rule_key(const sl_host *h, const char *key, const sl_node *v, act_rule *r,
                    char *err, size_t errlen)
{
    char why[300];
    const char *s = h->node_kind(v) == SL_NODE_SCALAR ? h->node_str(v) : NULL;
    int rc = 0;
    if (!strcmp(key, "type"))
        return 0; /* read first, by rule_load */
    if (!strcmp(key, "method"))
        return each_scalar(h, v, r, act_rule_method, err, errlen);
    if (!strcmp(key, "status"))
        return each_scalar(h, v, r, act_rule_status, err, errlen);
    if (!strcmp(key, "params"))
        return rule_params(h, v, r, err, errlen);
    if (!strcmp(key, "meta"))
        return rule_meta(h, v, r, err, errlen);
    if (!strcmp(key, "exclude"))
        return rule_exclude(h, v, r, err, errlen);
    if (!s)
        return at_err(h, v, "expected a single value", err, errlen);
    if (!strcmp(key, "path"))
        rc = act_rule_path(r, s, why, sizeof why);
    else if (!strcmp(key, "path_prefix"))
        rc = act_rule_path_prefix(r, s, why, sizeof why);
    else if (!strcmp(key, "query_param")) {
        char spec[256];
        snprintf(spec, sizeof spec, "param:%s", s);
        rc = act_rule_value(r, "query", spec, 0, why, sizeof why);
    } else if (!strcmp(key, "productId") || !strcmp(key, "pageId") ||
               !strcmp(key, "categoryId") || !strcmp(key, "query") || !strcmp(key, "pageUrl") ||
               !strcmp(key, "pageLang"))
        rc = act_rule_value(r, key, s, h->node_quoted(v), why, sizeof why);
    else {
        snprintf(why, sizeof why, "unknown rule key '%s' (type, method, path, path_prefix, "
                 "params, status, exclude, productId, pageId, pageUrl, pageLang, categoryId, "
                 "query, query_param, meta)", key);
        rc = -1;
    }
    return rc ? at_err(h, v, why, err, errlen) : 0;
}

static int rule_load(const sl_host *h, const sl_node *n, size_t idx, act_rule *r, char *err,
                     size_t errlen)
{
    char why[400];
    if (h->node_kind(n) != SL_NODE_MAP)
        return at_err(h, n, "each rule must be a mapping with a type", err, errlen);
    const sl_node *t = h->node_get(n, "type");
    if (act_rule_init(r, (int)idx, t ? h->node_str(t) : NULL, why, sizeof why) != 0)
        return at_err(h, t ? t : n, why, err, errlen);
    for (size_t i = 0; i < h->node_len(n); i++)
        if (rule_key(h, h->node_key(n, i), h->node_at(n, i), r, err, errlen) != 0)
            return -1;
    if (act_rule_finish(r, why, sizeof why) != 0)
        return at_err(h, n, why, err, errlen);
    return 0;
}

static int load_rules(activity *a, char *err, size_t errlen)
{
    const sl_host *h = a->host;
    const sl_node *rules = h->opt_node(a->ctx, "rules");
    size_t n = rules && h->node_kind(rules) == SL_NODE_SEQ ? h->node_len(rules) : 0;
    if (n == 0)
        return at_err(h, rules, "rules: expected a list of at least one rule", err, errlen);
    if (!(a->rules = calloc(n, sizeof *a->rules)))
        return at_err(h, NULL, "out of memory", err, errlen);
    for (size_t i = 0; i < n; i++) {
        a->nrules = i + 1; /* so a failed rule is freed too */
        if (rule_load(h, h->node_at(rules, i), i, &a->rules[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int load_bots(activity *a, char *err, size_t errlen)
{
    const sl_host *h = a->host;
    const sl_node *list = h->opt_node(a->ctx, "bot_user_agents");
    a->exclude_bots = h->opt_bool(a->ctx, "exclude_bots");
    if (!a->exclude_bots)
        return 0;
    if (!list)
        return act_bots_init(&a->bots, NULL, 0, err, errlen);
    size_t n = h->node_len(list);
    const char **items = calloc(n + 1, sizeof *items);
    if (!items)
        return at_err(h, NULL, "out of memory", err, errlen);
    for (size_t i = 0; i < n; i++)
        if (!(items[i] = h->node_str(h->node_at(list, i)))) {
            free(items);
            return at_err(h, h->node_at(list, i), "bot_user_agents: expected text", err,
                          errlen);
        }
    int rc = act_bots_init(&a->bots, items, n, err, errlen);
    free(items);
    return rc;
}

static int load_identity(activity *a, char *err, size_t errlen)
{
    const sl_host *h = a->host;
    const char *g = h->opt_str(a->ctx, "guest_id_from");
    const char *t = h->opt_str(a->ctx, "user_token_from");
    char why[300];
    if (g && vsrc_parse(&a->ident.guest, g, 0, 1, why, sizeof why) != 0)
        return snprintf(err, errlen, "guest_id_from: %s", why), -1;
    if (t && vsrc_parse(&a->ident.token, t, 0, 1, why, sizeof why) != 0)
        return snprintf(err, errlen, "user_token_from: %s", why), -1;
    a->ident.derive = h->opt_bool(a->ctx, "derive_guest_id");
    if (a->ident.derive && act_ident_key(&a->ident, h->opt_str(a->ctx, "guest_id_key"), err,
                                         errlen) != 0)
        return -1;
    if (!g && !t && !a->ident.derive)
        h->log(a->ctx, SL_LOG_WARN, "no guest_id_from, user_token_from or derive_guest_id: "
               "every event will be rejected for lack of an identity");
    return 0;
}

/* The request fields some condition or value of this instance reads. */
static unsigned wanted_fields(const activity *a)
{
    unsigned want = ACT_F_METHOD | ACT_F_PATH | ACT_F_QUERY | ACT_F_STATUS;
    int ua = a->exclude_bots || a->ident.derive, cookie = 0;
    for (size_t i = 0; i < a->nrules; i++) {
        ua |= a->rules[i].nex_ua > 0;
        cookie |= act_rule_uses_cookie(&a->rules[i]);
    }
    cookie |= a->ident.guest.kind == VS_COOKIE || a->ident.token.kind == VS_COOKIE;
    return want | (ua ? ACT_F_UA : 0) | (a->ident.derive ? ACT_F_IP : 0) |
           (cookie ? ACT_F_COOKIE : 0);
}

static void register_metrics(activity *a)
{
    const sl_host *h = a->host;
    char name[64];
    a->m_unmatched = h->metric(a->ctx, "unmatched", SL_METRIC_COUNTER);
    a->m_bots = h->metric(a->ctx, "excluded_bots", SL_METRIC_COUNTER);
    a->m_excluded = h->metric(a->ctx, "excluded", SL_METRIC_COUNTER);
    a->m_rejected = h->metric(a->ctx, "rejected", SL_METRIC_COUNTER);
    a->m_dead = h->metric(a->ctx, "dead_lettered", SL_METRIC_COUNTER);
    a->m_limit = h->metric(a->ctx, "regex_limit_hits", SL_METRIC_COUNTER);
    for (int i = 0; i < ACT_NREJECT; i++) {
        snprintf(name, sizeof name, "rejected_%s", act_reject_codes[i]);
        a->m_code[i] = h->metric(a->ctx, name, SL_METRIC_COUNTER);
    }
}

static int activity_init(sl_ctx *ctx, const sl_host *host, void **state, char *err,
                         size_t errlen)
{
    activity *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return SL_ERR;
    }
    a->ctx = ctx;
    a->host = host;
    a->fields = (act_fields){
        .method = host->opt_str(ctx, "method_field"),
        .path = host->opt_str(ctx, "path_field"),
        .query = host->opt_str(ctx, "query_field"),
        .status = host->opt_str(ctx, "status_field"),
        .user_agent = host->opt_str(ctx, "user_agent_field"),
        .client_ip = host->opt_str(ctx, "client_ip_field"),
        .cookie = host->opt_str(ctx, "cookie_field"),
    };
    a->pass_unmatched = !strcmp(host->opt_str(ctx, "unmatched"), "pass");
    if (load_rules(a, err, errlen) != 0 || load_bots(a, err, errlen) != 0 ||
        load_identity(a, err, errlen) != 0) {
        activity_free(a);
        return SL_ERR;
    }
    act_keys_init(&a->keys, &a->fields, wanted_fields(a));
    register_metrics(a);
    *state = a;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* process                                                             */
/* ------------------------------------------------------------------ */

typedef struct tally {
    uint64_t unmatched, bots, excluded, rejected;
} tally;

/* Count, log (throttled) and set aside a rejected event. SL_OK, or SL_ERR
 * when the dead letter could not be written (the batch then fails). */
static int reject(activity *a, const act_rule *r, const act_reject *rej, const sl_event *ev)
{
    char reason[300];
    for (int i = 0; i < ACT_NREJECT; i++)
        if (!strcmp(rej->code, act_reject_codes[i]))
            a->host->metric_add(a->m_code[i], 1);
    if (a->rejected++ % REJECT_LOG_EVERY == 0)
        a->host->log(a->ctx, SL_LOG_WARN, "%s: event rejected: %s (%" PRIu64 " so far)",
                     r->label, rej->why, a->rejected);
    act_reject_reason(reason, sizeof reason, r, rej);
    return a->host->dead_letter(a->ctx, ev, reason);
}

/* One event and its request fields q (read together by act_event_next).
 * 0, -1 out of memory, -2 the dead letter was not written. */
static int one_event(activity *a, const sl_event *ev, const act_req *q, sl_builder *out,
                     tally *t)
{
    act_rule *r = NULL;
    for (size_t i = 0; i < a->nrules && !r; i++)
        if (act_rule_match(&a->rules[i], q))
            r = &a->rules[i];
    if (!r) {
        t->unmatched++;
        return a->pass_unmatched ? sl_bb_append_event(out, ev) : 0;
    }
    if (a->exclude_bots && act_is_bot(&a->bots, q->ua, q->ua_len)) {
        t->bots++;
        return 0;
    }
    if (act_rule_excluded(r, q)) {
        t->excluded++;
        return 0;
    }
    act_reject rej;
    act_result res;
    if (act_resolve(r, q, &a->ident, &res, &rej) != 0) {
        /* Written before the batch moves on, so no rejected event is
         * acknowledged without being set aside. */
        t->rejected++;
        return reject(a, r, &rej, ev) == SL_OK ? 0 : -2;
    }
    /* Valid: packed straight into the output batch, no intermediate copy. */
    sl_bb_begin_from(out, ev, ev->time_ns);
    act_pack_result(&res, out);
    return sl_bb_end(out); /* any failed pack fails here */
}

static void count_tally(activity *a, const tally *t)
{
    const sl_host *h = a->host;
    h->metric_add(a->m_unmatched, t->unmatched);
    h->metric_add(a->m_bots, t->bots);
    h->metric_add(a->m_excluded, t->excluded);
    h->metric_add(a->m_rejected, t->rejected);
    h->metric_add(a->m_dead, t->rejected);
}

/*
 * Requests whose path or parameter cost a rule's regex more than PCRE2's
 * limits allow (rxlimit.h): they did not match that rule. Counted, and
 * named in a warning at most once a minute, so a costly rule shows without
 * flooding the log.
 */
static void count_limit_hits(activity *a)
{
    for (size_t i = 0; i < a->nrules; i++) {
        act_rule *r = &a->rules[i];
        if (!r->limit_hits)
            continue;
        a->host->metric_add(a->m_limit, r->limit_hits);
        if (sl_throttle_pass(&a->limit_log, LIMIT_LOG_MS, NULL))
            a->host->log(a->ctx, SL_LOG_WARN, "%s: %" PRIu64 " request(s) in a batch cost its "
                         "regex more than %u matching steps and were taken as no match for "
                         "it (counted in regex_limit_hits; warned at most once a minute); a "
                         "regex without nested or overlapping repeats like (a|aa)+ avoids it",
                         r->label, r->limit_hits, SL_RX_MATCH_LIMIT);
        r->limit_hits = 0;
    }
}

static int activity_process(void *state, const sl_batch *in, sl_builder *out, char *err,
                            size_t errlen)
{
    activity *a = state;
    sl_batch_iter it;
    sl_event ev;
    act_req q;
    tally t = {0, 0, 0, 0};
    uint32_t i = 0;
    int r;
    sl_bb_mark mark = sl_bb_get_mark(out);
    sl_batch_iter_init(&it, in);
    while ((r = act_event_next(&it, &ev, &q, &a->keys)) == 1) {
        int rc = one_event(a, &ev, &q, out, &t);
        if (rc != 0) {
            snprintf(err, errlen, "event %u: %s", i,
                     rc == -2 ? "its dead letter was not written" : "out of memory");
            goto fail;
        }
        i++;
    }
    if (r != 0) {
        snprintf(err, errlen, "event %u: malformed event", i);
        goto fail;
    }
    count_tally(a, &t);
    count_limit_hits(a);
    return SL_OK;
fail:
    count_limit_hits(a);
    /* The core passes `in` on unchanged; nothing of this attempt stays. */
    sl_bb_rollback(out, mark);
    return SL_ERR;
}

static void activity_destroy(void *state)
{
    activity_free(state);
}

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "activity", "2.0.0"),
    .description = "Turns parsed access-log requests into OneEntry UserActivity events "
                   "(type, productId/pageId/categoryId, query, meta, guest_id, user_token) "
                   "by ordered rules; excludes bots; rejects invalid events: each goes to the "
                   "component's dead letters with the reason `<code>: <why> (<rule>)`, code "
                   "bad_id, missing_id, empty_query or no_identity. A page or category view "
                   "whose rule names pageUrl (a page handle) instead of pageId is sent on with "
                   "pageUrl (and pageLang) for the oneentry_pages enricher, which sets pageId "
                   "or rejects it at the end of the chain. A path or parameter that costs a "
                   "rule's regex more than 100,000 matching steps does not match that rule. "
                   "Counters: unmatched, excluded, excluded_bots, rejected, rejected_<code>, "
                   "dead_lettered, regex_limit_hits.",
    .options = options,
    .init = activity_init,
    .process = activity_process,
    .destroy = activity_destroy,
};
