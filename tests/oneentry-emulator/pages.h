/*
 * The Pages API's content: the pages of a project, read from a JSON file,
 * served as a list per langCode and found by handle. Pure logic over the
 * file's text (the server keeps it current, see server.c), unit-tested.
 *
 * The file is either a JSON array of page objects, served for every
 * langCode, or an object mapping langCodes to such arrays:
 *   [{"id":11,"pageUrl":"about-us","type":"common_page",...}, ...]
 *   {"en_US":[...], "de_DE":[...]}
 * Each page object is served exactly as written; it needs a string
 * "pageUrl" (the handle, unique within its langCode).
 */
#ifndef OE_PAGES_H
#define OE_PAGES_H

#include <stddef.h>

typedef struct oe_page {
    char *url;       /* the decoded handle, NUL-terminated */
    const char *raw; /* the object's JSON text, inside oe_pages.text */
    size_t raw_len;
} oe_page;

typedef struct oe_lang_pages {
    char *code;      /* NULL: the array form, any langCode */
    oe_page *v;
    size_t n;
    char *list;      /* the list answer: "[" raw "," raw ... "]" */
    size_t list_len;
} oe_lang_pages;

typedef struct oe_pages {
    char *text;
    oe_lang_pages *langs;
    size_t nlangs;
} oe_pages;

/* Parse text (taken over, freed with p). 0, or -1 with err (p is then
 * empty, text freed). */
int oe_pages_parse(oe_pages *p, char *text, size_t len, char *err, size_t errlen);

/* Read and parse a file. 0, or -1 with err. */
int oe_pages_load(oe_pages *p, const char *path, char *err, size_t errlen);

/* The pages of a langCode, or NULL when the file has none for it. */
const oe_lang_pages *oe_pages_lang(const oe_pages *p, const char *code);

/* The page with that handle, or NULL. */
const oe_page *oe_pages_find(const oe_lang_pages *l, const char *url);

/* Pages of every language together. */
size_t oe_pages_count(const oe_pages *p);

void oe_pages_free(oe_pages *p);

#endif
