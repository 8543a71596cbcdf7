/* A host's pull from the central PostgreSQL database (fleet mode): the
 * connection, the cheap revision check, one sync pass and the drift check.
 * Called by the CLI's `userdb sync` (one pass, --follow, --status) and the
 * fleet tests and bench. Lookups and logins never come here: they read the
 * local copy only.
 *
 * A pass reads, in one REPEATABLE READ transaction on central, the revision
 * T of userdb.state and every replicated row and tombstone with a revision
 * above the local one (fleet design: every central change bumps the one
 * counter under a row lock, so that snapshot holds every change up to T and
 * none after), and hands them to replica.h as one batch that stores T. A
 * host that never synced, fell behind central's kept history (min_rev), or
 * finds central older than itself (a restored or new central database)
 * reads everything instead (a full batch). Password hashes come from
 * userdb.secrets, which row-level security shows only for users allowed on
 * this host; a hash that is no longer shown is wiped locally. */
#ifndef UDB_SYNC_H
#define UDB_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "result.h"

struct udb_sync;

struct udb_sync_report {
	int64_t local_rev;   /* before the pass */
	int64_t central_rev; /* central's revision (0: not reached) */
	int64_t min_rev;     /* the oldest revision central still has tombstones for */
	bool full;           /* everything was read */
	bool applied;        /* a batch was committed (false: already current) */
	size_t rows, tombstones;
	size_t pushed;        /* outbox parts central took (sync_push.c) */
	int64_t fleet_locked; /* users the push locked fleet-wide */
	char detail[256];     /* why a failure failed (libpq's or PostgreSQL's message) */
};

/* Connects to central with a libpq connection string. UDB_UNAVAILABLE when
 * it cannot be reached, UDB_AUTH_FAILED when it refused the login; the
 * detail says which, in libpq's words. A connect gives up after 10 s unless
 * conninfo sets connect_timeout. */
enum udb_result udb_sync_connect(const char *conninfo, struct udb_sync **ret_sync, char *detail,
				 size_t detail_size);
void udb_sync_close(struct udb_sync *s);
/* The connection's socket (for waiting on a NOTIFY), -1 when closed. */
int udb_sync_socket(const struct udb_sync *s);
/* Starts listening for central's change notification, when the session is
 * a direct one (a pooler in transaction mode drops it: polling still
 * works). */
enum udb_result udb_sync_listen(struct udb_sync *s);
/* Consumes what arrived on the socket; true when a notification came. */
bool udb_sync_notified(struct udb_sync *s);

/* Central's current revision and min_rev: one short query. */
enum udb_result udb_sync_central_rev(struct udb_sync *s, int64_t *ret_rev, int64_t *ret_min_rev,
				     char *detail, size_t detail_size);

/* One pass (see above); full forces a full batch. db is a write handle. */
enum udb_result udb_sync_pass(struct udb_sync *s, struct udb_db *db, bool full, int64_t now,
			      struct udb_sync_report *ret_report);

/* Compares, per replicated table, a row count and a sum of key columns of
 * the local copy with central's at the same revision. UDB_OK when they
 * match; UDB_CORRUPT (drift: the caller runs a full pass) with the first
 * table that differs in detail; UDB_BUSY when the copy is not at central's
 * revision (sync first). */
enum udb_result udb_sync_verify(struct udb_sync *s, struct udb_db *db, char *detail,
				size_t detail_size);

#endif
