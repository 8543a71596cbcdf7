/* Sending an admin mirror's changes to the central database
 * (central_admin.h, which numbers the protocol). Called by the CLI through
 * the change hook of db.h. The connection and the statement helpers are in
 * central_admin_conn.c, push-local in central_push.c.
 *
 * The statements are built from replica_tables.c's table list, fixed at
 * compile time: every identifier comes from there, and every value is a
 * parameter, sent as text (PostgreSQL takes the column's type from the
 * statement). A changeset names the local table and gives its values by
 * local column position; the names of the local columns come from SQLite
 * itself, so a column central does not have (an account's host-local ones)
 * is simply not sent. */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central-admin-internal.h"
#include "db-internal.h"
#include "replica.h"

/* The replicated table a local table name is, or UDB_REPLICA_COUNT. */
static enum udb_replica_table
replica_of(const char *name)
{
	for (unsigned t = 0; t < UDB_REPLICA_COUNT; t++)
		if (t != UDB_REPLICA_SECRETS && strcmp(udb_replica_info(t)->name, name) == 0)
			return (enum udb_replica_table)t;
	return UDB_REPLICA_COUNT;
}

bool
udb_central_admin_captures(const char *schema, const char *table, void *ctx)
{
	(void)schema;
	(void)ctx;
	return replica_of(table) != UDB_REPLICA_COUNT;
}

static enum udb_result
load_local_cols(struct udb_central_admin *a, struct udb_db *db, enum udb_replica_table t)
{
	sqlite3_stmt *stmt = NULL;
	int rc, n = 0;

	if (a->n_local[t] > 0)
		return UDB_OK;
	rc = sqlite3_prepare_v2(db->sql, "SELECT name FROM pragma_table_info(?1, ?2) ORDER BY cid",
				-1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 1, udb_replica_info(t)->name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, t >= UDB_REPLICA_ACCOUNTS ? "sec" : "pub", -1,
				       SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		if (n >= MAX_COLS ||
		    !(a->local_cols[t][n] = strdup((const char *)sqlite3_column_text(stmt, 0))))
			rc = SQLITE_NOMEM;
		else
			n++;
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE && n > 0) {
		a->n_local[t] = n;
		return UDB_OK;
	}
	while (n > 0)
		free(a->local_cols[t][--n]);
	return rc == SQLITE_NOMEM ? UDB_NO_MEMORY : UDB_INTERNAL;
}

/* The local position of column name in t, or -1. */
static int
local_index(const struct udb_central_admin *a, enum udb_replica_table t, const char *name)
{
	for (int i = 0; i < a->n_local[t]; i++)
		if (strcmp(a->local_cols[t][i], name) == 0)
			return i;
	return -1;
}

/* One change as it stands in the changeset iterator. */
struct change {
	sqlite3_changeset_iter *it;
	enum udb_replica_table t;
	int op, ncol;
};

/* The value of local column i: the new one (NULL pointer when an update
 * leaves it alone) or the old one. */
static sqlite3_value *
value(const struct change *ch, int i, bool new_value)
{
	sqlite3_value *v = NULL;

	if (i < 0 || i >= ch->ncol)
		return NULL;
	if (new_value)
		sqlite3changeset_new(ch->it, i, &v);
	else
		sqlite3changeset_old(ch->it, i, &v);
	return v;
}

/* Appends `"col" = $n` joined by sep for the primary key of t, taking the
 * old values (the row as it was). */
static bool
where_pk(const struct udb_central_admin *a, const struct change *ch, struct params *p, char *sql,
	 size_t size, const char *const *cols, unsigned n_pk)
{
	size_t len = strlen(sql);

	for (unsigned k = 0; k < n_pk; k++) {
		sqlite3_value *v = value(ch, local_index(a, ch->t, cols[k]), false);

		if (!v || !udb_central_params_add(p, v))
			return false;
		len += (size_t)snprintf(sql + len, size - len, "%s\"%s\" = $%d",
					k ? " AND " : " WHERE ", cols[k], p->n);
	}
	return len < size;
}

static enum udb_result
send_delete(struct udb_central_admin *a, const struct change *ch)
{
	const struct udb_replica_info *ti = udb_replica_info(ch->t);
	struct params p = {.n = 0};
	enum udb_result r = UDB_INTERNAL;
	char sql[1024];

	if (ch->t == UDB_REPLICA_ACCOUNTS) {
		/* The secret first: it hangs off the account centrally. */
		snprintf(sql, sizeof(sql), "DELETE FROM userdb.secrets");
		if (!where_pk(a, ch, &p, sql, sizeof(sql), ti->columns, 1))
			goto out;
		r = udb_central_admin_run(a, sql, &p, NULL);
		udb_central_params_clear(&p);
		if (r != UDB_OK)
			goto out;
		r = UDB_INTERNAL;
	}
	snprintf(sql, sizeof(sql), "DELETE FROM userdb.\"%s\"", ti->name);
	if (where_pk(a, ch, &p, sql, sizeof(sql), ti->columns, ti->n_pk))
		r = udb_central_admin_run(a, sql, &p, NULL);
out:
	udb_central_params_clear(&p);
	return r;
}

/* An account's password_hash, when the change sets it: upserted into
 * userdb.secrets, or its row deleted for a NULL hash. */
static enum udb_result
send_secret(struct udb_central_admin *a, const struct change *ch)
{
	sqlite3_value *hash = value(ch, local_index(a, ch->t, "password_hash"), true);
	sqlite3_value *id = value(ch, local_index(a, ch->t, "user_id"), ch->op == SQLITE_INSERT);
	struct params p = {.n = 0};
	enum udb_result r = UDB_NO_MEMORY;
	bool wipe;

	if (!hash)
		return UDB_OK; /* an update that leaves the hash alone */
	if (!id)
		return UDB_INTERNAL;
	wipe = sqlite3_value_type(hash) == SQLITE_NULL;
	if (ch->op == SQLITE_INSERT && wipe)
		return UDB_OK;
	if (udb_central_params_add(&p, id) && (wipe || udb_central_params_add(&p, hash)))
		r = udb_central_admin_run(
			a,
			wipe ? "DELETE FROM userdb.secrets WHERE user_id = $1"
			     : "INSERT INTO userdb.secrets (user_id, password_hash) VALUES ($1, "
			       "$2) "
			       "ON CONFLICT (user_id) DO UPDATE SET password_hash = "
			       "EXCLUDED.password_hash",
			&p, NULL);
	udb_central_params_clear(&p);
	return r;
}

static enum udb_result
send_insert(struct udb_central_admin *a, const struct change *ch)
{
	const struct udb_replica_info *ti = udb_replica_info(ch->t);
	char sql[2048], vals[512] = "";
	struct params p = {.n = 0};
	enum udb_result r = UDB_NO_MEMORY;
	size_t len, vlen = 0;

	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO userdb.\"%s\" (", ti->name);
	for (unsigned k = 0; k < ti->n_columns; k++) {
		if (!udb_central_params_add(&p,
					    value(ch, local_index(a, ch->t, ti->columns[k]), true)))
			goto out;
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s\"%s\"", k ? ", " : "",
					ti->columns[k]);
		vlen += (size_t)snprintf(vals + vlen, sizeof(vals) - vlen, "%s$%u", k ? ", " : "",
					 k + 1);
	}
	if (len + strlen(vals) + 16 >= sizeof(sql) || vlen >= sizeof(vals)) {
		r = UDB_INTERNAL;
		goto out;
	}
	snprintf(sql + len, sizeof(sql) - len, ") VALUES (%s)", vals);
	r = udb_central_admin_run(a, sql, &p, NULL);
out:
	udb_central_params_clear(&p);
	return r;
}

static enum udb_result
send_update(struct udb_central_admin *a, const struct change *ch)
{
	const struct udb_replica_info *ti = udb_replica_info(ch->t);
	struct params p = {.n = 0};
	enum udb_result r = UDB_OK;
	PGresult *res = NULL;
	char sql[2048];
	size_t len;
	int set = 0;

	len = (size_t)snprintf(sql, sizeof(sql), "UPDATE userdb.\"%s\" SET ", ti->name);
	for (unsigned k = ti->n_pk; k < ti->n_columns && len < sizeof(sql); k++) {
		sqlite3_value *v = value(ch, local_index(a, ch->t, ti->columns[k]), true);

		if (!v)
			continue;
		if (!udb_central_params_add(&p, v)) {
			r = UDB_NO_MEMORY;
			goto out;
		}
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s\"%s\" = $%d",
					set++ ? ", " : "", ti->columns[k], p.n);
	}
	/* Only host-local columns (or the hash alone) changed: nothing here. */
	if (set == 0)
		goto out;
	if (len >= sizeof(sql) || !where_pk(a, ch, &p, sql, sizeof(sql), ti->columns, ti->n_pk)) {
		r = UDB_INTERNAL;
		goto out;
	}
	r = udb_central_admin_run(a, sql, &p, &res);
	/* The revision check says central holds what the mirror holds: a row
	 * the mirror changed that central lacks means they differ. */
	if (r == UDB_OK && strcmp(PQcmdTuples(res), "1") != 0) {
		snprintf(a->error, sizeof(a->error),
			 "central has no %s row this mirror changed: the two differ", ti->name);
		r = UDB_CORRUPT;
	}
	PQclear(res);
out:
	udb_central_params_clear(&p);
	return r;
}

static enum udb_result
send_one(struct udb_central_admin *a, const struct change *ch)
{
	enum udb_result r;

	if (ch->op == SQLITE_DELETE)
		return send_delete(a, ch);
	r = ch->op == SQLITE_INSERT ? send_insert(a, ch) : send_update(a, ch);
	if (r == UDB_OK && ch->t == UDB_REPLICA_ACCOUNTS)
		r = send_secret(a, ch);
	return r;
}

/* A savepoint command, not counted as a change sent. */
static bool
savepoint(struct udb_central_admin *a, const char *sql)
{
	PGresult *res = PQexec(a->pg, sql);
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

/* Which changes of a table the first round put off: a row the mirror
 * wrote in an order the changeset does not keep (two addresses trading the
 * primary mark) can collide with a unique index centrally until the other
 * row is written, so such a row is tried again after the rest. */
struct deferred {
	unsigned char *v;
	size_t cap;
};

static bool
deferred_set(struct deferred *d, size_t k, bool value)
{
	if (k >= d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		unsigned char *v;

		while (cap <= k)
			cap *= 2;
		v = realloc(d->v, cap);
		if (!v)
			return false;
		memset(v + d->cap, 0, cap - d->cap);
		d->v = v;
		d->cap = cap;
	}
	d->v[k] = value;
	return true;
}

/* One change of the first round of inserts and updates: under a savepoint,
 * so that a duplicate is put off instead of failing the transaction. */
static enum udb_result
send_first(struct udb_central_admin *a, const struct change *ch, struct deferred *d, size_t k)
{
	enum udb_result r;

	if (!savepoint(a, "SAVEPOINT udb_row"))
		return udb_central_admin_failure(a, NULL);
	r = send_one(a, ch);
	if (r == UDB_EXISTS) {
		if (!savepoint(a, "ROLLBACK TO SAVEPOINT udb_row"))
			return udb_central_admin_failure(a, NULL);
		a->error[0] = '\0';
		return deferred_set(d, k, true) ? UDB_OK : UDB_NO_MEMORY;
	}
	if (r == UDB_OK && !savepoint(a, "RELEASE SAVEPOINT udb_row"))
		r = udb_central_admin_failure(a, NULL);
	return r;
}

/* Sends the changes of table t that are deletions (deletes true) or not;
 * d NULL: every one, else the first round (d records what it put off) or,
 * with retry, only what the first round put off. */
static enum udb_result
send_table(struct udb_central_admin *a, struct udb_db *db, const void *changeset, int size,
	   enum udb_replica_table t, bool deletes, struct deferred *d, bool retry)
{
	struct change ch = {.it = NULL, .t = t};
	enum udb_result r = UDB_OK;
	size_t k = 0;
	int rc;

	if (sqlite3changeset_start(&ch.it, size, (void *)(uintptr_t)changeset) != SQLITE_OK)
		return UDB_INTERNAL;
	while (r == UDB_OK && (rc = sqlite3changeset_next(ch.it)) == SQLITE_ROW) {
		const char *table = NULL;
		int indirect = 0;

		if (sqlite3changeset_op(ch.it, &table, &ch.ncol, &ch.op, &indirect) != SQLITE_OK) {
			r = UDB_INTERNAL;
			break;
		}
		if (replica_of(table) != t || (ch.op == SQLITE_DELETE) != deletes)
			continue;
		k++;
		if (retry && (k - 1 >= d->cap || !d->v[k - 1]))
			continue;
		r = load_local_cols(a, db, t);
		if (r == UDB_OK)
			r = d && !retry ? send_first(a, &ch, d, k - 1) : send_one(a, &ch);
	}
	if (sqlite3changeset_finalize(ch.it) != SQLITE_OK && r == UDB_OK)
		r = UDB_INTERNAL;
	return r;
}

static enum udb_result
send_changeset(struct udb_central_admin *a, struct udb_db *db, const void *changeset, int size)
{
	enum udb_result r = UDB_OK;

	for (int t = UDB_REPLICA_SECRETS - 1; t >= 0 && r == UDB_OK; t--)
		r = send_table(a, db, changeset, size, (enum udb_replica_table)t, true, NULL,
			       false);
	for (int t = 0; t < UDB_REPLICA_SECRETS && r == UDB_OK; t++) {
		struct deferred d = {.v = NULL};

		r = send_table(a, db, changeset, size, (enum udb_replica_table)t, false, &d, false);
		if (r == UDB_OK && d.cap)
			r = send_table(a, db, changeset, size, (enum udb_replica_table)t, false, &d,
				       true);
		free(d.v);
	}
	return r;
}

enum udb_result
udb_central_admin_send(struct udb_db *db, const void *changeset, int size, void *ctx)
{
	struct udb_central_admin *a = ctx;
	int64_t local_rev = 0, synced_at = 0, rev = 0;
	enum udb_result r;

	a->error[0] = '\0';
	if (size == 0)
		return UDB_OK;
	r = udb_replica_state(db, &local_rev, &synced_at);
	if (r == UDB_OK)
		r = udb_central_admin_connect(a);
	if (r != UDB_OK)
		return r;
	r = udb_central_admin_run(a, "BEGIN", NULL, NULL);
	if (r == UDB_OK)
		r = udb_central_admin_int(a, "SELECT userdb.begin_change()", &rev);
	if (r == UDB_OK && rev - 1 != local_rev) {
		snprintf(a->error, sizeof(a->error),
			 "central is at revision %lld, this mirror at %lld", (long long)(rev - 1),
			 (long long)local_rev);
		r = UDB_STALE;
	}
	a->statements = 0;
	if (r == UDB_OK)
		r = send_changeset(a, db, changeset, size);
	if (r == UDB_OK && a->statements == 0) {
		/* Only host-local columns changed (an unlock of this box's own
		 * failure count): no revision for central's hosts to fetch. */
		PQclear(PQexec(a->pg, "ROLLBACK"));
		return UDB_OK;
	}
	if (r == UDB_OK)
		r = udb_central_admin_run(a, "COMMIT", NULL, NULL);
	if (r != UDB_OK) {
		if (a->pg && PQtransactionStatus(a->pg) != PQTRANS_IDLE)
			PQclear(PQexec(a->pg, "ROLLBACK"));
		return r;
	}
	/* Committed centrally: from here on, the change stands (central_admin.h, 3). */
	a->sent_rev = rev;
	return udb_central_admin_record_rev(db, rev);
}
