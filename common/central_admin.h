/* Fleet mode's admin side (fleet-design.md, "Admin"): an admin box's store
 * is a mirror of the central database, and every admin command runs through
 * the unchanged common/ code on the mirror, with the change hook of db.h
 * capturing what it changes. Before the mirror's COMMIT the changes go to
 * central in one PostgreSQL transaction:
 *
 * 1. SELECT userdb.begin_change() bumps central's revision under its row
 *    lock; the revision before the bump must be the mirror's central_rev,
 *    or another admin changed central since the mirror's last sync:
 *    UDB_STALE, central rolled back (the caller syncs and runs the command
 *    again).
 * 2. Every changed row of a replicated table (replica.h) is written by
 *    primary key: deletions first, children before parents, then inserts
 *    and updates, parents first. An account's password_hash goes to
 *    userdb.secrets (a NULL hash deletes the secret, which central's
 *    tombstone then wipes on the hosts); its host-local columns (failures,
 *    locks, login records) are never sent.
 * 3. COMMIT central, then the mirror records the new central_rev in its
 *    own transaction, which then commits (transaction.c, 12).
 *
 * Central unreachable, or refusing a statement: UDB_UNAVAILABLE (or the
 * result the refusal maps to), central rolled back, and the hook's failure
 * rolls the mirror back: nothing changed anywhere. Called by the CLI. */
#ifndef UDB_CENTRAL_ADMIN_H
#define UDB_CENTRAL_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "replica.h"
#include "result.h"

struct udb_central_admin;

/* Keeps conninfo (a libpq connection string); connects at the first change. */
enum udb_result udb_central_admin_new(const char *conninfo, struct udb_central_admin **ret_admin);
void udb_central_admin_free(struct udb_central_admin *a);

/* The two halves of the change hook (db.h) that sends each write
 * transaction's changes to central as above, ctx being the struct
 * udb_central_admin (which must outlive the hook): which tables are
 * captured (the replicated ones), and the send. The caller may wrap send to
 * report its failure. */
bool udb_central_admin_captures(const char *schema, const char *table, void *ctx);
enum udb_result udb_central_admin_send(struct udb_db *db, const void *changeset, int size,
				       void *ctx);

/* Connects (if not yet) and reads central's revision; UDB_UNAVAILABLE when
 * central cannot be reached. */
enum udb_result udb_central_admin_rev(struct udb_central_admin *a, int64_t *ret_rev);

/* What the last failure was, for the caller's message: PostgreSQL's own
 * text (one line), or "" when there is none. */
const char *udb_central_admin_error(const struct udb_central_admin *a);

/* The central revision of the last change sent (0: none yet). */
int64_t udb_central_admin_sent_rev(const struct udb_central_admin *a);

/* `userdb central push-local`: copies the local store (db, a write handle
 * without the change hook) into an empty central database in one central
 * transaction (one revision), then records that revision in the store,
 * which is from then on the admin mirror. UDB_EXISTS: central is not empty
 * (nothing changed). ret_report counts the rows per replicated table. */
struct udb_central_push_report {
	int64_t rev;
	size_t rows[UDB_REPLICA_COUNT];
};
enum udb_result udb_central_admin_push_local(struct udb_central_admin *a, struct udb_db *db,
					     struct udb_central_push_report *ret_report);

#endif
