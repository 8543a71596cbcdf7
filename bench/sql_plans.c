/* sql_plans: prints the plan SQLite chooses for every statement of
 * common/sql.c on an existing store, so that the plan audit of
 * tests/unit/test_sql.c (run on a fixture database) can be checked against
 * a populated one (bench/README.md, "Query plans at 1M"). Read-only.
 *
 *   sql_plans DBDIR        one line per plan step: statement number, step
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "user.h"

static enum udb_result
noop_entry(const struct udb_passwd_entry *entry, void *userdata)
{
	(void)entry;
	(void)userdata;
	return UDB_OK;
}

int
main(int argc, char **argv)
{
	struct udb_db *db = NULL;
	enum udb_result r;
	size_t n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: sql_plans DBDIR\n");
		return 2;
	}
	r = udb_db_open(argv[1], UDB_OPEN_READ_BOTH, &db);
	/* UDB_Q_PASSWD_PAGE names a function user.c registers at first use. */
	if (r == UDB_OK)
		r = udb_passwd_entry_page(db, 0, 1, noop_entry, NULL, &n);
	for (int q = 0; r == UDB_OK && q < UDB_Q_COUNT; q++) {
		char *plan = NULL, *line, *save = NULL;

		r = udb_stmt_plan(db, (enum udb_query)q, &plan);
		if (r != UDB_OK)
			break;
		for (line = strtok_r(plan, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			printf("%d\t%s\n", q, line);
		free(plan);
	}
	if (db)
		udb_db_close(db);
	if (r != UDB_OK) {
		fprintf(stderr, "sql_plans: %s: %s\n", argv[1], udb_result_to_string(r));
		return 1;
	}
	return 0;
}
