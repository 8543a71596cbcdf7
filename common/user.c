/* Users: lookups, paging, add, modify, delete. Called by the CLI, NSS and
 * PAM modules through user.h; whether a name or id is free (for users and
 * roles alike) is in names.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "ids.h"
#include "role.h"
#include "user.h"
#include "validate.h"

void
udb_user_free(struct udb_user *user)
{
	if (!user)
		return;
	free(user->username);
	free(user->primary_role);
	free(user->first_name);
	free(user->last_name);
	free(user->home);
	free(user->shell);
	free(user);
}

void
udb_user_list_free(struct udb_user **users, size_t n)
{
	if (!users)
		return;
	for (size_t i = 0; i < n; i++)
		udb_user_free(users[i]);
	free(users);
}

/* Reads a row laid out as USER_COLUMNS in sql.c. */
static enum udb_result
user_from_row(sqlite3_stmt *stmt, struct udb_user **ret_user)
{
	struct udb_user *u;

	u = calloc(1, sizeof(*u));
	if (!u)
		return UDB_NO_MEMORY;
	u->id = sqlite3_column_int64(stmt, 0);
	u->username = udb_column_strdup(stmt, 1);
	u->uid = (uint32_t)sqlite3_column_int64(stmt, 2);
	u->gid = (uint32_t)sqlite3_column_int64(stmt, 3);
	if (sqlite3_column_type(stmt, 4) != SQLITE_NULL)
		u->primary_role = udb_column_strdup(stmt, 4);
	u->first_name = udb_column_strdup(stmt, 5);
	u->last_name = udb_column_strdup(stmt, 6);
	u->home = udb_column_strdup(stmt, 7);
	u->shell = udb_column_strdup(stmt, 8);
	u->created_at = sqlite3_column_int64(stmt, 9);
	u->updated_at = sqlite3_column_int64(stmt, 10);
	if (!u->username || !u->first_name || !u->last_name || !u->home || !u->shell ||
	    (sqlite3_column_type(stmt, 4) != SQLITE_NULL && !u->primary_role)) {
		udb_user_free(u);
		return UDB_NO_MEMORY;
	}
	*ret_user = u;
	return UDB_OK;
}

/* Runs q (already bound) expecting at most one user row. */
static enum udb_result
user_query_one(struct udb_db *db, enum udb_query q, struct udb_user **ret_user)
{
	enum udb_result r;
	int rc;

	rc = sqlite3_step(db->stmts[q]);
	if (rc == SQLITE_ROW)
		r = user_from_row(db->stmts[q], ret_user);
	else if (rc == SQLITE_DONE)
		r = UDB_NOT_FOUND;
	else
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	return r;
}

enum udb_result
udb_user_by_name(struct udb_db *db, const char *name, struct udb_user **ret_user)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (!udb_valid_username(name))
		return UDB_NOT_FOUND;
	r = udb_stmt(db, UDB_Q_USER_BY_NAME, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, name);
	return user_query_one(db, UDB_Q_USER_BY_NAME, ret_user);
}

enum udb_result
udb_user_by_uid(struct udb_db *db, uint32_t uid, struct udb_user **ret_user)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_USER_BY_UID, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, uid);
	return user_query_one(db, UDB_Q_USER_BY_UID, ret_user);
}

enum udb_result
udb_user_by_email(struct udb_db *db, const char *email, struct udb_user **ret_user)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (!udb_valid_email(email))
		return UDB_NOT_FOUND;
	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	r = udb_stmt(db, UDB_Q_USER_BY_EMAIL, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, email);
	return user_query_one(db, UDB_Q_USER_BY_EMAIL, ret_user);
}

enum udb_result
udb_user_page(struct udb_db *db, int64_t after_id, size_t max, struct udb_user ***ret_users,
	      size_t *ret_n)
{
	struct udb_user **users = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	size_t n = 0;
	int rc = SQLITE_DONE;

	r = udb_stmt(db, UDB_Q_USER_PAGE, &stmt);
	if (r != UDB_OK)
		goto out;
	users = calloc(max ? max : 1, sizeof(*users));
	if (!users) {
		r = UDB_NO_MEMORY;
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, after_id);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		r = user_from_row(stmt, &users[n]);
		if (r != UDB_OK)
			goto out;
		n++;
	}
	if (n < max && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
out:
	udb_stmt_done(db, UDB_Q_USER_PAGE);
	if (r != UDB_OK) {
		udb_user_list_free(users, n);
		return r;
	}
	*ret_users = users;
	*ret_n = n;
	return UDB_OK;
}

enum udb_result
udb_user_each_in_role(struct udb_db *db, const char *role, int64_t now,
		      enum udb_result (*fn)(void *ctx, const struct udb_user *user), void *ctx)
{
	struct udb_role *r_role = NULL;
	struct udb_user *user = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_role_by_name(db, role, &r_role);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_USERS_IN_ROLE, &stmt);
	if (r != UDB_OK)
		goto out;
	sqlite3_bind_int64(stmt, 1, r_role->id);
	sqlite3_bind_int64(stmt, 2, now);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		r = user_from_row(stmt, &user);
		if (r == UDB_OK)
			r = fn(ctx, user);
		udb_user_free(user);
		user = NULL;
		if (r != UDB_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
out:
	udb_stmt_done(db, UDB_Q_USERS_IN_ROLE);
	udb_role_free(r_role);
	return r;
}

static const char *
column_cstr(sqlite3_stmt *stmt, int index)
{
	const unsigned char *s = sqlite3_column_text(stmt, index);

	return s ? (const char *)s : "";
}

/* Steps a bound PASSWD_* statement (sql.c) and hands each row to fn, at
 * most max rows; *ret_n counts the rows fn accepted. */
static enum udb_result
view_rows(struct udb_db *db, enum udb_query q, size_t max, udb_user_view_fn *fn, void *userdata,
	  size_t *ret_n)
{
	sqlite3_stmt *stmt = db->stmts[q];
	enum udb_result r = UDB_OK;
	size_t n = 0;
	int rc = SQLITE_DONE;

	while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct udb_user_view v = {
			.id = sqlite3_column_int64(stmt, 0),
			.username = column_cstr(stmt, 1),
			.uid = (uint32_t)sqlite3_column_int64(stmt, 2),
			.gid = (uint32_t)sqlite3_column_int64(stmt, 3),
			.first_name = column_cstr(stmt, 4),
			.last_name = column_cstr(stmt, 5),
			.home = column_cstr(stmt, 6),
			.shell = column_cstr(stmt, 7),
		};

		r = fn(&v, userdata);
		if (r != UDB_OK)
			break;
		n++;
	}
	if (r == UDB_OK && n < max && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	*ret_n = n;
	return r;
}

enum udb_result
udb_user_view_by_name(struct udb_db *db, const char *name, udb_user_view_fn *fn, void *userdata)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	size_t n = 0;

	if (!udb_valid_username(name))
		return UDB_NOT_FOUND;
	r = udb_stmt(db, UDB_Q_PASSWD_BY_NAME, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, name);
	r = view_rows(db, UDB_Q_PASSWD_BY_NAME, 1, fn, userdata, &n);
	return r == UDB_OK && n == 0 ? UDB_NOT_FOUND : r;
}

/* A page reads its rows through an SQL function instead of the column API:
 * UDB_Q_PASSWD_PAGE calls udb_passwd_entry_walk(?3, uid, gid, entry) on
 * each row of pub.passwd_entries, and page_walk_row() hands the arguments
 * to fn. sqlite3_value_*() on a function's arguments skip the per-call
 * bookkeeping of sqlite3_column_*() (some 15 ns a column here). The walk's
 * state is the bound pointer ?3, checked by its type name, so the function
 * keeps no global state and, being SQLITE_DIRECTONLY, no schema object can
 * call it. */
#define PAGE_WALK_FUNCTION "udb_passwd_entry_walk"
#define PAGE_WALK_POINTER  "udb_passwd_entry_walk_state"

struct page_walk {
	udb_passwd_entry_fn *fn;
	void *userdata;
	enum udb_result r; /* fn's answer when it stopped the walk */
	size_t n;          /* rows fn accepted */
};

/* Whether entry holds exactly the five NUL-terminated strings of a passwd
 * entry: a damaged file must not make a reader run past the value. */
static bool
entry_is_whole(const char *entry, size_t len)
{
	size_t nuls = 0;

	for (const char *p = entry, *end = entry + len; p < end; p++) {
		p = memchr(p, '\0', (size_t)(end - p));
		if (!p)
			return false;
		nuls++;
	}
	return nuls == 5 && len > 0 && entry[len - 1] == '\0';
}

static void
page_walk_row(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	/* ?3 is constant for the statement, so SQLite keeps it as auxiliary
	 * data from the first row to the reset: later rows skip
	 * sqlite3_value_pointer()'s type name comparison. */
	struct page_walk *w = sqlite3_get_auxdata(ctx, 0);
	struct udb_passwd_entry e;

	if (!w) {
		w = sqlite3_value_pointer(argv[0], PAGE_WALK_POINTER);
		if (w)
			sqlite3_set_auxdata(ctx, 0, w, NULL);
	}
	if (!w || argc != 4) {
		sqlite3_result_error_code(ctx, SQLITE_MISUSE);
		return;
	}
	e = (struct udb_passwd_entry){
		.uid = (uint32_t)sqlite3_value_int64(argv[1]),
		.gid = (uint32_t)sqlite3_value_int64(argv[2]),
		.strings = sqlite3_value_blob(argv[3]),
		.len = (size_t)sqlite3_value_bytes(argv[3]),
	};
	if (!e.strings || !entry_is_whole(e.strings, e.len))
		w->r = UDB_CORRUPT;
	else
		w->r = w->fn(&e, w->userdata);
	/* An error result ends the statement at this row; the caller returns
	 * w->r rather than SQLite's code for it. */
	if (w->r != UDB_OK) {
		sqlite3_result_error(ctx, "udb: page walk stopped", -1);
		return;
	}
	w->n++;
}

enum udb_result
udb_passwd_entry_by_uid(struct udb_db *db, uint32_t uid, udb_passwd_entry_fn *fn, void *userdata)
{
	struct udb_passwd_entry e;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_PASSWD_ENTRY_BY_UID, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, uid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		e = (struct udb_passwd_entry){
			.uid = (uint32_t)sqlite3_column_int64(stmt, 0),
			.gid = (uint32_t)sqlite3_column_int64(stmt, 1),
			.strings = sqlite3_column_blob(stmt, 2),
			.len = (size_t)sqlite3_column_bytes(stmt, 2),
		};
		if (!e.strings || !entry_is_whole(e.strings, e.len))
			r = UDB_CORRUPT;
		else
			r = fn(&e, userdata);
	} else {
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_PASSWD_ENTRY_BY_UID);
	return r;
}

enum udb_result
udb_passwd_entry_page(struct udb_db *db, int64_t after_uid, size_t max, udb_passwd_entry_fn *fn,
		      void *userdata, size_t *ret_n)
{
	struct page_walk w = {fn, userdata, UDB_OK, 0};
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	*ret_n = 0;
	/* The statement names the function, so it must exist before the
	 * first prepare; the prepared statement lives as long as the
	 * connection, so this runs once per connection. */
	if (!db->stmts[UDB_Q_PASSWD_PAGE]) {
		rc = sqlite3_create_function_v2(db->sql, PAGE_WALK_FUNCTION, 4,
						SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
						page_walk_row, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return udb_sqlite_result(rc);
	}
	r = udb_stmt(db, UDB_Q_PASSWD_PAGE, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, after_uid);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	sqlite3_bind_pointer(stmt, 3, &w, PAGE_WALK_POINTER, NULL);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	if (w.r != UDB_OK)
		r = w.r;
	else if (rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	/* Also clears ?3: no pointer to this stack frame outlives the call. */
	udb_stmt_done(db, UDB_Q_PASSWD_PAGE);
	*ret_n = w.n;
	return r;
}

static enum udb_result
validate_spec(const struct udb_user_spec *spec)
{
	if (!udb_valid_username(spec->username))
		return UDB_INVALID;
	if (spec->primary_role && !udb_valid_rolename(spec->primary_role))
		return UDB_INVALID;
	if ((spec->first_name && !udb_valid_text(spec->first_name)) ||
	    (spec->last_name && !udb_valid_text(spec->last_name)))
		return UDB_INVALID;
	if ((spec->home && !udb_valid_path(spec->home)) ||
	    (spec->shell && !udb_valid_path(spec->shell)))
		return UDB_INVALID;
	if (spec->has_uid && spec->uid == 0)
		return UDB_INVALID;
	return UDB_OK;
}

/* Rewrites the user's ready-made passwd entry (schema 2's
 * pub.passwd_entries) from its users row; called after every change to it. */
enum udb_result
udb_user_refresh_passwd_entry(struct udb_db *db, int64_t id)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_PASSWD_ENTRY_REFRESH, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	return udb_stmt_exec(db, UDB_Q_PASSWD_ENTRY_REFRESH);
}

static enum udb_result
insert_user(struct udb_db *db, const struct udb_config *cfg, const struct udb_user_spec *spec,
	    uint32_t uid, const struct udb_role *primary, int64_t now, int64_t *ret_id)
{
	char home[UDB_PATH_MAX + 1];
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (spec->home)
		snprintf(home, sizeof(home), "%s", spec->home);
	else if ((size_t)snprintf(home, sizeof(home), "%s/%s", cfg->home_base, spec->username) >=
		 sizeof(home))
		return UDB_INVALID;
	r = udb_stmt(db, UDB_Q_USER_INSERT, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, spec->username);
	sqlite3_bind_int64(stmt, 2, uid);
	sqlite3_bind_int64(stmt, 3, primary ? primary->gid : uid);
	if (primary)
		sqlite3_bind_int64(stmt, 4, primary->id);
	udb_bind_text(stmt, 5, spec->first_name ? spec->first_name : "");
	udb_bind_text(stmt, 6, spec->last_name ? spec->last_name : "");
	udb_bind_text(stmt, 7, home);
	udb_bind_text(stmt, 8, spec->shell ? spec->shell : cfg->default_shell);
	sqlite3_bind_int64(stmt, 9, now);
	r = udb_stmt_exec(db, UDB_Q_USER_INSERT);
	if (r != UDB_OK)
		return r;
	*ret_id = sqlite3_last_insert_rowid(db->sql);
	r = udb_user_refresh_passwd_entry(db, *ret_id);
	if (r != UDB_OK)
		return r;

	r = udb_stmt(db, UDB_Q_ACCOUNT_INSERT, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, *ret_id);
	udb_bind_text(stmt, 2, spec->password_hash);
	if (spec->password_hash)
		sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int(stmt, 4, !spec->disabled);
	r = udb_stmt_exec(db, UDB_Q_ACCOUNT_INSERT);
	if (r != UDB_OK)
		return r;

	r = udb_stmt(db, UDB_Q_ACCOUNT_NAME_INSERT, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, spec->username);
	sqlite3_bind_int64(stmt, 2, *ret_id);
	return udb_stmt_exec(db, UDB_Q_ACCOUNT_NAME_INSERT);
}

enum udb_result
udb_user_add(struct udb_db *db, const struct udb_config *cfg, const struct udb_user_spec *spec,
	     bool check_system, int64_t now, struct udb_user **ret_user)
{
	struct udb_role *primary = NULL;
	enum udb_result r;
	int64_t id = 0;
	uint32_t uid;

	r = validate_spec(spec);
	if (r != UDB_OK)
		return r;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	udb_db_mark_cross_file(db);
	r = udb_name_check_free(db, spec->username, check_system);
	if (r == UDB_OK && spec->primary_role)
		r = udb_role_by_name(db, spec->primary_role, &primary);
	if (r == UDB_OK && spec->has_uid) {
		uid = spec->uid;
		r = udb_id_check_free(db, uid, check_system);
		if (r == UDB_OK)
			r = udb_id_note_used(db, cfg, UDB_ID_UID, uid);
	} else if (r == UDB_OK) {
		r = udb_id_allocate(db, cfg, UDB_ID_UID, check_system, &uid);
	}
	if (r == UDB_OK)
		r = insert_user(db, cfg, spec, uid, primary, now, &id);
	if (r == UDB_OK && primary)
		r = udb_grant(db, spec->username, primary->name, 0, 0, now, NULL);
	if (r == UDB_OK && ret_user)
		r = udb_user_by_name(db, spec->username, ret_user);
	udb_role_free(primary);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	r = udb_db_commit(db);
	if (r != UDB_OK && ret_user) {
		udb_user_free(*ret_user);
		*ret_user = NULL;
	}
	return r;
}

enum udb_result
udb_user_modify(struct udb_db *db, const char *name, const struct udb_user_changes *ch, int64_t now)
{
	struct udb_user *u = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if ((ch->first_name && !udb_valid_text(ch->first_name)) ||
	    (ch->last_name && !udb_valid_text(ch->last_name)) ||
	    (ch->home && !udb_valid_path(ch->home)) || (ch->shell && !udb_valid_path(ch->shell)))
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(db, name, &u);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_USER_UPDATE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, u->id);
		udb_bind_text(stmt, 2, ch->first_name ? ch->first_name : u->first_name);
		udb_bind_text(stmt, 3, ch->last_name ? ch->last_name : u->last_name);
		udb_bind_text(stmt, 4, ch->home ? ch->home : u->home);
		udb_bind_text(stmt, 5, ch->shell ? ch->shell : u->shell);
		sqlite3_bind_int64(stmt, 6, now);
		r = udb_stmt_exec(db, UDB_Q_USER_UPDATE);
	}
	if (r == UDB_OK)
		r = udb_user_refresh_passwd_entry(db, u->id);
	udb_user_free(u);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

enum udb_result
udb_user_delete(struct udb_db *db, const char *name)
{
	struct udb_user *u = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	udb_db_mark_cross_file(db);
	r = udb_user_by_name(db, name, &u);
	/* The shadow file commits first: once the account row is gone nobody
	 * can log in as this user, even if the public delete never lands. */
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_ACCOUNT_DELETE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, u->id);
		r = udb_stmt_exec(db, UDB_Q_ACCOUNT_DELETE);
	}
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_USER_DELETE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, u->id);
		r = udb_stmt_exec(db, UDB_Q_USER_DELETE);
	}
	udb_user_free(u);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}
