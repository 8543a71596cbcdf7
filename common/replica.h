/* Fleet mode's local apply engine: what a host copies from the central
 * database, and how a batch of central rows and tombstones becomes one local
 * write transaction. Called by the sync pass (sync.c) and the unit tests.
 *
 * The replicated tables are listed once, here, in the order a parent comes
 * before its children. Each has the same name and columns locally and
 * centrally (fleet design); a row is handed over as text values in the
 * table's column order, primary key columns first, NULL for SQL NULL. The
 * host-local columns of an account (failures, locks, login records) are not
 * replicated and never overwritten. UDB_REPLICA_SECRETS is central's
 * userdb.secrets: its rows set an account's password hash, and a tombstone
 * for it (a secret this host may no longer read) wipes the hash.
 *
 * A batch (udb_replica_apply_begin .. _commit) is one write transaction
 * through db.h, so the images are published by the commit protocol
 * (transaction.c) and a writer killed anywhere leaves the local copy as it
 * was before the batch or after it. The central revision the batch brings
 * the copy to is stored in the same transaction, in the public file, which
 * commits last: a kill between the two files' commits leaves the old
 * revision, and the next pass applies the same window again (every step is
 * idempotent).
 *
 * An incremental batch (full = false) deletes the tombstoned rows, then
 * upserts the given rows by primary key. A full batch is given every row
 * central has: local rows that are not among them, or differ from them, are
 * deleted first (accounts are updated in place instead, keeping their
 * host-local columns), and the rest inserted, so no name, uid or email can
 * collide with a row that is about to change. An incremental batch that
 * collides anyway (two names swapped in one window) fails with UDB_EXISTS
 * and changes nothing; the caller then does a full batch. */
#ifndef UDB_REPLICA_H
#define UDB_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "result.h"

enum udb_replica_table {
	UDB_REPLICA_ROLES,
	UDB_REPLICA_USERS,
	UDB_REPLICA_ROLE_INCLUDES,
	UDB_REPLICA_ROLE_CLOSURE,
	UDB_REPLICA_ROLE_PERMISSIONS,
	UDB_REPLICA_USER_ROLES,
	UDB_REPLICA_ID_ALLOCATOR,
	UDB_REPLICA_HOST_ROLES, /* this host's rows only (central's row-level security) */
	UDB_REPLICA_SSH_KEYS,   /* every key of every user: public, like the identities */
	UDB_REPLICA_ACCOUNTS,
	UDB_REPLICA_USER_EMAILS,
	UDB_REPLICA_ACCOUNT_NAMES,
	/* TOTP second factors without the host-local last_step, read like
	 * the secrets (sync.c): only what central's row-level security shows
	 * this host, wiped when no longer shown. A row's recovery codes keep
	 * the host's own use marks while central's list is the same codes. */
	UDB_REPLICA_SECOND_FACTORS,
	UDB_REPLICA_SECRETS,
	UDB_REPLICA_COUNT,
};

struct udb_replica_info {
	const char *name;           /* table name, local and central */
	const char *const *columns; /* primary key columns first */
	unsigned n_columns;
	unsigned n_pk;
	/* The drift check's fingerprint of the table: an integer expression
	 * over its rows, valid in both SQLite and PostgreSQL, summed over the
	 * rows that match filter (or all rows when it is NULL). */
	const char *sum;
	const char *filter;
	/* Bit i: column i holds bytes (a BLOB locally, bytea centrally,
	 * handed over as PostgreSQL's text form "\\x" and hex digits). */
	unsigned blobs;
};

/* The description of table t (t < UDB_REPLICA_COUNT). */
const struct udb_replica_info *udb_replica_info(enum udb_replica_table t);
/* The local schema ("pub" or "sec") and table that table t lands in:
 * accounts and what hangs off them are in the shadow file, and the
 * secrets are a column of accounts. */
const char *udb_replica_schema_of(enum udb_replica_table t);
const char *udb_replica_local_name(enum udb_replica_table t);

struct udb_replica_apply;

/* Starts a batch on a write handle: begins the write transaction. */
enum udb_result udb_replica_apply_begin(struct udb_db *db, bool full,
					struct udb_replica_apply **ret_apply);
/* Whether a row of table t (info->n_columns values) keeps the rules a
 * local write keeps: valid names, uid and gid not 0, fields that fit a
 * passwd, group, shadow or authorized_keys line. UDB_INVALID if not.
 * udb_replica_apply_row checks every row with it (replica_check.c). */
enum udb_result udb_replica_check_row(enum udb_replica_table t, const char *const *values);
/* Adds one row of table t: info->n_columns values (NULL for SQL NULL). */
enum udb_result udb_replica_apply_row(struct udb_replica_apply *ap, enum udb_replica_table t,
				      const char *const *values);
/* Adds one deletion of table t: info->n_pk primary key values. Ignored by a
 * full batch, which deletes whatever it was not given. */
enum udb_result udb_replica_apply_tombstone(struct udb_replica_apply *ap, enum udb_replica_table t,
					    const char *const *pk);
/* Says that the batch holds every secret and second factor this host may
 * read: the hashes of the other accounts are wiped and their second
 * factors deleted (done anyway by a full batch). */
void udb_replica_apply_all_secrets(struct udb_replica_apply *ap);
/* Applies the batch, records central_rev = rev and central_synced_at = now,
 * commits and frees the batch. On any failure nothing is changed. */
enum udb_result udb_replica_apply_commit(struct udb_replica_apply *ap, int64_t rev, int64_t now);
/* Rolls back and frees; a no-op for NULL. */
void udb_replica_apply_abort(struct udb_replica_apply *ap);

/* The central revision the local copy holds (0 when it never synced) and
 * the time of the last batch (0: never). */
enum udb_result udb_replica_state(struct udb_db *db, int64_t *ret_rev, int64_t *ret_synced_at);

/* In the caller's write transaction, after it applied central's change rev
 * locally itself: moves central_rev to rev when it was rev - 1 (nothing
 * else came between), else leaves it for the sync. */
enum udb_result udb_replica_follow(struct udb_db *db, int64_t rev);

/* The local row count of t and its fingerprint (info->sum). */
enum udb_result udb_replica_fingerprint(struct udb_db *db, enum udb_replica_table t,
					int64_t *ret_count, int64_t *ret_sum);

/* Records the time central was last found at the local copy's revision
 * (central_checked_at, in the shadow file's meta: the PAM module's offline
 * limit reads it) in a write transaction of its own that publishes no
 * image, and reads it back (0: never). Called by sync.c and pam_userdb. */
enum udb_result udb_replica_mark_checked(struct udb_db *db, int64_t now);
enum udb_result udb_replica_checked_at(struct udb_db *db, int64_t *ret_at);

#endif
