/* sink_oneentry error answers: the server's message for a dead letter's
 * reason, decoded from a JSON error object or kept as text, bounded, never
 * with an embedded NUL or a cut character. */
#include <string.h>

#include "oe_answer.h"
#include "sl_test.h"

static char msg[OE_ANSWER_MESSAGE_MAX + 1];

static const char *message(const char *body)
{
    oe_answer_message(body, strlen(body), msg, sizeof msg);
    return msg;
}

static void test_json_message(void)
{
    CU_ASSERT_STRING_EQUAL(message("{\"statusCode\":422,\"message\":\"injected by the emulator's "
                                   "script\"}"),
                           "injected by the emulator's script");
    CU_ASSERT_STRING_EQUAL(message(" {\"message\" : \"boom\", \"statusCode\": 500}\n"), "boom");
}

static void test_json_escapes_decoded(void)
{
    /* Quotes, a backslash, a newline, \u00e9, a surrogate pair (U+1F600). */
    CU_ASSERT_STRING_EQUAL(message("{\"message\":\"a \\\"b\\\" \\\\ c\\nd \\u00e9 \\ud83d\\ude00\"}"),
                           "a \"b\" \\ c\nd \xc3\xa9 \xf0\x9f\x98\x80");
    /* \u0000 and a lone surrogate: U+FFFD, never a NUL that would cut the reason. */
    CU_ASSERT_STRING_EQUAL(message("{\"message\":\"x\\u0000y\\ud800z\"}"),
                           "x\xef\xbf\xbdy\xef\xbf\xbdz");
}

static void test_json_message_array(void)
{
    CU_ASSERT_STRING_EQUAL(message("{\"statusCode\":400,\"message\":[\"productId must be a number\","
                                   " \"type must be a string\"],\"error\":\"Bad Request\"}"),
                           "productId must be a number; type must be a string");
}

static void test_not_an_error_object(void)
{
    /* Plain text and HTML are kept as they are, trimmed. */
    CU_ASSERT_STRING_EQUAL(message("  Service Unavailable\r\n"), "Service Unavailable");
    CU_ASSERT_STRING_EQUAL(message("<html><body>413</body></html>"),
                           "<html><body>413</body></html>");
    /* An object without a message, or a broken one: the text itself. */
    CU_ASSERT_STRING_EQUAL(message("{\"statusCode\":500}"), "{\"statusCode\":500}");
    CU_ASSERT_STRING_EQUAL(message("{\"message\":\"unterminated"), "{\"message\":\"unterminated");
    CU_ASSERT_STRING_EQUAL(message("{\"message\":42}"), "{\"message\":42}");
    CU_ASSERT_STRING_EQUAL(message(""), "");
    CU_ASSERT_EQUAL(oe_answer_message(NULL, 0, msg, sizeof msg), 0);
}

static void test_nul_bytes_dropped(void)
{
    static const char body[] = "a\0b";
    CU_ASSERT_EQUAL(oe_answer_message(body, 3, msg, sizeof msg), 2);
    CU_ASSERT_STRING_EQUAL(msg, "ab");
}

/* A long answer is cut at OE_ANSWER_MESSAGE_MAX bytes, or at the buffer,
 * and never inside a UTF-8 character. */
static void test_bounded_and_whole_characters(void)
{
    static char body[4096];
    memset(body, 'x', sizeof body - 1);
    CU_ASSERT_EQUAL(oe_answer_message(body, strlen(body), msg, sizeof msg), OE_ANSWER_MESSAGE_MAX);
    /* Room for 5 bytes: "abcd", then é (2 bytes) does not fit, and neither
     * does the "z" after it. */
    char small[6];
    const char *raw = "abcd\xc3\xa9zz", *js = "{\"message\":\"abcd\\u00e9zz\"}";
    CU_ASSERT_EQUAL(oe_answer_message(raw, strlen(raw), small, sizeof small), 4);
    CU_ASSERT_STRING_EQUAL(small, "abcd");
    CU_ASSERT_EQUAL(oe_answer_message(js, strlen(js), small, sizeof small), 4);
    CU_ASSERT_STRING_EQUAL(small, "abcd");
    CU_ASSERT_EQUAL(oe_answer_message("abc", 3, small, 1), 0);
    CU_ASSERT_STRING_EQUAL(small, "");
}

static void test_reason(void)
{
    char r[2048];
    const char *b = "{\"statusCode\":422,\"message\":\"bad \\\"type\\\"\"}";
    oe_answer_reason(r, sizeof r, "rejected by OneEntry", 422, b, strlen(b));
    CU_ASSERT_STRING_EQUAL(r, "rejected by OneEntry (HTTP 422): bad \"type\"");
    oe_answer_reason(r, sizeof r, "rejected by OneEntry", 404, "", 0);
    CU_ASSERT_STRING_EQUAL(r, "rejected by OneEntry (HTTP 404)");
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"the message of a JSON error object", test_json_message},
        {"JSON escapes decoded, NUL and lone surrogates replaced", test_json_escapes_decoded},
        {"a message array is joined", test_json_message_array},
        {"other answers are kept as text", test_not_an_error_object},
        {"NUL bytes of a text answer dropped", test_nul_bytes_dropped},
        {"bounded, never inside a character", test_bounded_and_whole_characters},
        {"reason: status, then message", test_reason},
        {NULL, NULL},
    };
    return sl_test_run("oneentry_answer", cases);
}
