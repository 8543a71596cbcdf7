/* The running processes of a uid: counting them (`user del` refuses while
 * there are any) and ending them (`--terminate` on `user disable`, `user
 * expire` and `revoke`). Called by the CLI only; reads /proc of the
 * caller's PID namespace. */
#ifndef UDB_PROCS_H
#define UDB_PROCS_H

#include <stdint.h>
#include <sys/types.h>

#include "result.h"

/* How many processes have uid as their real, effective or saved uid (the
 * calling process excluded). UDB_INVALID for uid 0. */
enum udb_result udb_procs_count(uid_t uid, unsigned *ret_count);

/* Ends every process counted above: SIGHUP (a session's hangup), then,
 * after grace_ms, SIGKILL to whatever is left, repeated for processes
 * forked meanwhile until none is left (or a bound of rounds is reached:
 * UDB_BUSY). *ret_signalled is the number of distinct processes signalled.
 * Signals go through a pidfd, so a pid reused by another process in
 * between is never hit. UDB_INVALID for uid 0. */
enum udb_result udb_procs_terminate(uid_t uid, unsigned grace_ms, unsigned *ret_signalled);

#endif
