/* Email addresses of users: add, delete, confirm, make primary, list.
 * Called by the CLI, and by the PAM module for require_confirmed_email. */
#include <stdlib.h>

#include "db-internal.h"
#include "email.h"
#include "user.h"
#include "validate.h"

void
udb_email_list_free(struct udb_email *emails, size_t n)
{
	if (!emails)
		return;
	for (size_t i = 0; i < n; i++)
		free(emails[i].address);
	free(emails);
}

/* Starts a transaction and looks the user up; on success the caller owns
 * the transaction. */
static enum udb_result
begin_with_user(struct udb_db *db, const char *user, int64_t *ret_id)
{
	struct udb_user *u = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	/* Emails are in no image. */
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = udb_user_by_name(db, user, &u);
	if (r == UDB_OK)
		*ret_id = u->id;
	else
		udb_db_rollback(db);
	udb_user_free(u);
	return r;
}

/* Runs q bound with (user id, address) and reports whether a row changed. */
static enum udb_result
exec_user_address(struct udb_db *db, enum udb_query q, int64_t id, const char *address, int64_t now,
		  bool *ret_changed)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	udb_bind_text(stmt, 2, address);
	if (q == UDB_Q_EMAIL_CONFIRM)
		sqlite3_bind_int64(stmt, 3, now);
	r = udb_stmt_exec(db, q);
	if (r == UDB_OK && ret_changed)
		*ret_changed = sqlite3_changes(db->sql) > 0;
	return r;
}

static enum udb_result
clear_primary(struct udb_db *db, int64_t id)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_EMAIL_CLEAR_PRIMARY, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	return udb_stmt_exec(db, UDB_Q_EMAIL_CLEAR_PRIMARY);
}

enum udb_result
udb_email_add(struct udb_db *db, const char *user, const char *address, bool make_primary,
	      bool confirmed, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int64_t id = 0, count = 0;

	if (!udb_valid_email(address))
		return UDB_INVALID;
	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = begin_with_user(db, user, &id);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_EMAIL_COUNT, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		r = udb_stmt_int(db, UDB_Q_EMAIL_COUNT, &count);
	}
	if (r == UDB_OK && make_primary)
		r = clear_primary(db, id);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_EMAIL_INSERT, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, id);
		udb_bind_text(stmt, 2, address);
		udb_bind_time(stmt, 3, confirmed ? now : 0);
		sqlite3_bind_int(stmt, 4, make_primary || count == 0);
		sqlite3_bind_int64(stmt, 5, now);
		r = udb_stmt_exec(db, UDB_Q_EMAIL_INSERT);
	}
	return udb_db_finish(db, r);
}

enum udb_result
udb_email_delete(struct udb_db *db, const char *user, const char *address)
{
	enum udb_result r;
	int64_t id = 0;
	bool changed = false;

	if (!udb_valid_email(address))
		return UDB_NOT_FOUND;
	r = begin_with_user(db, user, &id);
	if (r != UDB_OK)
		return r;
	r = exec_user_address(db, UDB_Q_EMAIL_DELETE, id, address, 0, &changed);
	if (r == UDB_OK && !changed)
		r = UDB_NOT_FOUND;
	return udb_db_finish(db, r);
}

enum udb_result
udb_email_confirm(struct udb_db *db, const char *user, const char *address, int64_t now,
		  bool *ret_changed)
{
	struct udb_email *emails = NULL;
	enum udb_result r;
	size_t n = 0;
	bool known = false;

	if (!udb_valid_email(address))
		return UDB_NOT_FOUND;
	r = udb_email_list(db, user, &emails, &n);
	if (r != UDB_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		known = known || sqlite3_stricmp(emails[i].address, address) == 0;
	udb_email_list_free(emails, n);
	if (!known)
		return UDB_NOT_FOUND;
	{
		int64_t id = 0;

		r = begin_with_user(db, user, &id);
		if (r != UDB_OK)
			return r;
		r = exec_user_address(db, UDB_Q_EMAIL_CONFIRM, id, address, now, ret_changed);
	}
	return udb_db_finish(db, r);
}

enum udb_result
udb_email_make_primary(struct udb_db *db, const char *user, const char *address)
{
	enum udb_result r;
	int64_t id = 0;
	bool changed = false;

	if (!udb_valid_email(address))
		return UDB_NOT_FOUND;
	r = begin_with_user(db, user, &id);
	if (r != UDB_OK)
		return r;
	r = clear_primary(db, id);
	if (r == UDB_OK)
		r = exec_user_address(db, UDB_Q_EMAIL_SET_PRIMARY, id, address, 0, &changed);
	if (r == UDB_OK && !changed)
		r = UDB_NOT_FOUND;
	return udb_db_finish(db, r);
}

enum udb_result
udb_email_list(struct udb_db *db, const char *user, struct udb_email **ret_emails, size_t *ret_n)
{
	struct udb_email *emails = NULL;
	struct udb_user *u = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	size_t n = 0, cap = 0;
	int rc = SQLITE_DONE;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = udb_user_by_name(db, user, &u);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_EMAIL_LIST, &stmt);
	if (r != UDB_OK) {
		udb_user_free(u);
		return r;
	}
	sqlite3_bind_int64(stmt, 1, u->id);
	udb_user_free(u);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			struct udb_email *grown;

			cap = cap ? cap * 2 : 4;
			grown = realloc(emails, cap * sizeof(*emails));
			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			emails = grown;
		}
		emails[n].address = udb_column_strdup(stmt, 0);
		if (!emails[n].address) {
			r = UDB_NO_MEMORY;
			break;
		}
		emails[n].confirmed_at = udb_column_time(stmt, 1);
		emails[n].is_primary = sqlite3_column_int(stmt, 2) != 0;
		emails[n].created_at = sqlite3_column_int64(stmt, 3);
		n++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_EMAIL_LIST);
	if (r != UDB_OK) {
		udb_email_list_free(emails, n);
		return r;
	}
	*ret_emails = emails;
	*ret_n = n;
	return UDB_OK;
}

enum udb_result
udb_user_has_confirmed_email(struct udb_db *db, int64_t user_id, bool *ret_has)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int64_t has = 0;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = udb_stmt(db, UDB_Q_EMAIL_HAS_CONFIRMED, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	r = udb_stmt_int(db, UDB_Q_EMAIL_HAS_CONFIRMED, &has);
	if (r == UDB_OK)
		*ret_has = has != 0;
	return r;
}
