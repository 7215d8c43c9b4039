/*
 * Fuzz target: the tail source's checkpoint file as found after a crash or
 * tampering. What tail_ckpts_parse accepts must format and parse back to the
 * same slots (the file is rewritten from memory on every commit).
 */
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "fuzz.h"

static void same(const tail_ckpts *a, const tail_ckpts *b)
{
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        const tail_ckpt *x = &a->v[i];
        if (!x->used)
            continue;
        while (j < b->n && !b->v[j].used)
            j++;
        if (j == b->n)
            abort();
        const tail_ckpt *y = &b->v[j++];
        if (x->dev != y->dev || x->ino != y->ino || x->offset != y->offset ||
            x->fp_len != y->fp_len || x->fp_hash != y->fp_hash ||
            x->tail_len != y->tail_len || x->tail_hash != y->tail_hash ||
            strcmp(x->path, y->path) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    tail_ckpts c, back;
    tail_ckpts_init(&c);
    tail_ckpts_init(&back);
    char err[256];
    if (tail_ckpts_parse(&c, text, size, err, sizeof err) == 0) {
        char *out = NULL;
        size_t len = 0;
        if (tail_ckpts_format(&c, &out, &len) == 0) {
            if (tail_ckpts_parse(&back, out, len, err, sizeof err) != 0)
                abort(); /* we could not read what we wrote */
            same(&c, &back);
            free(out);
        }
    }
    tail_ckpts_free(&c);
    tail_ckpts_free(&back);
    free(text);
    return 0;
}
