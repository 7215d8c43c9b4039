/* Doubling arrays: sl_grow's realloc; see grow.h. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *sl_grow_to(void *v, size_t need, size_t *cap, size_t esize, size_t first)
{
    if (need <= *cap)
        return v;
    size_t ncap = *cap ? *cap : (first ? first : 1);
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (esize && ncap > SIZE_MAX / esize)
        return NULL;
    void *nv = realloc(v, ncap * esize);
    if (!nv)
        return NULL;
    *cap = ncap;
    return nv;
}
