/*
 * SipHash-2-4 with a 128-bit output (Aumasson & Bernstein): a keyed hash
 * made for short inputs, so a guest id derived from IP + user agent cannot
 * be recomputed, or reversed by enumeration, without the key.
 */
#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* out[16] = SipHash-2-4-128 of in[0..n) under key[16]. */
void siphash128(const uint8_t key[16], const void *in, size_t n, uint8_t out[16]);

#endif
