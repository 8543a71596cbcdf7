/* Flushing nscd's (or unscd's) passwd and group caches after a change, as
 * shadow-utils' useradd and usermod do, so a revoke is seen at once and
 * not after the cache's time to live. Called by the CLI after every run
 * that changed something. */
#ifndef UDB_NSCD_H
#define UDB_NSCD_H

#include "result.h"

/* nscd's socket (glibc's _PATH_NSCDSOCKET; unscd uses the same). */
#define UDB_NSCD_SOCKET "/var/run/nscd/socket"

/* Asks the daemon listening on socket_path (NULL: UDB_NSCD_SOCKET) to
 * invalidate its passwd and group caches, and waits for its answer.
 * UDB_OK when it did, and when no daemon runs (no socket, or nobody
 * listening): there is nothing to flush then. UDB_IO when it answered
 * with an error or not at all within a few seconds. */
enum udb_result udb_nscd_invalidate(const char *socket_path);

#endif
