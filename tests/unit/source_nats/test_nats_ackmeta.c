/* source_nats: reading JetStream ack subjects (v1 and v2 forms). */
#include <string.h>

#include "ackmeta.h"
#include "sl_test.h"

static void test_v1(void)
{
    nsrc_ackmeta m;
    CU_ASSERT_EQUAL_FATAL(
        nsrc_ackmeta_parse("$JS.ACK.SLUICE.agg.3.1234.99.1764730000123456789.17", &m), 0);
    CU_ASSERT_EQUAL(m.stream_len, 6);
    CU_ASSERT_EQUAL(strncmp(m.stream, "SLUICE", 6), 0);
    CU_ASSERT_EQUAL(m.delivered, 3);
    CU_ASSERT_EQUAL(m.stream_seq, 1234);
    CU_ASSERT_EQUAL(m.consumer_seq, 99);
    CU_ASSERT_EQUAL(m.time_ns, 1764730000123456789LL);
    CU_ASSERT_EQUAL(m.pending, 17);
}

static void test_v2(void)
{
    nsrc_ackmeta m;
    CU_ASSERT_EQUAL_FATAL(nsrc_ackmeta_parse(
        "$JS.ACK._.ACCHASH.LIVE.agg.1.5.6.1764730000000000000.0.rNd", &m), 0);
    CU_ASSERT_EQUAL(strncmp(m.stream, "LIVE", m.stream_len), 0);
    CU_ASSERT_EQUAL(m.delivered, 1);
    CU_ASSERT_EQUAL(m.stream_seq, 5);
}

static void test_bad(void)
{
    const char *bad[] = {
        NULL, "", "_INBOX.abc", "$JS.ACK.S.c.1.2.3.4", "$JS.ACK.S.c.x.2.3.4.5",
        "$JS.ACK.S.c.1.2.3.4.5.6", "$JS.ACK..c.1.2.3.4.5", "$JS.ACK.S.c.1.2.3.99999999999999999999.5",
        "$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m", "$JS.ACK.S.c.1.2.3.-4.5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nsrc_ackmeta m;
        CU_ASSERT_EQUAL(nsrc_ackmeta_parse(bad[i], &m), -1);
    }
}

static void test_rewind(void)
{
    uint64_t last = 0;
    CU_ASSERT_EQUAL(nsrc_delivery_rewind(&last, 5), 0); /* the first one seen */
    CU_ASSERT_EQUAL(nsrc_delivery_rewind(&last, 6), 0);
    CU_ASSERT_EQUAL(nsrc_delivery_rewind(&last, 90), 0); /* others took 7..89 */
    CU_ASSERT_EQUAL(last, 90);
    CU_ASSERT_EQUAL(nsrc_delivery_rewind(&last, 1), 90); /* started over */
    CU_ASSERT_EQUAL(last, 1);
    CU_ASSERT_EQUAL(nsrc_delivery_rewind(&last, 2), 0);
    CU_ASSERT_EQUAL(nsrc_delivery_rewind(&last, 2), 1); /* a number used twice */
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"v1 ack subject", test_v1},
        {"v2 ack subject (domain, account hash, random token)", test_v2},
        {"anything else is refused", test_bad},
        {"a consumer that numbers a delivery again went back", test_rewind},
        {NULL, NULL},
    };
    return sl_test_run("nats_ackmeta", cases);
}
