/* Value sources; see vsrc.h. */
#include "vsrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *prefix;
    vs_kind kind;
} prefixes[] = {
    {"capture:", VS_CAPTURE}, {"param:", VS_PARAM}, {"field:", VS_FIELD},
    {"cookie:", VS_COOKIE},
};

static int parse_int_const(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s || strlen(s) > 18)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

int vsrc_parse(vsrc *v, const char *text, int quoted, int bare_is_field, char *err,
               size_t errlen)
{
    memset(v, 0, sizeof *v);
    const char *name = text;
    v->kind = bare_is_field ? VS_FIELD : VS_CONST_STR;
    for (size_t i = 0; !quoted && i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i].prefix);
        if (strncmp(text, prefixes[i].prefix, pl) == 0) {
            v->kind = prefixes[i].kind;
            name = text + pl;
            break;
        }
    }
    if (v->kind != VS_CONST_STR && !*name) {
        snprintf(err, errlen, "'%s': a name is needed after the prefix", text);
        return -1;
    }
    if (v->kind == VS_CONST_STR && !quoted && parse_int_const(text, &v->i) == 0)
        v->kind = VS_CONST_INT;
    if (!(v->name = strdup(name))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v->name_len = strlen(name);
    return 0;
}

void vsrc_free(vsrc *v)
{
    free(v->name);
    memset(v, 0, sizeof *v);
}

int vsrc_cookie(const char *hdr, size_t n, const char *name, size_t name_len,
                const char **val, size_t *val_len)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (hdr[i] == ' ' || hdr[i] == ';'))
            i++;
        size_t k0 = i;
        while (i < n && hdr[i] != '=' && hdr[i] != ';')
            i++;
        size_t klen = i - k0;
        size_t v0 = i < n && hdr[i] == '=' ? ++i : i;
        while (i < n && hdr[i] != ';')
            i++;
        size_t vend = i;
        while (vend > v0 && hdr[vend - 1] == ' ')
            vend--;
        if (klen == name_len && memcmp(hdr + k0, name, name_len) == 0) {
            *val = hdr + v0;
            *val_len = vend - v0;
            return 1;
        }
    }
    return 0;
}

int vsrc_field(const sl_value *body, const char *path, size_t n, sl_value *out)
{
    sl_value cur = *body, next;
    size_t i = 0;
    for (;;) {
        const char *dot = memchr(path + i, '.', n - i);
        size_t seg = dot ? (size_t)(dot - path) - i : n - i;
        if (cur.type != SL_MAP || sl_map_get(&cur, path + i, seg, &next) != 1)
            return 0;
        if (!dot) {
            *out = next;
            return 1;
        }
        cur = next;
        i += seg + 1;
    }
}
