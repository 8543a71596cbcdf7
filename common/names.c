/* Whether a name or an id is free for a new user or role: not used in the
 * store (by a user, a role, or a personal group) and, when asked, not known
 * to the rest of the system through NSS (/etc/passwd, /etc/group, other
 * modules). Called through user.h by user.c, role.c, rename.c and the CLI,
 * inside the caller's transaction for the store part. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#include "db-internal.h"
#include "user.h"

bool
udb_system_has_user(const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[16384];

	return getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res;
}

bool
udb_system_has_group(const char *name)
{
	struct group gr, *res = NULL;
	char *buf;
	size_t size = 16384;
	int e;

	/* A group with many members needs a large buffer; ERANGE means it exists. */
	buf = malloc(size);
	if (!buf)
		return true;
	e = getgrnam_r(name, &gr, buf, size, &res);
	free(buf);
	return e == ERANGE || (e == 0 && res);
}

bool
udb_system_has_uid(uint32_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[16384];

	return getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res;
}

bool
udb_system_has_gid(uint32_t gid)
{
	struct group gr, *res = NULL;
	char *buf;
	size_t size = 16384;
	int e;

	buf = malloc(size);
	if (!buf)
		return true;
	e = getgrgid_r((gid_t)gid, &gr, buf, size, &res);
	free(buf);
	return e == ERANGE || (e == 0 && res);
}

static enum udb_result
query_bool(struct udb_db *db, enum udb_query q, bool *ret_value)
{
	enum udb_result r = UDB_OK;
	int rc;

	rc = sqlite3_step(db->stmts[q]);
	if (rc == SQLITE_ROW)
		*ret_value = sqlite3_column_int(db->stmts[q], 0) != 0;
	else
		r = rc == SQLITE_DONE ? UDB_INTERNAL : udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	return r;
}

enum udb_result
udb_id_check_free(struct udb_db *db, uint32_t id, bool check_system)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	bool used = false;

	r = udb_stmt(db, UDB_Q_ID_IN_USE, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	r = query_bool(db, UDB_Q_ID_IN_USE, &used);
	if (r != UDB_OK)
		return r;
	if (used)
		return UDB_EXISTS;
	if (check_system && (udb_system_has_uid(id) || udb_system_has_gid(id)))
		return UDB_CONFLICT;
	return UDB_OK;
}

enum udb_result
udb_name_check_free(struct udb_db *db, const char *name, bool check_system)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	bool used = false;

	r = udb_stmt(db, UDB_Q_NAME_IN_USE, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, name);
	r = query_bool(db, UDB_Q_NAME_IN_USE, &used);
	if (r != UDB_OK)
		return r;
	if (used)
		return UDB_EXISTS;
	if (check_system && (udb_system_has_user(name) || udb_system_has_group(name)))
		return UDB_CONFLICT;
	return UDB_OK;
}
