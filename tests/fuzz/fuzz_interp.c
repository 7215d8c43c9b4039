/*
 * Fuzz target: ${VAR} interpolation of one scalar. FUZZ_A is set and FUZZ_E
 * is set but empty, so defaults, :? messages and nesting all get reached.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "interp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_done;
    if (!env_done) {
        setenv("FUZZ_A", "a${FUZZ_A}$$", 1); /* values are not re-expanded */
        setenv("FUZZ_E", "", 1);
        env_done = 1;
    }
    char *out = NULL;
    size_t outlen = 0;
    char err[256];
    if (sl_interpolate((const char *)data, size, &out, &outlen, err, sizeof err) == 0) {
        if (!out || strlen(out) > outlen) /* NUL-terminated at outlen */
            abort();
        free(out);
    }
    return 0;
}
