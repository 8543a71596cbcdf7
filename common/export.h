/* Export and import of a whole database as rows, table by table, for
 * `userdb export` and `userdb import FILE.json` (cli/export.c turns them
 * into and from JSON; doc/export-format.md describes the format). The
 * tables are those that hold state; what is derived from them (the passwd
 * entries, the images) is rebuilt on import, and what belongs to one
 * store (meta, the audit trail, the id marks) is not exported. */
#ifndef UDB_EXPORT_H
#define UDB_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "result.h"

enum udb_cell_type { UDB_CELL_NULL, UDB_CELL_INT, UDB_CELL_TEXT, UDB_CELL_BLOB };

/* One value of a row; text and blob point into the statement (valid for
 * the callback only) or into the caller's memory (import). */
struct udb_cell {
	enum udb_cell_type type;
	int64_t i;
	const void *p; /* text (NUL-terminated) or blob */
	size_t len;    /* of a blob */
};

/* The i-th exported table, parents first (its name in the format), or
 * NULL past the last. */
const char *udb_export_table(size_t i);
/* Whether table holds secrets (exported only with secrets). */
bool udb_export_table_is_secret(const char *table);

/* Calls row() for every row of table, with its column names and values.
 * Without secrets, the password hash reads as NULL and a secret table is
 * skipped. row() returns false to stop (then UDB_NO_MEMORY). */
enum udb_result udb_export_each(struct udb_db *db, const char *table, bool secrets,
				bool (*row)(void *ctx, size_t n, const char *const *names,
					    const struct udb_cell *cells),
				void *ctx);

/* Import: udb_import_rows_begin() starts the write transaction and
 * refuses (UDB_EXISTS) unless the store has no user and no role; each
 * udb_import_row() inserts one row (columns by name, each checked against
 * the table); udb_import_rows_finish() rebuilds what is derived, raises the
 * id marks to the ids imported and commits when r is UDB_OK, or rolls
 * back. */
enum udb_result udb_import_rows_begin(struct udb_db *db);
enum udb_result udb_import_row(struct udb_db *db, const char *table, size_t n,
			       const char *const *names, const struct udb_cell *cells);
enum udb_result udb_import_rows_finish(struct udb_db *db, enum udb_result r);

#endif
