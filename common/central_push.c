/* `userdb central push-local` (central_admin.h): the local store copied
 * into an empty central database in one transaction, through the
 * statement helpers of central_admin_conn.c. Called by the CLI. */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "central-admin-internal.h"
#include "db-internal.h"
#include "replica.h"

/* push-local: every row of table t from the local store (the replicated
 * columns, or the account hashes for UDB_REPLICA_SECRETS) inserted
 * centrally; an existing row (the allocator's, at revision 0) takes the
 * local values. *ret_rows counts them. */
static enum udb_result
push_table(struct udb_central_admin *a, struct udb_db *db, enum udb_replica_table t,
	   size_t *ret_rows)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char sel[1024], ins[2048];
	sqlite3_stmt *stmt = NULL;
	enum udb_result r = UDB_OK;
	size_t len = 0, ilen, ulen = 0;
	char upd[1024] = "";
	int rc;

	for (unsigned k = 0; k < ti->n_columns; k++)
		len += (size_t)snprintf(sel + len, sizeof(sel) - len, "%s\"%s\"",
					k ? ", " : "SELECT ", ti->columns[k]);
	len += (size_t)snprintf(sel + len, sizeof(sel) - len, " FROM %s.\"%s\"%s%s",
				udb_replica_schema_of(t), udb_replica_local_name(t),
				ti->filter ? " WHERE " : "", ti->filter ? ti->filter : "");
	ilen = (size_t)snprintf(ins, sizeof(ins), "INSERT INTO userdb.\"%s\" (", ti->name);
	for (unsigned k = 0; k < ti->n_columns; k++)
		ilen += (size_t)snprintf(ins + ilen, sizeof(ins) - ilen, "%s\"%s\"", k ? ", " : "",
					 ti->columns[k]);
	for (unsigned k = 0; k < ti->n_columns; k++)
		ilen += (size_t)snprintf(ins + ilen, sizeof(ins) - ilen, "%s$%u",
					 k ? ", " : ") VALUES (", k + 1);
	for (unsigned k = ti->n_pk; k < ti->n_columns; k++)
		ulen += (size_t)snprintf(
			upd + ulen, sizeof(upd) - ulen, "%s\"%s\" = EXCLUDED.\"%s\"",
			k > ti->n_pk ? ", " : " DO UPDATE SET ", ti->columns[k], ti->columns[k]);
	for (unsigned k = 0; k < ti->n_pk; k++)
		ilen += (size_t)snprintf(ins + ilen, sizeof(ins) - ilen, "%s\"%s\"",
					 k ? ", " : ") ON CONFLICT (", ti->columns[k]);
	ilen += (size_t)snprintf(ins + ilen, sizeof(ins) - ilen, ")%s", ulen ? "" : " DO NOTHING");
	if (ulen)
		ilen += (size_t)snprintf(ins + ilen, sizeof(ins) - ilen, "%s", upd);
	if (len >= sizeof(sel) || ilen >= sizeof(ins) || ulen >= sizeof(upd))
		return UDB_INTERNAL;
	if (sqlite3_prepare_v2(db->sql, sel, -1, &stmt, NULL) != SQLITE_OK)
		return UDB_INTERNAL;
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct params p = {.n = 0};

		for (unsigned k = 0; k < ti->n_columns && r == UDB_OK; k++)
			if (!udb_central_params_add(&p, sqlite3_column_value(stmt, (int)k)))
				r = UDB_NO_MEMORY;
		if (r == UDB_OK)
			r = udb_central_admin_run(a, ins, &p, NULL);
		udb_central_params_clear(&p);
		(*ret_rows)++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	sqlite3_finalize(stmt);
	return r;
}

/* Central is empty when it has no role, user or host and no id handed out. */
static enum udb_result
check_empty(struct udb_central_admin *a)
{
	int64_t n = 0;
	enum udb_result r = udb_central_admin_int(
		a,
		"SELECT (SELECT count(*) FROM userdb.roles) + (SELECT count(*) "
		"FROM userdb.users) + (SELECT count(*) FROM userdb.hosts) + "
		"(SELECT count(*) FROM userdb.id_allocator WHERE high_water <> 0)",
		&n);

	if (r == UDB_OK && n > 0) {
		snprintf(a->error, sizeof(a->error),
			 "the central database is not empty (it has roles, users, hosts or ids "
			 "handed out)");
		r = UDB_EXISTS;
	}
	return r;
}

enum udb_result
udb_central_admin_push_local(struct udb_central_admin *a, struct udb_db *db,
			     struct udb_central_push_report *ret_report)
{
	enum udb_result r;
	int64_t rev = 0;

	memset(ret_report, 0, sizeof(*ret_report));
	a->error[0] = '\0';
	r = udb_central_admin_connect(a);
	if (r == UDB_OK)
		r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_central_admin_run(a, "BEGIN", NULL, NULL);
	if (r == UDB_OK)
		r = udb_central_admin_int(a, "SELECT userdb.begin_change()", &rev);
	if (r == UDB_OK)
		r = check_empty(a);
	for (unsigned t = 0; t < UDB_REPLICA_COUNT && r == UDB_OK; t++)
		r = push_table(a, db, (enum udb_replica_table)t, &ret_report->rows[t]);
	if (r == UDB_OK)
		r = udb_central_admin_record_rev(db, rev);
	if (r == UDB_OK)
		r = udb_central_admin_run(a, "COMMIT", NULL, NULL);
	if (r != UDB_OK) {
		if (a->pg && PQtransactionStatus(a->pg) != PQTRANS_IDLE)
			PQclear(PQexec(a->pg, "ROLLBACK"));
		udb_db_rollback(db);
		return r;
	}
	/* Central has it: the mirror records the revision it is now at. A
	 * failure here leaves it at its old revision, which its next sync
	 * (a full one: central is ahead) repairs. */
	ret_report->rev = rev;
	return udb_db_commit(db);
}
