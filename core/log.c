#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sluice/json.h"

static _Atomic int g_level = SL_LOG_INFO;
static _Atomic int g_json;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sl_log_set_level(sl_log_level level) { atomic_store(&g_level, (int)level); }

void sl_log_set_json(int on) { atomic_store(&g_json, on); }

/* The same line as JSON: the message is escaped like any event string. */
static void write_json(const char *stamp, sl_log_level level, const char *who, const char *msg)
{
    sl_buf b = {0};
    int bad = sl_buf_puts(&b, "{\"time\":\"") < 0 || sl_buf_puts(&b, stamp) < 0 ||
              sl_buf_puts(&b, "\",\"level\":\"") < 0 || sl_buf_puts(&b, level_names[level]) < 0 ||
              sl_buf_puts(&b, "\"") < 0;
    if (!bad && who)
        bad = sl_buf_puts(&b, ",\"component\":") < 0 || sl_json_str(&b, who, strlen(who)) < 0;
    bad = bad || sl_buf_puts(&b, ",\"msg\":") < 0 || sl_json_str(&b, msg, strlen(msg)) < 0 ||
          sl_buf_puts(&b, "}\n") < 0;
    if (!bad)
        fwrite(b.data, 1, b.len, stderr);
    sl_buf_free(&b);
}

/* Control characters in a message (a file name with a newline, a server's
 * answer) are written as \xNN in text logs, so no value can forge a line or
 * move the terminal's cursor. dst holds at least 4 * strlen(src) + 1. */
static void escape_controls(char *dst, size_t cap, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        } else {
            dst[o++] = (char)*p;
        }
    }
    dst[o] = '\0';
}

sl_log_level sl_log_level_get(void) { return (sl_log_level)atomic_load(&g_level); }

int sl_log_level_parse(const char *s, sl_log_level *out)
{
    for (int i = 0; i <= SL_LOG_DEBUG; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (sl_log_level)i;
            return 0;
        }
    }
    return -1;
}

void sl_logv(sl_log_level level, const char *who, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&g_level) || (int)level < 0)
        return;
    char stamp[64], msg[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (atomic_load(&g_json)) {
        write_json(stamp, level, who, msg);
        return;
    }
    /* One fwrite per line keeps lines of different threads whole. */
    char safe_msg[sizeof msg * 2], safe_who[256], line[sizeof safe_msg + 400];
    escape_controls(safe_msg, sizeof safe_msg, msg);
    escape_controls(safe_who, sizeof safe_who, who ? who : "");
    int n = snprintf(line, sizeof line, "%s %-5s %s%s%s%s\n", stamp, level_names[level],
                     who ? "[" : "", safe_who, who ? "] " : "", safe_msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    fwrite(line, 1, (size_t)n, stderr);
}

void sl_log(sl_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_logv(level, who, fmt, ap);
    va_end(ap);
}
