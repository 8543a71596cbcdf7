/* Shared by central_admin.c, central_admin_conn.c and central_push.c only:
 * the admin mirror's handle on central and the helpers (central_admin_conn.c)
 * every statement they send goes through. */
#ifndef UDB_CENTRAL_ADMIN_INTERNAL_H
#define UDB_CENTRAL_ADMIN_INTERNAL_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "central_admin.h"

#define MAX_COLS 32

struct udb_central_admin {
	char *conninfo;
	PGconn *pg;
	int64_t sent_rev;
	unsigned statements; /* sent in the open central transaction */
	char error[512];
	/* The local columns of each replicated table, by position, read from
	 * the mirror at the first change of that table. */
	char *local_cols[UDB_REPLICA_COUNT][MAX_COLS];
	int n_local[UDB_REPLICA_COUNT];
};

/* One changed row of one table, as statement parameters. */
struct params {
	const char *v[MAX_COLS * 2];
	char *owned[MAX_COLS * 2];
	int n;
};

void udb_central_params_clear(struct params *p);
/* Appends v as a text parameter (bytea's text form for a BLOB, NULL for
 * NULL); false when out of room or memory. */
bool udb_central_params_add(struct params *p, sqlite3_value *v);

/* Connects, unless connected; UDB_UNAVAILABLE (a->error set) when central
 * cannot be reached. */
enum udb_result udb_central_admin_connect(struct udb_central_admin *a);
/* A failed statement's result (res NULL: none came), its words in
 * a->error: a lost connection (SQLSTATE class 08, or none at all) is
 * UDB_UNAVAILABLE, a duplicate UDB_EXISTS. */
enum udb_result udb_central_admin_failure(struct udb_central_admin *a, PGresult *res);
/* Runs sql with p's parameters (p may be NULL), counted in a->statements;
 * on failure a->error has PostgreSQL's words and the result says what it
 * means (a lost connection UDB_UNAVAILABLE, a duplicate UDB_EXISTS).
 * *ret_res (when ret_res is not NULL) is a success's result to PQclear. */
enum udb_result udb_central_admin_run(struct udb_central_admin *a, const char *sql,
				      const struct params *p, PGresult **ret_res);
/* Runs sql, whose answer is one integer. */
enum udb_result udb_central_admin_int(struct udb_central_admin *a, const char *sql,
				      int64_t *ret_value);
/* The mirror's central_rev, recorded in its open transaction. */
enum udb_result udb_central_admin_record_rev(struct udb_db *db, int64_t rev);

#endif
