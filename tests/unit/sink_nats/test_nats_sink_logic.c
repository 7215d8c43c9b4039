/* sink_nats logic: subject templates, message ids, PubAck answers, and how
 * both NATS plugins classify a failed JetStream call (support/sl_nats.c). */
#include <stdlib.h>
#include <string.h>

#include "msgid.h"
#include "puback.h"
#include "sl_nats.h"
#include "sl_test.h"
#include "subject.h"

/* One event: meta {source, path, inode, offset} when with_pos, body pairs
 * given as alternating C strings (a value "#n" packs the integer n). */
static sl_builder *one_event(int64_t t, int with_pos, uint64_t offset, const char **kv,
                             size_t npairs)
{
    sl_builder *bb = sl_bb_new();
    sl_bb_begin(bb, t);
    if (with_pos) {
        sl_bb_map(bb, 4);
        sl_bb_cstr(bb, "source"), sl_bb_cstr(bb, "access");
        sl_bb_cstr(bb, "path"), sl_bb_cstr(bb, "/var/log/a.log");
        sl_bb_cstr(bb, "inode"), sl_bb_uint(bb, 77);
        sl_bb_cstr(bb, "offset"), sl_bb_uint(bb, offset);
    } else {
        sl_bb_map(bb, 1);
        sl_bb_cstr(bb, "source"), sl_bb_cstr(bb, "gen");
    }
    sl_bb_map(bb, (uint32_t)npairs);
    for (size_t i = 0; i < npairs; i++) {
        sl_bb_cstr(bb, kv[2 * i]);
        if (kv[2 * i + 1][0] == '#')
            sl_bb_int(bb, atoll(kv[2 * i + 1] + 1));
        else
            sl_bb_cstr(bb, kv[2 * i + 1]);
    }
    CU_ASSERT_EQUAL(sl_bb_end(bb), 0);
    return bb;
}

static void first_event(sl_builder *bb, sl_event *ev)
{
    sl_batch b = sl_bb_batch(bb);
    sl_batch_iter it;
    sl_batch_iter_init(&it, &b);
    CU_ASSERT_EQUAL_FATAL(sl_batch_next(&it, ev), 1);
}

static void render(const char *tmpl, const char **kv, size_t npairs, const char *want,
                   unsigned want_missing)
{
    char err[256], buf[NS_SUBJECT_MAX];
    ns_subject *t = NULL;
    CU_ASSERT_EQUAL_FATAL(ns_subject_parse(tmpl, &t, err, sizeof err), 0);
    sl_builder *bb = one_event(1, 0, 0, kv, npairs);
    sl_event ev;
    first_event(bb, &ev);
    CU_ASSERT_EQUAL(ns_subject_render(t, &ev.body, buf, sizeof buf), want_missing);
    CU_ASSERT_STRING_EQUAL(buf, want);
    sl_bb_free(bb);
    ns_subject_free(t);
}

static void test_subject_render(void)
{
    const char *kv[] = {"type", "product_view", "n", "#42", "odd", "a.b c*d>e", "empty", ""};
    render("activity.{type}", kv, 4, "activity.product_view", 0);
    render("a.{type}.{n}", kv, 4, "a.product_view.42", 0);
    render("x-{type}-y.z", kv, 4, "x-product_view-y.z", 0);
    render("a.{odd}", kv, 4, "a.a_b_c_d_e", 0);
    render("a.{empty}.{absent}", kv, 4, "a._._", 2);
    render("fixed.subject", kv, 4, "fixed.subject", 0);
}

static void test_subject_nested_and_long(void)
{
    char err[256], buf[NS_SUBJECT_MAX];
    ns_subject *t = NULL;
    CU_ASSERT_EQUAL_FATAL(ns_subject_parse("e.{meta.kind}.{long}", &t, err, sizeof err), 0);
    sl_builder *bb = sl_bb_new();
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    sl_bb_begin(bb, 1);
    sl_bb_map(bb, 0);
    sl_bb_map(bb, 2);
    sl_bb_cstr(bb, "meta"), sl_bb_map(bb, 1), sl_bb_cstr(bb, "kind"), sl_bb_cstr(bb, "k1");
    sl_bb_cstr(bb, "long"), sl_bb_cstr(bb, big);
    CU_ASSERT_EQUAL_FATAL(sl_bb_end(bb), 0);
    sl_event ev;
    first_event(bb, &ev);
    CU_ASSERT_EQUAL(ns_subject_render(t, &ev.body, buf, sizeof buf), 0);
    CU_ASSERT_EQUAL(strncmp(buf, "e.k1.xxx", 8), 0);
    CU_ASSERT_EQUAL(strlen(buf), 5 + NS_TOKEN_MAX); /* the value is cut */
    sl_bb_free(bb);
    ns_subject_free(t);
}

static void test_subject_errors(void)
{
    const char *bad[] = {"", "a.{type", "a.{}", "a.*", "a.>", "a b", ".a", "a.", "a..b",
                         "a.{.x}", "a.{x.}", "a}b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[256] = "";
        ns_subject *t = NULL;
        CU_ASSERT_EQUAL(ns_subject_parse(bad[i], &t, err, sizeof err), -1);
        CU_ASSERT(err[0] != 0);
        CU_ASSERT_PTR_NULL(t);
    }
}

static void wildcard(const char *tmpl, const char *want)
{
    char err[256];
    ns_subject *t = NULL;
    CU_ASSERT_EQUAL_FATAL(ns_subject_parse(tmpl, &t, err, sizeof err), 0);
    char *w = ns_subject_wildcard(t, err, sizeof err);
    if (want) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        CU_ASSERT_STRING_EQUAL(w, want);
    } else {
        CU_ASSERT_PTR_NULL(w);
        CU_ASSERT(strstr(err, "stream_subjects") != NULL);
    }
    free(w);
    ns_subject_free(t);
}

static void test_subject_wildcard(void)
{
    wildcard("activity.{type}", "activity.>");
    wildcard("shop.eu.activity.{type}.x", "shop.eu.activity.>");
    wildcard("shop.act-{type}", "shop.>");
    wildcard("plain.subject", "plain.subject");
    wildcard("{type}.x", NULL);
    wildcard("act{type}", NULL);
}

static void msgid_of(int64_t t, int pos, uint64_t off, const char *type, char *buf, size_t cap)
{
    const char *kv[] = {"type", type};
    sl_builder *bb = one_event(t, pos, off, kv, 1);
    sl_event ev;
    first_event(bb, &ev);
    ns_msgid("web1", &ev, buf, cap);
    sl_bb_free(bb);
}

static void test_msgid(void)
{
    char a[NS_MSGID_MAX], b[NS_MSGID_MAX];
    msgid_of(5, 1, 1234, "x", a, sizeof a);
    CU_ASSERT_EQUAL(strncmp(a, "web1:access:77:1234:", 20), 0);
    CU_ASSERT_EQUAL(strlen(a), 20 + 16);
    msgid_of(5, 1, 1234, "x", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(a, b); /* the same line read again */
    msgid_of(5, 1, 1234, "y", b, sizeof b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b); /* another line at a reused position */
    msgid_of(6, 1, 1234, "x", b, sizeof b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    msgid_of(5, 1, 1235, "x", b, sizeof b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    /* Without a position: a hash of the whole event. */
    msgid_of(5, 0, 0, "x", a, sizeof a);
    CU_ASSERT_EQUAL(strncmp(a, "web1:", 5), 0);
    CU_ASSERT_EQUAL(strlen(a), 5 + 32);
    msgid_of(6, 0, 0, "x", b, sizeof b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    msgid_of(5, 1, 1234, "x", a, 10); /* cut, still terminated */
    CU_ASSERT_EQUAL(strlen(a), 9);
}

static void parse(const char *s, ns_puback *a)
{
    ns_puback_parse(s, strlen(s), a);
}

static void test_puback(void)
{
    ns_puback a;
    parse("{\"stream\":\"SLUICE\",\"seq\":12}", &a);
    CU_ASSERT(a.ok && !a.duplicate && a.seq == 12);
    parse("{\"stream\":\"SLUICE\", \"seq\": 13, \"duplicate\": true}", &a);
    CU_ASSERT(a.ok && a.duplicate && a.seq == 13);
    parse("{\"stream\":\"S\",\"domain\":\"d\",\"seq\":9,\"duplicate\":false}", &a);
    CU_ASSERT(a.ok && !a.duplicate && a.seq == 9);
    parse("{\"error\":{\"code\":503,\"err_code\":10077,\"description\":\"maximum messages "
          "exceeded\"}}", &a);
    CU_ASSERT(!a.ok && a.code == 503 && a.err_code == 10077);
    CU_ASSERT_STRING_EQUAL(a.desc, "maximum messages exceeded");
    CU_ASSERT(!ns_puback_permanent(&a));
    parse("{\"error\":{\"code\":400,\"err_code\":10054,\"description\":\"message size exceeds "
          "maximum allowed\"}}", &a);
    CU_ASSERT(!a.ok && ns_puback_permanent(&a));
    parse("garbage", &a);
    CU_ASSERT(!a.ok && strstr(a.desc, "unexpected") != NULL);
    ns_puback_parse("", 0, &a);
    CU_ASSERT(!a.ok);
    /* Not NUL-terminated: nothing past len is read. */
    char buf[] = {'{', '"', 's', 'e', 'q', '"', ':', '1'};
    ns_puback_parse(buf, sizeof buf, &a);
    CU_ASSERT(!a.ok);
}

static void test_classify(void)
{
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_OK, 0), SL_NATS_OK);
    /* Not answered: timeouts, no responders, reconnecting. */
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_TIMEOUT, 0), SL_NATS_RETRY);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_NO_RESPONDERS, 0), SL_NATS_RETRY);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_CONNECTION_CLOSED, 0), SL_NATS_RETRY);
    /* A cluster between leaders after a node failed (seen in nats_cluster:
     * looking up the consumer answered 10008 and the aggregator stopped). */
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_ERR, JSClusterNotAvailErr), SL_NATS_RETRY);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_ERR, JSClusterNotLeaderErr), SL_NATS_RETRY);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_ERR, JSStreamOfflineErr), SL_NATS_RETRY);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_ERR, JSConsumerOfflineErr), SL_NATS_RETRY);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_NOT_FOUND, JSStreamNotFoundErr), SL_NATS_RETRY);
    /* Refusals: the same request gets the same answer. */
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_ERR, JSStreamSubjectOverlapErr), SL_NATS_FATAL);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_ERR, JSClusterNoPeersErr), SL_NATS_FATAL);
    CU_ASSERT_EQUAL(sl_nats_classify(NATS_INVALID_ARG, 0), SL_NATS_FATAL);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"subject templates render fields as valid tokens", test_subject_render},
        {"nested fields and over-long values", test_subject_nested_and_long},
        {"bad templates are refused with a reason", test_subject_errors},
        {"stream subjects derived from a template", test_subject_wildcard},
        {"message ids: same line same id, other content other id", test_msgid},
        {"PubAck answers: stored, duplicate, errors, garbage", test_puback},
        {"JetStream errors: a cluster between leaders is retried", test_classify},
        {NULL, NULL},
    };
    return sl_test_run("nats_sink_logic", cases);
}
