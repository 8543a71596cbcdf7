/* A user's SSH keys in the store (see sshkey_store.h). Every key was
 * parsed and checked by sshkey.c before it gets here; keys are in no NSS
 * image, so these transactions rebuild only keys.img (transaction.c sees
 * the trigger counters move). */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "sshkey_store.h"
#include "user.h"

void
udb_sshkey_rows_free(struct udb_sshkey_row *rows, size_t n)
{
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++) {
		free(rows[i].type);
		free(rows[i].fingerprint);
		free(rows[i].options);
		free(rows[i].comment);
		free(rows[i].blob);
	}
	free(rows);
}

static enum udb_result
user_id(struct udb_db *db, const char *user, int64_t *ret_id)
{
	struct udb_user *u = NULL;
	enum udb_result r = udb_user_by_name(db, user, &u);

	if (r == UDB_OK)
		*ret_id = u->id;
	udb_user_free(u);
	return r;
}

static enum udb_result
insert(struct udb_db *db, int64_t id, const struct udb_sshkey *k, const char *comment,
       int64_t until, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_SSHKEY_INSERT, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	udb_bind_text(stmt, 2, k->type);
	udb_bind_text(stmt, 3, k->blob);
	udb_bind_text(stmt, 4, k->options);
	udb_bind_text(stmt, 5, comment ? comment : k->comment);
	udb_bind_text(stmt, 6, k->fingerprint);
	sqlite3_bind_int64(stmt, 7, now);
	udb_bind_time(stmt, 8, until);
	return udb_stmt_exec(db, UDB_Q_SSHKEY_INSERT);
}

enum udb_result
udb_sshkey_add(struct udb_db *db, const char *user, const struct udb_sshkey *keys, size_t n,
	       const char *comment, int64_t until, int64_t now, size_t *ret_failed)
{
	enum udb_result r;
	int64_t id = 0;

	if (comment && !udb_sshkey_valid_comment(comment))
		return UDB_INVALID;
	if (until < 0 || (until && until <= now))
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = user_id(db, user, &id);
	for (size_t i = 0; i < n && r == UDB_OK; i++) {
		r = insert(db, id, &keys[i], comment, until, now);
		if (r != UDB_OK && ret_failed)
			*ret_failed = i;
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

enum udb_result
udb_sshkey_delete(struct udb_db *db, const char *user, const char *fingerprint)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int64_t id = 0;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = user_id(db, user, &id);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_SSHKEY_DELETE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		udb_bind_text(stmt, 2, fingerprint);
		r = udb_stmt_exec(db, UDB_Q_SSHKEY_DELETE);
	}
	if (r == UDB_OK && sqlite3_changes(db->sql) == 0)
		r = UDB_NOT_FOUND;
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

/* Columns of UDB_Q_SSHKEY_LIST. */
enum { COL_TYPE, COL_FINGERPRINT, COL_OPTIONS, COL_COMMENT, COL_ADDED, COL_UNTIL, COL_BLOB };

static enum udb_result
read_row(sqlite3_stmt *stmt, struct udb_sshkey_row *row)
{
	row->type = udb_column_strdup(stmt, COL_TYPE);
	row->fingerprint = udb_column_strdup(stmt, COL_FINGERPRINT);
	row->options = udb_column_strdup(stmt, COL_OPTIONS);
	row->comment = udb_column_strdup(stmt, COL_COMMENT);
	row->blob = udb_column_strdup(stmt, COL_BLOB);
	row->added_at = sqlite3_column_int64(stmt, COL_ADDED);
	row->until = udb_column_time(stmt, COL_UNTIL);
	if (!row->type || !row->fingerprint || !row->options || !row->comment || !row->blob)
		return UDB_NO_MEMORY;
	return UDB_OK;
}

enum udb_result
udb_sshkey_list(struct udb_db *db, const char *user, struct udb_sshkey_row **ret_rows,
		size_t *ret_n)
{
	struct udb_sshkey_row *rows = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t n = 0, cap = 0;
	enum udb_result r;
	int64_t id = 0;
	int rc = SQLITE_DONE;

	r = user_id(db, user, &id);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_SSHKEY_LIST, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct udb_sshkey_row *grown = realloc(rows, ncap * sizeof(*rows));

			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			rows = grown;
			cap = ncap;
		}
		memset(&rows[n], 0, sizeof(rows[n]));
		r = read_row(stmt, &rows[n++]);
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_SSHKEY_LIST);
	if (r != UDB_OK) {
		udb_sshkey_rows_free(rows, n);
		return r;
	}
	*ret_rows = rows;
	*ret_n = n;
	return UDB_OK;
}
