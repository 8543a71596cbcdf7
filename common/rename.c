/* New names and ids for users and roles, and a user's primary role (see
 * rename.h). Each change is one transaction, nested in the caller's when
 * there is one; every users row it changes gets its passwd entry rewritten
 * (db-internal.h), and the commit republishes both images. */
#include "rename.h"
#include "db-internal.h"
#include "ids.h"
#include "role.h"
#include "user.h"
#include "validate.h"

/* Runs q bound with ?1 id, ?2 text (or value, or NULL when value < 0) and,
 * with_now, ?3 now. */
static enum udb_result
exec_row(struct udb_db *db, enum udb_query q, int64_t id, const char *text, int64_t value,
	 bool with_now, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	if (text)
		udb_bind_text(stmt, 2, text);
	else if (value >= 0)
		sqlite3_bind_int64(stmt, 2, value);
	else
		sqlite3_bind_null(stmt, 2);
	if (with_now)
		sqlite3_bind_int64(stmt, 3, now);
	return udb_stmt_exec(db, q);
}

enum udb_result
udb_user_rename(struct udb_db *db, const char *name, const char *new_name, int64_t now)
{
	struct udb_user *u = NULL;
	enum udb_result r;

	if (!udb_valid_username(new_name))
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(db, name, &u);
	if (r == UDB_OK)
		r = udb_name_check_free(db, new_name, false);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_USER_RENAME, u->id, new_name, 0, true, now);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_ACCOUNT_NAME_RENAME, u->id, new_name, 0, false, 0);
	/* The name is in both files: a writer killed between their commits
	 * leaves the shadow file's ahead, which the next write puts back
	 * (transaction.c, invariants 3 and 4). */
	if (r == UDB_OK)
		udb_db_mark_cross_file(db);
	if (r == UDB_OK)
		r = udb_user_refresh_passwd_entry(db, u->id);
	udb_user_free(u);
	return udb_db_finish(db, r);
}

enum udb_result
udb_user_renumber(struct udb_db *db, const struct udb_config *cfg, const char *name, uint32_t uid,
		  int64_t now)
{
	struct udb_user *u = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(db, name, &u);
	if (r == UDB_OK && u->uid != uid)
		r = udb_id_check_free(db, uid, false);
	if (r == UDB_OK)
		r = udb_id_note_used(db, cfg, UDB_ID_UID, uid);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_USER_RENUMBER, u->id, NULL, uid, true, now);
	if (r == UDB_OK)
		r = udb_user_refresh_passwd_entry(db, u->id);
	udb_user_free(u);
	return udb_db_finish(db, r);
}

enum udb_result
udb_user_set_primary_role(struct udb_db *db, const char *name, const char *role, int64_t now)
{
	struct udb_user *u = NULL;
	struct udb_role *ro = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(db, name, &u);
	if (r == UDB_OK && role)
		r = udb_role_by_name(db, role, &ro);
	if (r == UDB_OK && ro)
		r = udb_grant(db, name, role, 0, 0, now, NULL);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_USER_SET_PRIMARY_ROLE, u->id, NULL, ro ? ro->id : -1, true,
			     now);
	if (r == UDB_OK)
		r = udb_user_refresh_passwd_entry(db, u->id);
	udb_user_free(u);
	udb_role_free(ro);
	return udb_db_finish(db, r);
}

enum udb_result
udb_role_rename(struct udb_db *db, const char *name, const char *new_name)
{
	struct udb_role *ro = NULL;
	enum udb_result r;

	if (!udb_valid_rolename(new_name))
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_role_by_name(db, name, &ro);
	if (r == UDB_OK)
		r = udb_name_check_free(db, new_name, false);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_ROLE_RENAME, ro->id, new_name, 0, false, 0);
	udb_role_free(ro);
	return udb_db_finish(db, r);
}

enum udb_result
udb_role_renumber(struct udb_db *db, const struct udb_config *cfg, const char *name, uint32_t gid)
{
	struct udb_role *ro = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_role_by_name(db, name, &ro);
	if (r == UDB_OK && ro->gid != gid)
		r = udb_id_check_free(db, gid, false);
	if (r == UDB_OK)
		r = udb_id_note_used(db, cfg, UDB_ID_GID, gid);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_ROLE_RENUMBER, ro->id, NULL, gid, false, 0);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_ROLE_PRIMARY_GIDS, ro->id, NULL, gid, false, 0);
	if (r == UDB_OK)
		r = exec_row(db, UDB_Q_ROLE_PRIMARY_ENTRIES, ro->id, NULL, gid, false, 0);
	udb_role_free(ro);
	return udb_db_finish(db, r);
}
