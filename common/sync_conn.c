/* A host's connection to central (sync.h): connecting, LISTEN and its
 * notifications, the revision check, and the helpers sync.c and
 * sync_push.c run their statements through (sync-internal.h). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync-internal.h"

void
udb_sync_set_detail(char *detail, size_t size, const char *msg)
{
	size_t len;

	if (!detail || size == 0)
		return;
	snprintf(detail, size, "%s", msg ? msg : "");
	/* libpq's messages end with a newline and may span lines. */
	for (char *p = detail; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	len = strlen(detail);
	while (len > 0 && detail[len - 1] == ' ')
		detail[--len] = '\0';
}

enum udb_result
udb_sync_result_of(const PGresult *res, const PGconn *pg)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(pg) != CONNECTION_OK || !state)
		return UDB_UNAVAILABLE;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0)
		return UDB_UNAVAILABLE; /* connection exception, admin shutdown */
	if (strcmp(state, "42501") == 0)
		return UDB_PERMISSION;
	if (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0 ||
	    strcmp(state, "42703") == 0)
		return UDB_SCHEMA; /* central not initialised, or another version */
	if (strcmp(state, "53200") == 0)
		return UDB_NO_MEMORY;
	return UDB_INTERNAL;
}

enum udb_result
udb_sync_run(struct udb_sync *s, const char *sql, ExecStatusType want, PGresult **ret_res,
	     char *detail, size_t size)
{
	PGresult *res = PQexec(s->pg, sql);
	enum udb_result r = UDB_OK;

	if (!res || PQresultStatus(res) != want) {
		r = udb_sync_result_of(res, s->pg);
		udb_sync_set_detail(detail, size, PQerrorMessage(s->pg));
		PQclear(res);
		res = NULL;
	}
	if (ret_res)
		*ret_res = res;
	else
		PQclear(res);
	return r;
}

static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

enum udb_result
udb_sync_connect(const char *conninfo, struct udb_sync **ret_sync, char *detail, size_t detail_size)
{
	/* Defaults first: with expand_dbname the admin's string comes last and
	 * overrides them. */
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const values[] = {"10", "userdb-sync", conninfo, NULL};
	struct udb_sync *s;
	const char *msg;

	s = calloc(1, sizeof(*s));
	if (!s)
		return UDB_NO_MEMORY;
	s->pg = PQconnectdbParams(keys, values, 1);
	if (!s->pg) {
		free(s);
		return UDB_NO_MEMORY;
	}
	/* The server's notices (a shutdown's FATAL) are not ours to print:
	 * failures come back through the result and detail. */
	PQsetNoticeProcessor(s->pg, ignore_notice, NULL);
	if (PQstatus(s->pg) != CONNECTION_OK) {
		enum udb_result r = UDB_UNAVAILABLE;

		/* libpq has no code for a refused login: its words tell. */
		msg = PQerrorMessage(s->pg);
		if (strstr(msg, "authentication failed") || strstr(msg, "no password supplied") ||
		    strstr(msg, "password is required") || strstr(msg, "is not permitted to log"))
			r = UDB_AUTH_FAILED;
		udb_sync_set_detail(detail, detail_size, msg);
		udb_sync_close(s);
		return r;
	}
	*ret_sync = s;
	return UDB_OK;
}

void
udb_sync_close(struct udb_sync *s)
{
	if (!s)
		return;
	PQfinish(s->pg);
	free(s);
}

int
udb_sync_socket(const struct udb_sync *s)
{
	return s && s->pg ? PQsocket(s->pg) : -1;
}

enum udb_result
udb_sync_listen(struct udb_sync *s)
{
	return udb_sync_run(s, "LISTEN userdb", PGRES_COMMAND_OK, NULL, NULL, 0);
}

bool
udb_sync_notified(struct udb_sync *s)
{
	PGnotify *n;
	bool any = false;

	if (!PQconsumeInput(s->pg))
		return false;
	while ((n = PQnotifies(s->pg)) != NULL) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

int64_t
udb_sync_value_int(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

enum udb_result
udb_sync_read_state(struct udb_sync *s, const char *sql, int64_t *ret_rev, int64_t *ret_min_rev,
		    char *detail, size_t detail_size)
{
	PGresult *res = NULL;
	enum udb_result r;

	r = udb_sync_run(s, sql, PGRES_TUPLES_OK, &res, detail, detail_size);
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) != 1) {
		udb_sync_set_detail(detail, detail_size, "userdb.state has no row");
		r = UDB_SCHEMA;
	} else {
		*ret_rev = udb_sync_value_int(res, 0, 0);
		*ret_min_rev = udb_sync_value_int(res, 0, 1);
	}
	PQclear(res);
	return r;
}

enum udb_result
udb_sync_central_rev(struct udb_sync *s, int64_t *ret_rev, int64_t *ret_min_rev, char *detail,
		     size_t detail_size)
{
	return udb_sync_read_state(s, "SELECT rev, min_rev FROM userdb.state", ret_rev, ret_min_rev,
				   detail, detail_size);
}
