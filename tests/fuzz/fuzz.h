/*
 * The one entry point every fuzz target defines. libFuzzer calls it in the
 * fuzz build (-DSLUICE_FUZZ=ON, clang); replay.c calls it on every corpus
 * file in the ordinary test run, so a crasher once found stays fixed.
 */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
