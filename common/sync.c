/* A host's pull from central (sync.h): one pass into replica.h, and the
 * drift check. Called by cli/sync.c. The connection, the revision check and
 * the helpers every statement goes through are in sync_conn.c.
 *
 * Every identifier in the SQL here comes from replica_tables.c's fixed
 * table list; the only values spliced into statements are revisions and
 * user ids this file formatted as integers itself.
 *
 * Rows are read through a cursor, FETCH_ROWS at a time, so a full resync of
 * a million users never holds them all in memory, and the transaction stays
 * a plain one that a pooler in transaction mode passes through. A pass
 * costs few round trips, since each is a wait for the pooled server session
 * that a thousand hosts share: an incremental pass first asks which tables
 * have rows or tombstones in the window and reads only those, a cursor's
 * DECLARE goes with its first FETCH, and a FETCH short of FETCH_ROWS ends
 * the cursor (the transaction's end closes it). */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "replica.h"
#include "sync-internal.h"

#define FETCH_ROWS  "5000"
#define BOOL_OID    16
#define MAX_COLUMNS 16

/* The ids of users whose grants changed in the window: their secrets are
 * read again, since what this host may see of them may have changed. */
struct id_set {
	int64_t *v;
	size_t n, cap;
};

static enum udb_result
id_set_add(struct id_set *set, int64_t id)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		int64_t *v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return UDB_NO_MEMORY;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = id;
	return UDB_OK;
}

/* The context of one pass. */
struct pass {
	struct udb_sync *s;
	struct udb_replica_apply *ap;
	int64_t from, to;
	bool full;
	unsigned cursors;                   /* cursors declared so far */
	bool rows[UDB_REPLICA_COUNT];       /* rows in the window, per table */
	bool tombstones[UDB_REPLICA_COUNT]; /* tombstones in the window */
	struct id_set granted;              /* users whose grants changed in the window */
	struct udb_sync_report *rep;
};

/* What a FETCH's rows are: rows of the table, tombstones (its primary
 * key), or rows whose last column says the row is not shown to this host
 * (a tombstone then). */
#define FETCH_ROWS_OF    0
#define FETCH_TOMBSTONES 1
#define FETCH_MIXED      2

/* Hands the rows of one FETCH to the batch. PostgreSQL booleans (if central
 * declares a flag so) become SQLite's 1 and 0. */
static enum udb_result
take_rows(struct pass *p, enum udb_replica_table t, const PGresult *res, int kind)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	const char *values[MAX_COLUMNS];
	int nf = PQnfields(res);
	int want = kind == FETCH_TOMBSTONES ? (int)ti->n_pk
					    : (int)ti->n_columns + (kind == FETCH_MIXED);
	enum udb_result r = UDB_OK;

	/* Every value the apply reads must have come from central: an answer
	 * of another shape (not PostgreSQL's, which answers the columns
	 * asked) is refused whole. */
	if (nf != want || nf > MAX_COLUMNS) {
		snprintf(p->rep->detail, sizeof(p->rep->detail),
			 "central answered %d columns of %s where %d were asked: nothing applied",
			 nf, ti->name, want);
		return UDB_INVALID;
	}
	for (int i = 0; i < PQntuples(res) && r == UDB_OK; i++) {
		for (int f = 0; f < nf; f++) {
			const char *v = PQgetisnull(res, i, f) ? NULL : PQgetvalue(res, i, f);

			if (v && PQftype(res, f) == BOOL_OID)
				v = v[0] == 't' ? "1" : "0";
			values[f] = v;
		}
		if (t == UDB_REPLICA_USER_ROLES && !p->full)
			r = id_set_add(&p->granted, udb_sync_value_int(res, i, 0));
		if (r != UDB_OK)
			break;
		if (kind == FETCH_MIXED && PQgetvalue(res, i, nf - 1)[0] == 't') {
			/* Not shown to this host (any more): its copy goes, if
			 * it has one; not counted as a deletion of central's. */
			r = udb_replica_apply_tombstone(p->ap, t, values);
		} else if (kind == FETCH_TOMBSTONES) {
			r = udb_replica_apply_tombstone(p->ap, t, values);
			p->rep->tombstones++;
		} else {
			r = udb_replica_apply_row(p->ap, t, values);
			p->rep->rows++;
		}
	}
	if (r == UDB_INVALID)
		snprintf(p->rep->detail, sizeof(p->rep->detail),
			 "central sent a row of %s that breaks this host's rules (a name, id, "
			 "path or hash no local write could set): nothing applied",
			 ti->name);
	return r;
}

/* Declares a cursor over query and hands every row to the batch. */
static enum udb_result
fetch_all(struct pass *p, enum udb_replica_table t, const char *query, int kind)
{
	struct udb_sync_report *rep = p->rep;
	PGresult *res = NULL;
	enum udb_result r;
	/* query may list many user ids (read_granted): sized to fit. */
	size_t size = strlen(query) + 128;
	char *sql = malloc(size);
	unsigned c = p->cursors++;
	int n;

	if (!sql)
		return UDB_NO_MEMORY;
	/* The DECLARE and the first FETCH in one round trip. */
	snprintf(sql, size,
		 "DECLARE udb_rows%u NO SCROLL CURSOR FOR %s; FETCH " FETCH_ROWS " FROM udb_rows%u",
		 c, query, c);
	r = udb_sync_run(p->s, sql, PGRES_TUPLES_OK, &res, rep->detail, sizeof(rep->detail));
	snprintf(sql, size, "FETCH " FETCH_ROWS " FROM udb_rows%u", c);
	while (r == UDB_OK) {
		n = PQntuples(res);
		if (PQnfields(res) > MAX_COLUMNS)
			r = UDB_INTERNAL;
		else
			r = take_rows(p, t, res, kind);
		PQclear(res);
		res = NULL;
		if (r != UDB_OK || n < atoi(FETCH_ROWS))
			break;
		r = udb_sync_run(p->s, sql, PGRES_TUPLES_OK, &res, rep->detail,
				 sizeof(rep->detail));
	}
	free(sql);
	return r;
}

/* "a, b, c" of the table's columns (with prefix), or of its key's values
 * in a tombstone's jsonb pk. */
static void
column_list(char *buf, size_t size, const struct udb_replica_info *ti, bool from_pk)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < (from_pk ? ti->n_pk : ti->n_columns) && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, from_pk ? "%spk->>'%s'" : "%s\"%s\"",
					i ? ", " : "", ti->columns[i]);
}

static enum udb_result
read_table(struct pass *p, enum udb_replica_table t)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char cols[512], query[1024];
	enum udb_result r;

	column_list(cols, sizeof(cols), ti, false);
	snprintf(query, sizeof(query), "SELECT %s FROM userdb.%s WHERE rev > %" PRId64, cols,
		 ti->name, p->full ? (int64_t)-1 : p->from);
	r = p->full || p->rows[t] ? fetch_all(p, t, query, FETCH_ROWS_OF) : UDB_OK;
	if (r != UDB_OK || p->full || !p->tombstones[t])
		return r;
	column_list(cols, sizeof(cols), ti, true);
	snprintf(query, sizeof(query),
		 "SELECT %s FROM userdb.tombstones WHERE tbl = '%s' AND rev > %" PRId64, cols,
		 ti->name, p->from);
	return fetch_all(p, t, query, FETCH_TOMBSTONES);
}

/* Which tables have rows, and which tombstones, in the window: one row of
 * booleans, rows of every table then tombstones of every table. */
static enum udb_result
probe_window(struct pass *p)
{
	struct udb_sync_report *rep = p->rep;
	PGresult *res = NULL;
	enum udb_result r;
	char sql[4096];
	size_t len;

	len = (size_t)snprintf(sql, sizeof(sql), "SELECT ");
	for (unsigned t = 0; t < 2 * UDB_REPLICA_COUNT && len < sizeof(sql); t++) {
		const struct udb_replica_info *ti =
			udb_replica_info((enum udb_replica_table)(t % UDB_REPLICA_COUNT));

		if (t < UDB_REPLICA_COUNT)
			len += (size_t)snprintf(
				sql + len, sizeof(sql) - len,
				"%sEXISTS (SELECT 1 FROM userdb.%s WHERE rev > %" PRId64 ")",
				t ? ", " : "", ti->name, p->from);
		else
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
						", EXISTS (SELECT 1 FROM userdb.tombstones WHERE "
						"tbl = '%s' AND rev > %" PRId64 ")",
						ti->name, p->from);
	}
	if (len >= sizeof(sql))
		return UDB_INTERNAL;
	r = udb_sync_run(p->s, sql, PGRES_TUPLES_OK, &res, rep->detail, sizeof(rep->detail));
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) != 1 || PQnfields(res) != 2 * UDB_REPLICA_COUNT) {
		PQclear(res);
		return UDB_INTERNAL;
	}
	for (unsigned t = 0; t < UDB_REPLICA_COUNT; t++) {
		p->rows[t] = PQgetvalue(res, 0, (int)t)[0] == 't';
		p->tombstones[t] = PQgetvalue(res, 0, (int)(UDB_REPLICA_COUNT + t))[0] == 't';
	}
	PQclear(res);
	return UDB_OK;
}

/* Whether what this host may see of the secrets can have changed for
 * users beyond those whose own grants changed: a change of role
 * inclusions, or of the roles allowed on a host. */
static enum udb_result
visibility_changed(struct pass *p, bool *ret_changed)
{
	struct udb_sync_report *rep = p->rep;
	PGresult *res = NULL;
	enum udb_result r;
	char sql[512];

	/* The savepoint and the query in one round trip. */
	snprintf(sql, sizeof(sql),
		 "SAVEPOINT udb_vis; "
		 "SELECT EXISTS (SELECT 1 FROM userdb.tombstones WHERE rev > %" PRId64
		 " AND tbl IN ('role_closure', 'host_roles', 'hosts')) OR EXISTS (SELECT 1 "
		 "FROM userdb.role_closure WHERE rev > %" PRId64 ") OR EXISTS (SELECT 1 FROM "
		 "userdb.host_roles WHERE rev > %" PRId64 ")",
		 p->from, p->from, p->from);
	r = udb_sync_run(p->s, sql, PGRES_TUPLES_OK, &res, NULL, 0);
	if (r == UDB_UNAVAILABLE) {
		udb_sync_set_detail(rep->detail, sizeof(rep->detail), PQerrorMessage(p->s->pg));
		return r;
	}
	if (r != UDB_OK) {
		/* A host login that may not read host_roles cannot tell:
		 * every visible secret is read again. */
		*ret_changed = true;
		return udb_sync_run(p->s, "ROLLBACK TO SAVEPOINT udb_vis", PGRES_COMMAND_OK, NULL,
				    rep->detail, sizeof(rep->detail));
	}
	*ret_changed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return UDB_OK;
}

/* Appends "{1,2,3}" of the ids to query. */
static size_t
put_ids(char *query, size_t size, size_t len, const struct id_set *ids)
{
	len += (size_t)snprintf(query + len, size - len, "'{");
	for (size_t i = 0; i < ids->n; i++)
		len += (size_t)snprintf(query + len, size - len, "%s%" PRId64, i ? "," : "",
					ids->v[i]);
	return len + (size_t)snprintf(query + len, size - len, "}'::bigint[]");
}

/* The granted users' rows of secret table t: for the hashes two round
 * trips (a tombstone for each user whose hash is not shown, then the
 * rows), for the second factors one (each user's row, or that it is not
 * shown, which is not counted as a deletion: most users have none). */
static enum udb_result
read_granted(struct pass *p, enum udb_replica_table t, char *query, size_t size)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char cols[256];
	enum udb_result r;
	size_t len;

	column_list(cols, sizeof(cols), ti, false);
	if (t != UDB_REPLICA_SECRETS) {
		len = (size_t)snprintf(query, size, "SELECT u.id");
		for (unsigned i = 1; i < ti->n_columns; i++)
			len += (size_t)snprintf(query + len, size - len, ", s.\"%s\"",
						ti->columns[i]);
		len += (size_t)snprintf(query + len, size - len,
					", s.user_id IS NULL FROM unnest(");
		len = put_ids(query, size, len, &p->granted);
		snprintf(query + len, size - len,
			 ") AS u(id) LEFT JOIN userdb.%s s ON s.user_id = u.id", ti->name);
		return fetch_all(p, t, query, FETCH_MIXED);
	}
	len = (size_t)snprintf(query, size, "SELECT u.id FROM unnest(");
	len = put_ids(query, size, len, &p->granted);
	snprintf(query + len, size - len,
		 ") AS u(id) WHERE NOT EXISTS (SELECT 1 FROM userdb.%s s WHERE s.user_id = u.id)",
		 ti->name);
	r = fetch_all(p, t, query, FETCH_TOMBSTONES);
	if (r != UDB_OK)
		return r;
	len = (size_t)snprintf(query, size, "SELECT %s FROM userdb.%s WHERE user_id = ANY (", cols,
			       ti->name);
	len = put_ids(query, size, len, &p->granted);
	snprintf(query + len, size - len, ")");
	return fetch_all(p, t, query, FETCH_ROWS_OF);
}

/* The rows of secret table t (the hashes, the second factors) in the
 * window: every one RLS shows this host when all (full pass, or
 * visibility changed), else the changed ones, central's deletions, and
 * those of users whose grants changed (read_granted); a user of the
 * latter whose row is not shown any more gets a tombstone, which wipes the
 * local hash or deletes the local second factor. */
static enum udb_result
read_secret_table(struct pass *p, enum udb_replica_table t, bool all)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char cols[256], pkcols[64], *query;
	enum udb_result r;
	size_t size = 512 + p->granted.n * 21;

	column_list(cols, sizeof(cols), ti, false);
	query = malloc(size);
	if (!query)
		return UDB_NO_MEMORY;
	if (all) {
		snprintf(query, size, "SELECT %s FROM userdb.%s", cols, ti->name);
		r = fetch_all(p, t, query, FETCH_ROWS_OF);
		free(query);
		return r;
	}
	snprintf(query, size, "SELECT %s FROM userdb.%s WHERE rev > %" PRId64, cols, ti->name,
		 p->from);
	r = p->rows[t] ? fetch_all(p, t, query, FETCH_ROWS_OF) : UDB_OK;
	if (r == UDB_OK && p->tombstones[t]) {
		column_list(pkcols, sizeof(pkcols), ti, true);
		snprintf(query, size,
			 "SELECT %s FROM userdb.tombstones WHERE tbl = '%s' AND rev > %" PRId64,
			 pkcols, ti->name, p->from);
		r = fetch_all(p, t, query, FETCH_TOMBSTONES);
	}
	if (r == UDB_OK && p->granted.n > 0)
		r = read_granted(p, t, query, size);
	free(query);
	return r;
}

/* The hashes and the second factors of the window (read_secret_table). */
static enum udb_result
read_secrets(struct pass *p)
{
	enum udb_result r;
	bool all = p->full;

	if (!all) {
		r = visibility_changed(p, &all);
		if (r != UDB_OK)
			return r;
	}
	if (all && !p->full)
		udb_replica_apply_all_secrets(p->ap);
	r = read_secret_table(p, UDB_REPLICA_SECRETS, all);
	if (r == UDB_OK)
		r = read_secret_table(p, UDB_REPLICA_SECOND_FACTORS, all);
	return r;
}

/* Reads the window (or everything) into a new batch (p->ap). */
static enum udb_result
pass_read(struct pass *p, struct udb_db *db)
{
	enum udb_result r;

	r = p->full ? UDB_OK : probe_window(p);
	if (r == UDB_OK)
		r = udb_replica_apply_begin(db, p->full, &p->ap);
	for (unsigned t = 0; t < UDB_REPLICA_SECRETS && r == UDB_OK; t++)
		if (t != UDB_REPLICA_SECOND_FACTORS) /* read_secrets */
			r = read_table(p, (enum udb_replica_table)t);
	if (r == UDB_OK)
		r = read_secrets(p);
	if (r != UDB_OK) {
		udb_replica_apply_abort(p->ap);
		p->ap = NULL;
	}
	return r;
}

/* One REPEATABLE READ transaction on central: T, then the rows. It ends
 * before the local commit: the rows are staged by then, and a pooled
 * server session (pgbouncer in transaction mode) goes back to the pool
 * without waiting for this host's disk. */
static enum udb_result
pass_once(struct udb_sync *s, struct udb_db *db, bool full, int64_t now,
	  struct udb_sync_report *rep)
{
	struct pass p = {.s = s, .rep = rep, .from = rep->local_rev};
	enum udb_result r;

	r = udb_sync_read_state(s,
				"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
				"SELECT rev, min_rev FROM userdb.state",
				&rep->central_rev, &rep->min_rev, rep->detail, sizeof(rep->detail));
	if (r == UDB_OK && (full || rep->central_rev != rep->local_rev)) {
		/* Never synced, behind the kept history, or ahead of central (a
		 * restored or new central database): everything. */
		p.full = full || rep->local_rev == 0 || rep->local_rev < rep->min_rev ||
			 rep->local_rev > rep->central_rev;
		p.to = rep->central_rev;
		rep->full = p.full;
		r = pass_read(&p, db);
	}
	free(p.granted.v);
	if (r != UDB_OK) {
		(void)udb_sync_run(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
		return r;
	}
	/* Read only: whatever its COMMIT answers, the rows were read in one
	 * snapshot; a lost session shows at the next query. */
	(void)udb_sync_run(s, "COMMIT", PGRES_COMMAND_OK, NULL, NULL, 0);
	if (!p.ap)
		return UDB_OK;
	r = udb_replica_apply_commit(p.ap, p.to, now);
	if (r == UDB_OK)
		rep->applied = true;
	return r;
}

enum udb_result
udb_sync_pass(struct udb_sync *s, struct udb_db *db, bool full, int64_t now,
	      struct udb_sync_report *ret_report)
{
	struct udb_sync_report *rep = ret_report;
	char push_detail[sizeof(rep->detail)] = "";
	enum udb_result r, pushed;
	int64_t at = 0;

	memset(rep, 0, sizeof(*rep));
	/* What this host has to report goes first, so that a fleet-wide lock
	 * it causes comes back with this same pass. A push that fails does
	 * not keep the copy from being brought up to date: its failure is
	 * returned after the pull. */
	pushed = udb_sync_push(s, db, rep);
	if (pushed != UDB_OK)
		snprintf(push_detail, sizeof(push_detail), "%s", rep->detail);
	r = udb_replica_state(db, &rep->local_rev, &at);
	if (r == UDB_OK)
		r = pass_once(s, db, full, now, rep);
	if (r == UDB_EXISTS && !rep->full) {
		/* Names swapped within the window collide half way: the
		 * full batch replaces the changed rows instead. */
		rep->rows = rep->tombstones = 0;
		r = pass_once(s, db, true, now, rep);
	}
	if (r == UDB_OK)
		r = udb_replica_mark_checked(db, now);
	if (r == UDB_OK && pushed != UDB_OK) {
		snprintf(rep->detail, sizeof(rep->detail), "pushing events: %s", push_detail);
		r = pushed;
	}
	return r;
}

enum udb_result
udb_sync_verify(struct udb_sync *s, struct udb_db *db, char *detail, size_t detail_size)
{
	int64_t local = 0, at = 0, rev = 0, min_rev = 0;
	PGresult *res = NULL;
	enum udb_result r;
	char sql[1024];

	r = udb_replica_state(db, &local, &at);
	if (r == UDB_OK)
		r = udb_sync_run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
				 PGRES_COMMAND_OK, NULL, detail, detail_size);
	if (r != UDB_OK)
		return r;
	r = udb_sync_central_rev(s, &rev, &min_rev, detail, detail_size);
	if (r == UDB_OK && rev != local) {
		udb_sync_set_detail(detail, detail_size,
				    "the local copy is not at central's revision");
		r = UDB_BUSY;
	}
	for (unsigned t = 0; t < UDB_REPLICA_COUNT && r == UDB_OK; t++) {
		const struct udb_replica_info *ti = udb_replica_info((enum udb_replica_table)t);
		int64_t count = 0, sum = 0;

		snprintf(sql, sizeof(sql),
			 "SELECT count(*), coalesce(sum(%s), 0) FROM userdb.%s%s%s", ti->sum,
			 ti->name, ti->filter ? " WHERE " : "", ti->filter ? ti->filter : "");
		r = udb_sync_run(s, sql, PGRES_TUPLES_OK, &res, detail, detail_size);
		if (r == UDB_OK)
			r = udb_replica_fingerprint(db, (enum udb_replica_table)t, &count, &sum);
		if (r == UDB_OK && (udb_sync_value_int(res, 0, 0) != count ||
				    udb_sync_value_int(res, 0, 1) != sum)) {
			char msg[160];

			snprintf(msg, sizeof(msg),
				 "%s: %" PRId64 " rows locally, %" PRId64 " centrally%s", ti->name,
				 count, udb_sync_value_int(res, 0, 0),
				 udb_sync_value_int(res, 0, 0) == count ? " (contents differ)"
									: "");
			udb_sync_set_detail(detail, detail_size, msg);
			r = UDB_CORRUPT;
		}
		PQclear(res);
		res = NULL;
	}
	(void)udb_sync_run(s, "COMMIT", PGRES_COMMAND_OK, NULL, NULL, 0);
	return r;
}
