/* The statement cache and the helpers every file of common/ uses to bind,
 * step and read statements, and the one mapping of SQLite's result codes
 * to enum udb_result. Called through db-internal.h by the files of common/
 * that run SQL (the text of every statement is in sql.c). */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"

enum udb_result
udb_sqlite_result(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return UDB_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return UDB_BUSY;
	case SQLITE_NOMEM:
		return UDB_NO_MEMORY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		return UDB_CORRUPT;
	case SQLITE_CANTOPEN:
		return UDB_UNAVAILABLE;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_READONLY:
		return UDB_PERMISSION;
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return UDB_IO;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return UDB_EXISTS;
		return UDB_INVALID;
	default:
		return UDB_INTERNAL;
	}
}

int
udb_bind_text(sqlite3_stmt *stmt, int index, const char *s)
{
	if (!s)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_text(stmt, index, s, -1, SQLITE_STATIC);
}

int
udb_bind_time(sqlite3_stmt *stmt, int index, int64_t t)
{
	if (t == 0)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_int64(stmt, index, t);
}

int64_t
udb_column_time(sqlite3_stmt *stmt, int index)
{
	return sqlite3_column_int64(stmt, index);
}

char *
udb_column_strdup(sqlite3_stmt *stmt, int index)
{
	const unsigned char *s = sqlite3_column_text(stmt, index);

	return strdup(s ? (const char *)s : "");
}

enum udb_result
udb_stmt(struct udb_db *db, enum udb_query q, sqlite3_stmt **ret_stmt)
{
	int rc;

	if (!db->stmts[q]) {
		rc = sqlite3_prepare_v3(db->sql, udb_sql_text(q), -1, SQLITE_PREPARE_PERSISTENT,
					&db->stmts[q], NULL);
		if (rc != SQLITE_OK) {
			enum udb_result r = udb_sqlite_result(rc);

			/* A table that is not there means this is not our database. */
			return r == UDB_INTERNAL ? UDB_CORRUPT : r;
		}
	}
	if (udb_sql_changes_keys(q))
		db->tx_keys_changed = true;
	*ret_stmt = db->stmts[q];
	return UDB_OK;
}

void
udb_stmt_done(struct udb_db *db, enum udb_query q)
{
	if (db->stmts[q]) {
		sqlite3_reset(db->stmts[q]);
		sqlite3_clear_bindings(db->stmts[q]);
	}
}

enum udb_result
udb_stmt_exec(struct udb_db *db, enum udb_query q)
{
	enum udb_result r;
	int rc;

	do
		rc = sqlite3_step(db->stmts[q]);
	while (rc == SQLITE_ROW);
	r = udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	return r;
}

enum udb_result
udb_stmt_collect_text(struct udb_db *db, enum udb_query q, char ***ret_v, size_t *ret_n)
{
	sqlite3_stmt *stmt = db->stmts[q];
	enum udb_result r = UDB_OK;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			char **grown;

			cap = cap ? 2 * cap : 16;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			v = grown;
		}
		v[n] = udb_column_strdup(stmt, 0);
		if (!v[n]) {
			r = UDB_NO_MEMORY;
			break;
		}
		n++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	if (r != UDB_OK) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*ret_v = v;
	*ret_n = n;
	return UDB_OK;
}

enum udb_result
udb_stmt_int(struct udb_db *db, enum udb_query q, int64_t *ret_value)
{
	enum udb_result r = UDB_OK;
	int rc;

	rc = sqlite3_step(db->stmts[q]);
	if (rc == SQLITE_ROW)
		*ret_value = sqlite3_column_int64(db->stmts[q], 0);
	else
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	return r;
}

enum udb_result
udb_stmt_plan(struct udb_db *db, enum udb_query q, char **ret_plan)
{
	static const char prefix[] = "EXPLAIN QUERY PLAN ";
	const char *text = udb_sql_text(q);
	sqlite3_stmt *stmt = NULL;
	char *sql, *plan = NULL;
	size_t len = 0;
	enum udb_result r = UDB_OK;
	int rc;

	sql = malloc(sizeof(prefix) + strlen(text));
	if (!sql)
		return UDB_NO_MEMORY;
	memcpy(stpcpy(sql, prefix), text, strlen(text) + 1);
	rc = sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return udb_sqlite_result(rc);
	/* Transaction control and pragmas have no plan: an empty string. */
	plan = strdup("");
	if (!plan)
		r = UDB_NO_MEMORY;
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(stmt, 3);
		size_t n = detail ? strlen(detail) : 0;
		char *grown = realloc(plan, len + n + 2);

		if (!grown) {
			r = UDB_NO_MEMORY;
			break;
		}
		plan = grown;
		memcpy(plan + len, detail ? detail : "", n);
		len += n;
		plan[len++] = '\n';
		plan[len] = '\0';
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	sqlite3_finalize(stmt);
	if (r != UDB_OK) {
		free(plan);
		return r;
	}
	*ret_plan = plan;
	return UDB_OK;
}

enum udb_result
udb_stmt_exec_pair(struct udb_db *db, enum udb_query q, int64_t a, int64_t b, const char *text,
		   bool *ret_changed)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, a);
	if (text)
		udb_bind_text(stmt, 2, text);
	else
		sqlite3_bind_int64(stmt, 2, b);
	r = udb_stmt_exec(db, q);
	if (r == UDB_OK && ret_changed)
		*ret_changed = sqlite3_changes(db->sql) > 0;
	return r;
}
