/* Host services: safe file writes and dead letters (see sluice/host.h). */
#ifndef SL_SERVICES_H
#define SL_SERVICES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sluice/event.h"
#include "sluice/host.h"

/* mkdir -p with `mode` for every directory it creates. 0 or -1 (errno). */
int sl_mkdirs(const char *path, mode_t mode);

/* The host->file_open/file_write/file_replace contracts, without a ctx. */
int sl_file_open(const char *path, unsigned flags, unsigned mode, char *err, size_t errlen);
int sl_file_write(int fd, const void *data, size_t len, int sync, char *err, size_t errlen);
int sl_file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen);

/*
 * Lock a state directory for this process (made 0700 when missing): it must
 * belong to this user and not be writable by others, and no other process
 * may hold it. Returns the lock's fd (keep it open for the run; closing it
 * releases), or -1 with the reason, naming the holder's pid, in err.
 */
int sl_state_lock(const char *dir, char *err, size_t errlen);

/* One component's dead-letter file, opened on the first letter. */
typedef struct sl_deadletter {
    pthread_mutex_t mu;
    char *path; /* set before the first write; owned */
    int fd;
    int64_t size;
    int64_t rotate_bytes; /* turn over to <path>.1 past this size */
    int announced;
} sl_deadletter;

void sl_deadletter_init(sl_deadletter *d);
void sl_deadletter_destroy(sl_deadletter *d);
/* Append one line for ev (see host->dead_letter). 0 or -1 (logged). */
int sl_deadletter_write(sl_deadletter *d, const char *component, const sl_event *ev,
                        const char *reason);

#endif
