/*
 * The small pieces every decoder of escaped text needs: a hex digit's
 * value (percent escapes in URLs and log lines, \xHH in nginx logs), a JSON
 * \u escape with its surrogate pair, and a code point as UTF-8. The JSON
 * readers (support's jscan, parse's JSON to msgpack, the OneEntry sink's
 * answer reader) and the URL decoders share them, so a surrogate pair is
 * read the same way everywhere.
 */
#ifndef SL_UNESCAPE_H
#define SL_UNESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit c (either case), or -1. */
static inline int sl_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline int sl_is_surrogate(uint32_t cp)
{
    return cp >= 0xD800 && cp <= 0xDFFF;
}

/*
 * A JSON \u escape whose four hex digits start at p (just after the "\u"),
 * with end the end of the text: the code point in *cp and the bytes read
 * from p, 4, or 10 when a high surrogate and the "\uDC00".."\uDFFF" after it
 * make a pair. A surrogate that is not part of a pair is returned as it is
 * (*cp in D800..DFFF, 4 bytes read): the caller rejects it or writes U+FFFD.
 * -1 when fewer than four hex digits follow.
 */
int sl_json_uescape(const char *p, const char *end, uint32_t *cp);

/* Code point cp (at most U+10FFFF) as UTF-8 into out: the bytes written. */
size_t sl_utf8_put(uint32_t cp, char out[4]);

#endif
