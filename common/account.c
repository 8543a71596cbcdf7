/* Shadow records: reading, the status rules (enabled, validity, aging,
 * lockout), and every change to them. Called by the PAM module, the NSS
 * module and the CLI through account.h. */
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "db-internal.h"
#include "hash.h"
#include "outbox.h"
#include "replica.h"
#include "user.h"
#include "validate.h"

#define DAY 86400

void
udb_account_free(struct udb_account *a)
{
	if (!a)
		return;
	free(a->username);
	udb_secret_free(a->password_hash);
	free(a->last_login_ip);
	free(a->current_login_ip);
	free(a);
}

void
udb_account_list_free(struct udb_account **accounts, size_t n)
{
	if (!accounts)
		return;
	for (size_t i = 0; i < n; i++)
		udb_account_free(accounts[i]);
	free(accounts);
}

static int
column_days(sqlite3_stmt *stmt, int i)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return UDB_DAYS_UNSET;
	return sqlite3_column_int(stmt, i);
}

static char *
column_optional_strdup(sqlite3_stmt *stmt, int i, bool *ret_failed)
{
	char *s;

	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return NULL;
	s = udb_column_strdup(stmt, i);
	if (!s)
		*ret_failed = true;
	return s;
}

/* Reads ACCOUNT_COLUMNS (sql.c) starting at column base. */
static enum udb_result
account_from_row(sqlite3_stmt *stmt, int base, struct udb_account **ret_account)
{
	struct udb_account *a = calloc(1, sizeof(*a));
	bool failed = false;

	if (!a)
		return UDB_NO_MEMORY;
	a->user_id = sqlite3_column_int64(stmt, base + 0);
	a->password_hash = column_optional_strdup(stmt, base + 1, &failed);
	a->password_changed_at = udb_column_time(stmt, base + 2);
	a->min_days = column_days(stmt, base + 3);
	a->max_days = column_days(stmt, base + 4);
	a->warn_days = column_days(stmt, base + 5);
	a->inactive_days = column_days(stmt, base + 6);
	a->must_change = sqlite3_column_int(stmt, base + 7) != 0;
	a->is_enabled = sqlite3_column_int(stmt, base + 8) != 0;
	a->not_before = udb_column_time(stmt, base + 9);
	a->not_after = udb_column_time(stmt, base + 10);
	a->failed_count = sqlite3_column_int(stmt, base + 11);
	a->last_failed_at = udb_column_time(stmt, base + 12);
	a->locked_until = udb_column_time(stmt, base + 13);
	a->last_login_at = udb_column_time(stmt, base + 14);
	a->current_login_at = udb_column_time(stmt, base + 15);
	a->last_login_ip = column_optional_strdup(stmt, base + 16, &failed);
	a->current_login_ip = column_optional_strdup(stmt, base + 17, &failed);
	a->login_count = sqlite3_column_int64(stmt, base + 18);
	if (failed) {
		udb_account_free(a);
		return UDB_NO_MEMORY;
	}
	*ret_account = a;
	return UDB_OK;
}

enum udb_result
udb_account_by_user_id(struct udb_db *db, int64_t user_id, struct udb_account **ret_account)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = udb_stmt(db, UDB_Q_ACCOUNT_BY_USER_ID, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = account_from_row(stmt, 0, ret_account);
	else
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_ACCOUNT_BY_USER_ID);
	return r;
}

/* The login columns of UDB_Q_LOGIN_BY_NAME and
 * UDB_Q_LOGIN_CREDENTIALS_BY_NAME, from column 1: the rest stays 0. */
static enum udb_result
login_from_row(sqlite3_stmt *stmt, struct udb_account **ret_account)
{
	struct udb_account *a = calloc(1, sizeof(*a));
	bool failed = false;

	if (!a)
		return UDB_NO_MEMORY;
	a->user_id = sqlite3_column_int64(stmt, 1);
	a->password_hash = column_optional_strdup(stmt, 2, &failed);
	if (failed) {
		udb_account_free(a);
		return UDB_NO_MEMORY;
	}
	*ret_account = a;
	return UDB_OK;
}

/* The account named name, read with one statement (so one read transaction:
 * an auth reads nothing else); with login, only what udb_account_for_login
 * fills. *ret_confirmed is false for a credentials handle's name that the
 * public file may not have yet. */
static enum udb_result
account_query(struct udb_db *db, const char *name, bool login, struct udb_account **ret_account,
	      bool *ret_confirmed)
{
	struct udb_account *a = NULL;
	sqlite3_stmt *stmt = NULL;
	bool credentials = !udb_db_has_public(db);
	enum udb_query q =
		login ? (credentials ? UDB_Q_LOGIN_CREDENTIALS_BY_NAME : UDB_Q_LOGIN_BY_NAME)
		: credentials ? UDB_Q_CREDENTIALS_BY_NAME
			      : UDB_Q_ACCOUNT_BY_NAME;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		r = login ? login_from_row(stmt, &a) : account_from_row(stmt, 1, &a);
		if (r == UDB_OK) {
			a->username = udb_column_strdup(stmt, 0);
			if (!a->username)
				r = UDB_NO_MEMORY;
		}
		*ret_confirmed = !credentials || sqlite3_column_int(stmt, login ? 3 : 20) != 0;
	} else {
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	}
	udb_stmt_done(db, q);
	if (r != UDB_OK) {
		udb_account_free(a);
		return r;
	}
	*ret_account = a;
	return UDB_OK;
}

static enum udb_result
account_by_name(struct udb_db *db, const char *name, bool login, struct udb_account **ret_account)
{
	struct udb_account *a = NULL;
	struct udb_db *both = NULL;
	bool confirmed = true;
	enum udb_result r;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	if (!udb_valid_username(name))
		return UDB_NOT_FOUND;
	r = account_query(db, name, login, &a, &confirmed);
	if (r != UDB_OK || confirmed) {
		if (r == UDB_OK)
			*ret_account = a;
		return r;
	}
	/* A credentials handle found a name added since the last write: the
	 * public file decides whether the user exists (a user add cut short
	 * between the two commits left only the account). */
	udb_account_free(a);
	a = NULL;
	r = udb_db_open_transient(udb_db_dir(db), UDB_OPEN_READ_BOTH, &both);
	if (r == UDB_OK)
		r = account_query(both, name, login, &a, &confirmed);
	udb_db_close(both);
	if (r == UDB_OK)
		*ret_account = a;
	return r;
}

enum udb_result
udb_account_by_name(struct udb_db *db, const char *name, struct udb_account **ret_account)
{
	return account_by_name(db, name, false, ret_account);
}

enum udb_result
udb_account_for_login(struct udb_db *db, const char *name, struct udb_account **ret_account)
{
	return account_by_name(db, name, true, ret_account);
}

enum udb_result
udb_shadow_page(struct udb_db *db, int64_t after_id, size_t max, struct udb_account ***ret_accounts,
		size_t *ret_n)
{
	struct udb_account **list;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = udb_stmt(db, UDB_Q_SHADOW_PAGE, &stmt);
	if (r != UDB_OK)
		return r;
	list = calloc(max ? max : 1, sizeof(*list));
	if (!list) {
		udb_stmt_done(db, UDB_Q_SHADOW_PAGE);
		return UDB_NO_MEMORY;
	}
	sqlite3_bind_int64(stmt, 1, after_id);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		r = account_from_row(stmt, 1, &list[n]);
		if (r != UDB_OK)
			break;
		list[n]->username = udb_column_strdup(stmt, 0);
		if (!list[n++]->username) {
			r = UDB_NO_MEMORY;
			break;
		}
	}
	if (r == UDB_OK && n < max && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_SHADOW_PAGE);
	if (r != UDB_OK) {
		udb_account_list_free(list, n);
		return r;
	}
	*ret_accounts = list;
	*ret_n = n;
	return UDB_OK;
}

enum udb_account_status
udb_account_status(const struct udb_account *a, int64_t now)
{
	if (!a->is_enabled)
		return UDB_ACCOUNT_DISABLED;
	if (a->not_before && now < a->not_before)
		return UDB_ACCOUNT_NOT_YET_VALID;
	if (a->not_after && now >= a->not_after)
		return UDB_ACCOUNT_EXPIRED;
	if (a->must_change)
		return UDB_ACCOUNT_PASSWORD_MUST_CHANGE;
	if (a->password_hash && a->password_changed_at && a->max_days > 0) {
		int64_t expires = a->password_changed_at + (int64_t)a->max_days * DAY;

		if (now >= expires) {
			if (a->inactive_days >= 0 &&
			    now >= expires + (int64_t)a->inactive_days * DAY)
				return UDB_ACCOUNT_PASSWORD_EXPIRED;
			return UDB_ACCOUNT_PASSWORD_MUST_CHANGE;
		}
	}
	return UDB_ACCOUNT_OK;
}

const char *
udb_account_status_to_string(enum udb_account_status status)
{
	switch (status) {
	case UDB_ACCOUNT_OK:
		return "ok";
	case UDB_ACCOUNT_DISABLED:
		return "disabled";
	case UDB_ACCOUNT_NOT_YET_VALID:
		return "not yet valid";
	case UDB_ACCOUNT_EXPIRED:
		return "expired";
	case UDB_ACCOUNT_PASSWORD_MUST_CHANGE:
		return "password must be changed";
	case UDB_ACCOUNT_PASSWORD_EXPIRED:
		return "password expired";
	}
	return "unknown";
}

/* One change to the account of a named user: q is bound with the user id at
 * ?1, then text (when set), then the integers (NULL where int_is_null), and
 * run in its own transaction. */
struct change {
	enum udb_query q;
	int n_ints;
	int64_t ints[4];
	bool int_is_null[4];
	const char *text;
	/* > 0: the change is central's revision central_rev, made there
	 * already (udb_replica_follow). */
	int64_t central_rev;
};

static enum udb_result
change_account(struct udb_db *db, const char *name, const struct change *c, bool *ret_changed)
{
	struct udb_user *u = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int next = 2;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(db, name, &u);
	if (r == UDB_OK)
		r = udb_stmt(db, c->q, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, u->id);
		if (c->text)
			udb_bind_text(stmt, next++, c->text);
		for (int i = 0; i < c->n_ints; i++, next++) {
			if (c->int_is_null[i])
				sqlite3_bind_null(stmt, next);
			else
				sqlite3_bind_int64(stmt, next, c->ints[i]);
		}
		r = udb_stmt_exec(db, c->q);
	}
	if (r == UDB_OK && c->central_rev > 0)
		r = udb_replica_follow(db, c->central_rev);
	if (r == UDB_OK && ret_changed)
		*ret_changed = sqlite3_changes(db->sql) > 0;
	udb_user_free(u);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	/* The account is in the shadow file: only its image can change. */
	udb_db_limit_images(db, UDB_IMAGE_SHADOW);
	return udb_db_commit(db);
}

enum udb_result
udb_account_set_enabled(struct udb_db *db, const char *name, bool enabled, bool *ret_changed)
{
	struct change c = {.q = UDB_Q_ACCOUNT_SET_ENABLED, .n_ints = 1, .ints = {enabled}};

	return change_account(db, name, &c, ret_changed);
}

enum udb_result
udb_account_set_password(struct udb_db *db, const char *name, const char *hash, int64_t now)
{
	struct change c = {.q = UDB_Q_ACCOUNT_SET_PASSWORD, .n_ints = 1, .ints = {now}};

	/* A NULL hash is bound as NULL (no password) through udb_bind_text. */
	c.text = hash;
	if (!hash) {
		c.text = NULL;
		c.n_ints = 2;
		c.int_is_null[0] = true;
		c.ints[1] = now;
	}
	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_set_password_as(struct udb_db *db, const char *name, const char *hash, int64_t now,
			    int64_t central_rev)
{
	struct change c = {.q = UDB_Q_ACCOUNT_SET_PASSWORD,
			   .n_ints = 1,
			   .ints = {now},
			   .text = hash,
			   .central_rev = central_rev};

	if (!hash || central_rev <= 0)
		return UDB_INVALID;
	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_lock_password(struct udb_db *db, const char *name, bool lock, bool *ret_changed)
{
	struct change c = {.q = lock ? UDB_Q_ACCOUNT_LOCK_PASSWORD : UDB_Q_ACCOUNT_UNLOCK_PASSWORD};

	return change_account(db, name, &c, ret_changed);
}

enum udb_result
udb_account_upgrade_hash(struct udb_db *db, int64_t user_id, const char *old_hash,
			 const char *new_hash)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (!old_hash || !new_hash)
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_ACCOUNT_UPGRADE_HASH, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, user_id);
		udb_bind_text(stmt, 2, old_hash);
		udb_bind_text(stmt, 3, new_hash);
		r = udb_stmt_exec(db, UDB_Q_ACCOUNT_UPGRADE_HASH);
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	udb_db_limit_images(db, UDB_IMAGE_SHADOW);
	return udb_db_commit(db);
}

enum udb_result
udb_account_set_validity(struct udb_db *db, const char *name, int64_t not_before, int64_t not_after)
{
	struct change c = {.q = UDB_Q_ACCOUNT_SET_VALIDITY,
			   .n_ints = 2,
			   .ints = {not_before, not_after},
			   .int_is_null = {not_before == 0, not_after == 0}};

	if (not_before && not_after && not_after <= not_before)
		return UDB_INVALID;
	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_set_must_change(struct udb_db *db, const char *name, bool must_change)
{
	struct change c = {.q = UDB_Q_ACCOUNT_SET_MUST_CHANGE, .n_ints = 1, .ints = {must_change}};

	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_set_aging(struct udb_db *db, const char *name, int min_days, int max_days,
		      int warn_days, int inactive_days)
{
	struct change c = {
		.q = UDB_Q_ACCOUNT_SET_AGING,
		.n_ints = 4,
		.ints = {min_days, max_days, warn_days, inactive_days},
		.int_is_null = {min_days < 0, max_days < 0, warn_days < 0, inactive_days < 0},
	};

	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_unlock(struct udb_db *db, const char *name)
{
	struct change c = {.q = UDB_Q_ACCOUNT_UNLOCK};

	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_unlock_fleet(struct udb_db *db, const char *name, int64_t now)
{
	struct change c = {.q = UDB_Q_ACCOUNT_UNLOCK_FLEET, .n_ints = 1, .ints = {now}};

	return change_account(db, name, &c, NULL);
}

enum udb_result
udb_account_record_failure(struct udb_db *db, int64_t user_id, int64_t now, unsigned deny,
			   unsigned unlock_time, bool *ret_locked)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	bool locked_now = false;
	int rc;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_ACCOUNT_FAILURE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, user_id);
		sqlite3_bind_int64(stmt, 2, now);
		sqlite3_bind_int64(stmt, 3, deny);
		if (unlock_time)
			sqlite3_bind_int64(stmt, 4, now + unlock_time);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			int64_t until = udb_column_time(stmt, 1);

			locked_now = until != 0 && now < until;
			if (ret_locked)
				*ret_locked = locked_now;
			rc = sqlite3_step(stmt);
		} else if (rc == SQLITE_DONE) {
			r = UDB_NOT_FOUND;
		}
		if (r == UDB_OK && rc != SQLITE_DONE)
			r = udb_sqlite_result(rc);
		udb_stmt_done(db, UDB_Q_ACCOUNT_FAILURE);
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	/* Only a lock that starts now changes what NSS shows. */
	udb_db_limit_images(db, locked_now ? UDB_IMAGE_SHADOW : UDB_IMAGES_NONE);
	return udb_db_commit(db);
}

static enum udb_result
record_by_id(struct udb_db *db, enum udb_query q, int64_t user_id, int64_t now, const char *text)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	/* An unknown name's count and a login record change nothing NSS
	 * shows (a reset can end a lock: the default rebuilds). */
	if (q != UDB_Q_ACCOUNT_SUCCESS)
		udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = udb_stmt(db, q, &stmt);
	if (r == UDB_OK) {
		if (q != UDB_Q_COUNT_UNKNOWN_FAILURE)
			sqlite3_bind_int64(stmt, 1, user_id);
		if (q == UDB_Q_ACCOUNT_LOGIN) {
			sqlite3_bind_int64(stmt, 2, now);
			udb_bind_text(stmt, 3, text);
		}
		r = udb_stmt_exec(db, q);
	}
	/* A fleet host reports the login to central (outbox.h). */
	if (r == UDB_OK && q == UDB_Q_ACCOUNT_LOGIN)
		r = udb_outbox_add_in_tx(db, user_id, UDB_OUTBOX_LOGIN, now, text);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

enum udb_result
udb_account_record_success(struct udb_db *db, int64_t user_id)
{
	return record_by_id(db, UDB_Q_ACCOUNT_SUCCESS, user_id, 0, NULL);
}

enum udb_result
udb_account_record_unknown_failure(struct udb_db *db)
{
	return record_by_id(db, UDB_Q_COUNT_UNKNOWN_FAILURE, 0, 0, NULL);
}

enum udb_result
udb_account_record_login(struct udb_db *db, int64_t user_id, int64_t now, const char *rhost)
{
	return record_by_id(db, UDB_Q_ACCOUNT_LOGIN, user_id, now, rhost);
}
