/* Process log: one line per message on stderr, level-filtered, thread-safe. */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdarg.h>

#include "sluice/host.h"

void sl_log_set_level(sl_log_level level);
/* Non-zero: one JSON object per line {"time","level","component","msg"}. */
void sl_log_set_json(int on);
sl_log_level sl_log_level_get(void);
/* Parse "error|warn|info|debug". Returns 0 or -1. */
int sl_log_level_parse(const char *s, sl_log_level *out);

/* `who` is the component name, or NULL for the core. */
void sl_log(sl_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl_logv(sl_log_level level, const char *who, const char *fmt, va_list ap);

#endif
