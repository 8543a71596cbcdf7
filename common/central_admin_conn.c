/* An admin mirror's connection to central and the helpers the sending
 * (central_admin.c) and push-local (central_push.c) run their statements
 * through (central-admin-internal.h); the handle's life and the mirror's
 * record of central's revision. */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central-admin-internal.h"
#include "db-internal.h"

void
udb_central_params_clear(struct params *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->owned[i]);
	p->n = 0;
}

bool
udb_central_params_add(struct params *p, sqlite3_value *v)
{
	const unsigned char *text;

	if (p->n >= MAX_COLS * 2)
		return false;
	p->owned[p->n] = NULL;
	p->v[p->n] = NULL;
	if (v && sqlite3_value_type(v) == SQLITE_BLOB) {
		/* bytea's text form: "\\x" and two hex digits a byte. */
		const unsigned char *b = sqlite3_value_blob(v);
		int n = sqlite3_value_bytes(v);
		char *hex = malloc((size_t)n * 2 + 3);

		if (!hex || (n && !b)) {
			free(hex);
			return false;
		}
		hex[0] = '\\';
		hex[1] = 'x';
		for (int i = 0; i < n; i++)
			snprintf(hex + 2 + 2 * i, 3, "%02x", b[i]);
		hex[2 + 2 * n] = '\0';
		p->v[p->n] = p->owned[p->n] = hex;
	} else if (v && sqlite3_value_type(v) != SQLITE_NULL) {
		text = sqlite3_value_text(v);
		if (!text || !(p->owned[p->n] = strdup((const char *)text)))
			return false;
		p->v[p->n] = p->owned[p->n];
	}
	p->n++;
	return true;
}

static void
set_error(struct udb_central_admin *a, const char *msg)
{
	size_t n;

	snprintf(a->error, sizeof(a->error), "%s", msg ? msg : "");
	/* libpq's messages end with a newline and may have a DETAIL line. */
	n = strcspn(a->error, "\n");
	a->error[n] = '\0';
}

enum udb_result
udb_central_admin_failure(struct udb_central_admin *a, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	set_error(a, res ? PQresultErrorMessage(res) : PQerrorMessage(a->pg));
	if (!a->error[0])
		set_error(a, PQerrorMessage(a->pg));
	if (!state || strncmp(state, "08", 2) == 0 || PQstatus(a->pg) != CONNECTION_OK)
		return UDB_UNAVAILABLE;
	if (strcmp(state, "23505") == 0)
		return UDB_EXISTS;
	return UDB_INTERNAL;
}

enum udb_result
udb_central_admin_run(struct udb_central_admin *a, const char *sql, const struct params *p,
		      PGresult **ret_res)
{
	PGresult *res =
		PQexecParams(a->pg, sql, p ? p->n : 0, NULL, p ? p->v : NULL, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum udb_result r = UDB_OK;

	a->statements++;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = udb_central_admin_failure(a, res);
	if (r == UDB_OK && ret_res)
		*ret_res = res;
	else
		PQclear(res);
	return r;
}

enum udb_result
udb_central_admin_connect(struct udb_central_admin *a)
{
	if (a->pg && PQstatus(a->pg) == CONNECTION_OK)
		return UDB_OK;
	PQfinish(a->pg);
	a->pg = PQconnectdb(a->conninfo);
	if (!a->pg)
		return UDB_NO_MEMORY;
	if (PQstatus(a->pg) != CONNECTION_OK) {
		set_error(a, PQerrorMessage(a->pg));
		PQfinish(a->pg);
		a->pg = NULL;
		return UDB_UNAVAILABLE;
	}
	return UDB_OK;
}

enum udb_result
udb_central_admin_int(struct udb_central_admin *a, const char *sql, int64_t *ret_value)
{
	PGresult *res = NULL;
	enum udb_result r = udb_central_admin_run(a, sql, NULL, &res);

	if (r == UDB_OK) {
		if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
			set_error(a, "central database: no revision in userdb.state");
			r = UDB_CORRUPT;
		} else {
			*ret_value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		}
	}
	PQclear(res);
	return r;
}

enum udb_result
udb_central_admin_rev(struct udb_central_admin *a, int64_t *ret_rev)
{
	enum udb_result r = udb_central_admin_connect(a);

	if (r == UDB_OK)
		r = udb_central_admin_int(a, "SELECT rev FROM userdb.state", ret_rev);
	return r;
}

/* The mirror's central_rev, recorded in its open transaction. */
enum udb_result
udb_central_admin_record_rev(struct udb_db *db, int64_t rev)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r = udb_stmt(db, UDB_Q_REPLICA_SET_META, &stmt);

	if (r != UDB_OK)
		return r;
	if (sqlite3_bind_text(stmt, 1, "central_rev", -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, rev) != SQLITE_OK) {
		udb_stmt_done(db, UDB_Q_REPLICA_SET_META);
		return UDB_INTERNAL;
	}
	return udb_stmt_exec(db, UDB_Q_REPLICA_SET_META);
}

enum udb_result
udb_central_admin_new(const char *conninfo, struct udb_central_admin **ret_admin)
{
	struct udb_central_admin *a = calloc(1, sizeof(*a));

	*ret_admin = NULL;
	if (!a || !(a->conninfo = strdup(conninfo))) {
		free(a);
		return UDB_NO_MEMORY;
	}
	*ret_admin = a;
	return UDB_OK;
}

void
udb_central_admin_free(struct udb_central_admin *a)
{
	if (!a)
		return;
	PQfinish(a->pg);
	for (unsigned t = 0; t < UDB_REPLICA_COUNT; t++)
		for (int i = 0; i < a->n_local[t]; i++)
			free(a->local_cols[t][i]);
	free(a->conninfo);
	free(a);
}

const char *
udb_central_admin_error(const struct udb_central_admin *a)
{
	return a->error;
}

int64_t
udb_central_admin_sent_rev(const struct udb_central_admin *a)
{
	return a->sent_rev;
}
