/*
 * Room in an array that doubles. Every list the engine and the plugins grow
 * one element at a time (metrics, files, watches, heaps, segments) grows
 * this way; the size arithmetic, and its overflow check, is written once.
 */
#ifndef SL_GROW_H
#define SL_GROW_H

#include <stddef.h>

/* sl_grow's slow path (a realloc), out of line; call sl_grow. */
void *sl_grow_to(void *v, size_t need, size_t *cap, size_t esize, size_t first);

/*
 * The array v (capacity *cap elements of esize bytes) with room for `need`
 * (> 0) elements: v itself when it has it, else v reallocated to *cap (or
 * `first`, when *cap is 0) doubled until it holds need, *cap updated. NULL
 * when out of memory or the size overflows: v and *cap are then unchanged,
 * and v is still the caller's to use or free. Inline, so that the common
 * case, room already, is a compare and not a call (parse asks for every
 * JSON container it reads).
 */
static inline void *sl_grow(void *v, size_t need, size_t *cap, size_t esize, size_t first)
{
    return need <= *cap ? v : sl_grow_to(v, need, cap, esize, first);
}

#endif
