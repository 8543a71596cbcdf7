/* Rows out of and into the tables of export.h. Table and column names
 * never come from input unchecked: tables from the fixed list below,
 * columns only when the table has them (PRAGMA table_info). Called by
 * cli/export.c. */
#include <stdio.h>
#include <string.h>

#include "db-internal.h"
#include "export.h"

/* schema.table; parents before the tables that refer to them. */
static const struct {
	const char *name, *schema;
	bool secret;
} tables[] = {
	{"roles", "pub", false},
	{"users", "pub", false},
	{"role_includes", "pub", false},
	{"role_closure", "pub", false},
	{"role_permissions", "pub", false},
	{"user_roles", "pub", false},
	{"ssh_keys", "pub", false},
	{"accounts", "sec", false},
	{"account_names", "sec", false},
	{"user_emails", "sec", false},
	{"second_factors", "sec", true},
};

const char *
udb_export_table(size_t i)
{
	return i < sizeof(tables) / sizeof(tables[0]) ? tables[i].name : NULL;
}

static int
table_index(const char *table)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(tables[i].name, table) == 0)
			return (int)i;
	return -1;
}

bool
udb_export_table_is_secret(const char *table)
{
	int i = table_index(table);

	return i >= 0 && tables[i].secret;
}

static enum udb_result
prepare(struct udb_db *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, ret, NULL);

	return rc == SQLITE_OK ? UDB_OK : udb_sqlite_result(rc);
}

static void
read_cell(sqlite3_stmt *stmt, int col, bool hide, struct udb_cell *c)
{
	*c = (struct udb_cell){.type = UDB_CELL_NULL};
	if (hide)
		return;
	switch (sqlite3_column_type(stmt, col)) {
	case SQLITE_INTEGER:
		c->type = UDB_CELL_INT;
		c->i = sqlite3_column_int64(stmt, col);
		break;
	case SQLITE_TEXT:
		c->type = UDB_CELL_TEXT;
		c->p = sqlite3_column_text(stmt, col);
		break;
	case SQLITE_BLOB:
		c->type = UDB_CELL_BLOB;
		c->p = sqlite3_column_blob(stmt, col);
		c->len = (size_t)sqlite3_column_bytes(stmt, col);
		break;
	default:
		break;
	}
}

enum udb_result
udb_export_each(struct udb_db *db, const char *table, bool secrets,
		bool (*row)(void *ctx, size_t n, const char *const *names,
			    const struct udb_cell *cells),
		void *ctx)
{
	const char *names[32];
	struct udb_cell cells[32];
	sqlite3_stmt *stmt = NULL;
	char sql[160];
	enum udb_result r;
	int t = table_index(table), n, rc;

	if (t < 0)
		return UDB_INVALID;
	if (tables[t].secret && !secrets)
		return UDB_OK;
	snprintf(sql, sizeof(sql), "SELECT * FROM %s.%s ORDER BY rowid", tables[t].schema,
		 tables[t].name);
	if (sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL) != SQLITE_OK) {
		/* WITHOUT ROWID tables: their key order. */
		snprintf(sql, sizeof(sql), "SELECT * FROM %s.%s", tables[t].schema, tables[t].name);
		r = prepare(db, sql, &stmt);
		if (r != UDB_OK)
			return r;
	}
	n = sqlite3_column_count(stmt);
	if (n > 32) {
		sqlite3_finalize(stmt);
		return UDB_INTERNAL;
	}
	for (int i = 0; i < n; i++)
		names[i] = sqlite3_column_name(stmt, i);
	r = UDB_OK;
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			read_cell(stmt, i, !secrets && strcmp(names[i], "password_hash") == 0,
				  &cells[i]);
		if (!row(ctx, (size_t)n, names, cells))
			r = UDB_NO_MEMORY;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	sqlite3_finalize(stmt);
	return r;
}

static enum udb_result
exec(struct udb_db *db, const char *sql)
{
	return udb_sqlite_result(sqlite3_exec(db->sql, sql, NULL, NULL, NULL));
}

enum udb_result
udb_import_rows_begin(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	udb_db_mark_cross_file(db);
	udb_db_mark_keys_changed(db);
	r = prepare(db,
		    "SELECT (SELECT count(*) FROM pub.users) + (SELECT count(*) FROM pub.roles)",
		    &stmt);
	if (r == UDB_OK && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0))
		r = UDB_EXISTS;
	sqlite3_finalize(stmt);
	if (r == UDB_OK)
		r = exec(db, "PRAGMA defer_foreign_keys = ON");
	if (r != UDB_OK)
		udb_db_rollback(db);
	return r;
}

/* Whether table (of the list) has a column called name. */
static bool
has_column(struct udb_db *db, int t, const char *name)
{
	char sql[128];
	sqlite3_stmt *stmt = NULL;
	bool found = false;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s', '%s') WHERE name = ?1",
		 tables[t].name, tables[t].schema);
	if (sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(stmt) == SQLITE_ROW;
	}
	sqlite3_finalize(stmt);
	return found;
}

enum udb_result
udb_import_row(struct udb_db *db, const char *table, size_t n, const char *const *names,
	       const struct udb_cell *cells)
{
	char sql[2048], vals[256];
	sqlite3_stmt *stmt = NULL;
	size_t len, vlen = 0;
	enum udb_result r;
	int t = table_index(table);

	if (t < 0 || n == 0 || n > 32)
		return UDB_INVALID;
	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s.%s (", tables[t].schema,
			       tables[t].name);
	for (size_t i = 0; i < n; i++) {
		if (!has_column(db, t, names[i]) || strlen(names[i]) > 40)
			return UDB_INVALID;
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s\"%s\"", i ? ", " : "",
					names[i]);
		vlen += (size_t)snprintf(vals + vlen, sizeof(vals) - vlen, "%s?", i ? ", " : "");
	}
	snprintf(sql + len, sizeof(sql) - len, ") VALUES (%s)", vals);
	r = prepare(db, sql, &stmt);
	for (size_t i = 0; i < n && r == UDB_OK; i++) {
		int col = (int)i + 1;

		switch (cells[i].type) {
		case UDB_CELL_NULL:
			sqlite3_bind_null(stmt, col);
			break;
		case UDB_CELL_INT:
			sqlite3_bind_int64(stmt, col, cells[i].i);
			break;
		case UDB_CELL_TEXT:
			sqlite3_bind_text(stmt, col, cells[i].p, -1, SQLITE_STATIC);
			break;
		case UDB_CELL_BLOB:
			sqlite3_bind_blob(stmt, col, cells[i].p, (int)cells[i].len, SQLITE_STATIC);
			break;
		}
	}
	if (r == UDB_OK) {
		int rc = sqlite3_step(stmt);

		r = rc == SQLITE_DONE ? UDB_OK : udb_sqlite_result(rc);
	}
	sqlite3_finalize(stmt);
	return r;
}

/* The passwd entries of every user, and the id marks up to the ids that
 * came in (ids are never handed out again, also across an import). */
static enum udb_result
derive(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = prepare(db, "SELECT id FROM pub.users", &stmt);
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
		r = udb_user_refresh_passwd_entry(db, sqlite3_column_int64(stmt, 0));
	sqlite3_finalize(stmt);
	if (r == UDB_OK)
		r = exec(db, "UPDATE pub.id_allocator SET high_water = max(high_water, (SELECT "
			     "coalesce(max(uid), 0) FROM pub.users)) WHERE kind = 'uid'");
	if (r == UDB_OK)
		r = exec(db, "UPDATE pub.id_allocator SET high_water = max(high_water, (SELECT "
			     "coalesce(max(gid), 0) FROM pub.roles)) WHERE kind = 'gid'");
	return r;
}

enum udb_result
udb_import_rows_finish(struct udb_db *db, enum udb_result r)
{
	if (r == UDB_OK)
		r = derive(db);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}
