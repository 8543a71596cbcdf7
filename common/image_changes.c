/* Knowing what a write transaction changed in what the images show, so
 * that it publishes a delta of those entries (image_delta.c) instead of
 * rebuilding the images. Called by transaction.c only: capture starts at
 * the outermost udb_db_begin() and is recorded before the COMMIT
 * (udb_image_changes_record) or dropped on a rollback.
 *
 * Two SQLite sessions of their own (one per file; the change hook of db.h
 * has its own pair, and SQLite keeps any number of sessions on one
 * connection) watch the tables an image is built from. Before the COMMIT
 * their changesets are walked and what they name goes, in the same
 * transaction, into the change tables of schema/0009-*.sql, which hold
 * every change since the bases were built. So a writer killed at any point
 * leaves the tables in step with the store, whatever wrote it: a command,
 * PAM, or the fleet's apply engine with plain SQL. Rows SQLite changes
 * itself (ON DELETE CASCADE) are in the changesets too.
 *
 * What names what: a users, passwd_entries or user_roles row names its
 * user; a new or renamed role names itself; an inclusion between two roles
 * (role_closure), a role's gid or its deletion changes the members of
 * other roles and every member's groups, which a delta does not follow:
 * they mark the bases for a rebuild. An account row names its user, unless
 * only the failure count and the login record changed. */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <string.h>

#include "db-internal.h"

static const char *const schemas[UDB_CHANGE_SESSIONS] = {"sec", "pub"};
static const char *const watched[UDB_CHANGE_SESSIONS][6] = {
	{"accounts", NULL},
	{"users", "passwd_entries", "user_roles", "roles", "role_closure", NULL},
};

/* Columns of sec.accounts (schema/0001-*.sql) whose change shows in the
 * shadow image: all but the failure count, the last failure and the login
 * records. */
enum { ACC_FAILED_COUNT = 11, ACC_LAST_FAILED = 12, ACC_LOGIN_FIRST = 14 };
/* And central's fleet-wide lock (schema/0010-*.sql), which shows as a lock. */
enum { ACC_FLEET_LOCKED = 20 };

/* Columns of pub.roles and pub.passwd_entries the walk reads. */
enum { ROLE_ID = 0, ROLE_NAME = 1, ROLE_GID = 2 };
enum { ENTRY_UID = 0, ENTRY_ID = 1 };

void
udb_image_changes_stop(struct udb_db *db)
{
	for (size_t i = 0; i < UDB_CHANGE_SESSIONS; i++) {
		if (db->image_sessions[i])
			sqlite3session_delete(db->image_sessions[i]);
		db->image_sessions[i] = NULL;
	}
}

enum udb_result
udb_image_changes_start(struct udb_db *db)
{
	int rc = SQLITE_OK;

	for (size_t i = 0; i < UDB_CHANGE_SESSIONS && rc == SQLITE_OK; i++) {
		rc = sqlite3session_create(db->sql, schemas[i], &db->image_sessions[i]);
		for (size_t t = 0; rc == SQLITE_OK && watched[i][t]; t++)
			rc = sqlite3session_attach(db->image_sessions[i], watched[i][t]);
	}
	if (rc != SQLITE_OK) {
		udb_image_changes_stop(db);
		return rc == SQLITE_NOMEM ? UDB_NO_MEMORY : UDB_INTERNAL;
	}
	return UDB_OK;
}

/* Records one mark: pub.image_changes (kind, id), or sec.image_changes
 * (id) for kind -1. */
static enum udb_result
mark(struct udb_db *db, int kind, int64_t id)
{
	enum udb_query q = kind < 0 ? UDB_Q_IMAGE_MARK_SEC : UDB_Q_IMAGE_MARK_PUB;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	db->tx_marked = true;
	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	if (kind < 0) {
		sqlite3_bind_int64(stmt, 1, id);
	} else {
		sqlite3_bind_int(stmt, 1, kind);
		sqlite3_bind_int64(stmt, 2, id);
	}
	return udb_stmt_exec(db, q);
}

/* Column col of the row: the old value for an update or a delete (the
 * primary key is always there), the new one for an insert. */
static sqlite3_value *
row_value(sqlite3_changeset_iter *it, int op, int col)
{
	sqlite3_value *v = NULL;

	if (op == SQLITE_INSERT)
		sqlite3changeset_new(it, col, &v);
	else
		sqlite3changeset_old(it, col, &v);
	return v;
}

/* Whether an update changed column col. */
static bool
changed(sqlite3_changeset_iter *it, int col)
{
	sqlite3_value *v = NULL;

	return sqlite3changeset_new(it, col, &v) == SQLITE_OK && v != NULL;
}

/* The user id of a passwd_entries row: in the changeset unless an update
 * left it alone; then the row, which the update kept, has it. */
static enum udb_result
entry_user(struct udb_db *db, sqlite3_changeset_iter *it, int op, int64_t *ret_id)
{
	sqlite3_value *v = row_value(it, op, ENTRY_ID);
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (v) {
		*ret_id = sqlite3_value_int64(v);
		return UDB_OK;
	}
	v = row_value(it, op, ENTRY_UID);
	r = udb_stmt(db, UDB_Q_IMAGE_ENTRY_USER, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, v ? sqlite3_value_int64(v) : -1);
	r = udb_stmt_int(db, UDB_Q_IMAGE_ENTRY_USER, ret_id);
	return r == UDB_NOT_FOUND ? UDB_OK : r;
}

/* The mark one changed row makes (see the top of the file). */
static enum udb_result
mark_row(struct udb_db *db, sqlite3_changeset_iter *it)
{
	const char *table = NULL;
	int ncol = 0, op = 0, indirect = 0;
	sqlite3_value *key;
	int64_t id = -1;
	enum udb_result r;

	if (sqlite3changeset_op(it, &table, &ncol, &op, &indirect) != SQLITE_OK)
		return UDB_INTERNAL;
	key = row_value(it, op, 0);
	if (!key)
		return UDB_INTERNAL;
	if (strcmp(table, "accounts") == 0) {
		bool shown = op != SQLITE_UPDATE;

		for (int c = 1; c < ncol && c < ACC_LOGIN_FIRST && !shown; c++)
			shown = c != ACC_FAILED_COUNT && c != ACC_LAST_FAILED && changed(it, c);
		if (!shown && ncol > ACC_FLEET_LOCKED)
			shown = changed(it, ACC_FLEET_LOCKED);
		return shown ? mark(db, -1, sqlite3_value_int64(key)) : UDB_OK;
	}
	if (strcmp(table, "users") == 0 || strcmp(table, "user_roles") == 0)
		return mark(db, 0, sqlite3_value_int64(key));
	if (strcmp(table, "passwd_entries") == 0) {
		r = entry_user(db, it, op, &id);
		return r == UDB_OK && id >= 0 ? mark(db, 0, id) : r;
	}
	if (strcmp(table, "roles") == 0) {
		if (op == SQLITE_DELETE || (op == SQLITE_UPDATE && changed(it, ROLE_GID)))
			return mark(db, 2, 0);
		if (op == SQLITE_INSERT || changed(it, ROLE_NAME))
			return mark(db, 1, sqlite3_value_int64(key));
		return UDB_OK;
	}
	/* role_closure: its reflexive row comes and goes with its role. */
	if (op == SQLITE_UPDATE ||
	    sqlite3_value_int64(key) != sqlite3_value_int64(row_value(it, op, 1)))
		return mark(db, 2, 0);
	return UDB_OK;
}

enum udb_result
udb_image_changes_record(struct udb_db *db)
{
	enum udb_result r = UDB_OK;

	db->tx_marked = false;
	for (size_t i = 0; i < UDB_CHANGE_SESSIONS && r == UDB_OK; i++) {
		sqlite3_changeset_iter *it = NULL;
		void *set = NULL;
		int n = 0, rc, rows = 0;

		if (!db->image_sessions[i])
			continue;
		rc = sqlite3session_changeset(db->image_sessions[i], &n, &set);
		if (rc == SQLITE_OK && n > 0)
			rc = sqlite3changeset_start(&it, n, set);
		if (rc != SQLITE_OK)
			r = rc == SQLITE_NOMEM ? UDB_NO_MEMORY : UDB_INTERNAL;
		while (r == UDB_OK && it && sqlite3changeset_next(it) == SQLITE_ROW) {
			/* A bulk change (an import) rebuilds the bases
			 * anyway: one mark says so. */
			if (++rows > UDB_IMAGE_DELTA_MAX) {
				r = mark(db, 2, 0);
				break;
			}
			r = mark_row(db, it);
		}
		if (it)
			sqlite3changeset_finalize(it);
		sqlite3_free(set);
	}
	udb_image_changes_stop(db);
	return r;
}
