/* What a write transaction changed, as an SQLite changeset, for the
 * change hook of db.h (fleet mode's admin mirror hands it to central before
 * the local COMMIT). Called by transaction.c only: capture starts at the
 * outermost udb_db_begin() when a hook is set and ends at its commit or
 * rollback.
 *
 * SQLite sessions are per attached schema, so the transaction has one on
 * the shadow file ("sec") and one on the public file ("pub"); a changeset
 * names tables without their schema, and the two are joined with a
 * changegroup into one (no captured table name is in both files). Which
 * tables are captured is the hook's to say: local bookkeeping (meta, the
 * passwd_entries cache) is not part of what central holds. Changes made by
 * SQLite itself (ON DELETE CASCADE) are captured like any other. */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <string.h>

#include "db-internal.h"

static const char *const schemas[UDB_CHANGE_SESSIONS] = {"sec", "pub"};

static int
filter_table(void *ctx, const char *table)
{
	const struct udb_change_filter *f = ctx;

	return f->db->hook.captures(f->schema, table, f->db->hook.ctx) ? 1 : 0;
}

void
udb_changes_stop(struct udb_db *db)
{
	for (size_t i = 0; i < UDB_CHANGE_SESSIONS; i++) {
		if (db->sessions[i])
			sqlite3session_delete(db->sessions[i]);
		db->sessions[i] = NULL;
	}
}

enum udb_result
udb_changes_start(struct udb_db *db)
{
	int rc = SQLITE_OK;

	if (!db->hook.send)
		return UDB_OK;
	for (size_t i = 0; i < UDB_CHANGE_SESSIONS && rc == SQLITE_OK; i++) {
		db->filters[i].db = db;
		db->filters[i].schema = schemas[i];
		rc = sqlite3session_create(db->sql, schemas[i], &db->sessions[i]);
		if (rc != SQLITE_OK)
			break;
		sqlite3session_table_filter(db->sessions[i], filter_table, &db->filters[i]);
		rc = sqlite3session_attach(db->sessions[i], NULL);
	}
	if (rc != SQLITE_OK) {
		udb_changes_stop(db);
		return rc == SQLITE_NOMEM ? UDB_NO_MEMORY : UDB_INTERNAL;
	}
	return UDB_OK;
}

enum udb_result
udb_changes_take(struct udb_db *db, void **ret_changeset, int *ret_size)
{
	sqlite3_changegroup *group = NULL;
	int rc;

	*ret_changeset = NULL;
	*ret_size = 0;
	rc = sqlite3changegroup_new(&group);
	for (size_t i = 0; i < UDB_CHANGE_SESSIONS && rc == SQLITE_OK; i++) {
		void *part = NULL;
		int n = 0;

		rc = sqlite3session_changeset(db->sessions[i], &n, &part);
		if (rc == SQLITE_OK && n > 0)
			rc = sqlite3changegroup_add(group, n, part);
		sqlite3_free(part);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3changegroup_output(group, ret_size, ret_changeset);
	sqlite3changegroup_delete(group);
	udb_changes_stop(db);
	if (rc != SQLITE_OK) {
		*ret_changeset = NULL;
		*ret_size = 0;
		return rc == SQLITE_NOMEM ? UDB_NO_MEMORY : UDB_INTERNAL;
	}
	return UDB_OK;
}

void
udb_db_set_change_hook(struct udb_db *db, const struct udb_change_hook *hook)
{
	if (hook)
		db->hook = *hook;
	else
		memset(&db->hook, 0, sizeof(db->hook));
}
