/*
 * ${VAR} interpolation of configuration scalars:
 *   ${VAR}            value of VAR; unset is an error (never a silent "")
 *   ${VAR:-default}   default when VAR is unset or empty
 *   ${VAR:?message}   error with `message` when VAR is unset or empty
 *   $$                a literal '$'
 * A '$' not followed by '{' or '$' is kept as is.
 */
#ifndef SL_INTERP_H
#define SL_INTERP_H

#include <stddef.h>

/* Interpolate in[0..len). On success *out is a malloc'd NUL-terminated string
 * (length in *outlen) and 0 is returned; on error -1 and a message naming the
 * variable in err. */
int sl_interpolate(const char *in, size_t len, char **out, size_t *outlen,
                   char *err, size_t errlen);

#endif
