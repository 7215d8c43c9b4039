/*
 * The control endpoint: POST /_control?KEY=VALUE&... changes the fault
 * injection of a running emulator; GET /_stats reports counters. All keys of
 * one control request are checked before any is applied, so a typo changes
 * nothing. GET /_transport tells the transport tests how requests came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define MS_MAX 86400000ul /* a day */

typedef struct changes {
    char err[256];
    int nkeys;
    int has_script, has_down, has_latency, has_token, has_fail;
    int has_pages_down, has_pages_latency, has_pages_fail;
    oe_action *script;
    oe_fail fail, pages_fail;
    size_t script_len;
    unsigned long down_ms, latency_ms, pages_down_ms, pages_latency_ms;
    const char *token; /* points into MHD's argument storage, valid for this request */
} changes;

static int parse_ms(const char *v, unsigned long *out)
{
    char *end;
    if (!v || !*v || *v == '-' || *v == '+')
        return -1;
    unsigned long ms = strtoul(v, &end, 10);
    if (*end || ms > MS_MAX)
        return -1;
    *out = ms;
    return 0;
}

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    changes *ch = cls;
    const char *v = value ? value : "";
    ch->nkeys++;
    if (strcmp(key, "script") == 0 && !ch->has_script) {
        ch->has_script = 1;
        if (oe_script_parse(v, &ch->script, &ch->script_len, ch->err, sizeof ch->err) < 0)
            return MHD_NO;
    } else if (strcmp(key, "down_ms") == 0 && !ch->has_down) {
        ch->has_down = 1;
        if (parse_ms(v, &ch->down_ms) < 0)
            goto bad_ms;
    } else if (strcmp(key, "latency_ms") == 0 && !ch->has_latency) {
        ch->has_latency = 1;
        if (parse_ms(v, &ch->latency_ms) < 0)
            goto bad_ms;
    } else if (strcmp(key, "token") == 0 && !ch->has_token) {
        ch->has_token = 1;
        ch->token = v;
    } else if (strcmp(key, "fail") == 0 && !ch->has_fail) {
        ch->has_fail = 1;
        if (oe_fail_parse(v, &ch->fail, ch->err, sizeof ch->err) < 0)
            return MHD_NO;
    } else if (strcmp(key, "pages_down_ms") == 0 && !ch->has_pages_down) {
        ch->has_pages_down = 1;
        if (parse_ms(v, &ch->pages_down_ms) < 0)
            goto bad_ms;
    } else if (strcmp(key, "pages_latency_ms") == 0 && !ch->has_pages_latency) {
        ch->has_pages_latency = 1;
        if (parse_ms(v, &ch->pages_latency_ms) < 0)
            goto bad_ms;
    } else if (strcmp(key, "pages_fail") == 0 && !ch->has_pages_fail) {
        ch->has_pages_fail = 1;
        if (oe_fail_parse(v, &ch->pages_fail, ch->err, sizeof ch->err) < 0)
            return MHD_NO;
    } else {
        snprintf(ch->err, sizeof ch->err, "unknown or repeated key '%s' (keys: script, "
                 "down_ms, latency_ms, token, fail, pages_down_ms, pages_latency_ms, "
                 "pages_fail)", key);
        return MHD_NO;
    }
    return MHD_YES;
bad_ms:
    snprintf(ch->err, sizeof ch->err, "%s must be milliseconds, 0-%lu", key, MS_MAX);
    return MHD_NO;
}

static int apply(oe_server *s, changes *ch)
{
    if (ch->has_token && oe_set_token(s, ch->token) < 0) {
        snprintf(ch->err, sizeof ch->err, "out of memory");
        return -1;
    }
    if (ch->has_script) {
        oe_set_script(s, ch->script, ch->script_len);
        ch->script = NULL;
    }
    if (ch->has_fail)
        oe_set_fail(s, &ch->fail);
    if (ch->has_latency)
        atomic_store(&s->latency_ms, (unsigned)ch->latency_ms);
    if (ch->has_down)
        atomic_store(&s->down_until_ns,
                     ch->down_ms ? oe_now_ns() + (uint64_t)ch->down_ms * 1000000u : 0);
    if (ch->has_pages_fail)
        oe_set_pages_fail(s, &ch->pages_fail);
    if (ch->has_pages_latency)
        atomic_store(&s->pages_latency_ms, (unsigned)ch->pages_latency_ms);
    if (ch->has_pages_down)
        atomic_store(&s->pages_down_until_ns, ch->pages_down_ms
                     ? oe_now_ns() + (uint64_t)ch->pages_down_ms * 1000000u : 0);
    return 0;
}

enum MHD_Result oe_control(oe_server *s, struct MHD_Connection *c, const char *method)
{
    changes ch;
    memset(&ch, 0, sizeof ch);
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return oe_reply_error(c, 405, "use POST /_control?KEY=VALUE&...", NULL);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, &ch);
    if (!ch.err[0] && ch.nkeys == 0)
        snprintf(ch.err, sizeof ch.err, "no KEY=VALUE given");
    if (!ch.err[0])
        (void)apply(s, &ch); /* fills ch.err when it fails */
    free(ch.script);
    if (ch.err[0]) {
        if (!s->quiet)
            fprintf(stderr, "oneentry-emulator: control refused: %s\n", ch.err);
        return oe_reply_error(c, 400, ch.err, NULL);
    }
    if (!s->quiet)
        fprintf(stderr, "oneentry-emulator: control applied\n");
    return oe_reply_text(c, 200, "text/plain", "ok");
}

enum MHD_Result oe_stats(oe_server *s, struct MHD_Connection *c, const char *method)
{
    char text[160];
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return oe_reply_error(c, 405, "use GET /_stats", NULL);
    snprintf(text, sizeof text,
             "{\"requests\":%llu,\"accepted\":%llu,\"rejected\":%llu,\"injected\":%llu}",
             (unsigned long long)atomic_load(&s->requests),
             (unsigned long long)atomic_load(&s->accepted),
             (unsigned long long)atomic_load(&s->rejected),
             (unsigned long long)atomic_load(&s->injected));
    return oe_reply_text(c, 200, "application/json", text);
}

enum MHD_Result oe_transport(oe_server *s, struct MHD_Connection *c, const char *method)
{
    char text[160];
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return oe_reply_error(c, 405, "use GET /_transport", NULL);
    snprintf(text, sizeof text,
             "{\"proxied\":%llu,\"peak_inflight\":%llu,\"connections\":%llu,\"tls\":%d}",
             (unsigned long long)atomic_load(&s->proxied),
             (unsigned long long)atomic_load(&s->peak_inflight),
             (unsigned long long)atomic_load(&s->connections), s->tls_cert != NULL);
    return oe_reply_text(c, 200, "application/json", text);
}

void oe_set_script(oe_server *s, oe_action *acts, size_t n)
{
    pthread_mutex_lock(&s->script_mu);
    free(s->script);
    s->script = acts;
    s->script_len = n;
    s->script_next = 0;
    atomic_store(&s->script_left, n);
    pthread_mutex_unlock(&s->script_mu);
}

void oe_set_fail(oe_server *s, const oe_fail *f)
{
    pthread_mutex_lock(&s->fail_mu);
    s->fail = *f;
    atomic_store(&s->fail_on, f->chance > 0);
    pthread_mutex_unlock(&s->fail_mu);
}

int oe_set_token(oe_server *s, const char *token)
{
    char *copy = NULL;
    if (token && *token && !(copy = strdup(token)))
        return -1;
    pthread_mutex_lock(&s->token_mu);
    free(s->token);
    s->token = copy;
    pthread_mutex_unlock(&s->token_mu);
    return 0;
}
