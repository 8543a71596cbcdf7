/* The tables fleet mode replicates (replica.h): their columns as central
 * and the local store both name them, which local file and table each
 * lands in, and the drift check's fingerprint of each. Fixed at compile
 * time: every identifier the replication statements splice comes from
 * here. Read by replica.c (the apply engine), sync.c, central_admin.c and
 * the drift check. */
#include <stdio.h>

#include "db-internal.h"
#include "replica.h"

static const char *const roles_cols[] = {"id", "name", "gid", "description", "created_at"};
static const char *const users_cols[] = {
	"id",        "username", "uid",   "gid",        "primary_role_id", "first_name",
	"last_name", "home",     "shell", "created_at", "updated_at",
};
static const char *const role_includes_cols[] = {"role_id", "included_id"};
static const char *const role_closure_cols[] = {"role_id", "member_role_id"};
static const char *const role_permissions_cols[] = {"role_id", "permission"};
static const char *const user_roles_cols[] = {"user_id", "role_id", "not_before", "not_after",
					      "granted_at"};
static const char *const id_allocator_cols[] = {"kind", "high_water"};
static const char *const host_roles_cols[] = {"host", "role_id"};
static const char *const ssh_keys_cols[] = {"id",      "user_id",     "type",     "blob", "options",
					    "comment", "fingerprint", "added_at", "until"};
/* Without password_hash (userdb.secrets) and the host-local columns. */
static const char *const accounts_cols[] = {
	"user_id",    "password_changed_at", "min_days",    "max_days",
	"warn_days",  "inactive_days",       "must_change", "is_enabled",
	"not_before", "not_after",           "unlocked_at", "fleet_locked_at",
};
static const char *const user_emails_cols[] = {"id",           "user_id",    "email",
					       "confirmed_at", "is_primary", "created_at"};
static const char *const account_names_cols[] = {"username", "user_id"};
static const char *const secrets_cols[] = {"user_id", "password_hash"};
/* Without last_step (host-local). */
static const char *const second_factors_cols[] = {
	"user_id", "secret", "pending_secret", "confirmed", "confirmed_at", "recovery_codes",
};

#define TABLE(n, cols, pk, sum, filter)                                                            \
	{                                                                                          \
		n, cols, sizeof(cols) / sizeof(cols[0]), pk, sum, filter, 0                        \
	}

static const struct udb_replica_info tables[UDB_REPLICA_COUNT] = {
	[UDB_REPLICA_ROLES] = TABLE("roles", roles_cols, 1, "id + gid + length(name)", NULL),
	[UDB_REPLICA_USERS] =
		TABLE("users", users_cols, 1,
		      "id + uid + gid + coalesce(primary_role_id, 0) + length(username) + "
		      "length(home) + length(shell) + length(first_name) + length(last_name)",
		      NULL),
	[UDB_REPLICA_ROLE_INCLUDES] =
		TABLE("role_includes", role_includes_cols, 2, "role_id * 3 + included_id", NULL),
	[UDB_REPLICA_ROLE_CLOSURE] =
		TABLE("role_closure", role_closure_cols, 2, "role_id * 3 + member_role_id", NULL),
	[UDB_REPLICA_ROLE_PERMISSIONS] = TABLE("role_permissions", role_permissions_cols, 2,
					       "role_id + length(permission)", NULL),
	[UDB_REPLICA_USER_ROLES] = TABLE(
		"user_roles", user_roles_cols, 2,
		"user_id * 3 + role_id + coalesce(not_before, 0) + coalesce(not_after, 0)", NULL),
	[UDB_REPLICA_ID_ALLOCATOR] =
		TABLE("id_allocator", id_allocator_cols, 1, "high_water", NULL),
	[UDB_REPLICA_HOST_ROLES] =
		TABLE("host_roles", host_roles_cols, 2, "role_id + length(host)", NULL),
	[UDB_REPLICA_SSH_KEYS] = TABLE("ssh_keys", ssh_keys_cols, 1,
				       "id + user_id + length(blob) + length(options) + "
				       "length(comment) + coalesce(until, 0)",
				       NULL),
	[UDB_REPLICA_ACCOUNTS] =
		TABLE("accounts", accounts_cols, 1,
		      "user_id + coalesce(not_before, 0) + coalesce(not_after, 0) + "
		      "coalesce(password_changed_at, 0) + coalesce(max_days, 0)",
		      NULL),
	[UDB_REPLICA_USER_EMAILS] =
		TABLE("user_emails", user_emails_cols, 1, "id + user_id + length(email)", NULL),
	[UDB_REPLICA_ACCOUNT_NAMES] =
		TABLE("account_names", account_names_cols, 1, "user_id + length(username)", NULL),
	/* The recovery codes are left out of the sum: a host marks the ones
	 * used at its logins, which central does not see. */
	[UDB_REPLICA_SECOND_FACTORS] =
		{"second_factors", second_factors_cols,
		 sizeof(second_factors_cols) / sizeof(second_factors_cols[0]), 1,
		 "user_id + confirmed + coalesce(length(secret), 0) + "
		 "coalesce(length(pending_secret), 0) + coalesce(confirmed_at, 0)",
		 NULL, 1u << 1 | 1u << 2},
	[UDB_REPLICA_SECRETS] = TABLE("secrets", secrets_cols, 1, "user_id + length(password_hash)",
				      "password_hash IS NOT NULL"),
};

const struct udb_replica_info *
udb_replica_info(enum udb_replica_table t)
{
	return (unsigned)t < UDB_REPLICA_COUNT ? &tables[t] : NULL;
}

/* The local file of a table: accounts and what hangs off them are in the
 * shadow file, the rest in the public file. */
const char *
udb_replica_schema_of(enum udb_replica_table t)
{
	return t >= UDB_REPLICA_ACCOUNTS ? "sec" : "pub";
}

/* The local table a batch table writes: secrets are a column of accounts. */
const char *
udb_replica_local_name(enum udb_replica_table t)
{
	return t == UDB_REPLICA_SECRETS ? "accounts" : tables[t].name;
}

enum udb_result
udb_replica_fingerprint(struct udb_db *db, enum udb_replica_table t, int64_t *ret_count,
			int64_t *ret_sum)
{
	const struct udb_replica_info *ti = udb_replica_info(t);
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	char sql[512];
	int rc;

	if (!ti)
		return UDB_INVALID;
	snprintf(sql, sizeof(sql), "SELECT count(*), coalesce(sum(%s), 0) FROM %s.%s%s%s", ti->sum,
		 udb_replica_schema_of(t), udb_replica_local_name(t), ti->filter ? " WHERE " : "",
		 ti->filter ? ti->filter : "");
	if (sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL) != SQLITE_OK)
		return UDB_INTERNAL;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_count = sqlite3_column_int64(stmt, 0);
		*ret_sum = sqlite3_column_int64(stmt, 1);
		r = UDB_OK;
	} else {
		r = udb_sqlite_result(rc);
	}
	sqlite3_finalize(stmt);
	return r;
}
