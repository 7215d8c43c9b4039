/* Hex digits, \u escapes, UTF-8; see unescape.h. */
#include "unescape.h"

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = sl_hexval((unsigned char)p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

int sl_json_uescape(const char *p, const char *end, uint32_t *cp)
{
    uint32_t hi, lo;
    if (end - p < 4 || hex4(p, &hi) < 0)
        return -1;
    *cp = hi;
    if (hi < 0xD800 || hi > 0xDBFF)
        return 4; /* not a high surrogate: nothing to pair */
    if (end - p < 10 || p[4] != '\\' || p[5] != 'u' || hex4(p + 6, &lo) < 0 || lo < 0xDC00 ||
        lo > 0xDFFF)
        return 4; /* a lone high surrogate */
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 10;
}

size_t sl_utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
