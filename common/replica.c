/* The local apply engine of fleet mode (replica.h): stages a batch of
 * central rows and tombstones in temporary tables, then applies them to the
 * local store in the caller's one write transaction. Called by sync.c and
 * the unit tests.
 *
 * The statements here are built from replica_tables.c's table list, fixed
 * at compile time: every identifier in them comes from there, and every
 * value is bound, never spliced. Each batch table has a staging twin in the
 * connection's temp schema, s_<name> for rows and d_<name> for tombstones,
 * made with CREATE TABLE .. AS SELECT so that its columns have the local
 * columns' affinity (a value "42" from central is stored as the integer 42
 * and compares equal to the local one). Foreign keys are checked at the
 * commit (defer_foreign_keys), so that the order rows arrive in within a
 * batch does not matter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "replica.h"

struct udb_replica_apply {
	struct udb_db *db;
	bool full;
	bool all_secrets;
	sqlite3_stmt *stage_row[UDB_REPLICA_COUNT];
	sqlite3_stmt *stage_del[UDB_REPLICA_COUNT];
	/* An incremental batch stages only the tables it is given rows or
	 * tombstones of (the staging tables of the others may hold an earlier
	 * batch's rows: they are neither read nor emptied). */
	size_t n_rows[UDB_REPLICA_COUNT], n_del[UDB_REPLICA_COUNT];
};

/* Appends "a, b, c" (prefix before each name) for columns [from, to). */
static void
put_columns(char *buf, size_t size, const struct udb_replica_info *ti, unsigned from, unsigned to,
	    const char *prefix)
{
	size_t len = strlen(buf);

	for (unsigned i = from; i < to && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s\"%s\"", i > from ? ", " : "",
					prefix, ti->columns[i]);
}

static enum udb_result
exec(struct udb_db *db, const char *sql)
{
	return udb_sqlite_result(sqlite3_exec(db->sql, sql, NULL, NULL, NULL));
}

/* Makes (or empties) the staging tables of t and prepares the statements
 * that fill them. */
static enum udb_result
stage_prepare(struct udb_replica_apply *ap, enum udb_replica_table t)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char cols[512] = "", pk[128] = "", sql[1536], params[256] = "";
	enum udb_result r;
	size_t len = 0;

	put_columns(cols, sizeof(cols), ti, 0, ti->n_columns, "");
	put_columns(pk, sizeof(pk), ti, 0, ti->n_pk, "");
	snprintf(sql, sizeof(sql),
		 "CREATE TEMP TABLE IF NOT EXISTS s_%s AS SELECT %s FROM %s.%s WHERE 0; "
		 "CREATE UNIQUE INDEX IF NOT EXISTS temp.s_%s_pk ON s_%s (%s); "
		 "CREATE TEMP TABLE IF NOT EXISTS d_%s AS SELECT %s FROM %s.%s WHERE 0; "
		 "DELETE FROM temp.s_%s; DELETE FROM temp.d_%s;",
		 ti->name, cols, udb_replica_schema_of(t), udb_replica_local_name(t), ti->name,
		 ti->name, pk, ti->name, pk, udb_replica_schema_of(t), udb_replica_local_name(t),
		 ti->name, ti->name);
	r = exec(ap->db, sql);
	if (r != UDB_OK)
		return r;
	for (unsigned i = 0; i < ti->n_columns; i++)
		len += (size_t)snprintf(params + len, sizeof(params) - len, "%s?%u", i ? ", " : "",
					i + 1);
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO temp.s_%s (%s) VALUES (%s)", ti->name,
		 cols, params);
	if (sqlite3_prepare_v2(ap->db->sql, sql, -1, &ap->stage_row[t], NULL) != SQLITE_OK)
		return UDB_INTERNAL;
	params[0] = '\0';
	len = 0;
	for (unsigned i = 0; i < ti->n_pk; i++)
		len += (size_t)snprintf(params + len, sizeof(params) - len, "%s?%u", i ? ", " : "",
					i + 1);
	snprintf(sql, sizeof(sql), "INSERT INTO temp.d_%s (%s) VALUES (%s)", ti->name, pk, params);
	if (sqlite3_prepare_v2(ap->db->sql, sql, -1, &ap->stage_del[t], NULL) != SQLITE_OK)
		return UDB_INTERNAL;
	return UDB_OK;
}

static void
apply_free(struct udb_replica_apply *ap)
{
	for (unsigned t = 0; t < UDB_REPLICA_COUNT; t++) {
		sqlite3_finalize(ap->stage_row[t]);
		sqlite3_finalize(ap->stage_del[t]);
	}
	free(ap);
}

enum udb_result
udb_replica_apply_begin(struct udb_db *db, bool full, struct udb_replica_apply **ret_apply)
{
	struct udb_replica_apply *ap;
	enum udb_result r;

	ap = calloc(1, sizeof(*ap));
	if (!ap)
		return UDB_NO_MEMORY;
	ap->db = db;
	ap->full = full;
	r = udb_db_begin(db);
	if (r != UDB_OK) {
		free(ap);
		return r;
	}
	/* Users come and go with both files' rows (commit protocol, 3-4). */
	udb_db_mark_cross_file(db);
	r = exec(db, "PRAGMA defer_foreign_keys = ON");
	for (unsigned t = 0; full && t < UDB_REPLICA_COUNT && r == UDB_OK; t++)
		r = stage_prepare(ap, (enum udb_replica_table)t);
	if (r != UDB_OK) {
		udb_replica_apply_abort(ap);
		return r;
	}
	*ret_apply = ap;
	return UDB_OK;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Binds PostgreSQL's text form of bytea ("\\x" and hex digits) as a BLOB;
 * anything else is UDB_CORRUPT. */
static enum udb_result
bind_bytes(sqlite3_stmt *stmt, int i, const char *v)
{
	size_t len = strlen(v), n;
	unsigned char *b;
	int rc;

	if (len < 2 || v[0] != '\\' || v[1] != 'x' || len % 2 != 0)
		return UDB_CORRUPT;
	n = (len - 2) / 2;
	b = malloc(n ? n : 1);
	if (!b)
		return UDB_NO_MEMORY;
	for (size_t k = 0; k < n; k++) {
		int hi = hex_digit(v[2 + 2 * k]), lo = hex_digit(v[3 + 2 * k]);

		if (hi < 0 || lo < 0) {
			free(b);
			return UDB_CORRUPT;
		}
		b[k] = (unsigned char)(hi << 4 | lo);
	}
	rc = sqlite3_bind_blob(stmt, i, b, (int)n, free);
	return rc == SQLITE_OK ? UDB_OK : udb_sqlite_result(rc);
}

/* Stages n values; blobs says which are bytes (udb_replica_info). */
static enum udb_result
stage(sqlite3_stmt *stmt, unsigned n, unsigned blobs, const char *const *values)
{
	enum udb_result r = UDB_OK;
	int rc = SQLITE_OK;

	sqlite3_reset(stmt);
	for (unsigned i = 0; i < n && rc == SQLITE_OK && r == UDB_OK; i++)
		if (values[i] && (blobs & 1u << i))
			r = bind_bytes(stmt, (int)i + 1, values[i]);
		else
			rc = udb_bind_text(stmt, (int)i + 1, values[i]);
	if (r != UDB_OK) {
		sqlite3_reset(stmt);
		return r;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? UDB_OK : udb_sqlite_result(rc);
}

enum udb_result
udb_replica_apply_row(struct udb_replica_apply *ap, enum udb_replica_table t,
		      const char *const *values)
{
	enum udb_result r = UDB_OK;

	if ((unsigned)t >= UDB_REPLICA_COUNT)
		return UDB_INVALID;
	r = udb_replica_check_row(t, values);
	if (r == UDB_OK && !ap->stage_row[t])
		r = stage_prepare(ap, t);
	if (r == UDB_OK)
		r = stage(ap->stage_row[t], udb_replica_info(t)->n_columns,
			  udb_replica_info(t)->blobs, values);
	ap->n_rows[t] += r == UDB_OK;
	return r;
}

enum udb_result
udb_replica_apply_tombstone(struct udb_replica_apply *ap, enum udb_replica_table t,
			    const char *const *pk)
{
	enum udb_result r = UDB_OK;

	if ((unsigned)t >= UDB_REPLICA_COUNT)
		return UDB_INVALID;
	if (ap->full)
		return UDB_OK;
	if (!ap->stage_del[t])
		r = stage_prepare(ap, t);
	if (r == UDB_OK)
		r = stage(ap->stage_del[t], udb_replica_info(t)->n_pk, 0, pk);
	ap->n_del[t] += r == UDB_OK;
	return r;
}

/* Deletes the local rows of t named by its tombstones; a secret's
 * tombstone wipes the account's hash instead. */
static enum udb_result
delete_tombstoned(struct udb_db *db, enum udb_replica_table t)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char pk[128] = "", sql[512];

	if (t == UDB_REPLICA_SECRETS)
		return exec(db, "UPDATE sec.accounts SET password_hash = NULL WHERE user_id IN "
				"(SELECT user_id FROM temp.d_secrets)");
	put_columns(pk, sizeof(pk), ti, 0, ti->n_pk, "");
	snprintf(sql, sizeof(sql), "DELETE FROM %s.%s WHERE (%s) IN (SELECT %s FROM temp.d_%s)",
		 udb_replica_schema_of(t), ti->name, pk, pk, ti->name);
	return exec(db, sql);
}

/* Full batch: deletes the local rows of t that are not, exactly, among the
 * staged ones. Accounts only go when central no longer has them (their
 * host-local columns must survive a resync); a hash central no longer shows
 * this host is wiped. */
static enum udb_result
delete_unmatched(struct udb_db *db, enum udb_replica_table t)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char sql[2048];
	size_t len;

	if (t == UDB_REPLICA_SECRETS)
		return exec(db, "UPDATE sec.accounts SET password_hash = NULL WHERE "
				"password_hash IS NOT NULL AND user_id NOT IN "
				"(SELECT user_id FROM temp.s_secrets)");
	if (t == UDB_REPLICA_ACCOUNTS)
		return exec(db, "DELETE FROM sec.accounts WHERE user_id NOT IN "
				"(SELECT user_id FROM temp.s_accounts)");
	/* By key too: a row that stays keeps its last_step and use marks. */
	if (t == UDB_REPLICA_SECOND_FACTORS)
		return exec(db, "DELETE FROM sec.second_factors WHERE user_id NOT IN "
				"(SELECT user_id FROM temp.s_second_factors)");
	len = (size_t)snprintf(sql, sizeof(sql),
			       "DELETE FROM %s.%s AS l WHERE NOT EXISTS (SELECT 1 FROM "
			       "temp.s_%s AS s WHERE ",
			       udb_replica_schema_of(t), ti->name, ti->name);
	for (unsigned i = 0; i < ti->n_columns && len < sizeof(sql); i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%ss.\"%s\" IS l.\"%s\"",
					i ? " AND " : "", ti->columns[i], ti->columns[i]);
	if (len + 2 >= sizeof(sql))
		return UDB_INTERNAL;
	strcat(sql, ")");
	return exec(db, sql);
}

/* Inserts the staged rows of t, updating those whose key exists. */
static enum udb_result
upsert_staged(struct udb_db *db, enum udb_replica_table t)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	char cols[512] = "", pk[128] = "", set[1024] = "", sql[2560];
	size_t len = 0;

	if (t == UDB_REPLICA_SECRETS)
		/* By key, never a scan of every account (UPDATE .. FROM would
		 * drive the join from accounts). */
		return exec(db, "UPDATE sec.accounts SET password_hash = (SELECT s.password_hash "
				"FROM temp.s_secrets AS s WHERE s.user_id = accounts.user_id) "
				"WHERE user_id IN (SELECT user_id FROM temp.s_secrets)");
	if (t == UDB_REPLICA_SECOND_FACTORS)
		/* last_step is the host's; so are the use marks ("1:") of the
		 * recovery codes while central's list holds the same codes
		 * (their hashes have no ':'). */
		return exec(db,
			    "INSERT INTO sec.second_factors (user_id, secret, pending_secret, "
			    "confirmed, confirmed_at, recovery_codes) SELECT user_id, secret, "
			    "pending_secret, confirmed, confirmed_at, recovery_codes FROM "
			    "temp.s_second_factors WHERE true ON CONFLICT (user_id) DO UPDATE SET "
			    "secret = excluded.secret, pending_secret = excluded.pending_secret, "
			    "confirmed = excluded.confirmed, confirmed_at = excluded.confirmed_at, "
			    "recovery_codes = CASE WHEN replace(second_factors.recovery_codes, "
			    "'1:', '0:') IS replace(excluded.recovery_codes, '1:', '0:') THEN "
			    "second_factors.recovery_codes ELSE excluded.recovery_codes END");
	put_columns(cols, sizeof(cols), ti, 0, ti->n_columns, "");
	put_columns(pk, sizeof(pk), ti, 0, ti->n_pk, "");
	for (unsigned i = ti->n_pk; i < ti->n_columns; i++)
		len += (size_t)snprintf(set + len, sizeof(set) - len, "%s\"%s\" = excluded.\"%s\"",
					i > ti->n_pk ? ", " : "", ti->columns[i], ti->columns[i]);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s.%s (%s) SELECT %s FROM temp.s_%s WHERE true ON CONFLICT (%s) "
		 "DO %s%s",
		 udb_replica_schema_of(t), ti->name, cols, cols, ti->name, pk,
		 ti->n_pk < ti->n_columns ? "UPDATE SET " : "NOTHING", set);
	return exec(db, sql);
}

/* An admin `user unlock` reaches the host as a newer unlocked_at: the
 * host's own lock and failure count end too when they are older than it
 * (failures after the unlock keep counting). Only the staged accounts. */
static enum udb_result
apply_unlocks(struct udb_db *db)
{
	return exec(db,
		    "UPDATE sec.accounts SET failed_count = 0, locked_until = NULL "
		    "WHERE user_id IN (SELECT user_id FROM temp.s_accounts) "
		    "AND unlocked_at IS NOT NULL AND unlocked_at >= coalesce(last_failed_at, 0) "
		    "AND (failed_count <> 0 OR locked_until IS NOT NULL)");
}

/* passwd_entries is derived from users (UDB_Q_PASSWD_ENTRY_REFRESH): it is
 * rewritten for every staged user, with the one expression user.c uses. */
static enum udb_result
refresh_passwd_entries(struct udb_db *db)
{
	sqlite3_stmt *ids = NULL, *stmt = NULL;
	enum udb_result r;
	int rc;

	if (sqlite3_prepare_v2(db->sql, "SELECT id FROM temp.s_users", -1, &ids, NULL) != SQLITE_OK)
		return UDB_INTERNAL;
	r = udb_stmt(db, UDB_Q_PASSWD_ENTRY_REFRESH, &stmt);
	while (r == UDB_OK && (rc = sqlite3_step(ids)) == SQLITE_ROW) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, sqlite3_column_int64(ids, 0));
		r = udb_stmt_exec(db, UDB_Q_PASSWD_ENTRY_REFRESH);
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	sqlite3_finalize(ids);
	return r;
}

static enum udb_result
set_meta(struct udb_db *db, const char *key, int64_t value)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_REPLICA_SET_META, &stmt);
	if (r != UDB_OK)
		return r;
	if (udb_bind_text(stmt, 1, key) != SQLITE_OK || sqlite3_bind_int64(stmt, 2, value))
		r = UDB_INTERNAL;
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_REPLICA_SET_META);
	else
		udb_stmt_done(db, UDB_Q_REPLICA_SET_META);
	return r;
}

/* Whether keys.img can change with the batch: it holds users' names,
 * their accounts' state and their keys. */
static bool
keys_touched(const struct udb_replica_apply *ap)
{
	static const enum udb_replica_table on[] = {UDB_REPLICA_USERS, UDB_REPLICA_SSH_KEYS,
						    UDB_REPLICA_ACCOUNTS,
						    UDB_REPLICA_ACCOUNT_NAMES};

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (ap->full || ap->n_rows[on[i]] || ap->n_del[on[i]])
			return true;
	return false;
}

static enum udb_result
apply_staged(struct udb_replica_apply *ap, int64_t rev, int64_t now)
{
	enum udb_result r = UDB_OK;

	if (keys_touched(ap))
		udb_db_mark_keys_changed(ap->db);
	for (int t = UDB_REPLICA_COUNT - 1; t >= 0 && r == UDB_OK; t--)
		if (ap->full)
			r = delete_unmatched(ap->db, (enum udb_replica_table)t);
		else if (ap->n_del[t])
			r = delete_tombstoned(ap->db, (enum udb_replica_table)t);
	/* Every visible secret was read again: what is not among them goes
	 * (none at all: an empty staging table). */
	for (unsigned i = 0; i < 2 && r == UDB_OK && ap->all_secrets && !ap->full; i++) {
		enum udb_replica_table t = i ? UDB_REPLICA_SECOND_FACTORS : UDB_REPLICA_SECRETS;

		if (!ap->stage_row[t])
			r = stage_prepare(ap, t);
		if (r == UDB_OK)
			r = delete_unmatched(ap->db, t);
	}
	for (unsigned t = 0; t < UDB_REPLICA_COUNT && r == UDB_OK; t++)
		if (ap->full || ap->n_rows[t])
			r = upsert_staged(ap->db, (enum udb_replica_table)t);
	if (r == UDB_OK && (ap->full || ap->n_rows[UDB_REPLICA_USERS]))
		r = refresh_passwd_entries(ap->db);
	if (r == UDB_OK && (ap->full || ap->n_rows[UDB_REPLICA_ACCOUNTS]))
		r = apply_unlocks(ap->db);
	if (r == UDB_OK)
		r = set_meta(ap->db, "central_rev", rev);
	if (r == UDB_OK)
		r = set_meta(ap->db, "central_synced_at", now);
	return r;
}

void
udb_replica_apply_all_secrets(struct udb_replica_apply *ap)
{
	ap->all_secrets = true;
}

enum udb_result
udb_replica_apply_commit(struct udb_replica_apply *ap, int64_t rev, int64_t now)
{
	enum udb_result r;

	r = apply_staged(ap, rev, now);
	if (r != UDB_OK) {
		udb_replica_apply_abort(ap);
		return r;
	}
	r = udb_db_commit(ap->db);
	apply_free(ap);
	/* A foreign key left dangling shows at the commit, as a constraint. */
	return r;
}

void
udb_replica_apply_abort(struct udb_replica_apply *ap)
{
	if (!ap)
		return;
	udb_db_rollback(ap->db);
	apply_free(ap);
}

enum udb_result
udb_replica_state(struct udb_db *db, int64_t *ret_rev, int64_t *ret_synced_at)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_REPLICA_STATE, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_rev = sqlite3_column_int64(stmt, 0);
		*ret_synced_at = sqlite3_column_int64(stmt, 1);
	} else {
		r = udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_REPLICA_STATE);
	return r;
}

enum udb_result
udb_replica_follow(struct udb_db *db, int64_t rev)
{
	int64_t local = 0, synced_at = 0;
	enum udb_result r;

	r = udb_replica_state(db, &local, &synced_at);
	if (r == UDB_OK && local == rev - 1)
		r = set_meta(db, "central_rev", rev);
	return r;
}

enum udb_result
udb_replica_mark_checked(struct udb_db *db, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	/* Nothing NSS serves changes. */
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = udb_stmt(db, UDB_Q_SYNC_SET_CHECKED, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, now);
		r = udb_stmt_exec(db, UDB_Q_SYNC_SET_CHECKED);
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

enum udb_result
udb_replica_checked_at(struct udb_db *db, int64_t *ret_at)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_SYNC_CHECKED_AT, &stmt);
	if (r != UDB_OK)
		return r;
	r = udb_stmt_int(db, UDB_Q_SYNC_CHECKED_AT, ret_at);
	if (r == UDB_NOT_FOUND) {
		*ret_at = 0;
		r = UDB_OK;
	}
	return r;
}
