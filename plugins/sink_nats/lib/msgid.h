/*
 * Nats-Msg-Id of an event: the stream drops a message whose id it has seen
 * within its duplicate window, so the same event published twice (after a
 * lost PubAck, a reconnect, or a restart of the edge that read the same
 * line again) is stored once, and two different events never share an id.
 *
 * With a source position in meta (tail: source, path, inode, offset) the id
 * is "<prefix>:<source>:<inode>:<offset>:<hash of path, time and body>":
 * readable, and the same when the line is read again (parse sets the time
 * from the line). The hash keeps a different line at a reused position
 * (copytruncate, a recycled inode) from being taken for a duplicate.
 * Without a position: "<prefix>:<hash of the whole event>".
 */
#ifndef NS_MSGID_H
#define NS_MSGID_H

#include <stddef.h>

#include "sluice/event.h"

#define NS_MSGID_MAX 256

/* Write the id of ev into buf (NUL-terminated, cut at cap). Its length. */
size_t ns_msgid(const char *prefix, const sl_event *ev, char *buf, size_t cap);

#endif
