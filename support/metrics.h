/*
 * A plugin's metrics as a table: each row names a metric and where its
 * handle goes in the plugin's struct of handles. Registered once at init,
 * so the hot paths add to a handle, lock-free.
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>

#include "sluice/host.h"

typedef struct sl_metric_row {
    const char *name;
    sl_metric_kind kind;
    size_t at; /* offsetof the handle (sl_metric *) in the struct of handles */
} sl_metric_row;

/* Register the n rows of table, storing each handle in handles + row.at. */
static inline void sl_metrics_register(sl_ctx *ctx, const sl_host *host, void *handles,
                                       const sl_metric_row *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_metric **h = (sl_metric **)((char *)handles + table[i].at);
        *h = host->metric(ctx, table[i].name, table[i].kind);
    }
}

#define SL_METRICS_REGISTER(ctx, host, handles, table)                                     \
    sl_metrics_register((ctx), (host), (handles), (table), sizeof(table) / sizeof((table)[0]))

#endif
