/* Shared by sync.c and sync_push.c only: the connection handle of a host's
 * sync and the helpers that turn a failed statement into a result. */
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

/* Pushes the host's outbox (outbox.h) to central in one transaction of its
 * own: sets rep->pushed and rep->fleet_locked; on failure rep->detail. */
enum udb_result udb_sync_push(struct udb_sync *s, struct udb_db *db, struct udb_sync_report *rep);

#endif
