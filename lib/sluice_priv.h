/*
 * libsluice internals the core needs and plugins do not: taking a builder's
 * bytes, and what the core reports about a builder a plugin handed back.
 * Not installed; exported from libsluice only because the core is a separate
 * object. Nothing here is part of the plugin ABI.
 */
#ifndef SLUICE_PRIV_H
#define SLUICE_PRIV_H

#include "sluice/event.h"

/* Encode time_ns as the payload of a msgpack timestamp (type -1) in its
 * smallest exact form into buf; returns its length: 4, 8 or 12. */
size_t sl__time_encode(int64_t time_ns, uint8_t buf[12]);

/* Why the builder is not a batch (an open event, loose values), or NULL. */
const char *sl__bb_problem(const sl_builder *bb);

/* Events sl_bb_end dropped since the last reset (a failed or incomplete
 * event), for the core's counters. */
uint32_t sl__bb_dropped(const sl_builder *bb);

/* Move the builder's complete bytes out: *out describes them, the return
 * value is the allocation to free() (NULL when empty). The builder is left
 * empty and reusable. */
uint8_t *sl__bb_take(sl_builder *bb, sl_batch *out);

#endif
