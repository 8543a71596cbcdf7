/* Shared by sync.c, sync_conn.c and sync_push.c only: the connection
 * handle of a host's sync and the helpers that run a statement and turn a
 * failure into a result (sync_conn.c). */
#ifndef UDB_SYNC_INTERNAL_H
#define UDB_SYNC_INTERNAL_H

#include <libpq-fe.h>

#include "sync.h"

struct udb_sync {
	PGconn *pg;
};

/* detail, one line, from msg (libpq's or PostgreSQL's words). */
void udb_sync_set_detail(char *detail, size_t size, const char *msg);
/* What a failed statement (res NULL: a lost connection) means. */
enum udb_result udb_sync_result_of(const PGresult *res, const PGconn *pg);
/* Runs sql expecting status want; on failure clears the result, fills
 * detail (when not NULL) and returns why. *ret_res (when ret_res is not
 * NULL) is the result to PQclear. */
enum udb_result udb_sync_run(struct udb_sync *s, const char *sql, ExecStatusType want,
			     PGresult **ret_res, char *detail, size_t size);
/* Runs sql, whose last statement reads userdb.state's one row: central's
 * revision and the oldest one its kept history starts from. */
enum udb_result udb_sync_read_state(struct udb_sync *s, const char *sql, int64_t *ret_rev,
				    int64_t *ret_min_rev, char *detail, size_t detail_size);
/* An integer column's value (0 for NULL). */
int64_t udb_sync_value_int(const PGresult *res, int row, int col);

/* Pushes the host's outbox (outbox.h) to central in one transaction of its
 * own: sets rep->pushed and rep->fleet_locked; on failure rep->detail. */
enum udb_result udb_sync_push(struct udb_sync *s, struct udb_db *db, struct udb_sync_report *rep);

#endif
