/* Shared by the files of common/ that talk to the central PostgreSQL
 * database (central*.c) only: the connection handle and the helpers that
 * run a statement and turn a failure into an enum udb_result. */
#ifndef UDB_CENTRAL_INTERNAL_H
#define UDB_CENTRAL_INTERNAL_H

#include <libpq-fe.h>

#include "central.h"

/* schema/central/NNNN-*.sql, embedded by schema/embed.py:
 * udb_central_migrations[i] brings the schema from version i to i + 1. */
extern const char *const udb_central_migrations[];
extern const unsigned udb_central_migration_count;

struct udb_central {
	PGconn *conn;
	char error[512];
};

/* Sets central->error from the message and returns r. */
enum udb_result udb_central_fail(struct udb_central *central, enum udb_result r, const char *fmt,
				 ...) __attribute__((format(printf, 3, 4)));
/* Maps a failed result (or a lost connection when res is NULL) to a
 * udb_result by SQLSTATE and keeps its message. */
enum udb_result udb_central_result_error(struct udb_central *central, const PGresult *res);
/* Runs sql with n text parameters; *ret_res (when not NULL) gets the
 * result of a successful run (PQclear it), else it is cleared here. */
enum udb_result udb_central_exec(struct udb_central *central, const char *sql, int n,
				 const char *const *params, PGresult **ret_res);
/* A transaction: udb_central_finish() commits when r is UDB_OK (and
 * returns the commit's result), else rolls back and returns r. */
enum udb_result udb_central_begin(struct udb_central *central);
enum udb_result udb_central_finish(struct udb_central *central, enum udb_result r);

#endif
