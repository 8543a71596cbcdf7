/* The audit table: adding a row after a change of the admin tool and
 * reading the rows back for `userdb log`. Called by cli/audit.c. */
#include <stdlib.h>

#include "audit.h"
#include "db-internal.h"

/* The columns of UDB_Q_AUDIT_LIST. */
enum audit_column {
	COL_ID,
	COL_AT,
	COL_UID,
	COL_ACTOR,
	COL_SUDO_USER,
	COL_COMMAND,
	COL_USER,
	COL_ROLE,
	COL_MESSAGE,
};

enum udb_result
udb_audit_add(struct udb_db *db, const struct udb_audit_change *e)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (!e->actor || !e->command || !e->message)
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	/* The audit table is in no image. */
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = udb_stmt(db, UDB_Q_AUDIT_INSERT, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, e->at);
		sqlite3_bind_int64(stmt, 2, e->uid);
		udb_bind_text(stmt, 3, e->actor);
		udb_bind_text(stmt, 4, e->sudo_user);
		udb_bind_text(stmt, 5, e->command);
		udb_bind_text(stmt, 6, e->subject_user);
		udb_bind_text(stmt, 7, e->subject_role);
		udb_bind_text(stmt, 8, e->message);
		r = udb_stmt_exec(db, UDB_Q_AUDIT_INSERT);
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

void
udb_audit_list_free(struct udb_audit_entry *entries, size_t n)
{
	if (!entries)
		return;
	for (size_t i = 0; i < n; i++) {
		free(entries[i].actor);
		free(entries[i].sudo_user);
		free(entries[i].command);
		free(entries[i].subject_user);
		free(entries[i].subject_role);
		free(entries[i].message);
	}
	free(entries);
}

/* A text column that may be NULL, copied; false when out of memory. */
static bool
column_optional(sqlite3_stmt *stmt, int col, char **ret)
{
	*ret = NULL;
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return true;
	*ret = udb_column_strdup(stmt, col);
	return *ret != NULL;
}

static bool
read_row(sqlite3_stmt *stmt, struct udb_audit_entry *e)
{
	e->id = sqlite3_column_int64(stmt, COL_ID);
	e->at = sqlite3_column_int64(stmt, COL_AT);
	e->uid = (uint32_t)sqlite3_column_int64(stmt, COL_UID);
	e->actor = udb_column_strdup(stmt, COL_ACTOR);
	e->command = udb_column_strdup(stmt, COL_COMMAND);
	e->message = udb_column_strdup(stmt, COL_MESSAGE);
	return column_optional(stmt, COL_SUDO_USER, &e->sudo_user) &&
	       column_optional(stmt, COL_USER, &e->subject_user) &&
	       column_optional(stmt, COL_ROLE, &e->subject_role) && e->actor && e->command &&
	       e->message;
}

enum udb_result
udb_audit_list(struct udb_db *db, const char *user, int64_t since,
	       struct udb_audit_entry **ret_entries, size_t *ret_n)
{
	struct udb_audit_entry *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = udb_stmt(db, UDB_Q_AUDIT_LIST, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, user);
	sqlite3_bind_int64(stmt, 2, since);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct udb_audit_entry *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				r = UDB_NO_MEMORY;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[n] = (struct udb_audit_entry){0};
		if (!read_row(stmt, &v[n++])) {
			r = UDB_NO_MEMORY;
			break;
		}
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_AUDIT_LIST);
	if (r != UDB_OK) {
		udb_audit_list_free(v, n);
		return r;
	}
	*ret_entries = v;
	*ret_n = n;
	return UDB_OK;
}
