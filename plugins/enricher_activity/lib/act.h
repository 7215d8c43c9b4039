/*
 * Access-log requests to OneEntry UserActivity events: rules, the request
 * view they match against, and the event they produce.
 *
 * A rule's conditions are tested cheapest first (status class, method, a
 * literal path prefix, query parameters) so that most requests are turned
 * down before the path regex runs. The prefix comes from `path_prefix` or
 * is derived from a regex that starts with '^' and a literal run.
 */
#ifndef ACT_H
#define ACT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "rxlimit.h"
#include "sluice/event.h"
#include "uamemo.h"
#include "uaset.h"
#include "vsrc.h"

#define ACT_NTYPES 10
extern const char *const act_type_names[ACT_NTYPES];

/* Largest id sent: JavaScript numbers (OneEntry's side) are exact to 2^53-1. */
#define ACT_MAX_ID 9007199254740991LL

typedef struct act_param {
    char *name;
    size_t len;
    pcre2_code *re;          /* NULL: present and non-empty is enough */
    pcre2_match_data *md;
} act_param;

typedef struct act_meta {
    char *key;
    vsrc src;
} act_meta;

typedef struct act_rule {
    int type;                /* index into act_type_names */
    char label[64];          /* "rule 3 (product_view)" */
    char **methods;
    size_t *method_lens;
    size_t nmethods;
    char *prefix;
    size_t prefix_len;
    pcre2_code *re;
    pcre2_match_data *md;
    int jit;
    act_param *params;
    size_t nparams;
    uint8_t status_class[6]; /* allowed classes 1xx..5xx */
    int64_t *statuses;       /* exact statuses also allowed */
    size_t nstatuses;
    int status_set;          /* the rule named statuses; else 2xx and 3xx */
    vsrc product, page, category, query;
    /* pageUrl (+ pageLang): a page handle sent on for a later enricher
     * (oneentry_pages) to turn into pageId, when the rule has no pageId */
    vsrc page_url, page_lang;
    act_meta *meta;
    size_t nmeta;
    /* exclude: requests this rule matched but must not turn into events */
    uaset ex_ua;             /* user-agent substrings, any case */
    pcre2_code *ex_path;     /* one alternation of the path regexes */
    pcre2_match_data *ex_md;
    int ex_jit;
    char **ex_path_src;      /* the regexes as written, joined at finish */
    size_t nex_path;
    char **ex_ua_src;        /* the substrings, until finish builds ex_ua */
    size_t nex_ua;
    /* every regex of the rule matches within rxlimit.h's limits */
    pcre2_match_context *mc; /* made with the rule's first regex */
    uint64_t limit_hits;     /* subjects that hit them (no match); the
                              * plugin counts and clears it */
} act_rule;

/* Names of the request fields in a parsed event body. */
typedef struct act_fields {
    const char *method, *path, *query, *status, *user_agent, *client_ip, *cookie;
} act_fields;

enum {
    ACT_F_METHOD = 1, ACT_F_PATH = 2, ACT_F_QUERY = 4, ACT_F_STATUS = 8,
    ACT_F_UA = 16, ACT_F_IP = 32, ACT_F_COOKIE = 64, ACT_F_ALL = 127,
};

/* The field names made ready for the per-event walk. */
typedef struct act_keys {
    const char *name[7]; /* in act_fields order; bit i of `want` is name[i] */
    size_t len[7];
    unsigned want;       /* ACT_F_* bits of the fields some rule or value reads */
} act_keys;

/* `want`: ACT_F_* bits; the body walk stops once it has them all. */
void act_keys_init(act_keys *k, const act_fields *f, unsigned want);

/* The parts of one event the rules look at; pointers into the event. */
typedef struct act_req {
    const sl_value *body;
    const char *method, *path, *ua, *ip, *cookie;
    size_t method_len, path_len, ua_len, ip_len, cookie_len;
    sl_value query;
    int has_query;
    int64_t status;
    int has_status;
} act_req;

/* Rule construction, in any order, then act_rule_finish. Each returns 0 or
 * -1 with the reason in err; act_rule_free releases a rule in any state. */
int act_rule_init(act_rule *r, int index, const char *type, char *err, size_t errlen);
int act_rule_method(act_rule *r, const char *method, char *err, size_t errlen);
int act_rule_path(act_rule *r, const char *regex, char *err, size_t errlen);
int act_rule_path_prefix(act_rule *r, const char *prefix, char *err, size_t errlen);
/* `regex` NULL: the parameter must be present and non-empty. */
int act_rule_param(act_rule *r, const char *name, const char *regex, char *err, size_t errlen);
/* "2xx", "3xx", ..., an exact "404", or "any". */
int act_rule_status(act_rule *r, const char *spec, char *err, size_t errlen);
/* which: productId, pageId, categoryId, query, pageUrl or pageLang. */
int act_rule_value(act_rule *r, const char *which, const char *src, int quoted, char *err,
                   size_t errlen);
int act_rule_meta(act_rule *r, const char *key, const char *src, int quoted, char *err,
                  size_t errlen);
/* exclude: a case-insensitive user-agent substring, or a path regex. */
int act_rule_exclude_ua(act_rule *r, const char *substring, char *err, size_t errlen);
int act_rule_exclude_path(act_rule *r, const char *regex, char *err, size_t errlen);
/* Defaults (ids and query from same-named captures), capture names
 * resolved, and the type's required values checked. */
int act_rule_finish(act_rule *r, char *err, size_t errlen);
void act_rule_free(act_rule *r);

/* Fill q from an event body (every field). */
void act_req_load(act_req *q, const sl_value *body, const act_fields *names);
/* Same, with the names prepared once and only the wanted fields read. */
void act_req_load_keys(act_req *q, const sl_value *body, const act_keys *k);

/*
 * sl_batch_next and act_req_load_keys in one walk of the body (evwalk.c).
 * Same results and return values as the two calls; q->body points at
 * ev->body, so keep *ev as long as q is used.
 */
int act_event_next(sl_batch_iter *it, sl_event *ev, act_req *q, const act_keys *k);

/* First value of query parameter name (a repeated key is an array): 1
 * found (*s, *n set), 0 absent or not text. */
int act_param_value(const act_req *q, const char *name, size_t len, const char **s, size_t *n);

/* 1 when r matches q (r->md then holds the path captures), else 0. A
 * regex that hits its limits does not match and adds to r->limit_hits. */
int act_rule_match(act_rule *r, const act_req *q);

/* 1 when the rule's own exclude list names the request (after a match). */
int act_rule_excluded(act_rule *r, const act_req *q);

/* Non-zero when some value of the rule comes from a cookie. */
int act_rule_uses_cookie(const act_rule *r);

/* Bot and crawler user agents: case-insensitive substrings. */
typedef struct act_bots {
    uaset set;
    uamemo memo;   /* recent verdicts; per instance, so act_is_bot writes */
} act_bots;

extern const char *const act_default_bots[];

/* NULL list: the default list. 0 or -1 with err. */
int act_bots_init(act_bots *b, const char *const *list, size_t n, char *err, size_t errlen);
int act_is_bot(act_bots *b, const char *ua, size_t n);
void act_bots_free(act_bots *b);

/* Identity: where guest ids and user tokens come from. */
typedef struct act_ident {
    vsrc guest, token;   /* VS_NONE when not configured */
    int derive;
    uint8_t key[16];
} act_ident;

/* The key for derived guest ids, from a secret of 16 bytes or more. */
int act_ident_key(act_ident *id, const char *secret, char *err, size_t errlen);

/* Why an event was rejected: a counter suffix and a message. */
typedef struct act_reject {
    const char *code;    /* one of act_reject_codes */
    char why[160];
} act_reject;

/* Every act_reject.code, each counted as rejected_<code>. */
#define ACT_NREJECT 4
extern const char *const act_reject_codes[ACT_NREJECT];

#define ACT_MAX_META 16

/* Every value of one event, resolved and checked before anything is packed. */
typedef struct act_result {
    const act_rule *r;
    int64_t id[3];           /* productId, pageId, categoryId */
    int has_id[3];
    vval page_url, page_lang; /* found when pageId is left to a later enricher */
    vval query, guest, token;
    vval meta[ACT_MAX_META]; /* of the rule's meta entries, in order */
    uint32_t nmeta;          /* how many of them were found */
    char derived[34];        /* a derived guest id */
} act_result;

/* Resolve and validate: 0 ok, 1 rejected (*rej says why). */
int act_resolve(const act_rule *r, const act_req *q, const act_ident *id, act_result *res,
                act_reject *rej);
/* Pack the body map of a resolved event into bb. 0, or -1 when the
 * builder failed (out of memory; sl_bb_end then fails too). */
int act_pack_result(const act_result *res, sl_builder *bb);

/*
 * act_resolve then act_pack_result. Returns 0 (packed), 1 (rejected,
 * nothing packed, *rej says why) or -1 (out of memory).
 */
int act_pack_body(const act_rule *r, const act_req *q, const act_ident *id,
                  sl_builder *bb, act_reject *rej);

/*
 * The reason a rejected event is dead-lettered with (host->dead_letter),
 * code first so it can be told apart by a prefix:
 *   "bad_id: productId: 'abc' is not a number (rule 3 (product_view))"
 */
void act_reject_reason(char *buf, size_t len, const act_rule *r, const act_reject *rej);

#endif
