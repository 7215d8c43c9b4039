/* sink_oneentry built-in client: the HTTP/1.x answer parser. */
#include <string.h>

#include "../../../plugins/sink_oneentry/oe_h1resp.h"
#include "sl_test.h"

/* Feed all of s in one piece; returns what feed returned. */
static long feed_all(oe_h1resp *r, const char *s, int *done)
{
    char err[128];
    oe_h1resp_reset(r);
    return oe_h1resp_feed(r, s, strlen(s), done, err, sizeof err);
}

static void test_content_length(void)
{
    static oe_h1resp r;
    int done;
    const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntrueHTTP/1.1 500 x\r\n";
    CU_ASSERT_EQUAL(feed_all(&r, a, &done), (long)strlen(a) - 16);
    CU_ASSERT(done);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "true");
    CU_ASSERT(!r.close);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"Content-Length answer, next one left", test_content_length},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_h1resp", cases);
}
