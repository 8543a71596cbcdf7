/* Grants of roles to users (with their optional validity window), and what
 * a user holds through them at a given time: effective roles and
 * permissions, and whether a fleet host's allowed roles let the user in.
 * Called by the CLI, the PAM module (account phase) and explain through
 * role.h; roles themselves are in role.c. */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "role.h"
#include "user.h"

/* Looks up user and role inside a fresh transaction. */
static enum udb_result
begin_with_user_role(struct udb_db *db, const char *user_name, const char *role_name,
		     struct udb_user **ret_user, struct udb_role **ret_role)
{
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(db, user_name, ret_user);
	if (r == UDB_OK) {
		r = udb_role_by_name(db, role_name, ret_role);
		if (r != UDB_OK) {
			udb_user_free(*ret_user);
			*ret_user = NULL;
		}
	}
	if (r != UDB_OK)
		udb_db_rollback(db);
	return r;
}

enum udb_result
udb_grant(struct udb_db *db, const char *user_name, const char *role_name, int64_t not_before,
	  int64_t not_after, int64_t now, bool *ret_changed)
{
	struct udb_user *user = NULL;
	struct udb_role *role = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	bool same = false;
	int rc;

	if (not_after != 0 && (not_after <= not_before || not_after <= 0))
		return UDB_INVALID;
	r = begin_with_user_role(db, user_name, role_name, &user, &role);
	if (r != UDB_OK)
		return r;
	/* A primary role must not expire: the user keeps its gid regardless. */
	if (user->primary_role && strcmp(user->primary_role, role->name) == 0 &&
	    (not_before || not_after))
		r = UDB_IN_USE;
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_GRANT_GET, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, user->id);
		sqlite3_bind_int64(stmt, 2, role->id);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			same = udb_column_time(stmt, 0) == not_before &&
			       udb_column_time(stmt, 1) == not_after;
		else if (rc != SQLITE_DONE)
			r = udb_sqlite_result(rc);
		udb_stmt_done(db, UDB_Q_GRANT_GET);
	}
	if (r == UDB_OK && !same)
		r = udb_stmt(db, UDB_Q_GRANT_UPSERT, &stmt);
	if (r == UDB_OK && !same) {
		sqlite3_bind_int64(stmt, 1, user->id);
		sqlite3_bind_int64(stmt, 2, role->id);
		udb_bind_time(stmt, 3, not_before);
		udb_bind_time(stmt, 4, not_after);
		sqlite3_bind_int64(stmt, 5, now);
		r = udb_stmt_exec(db, UDB_Q_GRANT_UPSERT);
	}
	if (r == UDB_OK && ret_changed)
		*ret_changed = !same;
	udb_user_free(user);
	udb_role_free(role);
	return udb_db_finish(db, r);
}

enum udb_result
udb_revoke(struct udb_db *db, const char *user_name, const char *role_name, bool *ret_changed)
{
	struct udb_user *user = NULL;
	struct udb_role *role = NULL;
	enum udb_result r;

	r = begin_with_user_role(db, user_name, role_name, &user, &role);
	if (r != UDB_OK)
		return r;
	if (user->primary_role && strcmp(user->primary_role, role->name) == 0)
		r = UDB_IN_USE;
	if (r == UDB_OK)
		r = udb_stmt_exec_pair(db, UDB_Q_GRANT_DELETE, user->id, role->id, NULL,
				       ret_changed);
	udb_user_free(user);
	udb_role_free(role);
	return udb_db_finish(db, r);
}

enum udb_result
udb_user_grants(struct udb_db *db, int64_t user_id, struct udb_grant **ret_grants, size_t *ret_n)
{
	struct udb_grant *grants = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	size_t n = 0, cap = 0;
	int rc;

	r = udb_stmt(db, UDB_Q_USER_GRANTS, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			struct udb_grant *grown;

			cap = cap ? cap * 2 : 8;
			grown = realloc(grants, cap * sizeof(*grants));
			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			grants = grown;
		}
		grants[n].role = udb_column_strdup(stmt, 0);
		if (!grants[n].role) {
			r = UDB_NO_MEMORY;
			break;
		}
		grants[n].not_before = udb_column_time(stmt, 1);
		grants[n].not_after = udb_column_time(stmt, 2);
		grants[n].granted_at = sqlite3_column_int64(stmt, 3);
		n++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_USER_GRANTS);
	if (r != UDB_OK) {
		udb_grant_list_free(grants, n);
		return r;
	}
	*ret_grants = grants;
	*ret_n = n;
	return UDB_OK;
}

static enum udb_result
user_strings_at(struct udb_db *db, enum udb_query q, int64_t user_id, int64_t now, char ***ret_v,
		size_t *ret_n)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	sqlite3_bind_int64(stmt, 2, now);
	return udb_stmt_collect_text(db, q, ret_v, ret_n);
}

enum udb_result
udb_user_effective_roles(struct udb_db *db, int64_t user_id, int64_t now, char ***ret_names,
			 size_t *ret_n)
{
	return user_strings_at(db, UDB_Q_USER_EFFECTIVE_ROLES, user_id, now, ret_names, ret_n);
}

enum udb_result
udb_user_effective_permissions(struct udb_db *db, int64_t user_id, int64_t now,
			       char ***ret_permissions, size_t *ret_n)
{
	return user_strings_at(db, UDB_Q_USER_EFFECTIVE_PERMISSIONS, user_id, now, ret_permissions,
			       ret_n);
}

enum udb_result
udb_host_roles(struct udb_db *db, const char *host, char ***ret_names, size_t *ret_n)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_HOST_ROLES, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, host);
	return udb_stmt_collect_text(db, UDB_Q_HOST_ROLES, ret_names, ret_n);
}

enum udb_result
udb_user_allowed_on_host(struct udb_db *db, int64_t user_id, const char *host, int64_t now,
			 bool *ret_allowed)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int64_t one;

	*ret_allowed = false;
	r = udb_stmt(db, UDB_Q_USER_HOST_ALLOWED, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	sqlite3_bind_int64(stmt, 2, now);
	udb_bind_text(stmt, 3, host);
	r = udb_stmt_int(db, UDB_Q_USER_HOST_ALLOWED, &one);
	if (r == UDB_NOT_FOUND)
		return UDB_OK;
	*ret_allowed = r == UDB_OK;
	return r;
}
