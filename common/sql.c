/* The text of every statement in enum udb_query. Called by the statement
 * cache in db.c. Column orders here are what the readers in user.c, role.c,
 * group.c, account.c and email.c expect; keep them in step. */
#include "sql.h"

#define USER_COLUMNS                                                                               \
	"u.id, u.username, u.uid, u.gid, (SELECT name FROM pub.roles WHERE id = "                  \
	"u.primary_role_id), u.first_name, u.last_name, u.home, u.shell, u.created_at, "           \
	"u.updated_at"

/* What a passwd entry needs and nothing else (no primary role subquery):
 * the NSS module's allocation-free fast paths in user.c read this layout. */
#define PASSWD_COLUMNS "id, username, uid, gid, first_name, last_name, home, shell"

#define GRANT_ACTIVE                                                                               \
	"(ur.not_before IS NULL OR ur.not_before <= ?2) AND (ur.not_after IS NULL OR "             \
	"ur.not_after > ?2)"

/* An account locked fleet-wide by central (fleet_locked_at, replicated) is
 * locked until an admin unlocks it: every reader of the lock (the login
 * attempt, the shadow entry's "!", `user show`) sees it as a lock without
 * end, whatever the host's own failure count says. */
#define UDB_SQL_LOCKED_UNTIL                                                                       \
	"CASE WHEN a.fleet_locked_at IS NOT NULL THEN 9223372036854775807 ELSE a.locked_until END"

#define ACCOUNT_COLUMNS                                                                            \
	"a.user_id, a.password_hash, a.password_changed_at, a.min_days, a.max_days, "              \
	"a.warn_days, a.inactive_days, a.must_change, a.is_enabled, a.not_before, "                \
	"a.not_after, a.failed_count, a.last_failed_at, " UDB_SQL_LOCKED_UNTIL                     \
	", a.last_login_at, "                                                                      \
	"a.current_login_at, a.last_login_ip, a.current_login_ip, a.login_count"

static const char *const queries[UDB_Q_COUNT] = {
	[UDB_Q_BEGIN_READ] = "BEGIN DEFERRED",
	[UDB_Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[UDB_Q_COMMIT] = "COMMIT",
	[UDB_Q_ROLLBACK] = "ROLLBACK",
	[UDB_Q_GENERATIONS] = "SELECT (SELECT value FROM pub.meta WHERE key = 'generation'), "
			      "(SELECT value FROM sec.meta WHERE key = 'generation')",
	[UDB_Q_SET_GENERATION_PUB] = "UPDATE pub.meta SET value = ?1 WHERE key = 'generation'",
	[UDB_Q_SET_GENERATION_SEC] = "UPDATE sec.meta SET value = ?1 WHERE key = 'generation'",
	[UDB_Q_REPAIR_ORPHAN_ACCOUNTS] =
		"DELETE FROM sec.accounts WHERE user_id NOT IN (SELECT id FROM pub.users)",
	/* Runs at the start of every write transaction: it walks the
	 * unconfirmed names (a partial index) and looks each user up by its
	 * key. `user_id IN (SELECT id FROM pub.users)` read every user id. */
	[UDB_Q_CONFIRM_ACCOUNT_NAMES] =
		"UPDATE sec.account_names SET confirmed = 1 WHERE NOT confirmed AND EXISTS "
		"(SELECT 1 FROM pub.users u WHERE u.id = account_names.user_id)",
	[UDB_Q_REPAIR_ORPHAN_USERS] =
		"DELETE FROM pub.users WHERE id NOT IN (SELECT user_id FROM sec.accounts)",
	/* A rename cut short leaves the shadow file's name ahead of the
	 * public file's: the public file's name is the one NSS shows, so the
	 * shadow file takes it back (drop, then add: names swapped by one
	 * change would collide half way through an UPDATE). */
	[UDB_Q_REPAIR_NAMES_DROP] =
		"DELETE FROM sec.account_names WHERE NOT EXISTS (SELECT 1 FROM pub.users u "
		"WHERE u.id = account_names.user_id AND u.username = account_names.username)",
	[UDB_Q_REPAIR_NAMES_ADD] =
		"INSERT INTO sec.account_names (username, user_id, confirmed) SELECT u.username, "
		"u.id, 1 FROM pub.users u JOIN sec.accounts a ON a.user_id = u.id WHERE NOT EXISTS "
		"(SELECT 1 FROM sec.account_names n WHERE n.user_id = u.id)",
	[UDB_Q_META_PAIR] = "SELECT (SELECT value FROM pub.meta WHERE key = 'pair'), "
			    "(SELECT value FROM sec.meta WHERE key = 'pair')",
	[UDB_Q_COUNT_UNKNOWN_FAILURE] =
		"INSERT INTO sec.meta (key, value) VALUES ('unknown_user_failures', 1) "
		"ON CONFLICT (key) DO UPDATE SET value = value + 1",
	[UDB_Q_DATA_VERSION] = "PRAGMA pub.data_version",

	[UDB_Q_USER_BY_NAME] = "SELECT " USER_COLUMNS " FROM pub.users u WHERE u.username = ?1",
	[UDB_Q_USER_BY_UID] = "SELECT " USER_COLUMNS " FROM pub.users u WHERE u.uid = ?1",
	[UDB_Q_USER_BY_EMAIL] = "SELECT " USER_COLUMNS " FROM sec.user_emails e "
				"JOIN pub.users u ON u.id = e.user_id WHERE e.email = ?1",
	[UDB_Q_USER_PAGE] = "SELECT " USER_COLUMNS " FROM pub.users u WHERE u.id > ?1 "
			    "ORDER BY u.id LIMIT ?2",
	/* The membership list is built once (a LIST SUBQUERY, not correlated)
	 * and drives rowid lookups in id order; udb_user_each_in_role() steps
	 * it to the end, because paging it would build it again per page. */
	[UDB_Q_USERS_IN_ROLE] =
		"SELECT " USER_COLUMNS " FROM pub.users u WHERE u.id IN "
		"(SELECT ur.user_id FROM pub.role_closure c JOIN pub.user_roles ur "
		"ON ur.role_id = c.member_role_id WHERE c.role_id = ?1 AND " GRANT_ACTIVE
		") ORDER BY u.id",
	/* The covering index of schema 2: one b-tree read instead of two. */
	[UDB_Q_PASSWD_BY_NAME] = "SELECT " PASSWD_COLUMNS " FROM pub.users INDEXED BY "
				 "users_passwd_by_name WHERE username = ?1",
	[UDB_Q_PASSWD_ENTRY_BY_UID] = "SELECT uid, gid, entry FROM pub.passwd_entries WHERE uid = "
				      "?1",
	/* Each row goes to user.c's page walker as a function call (?3 is its
	 * bound state); the statement itself returns only NULLs. */
	[UDB_Q_PASSWD_PAGE] = "SELECT udb_passwd_entry_walk(?3, uid, gid, entry) FROM "
			      "pub.passwd_entries WHERE uid > ?1 ORDER BY uid LIMIT ?2",
	/* The same expression as schema/0002-*.sql's: keep them in step. */
	[UDB_Q_PASSWD_ENTRY_REFRESH] =
		"INSERT OR REPLACE INTO pub.passwd_entries (uid, id, gid, entry) SELECT uid, id, "
		"gid, CAST(username || x'00' || 'x' || x'00' || CASE WHEN first_name <> '' AND "
		"last_name <> '' THEN first_name || ' ' || last_name ELSE first_name || last_name "
		"END || x'00' || home || x'00' || shell || x'00' AS BLOB) FROM pub.users WHERE id "
		"= ?1",
	[UDB_Q_USER_INSERT] =
		"INSERT INTO pub.users (username, uid, gid, primary_role_id, first_name, "
		"last_name, home, shell, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
		"?6, ?7, ?8, ?9, ?9)",
	[UDB_Q_USER_UPDATE] = "UPDATE pub.users SET first_name = ?2, last_name = ?3, home = ?4, "
			      "shell = ?5, updated_at = ?6 WHERE id = ?1",
	[UDB_Q_USER_DELETE] = "DELETE FROM pub.users WHERE id = ?1",
	[UDB_Q_ACCOUNT_INSERT] = "INSERT INTO sec.accounts (user_id, password_hash, "
				 "password_changed_at, is_enabled) VALUES (?1, ?2, ?3, ?4)",
	[UDB_Q_ACCOUNT_NAME_INSERT] = "INSERT INTO sec.account_names (username, user_id) VALUES "
				      "(?1, ?2)",
	[UDB_Q_ACCOUNT_DELETE] = "DELETE FROM sec.accounts WHERE user_id = ?1",
	/* A personal group's gid is its user's uid (insert_user writes it so,
	 * PERSONAL_GROUP_BY_GID reads it so), so `uid = ?1` covers personal
	 * gids too. A `gid = ?1 AND primary_role_id IS NULL` term here made
	 * every user add scan all users with a personal group. */
	[UDB_Q_ID_IN_USE] = "SELECT EXISTS (SELECT 1 FROM pub.users WHERE uid = ?1) OR "
			    "EXISTS (SELECT 1 FROM pub.roles WHERE gid = ?1)",
	[UDB_Q_NAME_IN_USE] = "SELECT EXISTS (SELECT 1 FROM pub.users WHERE username = ?1) OR "
			      "EXISTS (SELECT 1 FROM pub.roles WHERE name = ?1)",
	[UDB_Q_NEXT_FREE_ID] =
		"SELECT min(c) FROM (SELECT ?1 AS c UNION ALL "
		"SELECT uid + 1 FROM pub.users WHERE uid BETWEEN ?1 AND ?2 UNION ALL "
		"SELECT gid + 1 FROM pub.roles WHERE gid BETWEEN ?1 AND ?2) "
		"WHERE c <= ?2 AND c NOT IN (SELECT uid FROM pub.users) "
		"AND c NOT IN (SELECT gid FROM pub.roles)",
	/* Columns: enum id_mark_column in ids.c. */
	[UDB_Q_ID_MARKS] = "SELECT "
			   "(SELECT high_water FROM pub.id_allocator WHERE kind = 'uid'), "
			   "(SELECT high_water FROM pub.id_allocator WHERE kind = 'gid')",
	[UDB_Q_ID_MARK_RAISE] = "UPDATE pub.id_allocator SET high_water = ?2 "
				"WHERE kind = ?1 AND high_water < ?2",

	[UDB_Q_ROLE_BY_NAME] = "SELECT id, name, gid, description, created_at FROM pub.roles "
			       "WHERE name = ?1",
	[UDB_Q_ROLE_BY_GID] = "SELECT id, name, gid, description, created_at FROM pub.roles "
			      "WHERE gid = ?1",
	[UDB_Q_ROLE_LIST] = "SELECT id, name, gid, description, created_at FROM pub.roles "
			    "ORDER BY name",
	[UDB_Q_ROLE_INSERT] = "INSERT INTO pub.roles (name, gid, description, created_at) "
			      "VALUES (?1, ?2, ?3, ?4)",
	[UDB_Q_ROLE_UPDATE_DESCRIPTION] = "UPDATE pub.roles SET description = ?2 WHERE id = ?1",
	[UDB_Q_ROLE_DELETE] = "DELETE FROM pub.roles WHERE id = ?1",
	[UDB_Q_ROLE_PRIMARY_USERS] = "SELECT count(*) FROM pub.users WHERE primary_role_id = ?1",
	[UDB_Q_ROLE_PERMISSIONS] = "SELECT permission FROM pub.role_permissions WHERE role_id = ?1 "
				   "ORDER BY permission",
	[UDB_Q_ROLE_PERMISSION_ADD] = "INSERT OR IGNORE INTO pub.role_permissions (role_id, "
				      "permission) VALUES (?1, ?2)",
	[UDB_Q_ROLE_PERMISSION_DEL] = "DELETE FROM pub.role_permissions WHERE role_id = ?1 AND "
				      "permission = ?2",
	[UDB_Q_ROLE_INCLUDES] = "SELECT r.name FROM pub.role_includes i JOIN pub.roles r ON "
				"r.id = i.included_id WHERE i.role_id = ?1 ORDER BY r.name",
	[UDB_Q_ROLE_INCLUDE_ADD] = "INSERT OR IGNORE INTO pub.role_includes (role_id, included_id) "
				   "VALUES (?1, ?2)",
	[UDB_Q_ROLE_INCLUDE_DEL] = "DELETE FROM pub.role_includes WHERE role_id = ?1 AND "
				   "included_id = ?2",
	[UDB_Q_ROLE_CLOSURE_HAS] = "SELECT EXISTS (SELECT 1 FROM pub.role_closure WHERE "
				   "role_id = ?1 AND member_role_id = ?2)",
	[UDB_Q_ROLE_CLOSURE_CLEAR] = "DELETE FROM pub.role_closure",
	/* (X, M): members of M are effective members of X. If X includes Y,
	 * members of M are effective members of Y too. */
	[UDB_Q_ROLE_CLOSURE_BUILD] =
		"INSERT INTO pub.role_closure (role_id, member_role_id) "
		"WITH RECURSIVE c(role_id, member_role_id) AS ("
		"SELECT id, id FROM pub.roles UNION "
		"SELECT i.included_id, c.member_role_id FROM c JOIN pub.role_includes i "
		"ON i.role_id = c.role_id) SELECT role_id, member_role_id FROM c",

	[UDB_Q_GRANT_UPSERT] =
		"INSERT INTO pub.user_roles (user_id, role_id, not_before, not_after, granted_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, role_id) DO UPDATE SET "
		"not_before = excluded.not_before, not_after = excluded.not_after, "
		"granted_at = excluded.granted_at",
	[UDB_Q_GRANT_GET] = "SELECT not_before, not_after FROM pub.user_roles WHERE user_id = ?1 "
			    "AND role_id = ?2",
	[UDB_Q_GRANT_DELETE] = "DELETE FROM pub.user_roles WHERE user_id = ?1 AND role_id = ?2",
	[UDB_Q_USER_GRANTS] = "SELECT r.name, ur.not_before, ur.not_after, ur.granted_at FROM "
			      "pub.user_roles ur JOIN pub.roles r ON r.id = ur.role_id WHERE "
			      "ur.user_id = ?1 ORDER BY r.name",
	[UDB_Q_USER_EFFECTIVE_ROLES] =
		"SELECT DISTINCT r.name FROM pub.user_roles ur JOIN pub.role_closure c ON "
		"c.member_role_id = ur.role_id JOIN pub.roles r ON r.id = c.role_id WHERE "
		"ur.user_id = ?1 AND " GRANT_ACTIVE " ORDER BY r.name",
	[UDB_Q_USER_EFFECTIVE_PERMISSIONS] =
		"SELECT DISTINCT p.permission FROM pub.user_roles ur JOIN pub.role_closure c ON "
		"c.member_role_id = ur.role_id JOIN pub.role_permissions p ON "
		"p.role_id = c.role_id WHERE ur.user_id = ?1 AND " GRANT_ACTIVE
		" ORDER BY p.permission",
	/* No DISTINCT: udb_user_effective_gids removes duplicates itself, which
	 * is cheaper than SQLite's temporary b-tree for a hundred rows. */
	[UDB_Q_HOST_ROLES] = "SELECT r.name FROM pub.host_roles h JOIN pub.roles r ON r.id = "
			     "h.role_id WHERE h.host = ?1 ORDER BY r.name",
	/* ?1 user id, ?2 now, ?3 host: one row when an effective role of the
	 * user (as UDB_Q_USER_EFFECTIVE_ROLES) is allowed on the host. */
	[UDB_Q_USER_HOST_ALLOWED] =
		"SELECT 1 FROM pub.user_roles ur JOIN pub.role_closure c ON "
		"c.member_role_id = ur.role_id JOIN pub.host_roles h ON h.role_id = c.role_id "
		"AND h.host = ?3 WHERE ur.user_id = ?1 AND " GRANT_ACTIVE " LIMIT 1",
	[UDB_Q_USER_EFFECTIVE_GIDS] =
		"SELECT r.gid FROM pub.users u JOIN pub.user_roles ur ON "
		"ur.user_id = u.id JOIN pub.role_closure c ON c.member_role_id = ur.role_id "
		"JOIN pub.roles r ON r.id = c.role_id WHERE u.username = ?1 AND " GRANT_ACTIVE,

	/* Whether any role other than ?1 passes its members on to it (through
	 * role_includes): only then can a user be an effective member twice. */
	[UDB_Q_ROLE_HAS_INCLUDERS] = "SELECT EXISTS (SELECT 1 FROM pub.role_closure WHERE "
				     "role_id = ?1 AND member_role_id <> ?1)",
	/* Members of a role no other role passes members to: user_roles has one
	 * row per (user, role), so no name comes twice and no set is built. */
	[UDB_Q_ROLE_MEMBERS_DIRECT] =
		"SELECT u.username FROM pub.user_roles ur JOIN pub.users u ON u.id = ur.user_id "
		"WHERE ur.role_id = ?1 AND " GRANT_ACTIVE,
	/* Otherwise the user ids first, as a set (SQLite keeps an IN list as a
	 * b-tree of integers, cheaper than DISTINCT's b-tree of names), then
	 * their names. */
	[UDB_Q_ROLE_MEMBERS] =
		"SELECT u.username FROM pub.users u WHERE u.id IN (SELECT ur.user_id FROM "
		"pub.role_closure c JOIN pub.user_roles ur ON ur.role_id = c.member_role_id "
		"WHERE c.role_id = ?1 AND " GRANT_ACTIVE ")",
	[UDB_Q_PERSONAL_GROUP_BY_NAME] = "SELECT username, gid FROM pub.users INDEXED BY "
					 "users_passwd_by_name WHERE username = ?1 AND "
					 "primary_role_id IS NULL",
	/* The ready-made passwd entry, whose first string is the name: the
	 * b-tree getpwuid reads. gid = uid only for a personal group (uids and
	 * role gids come from one pool and never meet). */
	[UDB_Q_PERSONAL_GROUP_BY_GID] = "SELECT entry, gid FROM pub.passwd_entries WHERE uid = ?1 "
					"AND gid = ?1",
	[UDB_Q_ROLE_PAGE] = "SELECT id, name, gid FROM pub.roles WHERE id > ?1 ORDER BY id "
			    "LIMIT ?2",
	[UDB_Q_PERSONAL_GROUP_PAGE] = "SELECT id, username, gid FROM pub.users WHERE id > ?1 AND "
				      "primary_role_id IS NULL ORDER BY id LIMIT ?2",

	[UDB_Q_ACCOUNT_BY_USER_ID] = "SELECT " ACCOUNT_COLUMNS " FROM sec.accounts a "
				     "WHERE a.user_id = ?1",
	/* The shadow file alone (UDB_OPEN_SHADOW_ONLY). */
	[UDB_Q_CREDENTIALS_BY_NAME] = "SELECT n.username, " ACCOUNT_COLUMNS ", n.confirmed FROM "
				      "sec.account_names n JOIN sec.accounts a ON a.user_id = "
				      "n.user_id WHERE n.username = ?1",
	/* What authentication decides on (udb_account_for_login): the two
	 * above with three columns instead of twenty, a third as dear to
	 * compile (SQLite's prepare, afresh on each login's connection, cost
	 * more than the read). The fourth: the name is confirmed. */
	[UDB_Q_LOGIN_CREDENTIALS_BY_NAME] =
		"SELECT n.username, a.user_id, a.password_hash, n.confirmed FROM sec.account_names "
		"n "
		"JOIN sec.accounts a ON a.user_id = n.user_id WHERE n.username = ?1",
	[UDB_Q_LOGIN_BY_NAME] = "SELECT u.username, a.user_id, a.password_hash, 1 FROM pub.users u "
				"JOIN sec.accounts a ON a.user_id = u.id WHERE u.username = ?1",
	[UDB_Q_ACCOUNT_BY_NAME] = "SELECT u.username, " ACCOUNT_COLUMNS " FROM pub.users u JOIN "
				  "sec.accounts a ON a.user_id = u.id WHERE u.username = ?1",
	[UDB_Q_SHADOW_PAGE] = "SELECT u.username, " ACCOUNT_COLUMNS " FROM pub.users u JOIN "
			      "sec.accounts a ON a.user_id = u.id WHERE u.id > ?1 ORDER BY u.id "
			      "LIMIT ?2",
	[UDB_Q_ACCOUNT_SET_ENABLED] = "UPDATE sec.accounts SET is_enabled = ?2 WHERE user_id = ?1 "
				      "AND is_enabled <> ?2",
	/* passwd -l: "!" before the hash, which then never verifies (hash.c)
	 * and shows as is in the shadow entry; no-op without a hash or when
	 * already locked. Unlocking takes exactly one "!" off a locked hash. */
	[UDB_Q_ACCOUNT_LOCK_PASSWORD] =
		"UPDATE sec.accounts SET password_hash = '!' || password_hash WHERE user_id = ?1 "
		"AND password_hash IS NOT NULL AND password_hash <> '' AND substr(password_hash, "
		"1, 1) <> '!'",
	[UDB_Q_ACCOUNT_UNLOCK_PASSWORD] =
		"UPDATE sec.accounts SET password_hash = substr(password_hash, 2) WHERE user_id = "
		"?1 AND substr(password_hash, 1, 1) = '!' AND length(password_hash) > 1",
	[UDB_Q_ACCOUNT_SET_PASSWORD] =
		"UPDATE sec.accounts SET password_hash = ?2, password_changed_at = ?3, "
		"must_change = 0 WHERE user_id = ?1",
	[UDB_Q_ACCOUNT_SET_VALIDITY] = "UPDATE sec.accounts SET not_before = ?2, not_after = ?3 "
				       "WHERE user_id = ?1",
	[UDB_Q_ACCOUNT_SET_MUST_CHANGE] = "UPDATE sec.accounts SET must_change = ?2 WHERE "
					  "user_id = ?1",
	[UDB_Q_ACCOUNT_SET_AGING] = "UPDATE sec.accounts SET min_days = ?2, max_days = ?3, "
				    "warn_days = ?4, inactive_days = ?5 WHERE user_id = ?1",
	[UDB_Q_ACCOUNT_UNLOCK] = "UPDATE sec.accounts SET failed_count = 0, locked_until = NULL "
				 "WHERE user_id = ?1",
	/* The admin box's unlock: also central's fleet-wide lock, and the time
	 * every host clears its own lock by (replica.c). */
	[UDB_Q_ACCOUNT_UNLOCK_FLEET] = "UPDATE sec.accounts SET failed_count = 0, locked_until = "
				       "NULL, unlocked_at = ?2, fleet_locked_at = NULL WHERE "
				       "user_id = ?1",
	/* ?2 now, ?3 deny (0 = never lock), ?4 lock end (NULL = until
	 * unlocked). A lock still running at ?2 keeps its end: guessing during
	 * a lock does not prolong it. The count and the lock are one statement,
	 * so concurrent failures never lose an update. */
	[UDB_Q_ACCOUNT_FAILURE] =
		"UPDATE sec.accounts SET failed_count = failed_count + 1, last_failed_at = ?2, "
		"locked_until = CASE WHEN locked_until > ?2 THEN locked_until "
		"WHEN ?3 > 0 AND failed_count + 1 >= ?3 THEN "
		"coalesce(?4, 9223372036854775807) ELSE locked_until END WHERE user_id = ?1 "
		"RETURNING failed_count, locked_until",
	/* Read after the hash of a login attempt (attempt.c): inside its write
	 * transaction, or alone for a right password that may change nothing.
	 * The third column: a count or a lock that a success resets. */
	[UDB_Q_ATTEMPT_STATE] = "SELECT " UDB_SQL_LOCKED_UNTIL ", a.password_hash, "
				"a.failed_count <> 0 OR a.locked_until IS NOT NULL FROM "
				"sec.accounts a WHERE a.user_id = ?1",
	[UDB_Q_ACCOUNT_SUCCESS] = "UPDATE sec.accounts SET failed_count = 0, locked_until = NULL "
				  "WHERE user_id = ?1 AND (failed_count <> 0 OR locked_until IS "
				  "NOT NULL)",
	[UDB_Q_ACCOUNT_LOGIN] =
		"UPDATE sec.accounts SET last_login_at = current_login_at, last_login_ip = "
		"current_login_ip, current_login_at = ?2, current_login_ip = ?3, login_count = "
		"login_count + 1 WHERE user_id = ?1",
	/* Only while the hash is still ?2: a password changed meanwhile wins. */
	[UDB_Q_ACCOUNT_UPGRADE_HASH] = "UPDATE sec.accounts SET password_hash = ?3 WHERE "
				       "user_id = ?1 AND password_hash = ?2",

	/* The second factor, in the shadow file only; column order as totp.c's
	 * enum. */
	[UDB_Q_TOTP_GET] = "SELECT secret, pending_secret, confirmed, confirmed_at, last_step, "
			   "recovery_codes FROM sec.second_factors WHERE user_id = ?1",
	[UDB_Q_TOTP_SET_PENDING] =
		"INSERT INTO sec.second_factors (user_id, pending_secret) VALUES (?1, ?2) "
		"ON CONFLICT (user_id) DO UPDATE SET pending_secret = excluded.pending_secret",
	/* A new secret starts with no recovery codes: the old ones were made
	 * for the phone that is being replaced. The last step never goes
	 * back. */
	[UDB_Q_TOTP_CONFIRM] =
		"UPDATE sec.second_factors SET secret = pending_secret, pending_secret = NULL, "
		"confirmed = 1, confirmed_at = ?2, last_step = max(last_step, ?3), "
		"recovery_codes = NULL WHERE user_id = ?1 AND pending_secret IS NOT NULL",
	[UDB_Q_TOTP_DELETE] = "DELETE FROM sec.second_factors WHERE user_id = ?1",
	[UDB_Q_TOTP_USE_STEP] = "UPDATE sec.second_factors SET last_step = ?2 WHERE user_id = ?1 "
				"AND last_step < ?2",
	[UDB_Q_TOTP_SET_RECOVERY] =
		"UPDATE sec.second_factors SET recovery_codes = ?2 WHERE user_id = ?1",
	[UDB_Q_EMAIL_INSERT] = "INSERT INTO sec.user_emails (user_id, email, confirmed_at, "
			       "is_primary, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[UDB_Q_EMAIL_DELETE] = "DELETE FROM sec.user_emails WHERE user_id = ?1 AND email = ?2",
	[UDB_Q_EMAIL_CONFIRM] = "UPDATE sec.user_emails SET confirmed_at = ?3 WHERE user_id = ?1 "
				"AND email = ?2 AND confirmed_at IS NULL",
	[UDB_Q_EMAIL_CLEAR_PRIMARY] = "UPDATE sec.user_emails SET is_primary = 0 WHERE "
				      "user_id = ?1 AND is_primary",
	[UDB_Q_EMAIL_SET_PRIMARY] = "UPDATE sec.user_emails SET is_primary = 1 WHERE user_id = ?1 "
				    "AND email = ?2",
	[UDB_Q_EMAIL_LIST] = "SELECT email, confirmed_at, is_primary, created_at FROM "
			     "sec.user_emails WHERE user_id = ?1 ORDER BY is_primary DESC, email",
	[UDB_Q_EMAIL_COUNT] = "SELECT count(*) FROM sec.user_emails WHERE user_id = ?1",
	[UDB_Q_EMAIL_HAS_CONFIRMED] = "SELECT EXISTS (SELECT 1 FROM sec.user_emails WHERE "
				      "user_id = ?1 AND confirmed_at IS NOT NULL)",

	/* The compiled images, rebuilt whole (image_write.c). Users in uid
	 * order with their ready-made passwd entry and whether the primary
	 * group is the personal one. */
	[UDB_Q_IMAGE_USERS] =
		"SELECT p.id, p.uid, p.gid, u.primary_role_id IS NULL, p.entry, "
		"u.username FROM pub.passwd_entries p JOIN pub.users u ON u.id = p.id "
		"ORDER BY p.uid",
	[UDB_Q_IMAGE_ROLES] = "SELECT id, name, gid FROM pub.roles ORDER BY id",
	/* Every (role, user, grant window) that makes the user an effective
	 * member of the role: direct grants and grants of every role that
	 * includes it (role_closure is reflexive). */
	[UDB_Q_IMAGE_MEMBERSHIPS] =
		"SELECT c.role_id, ur.user_id, ur.not_before, ur.not_after FROM pub.role_closure c "
		"JOIN pub.user_roles ur ON ur.role_id = c.member_role_id",
	[UDB_Q_IMAGE_ACCOUNTS] = "SELECT u.username, " ACCOUNT_COLUMNS " FROM pub.users u JOIN "
				 "sec.accounts a ON a.user_id = u.id ORDER BY u.id",
	/* The generation each image was last published at, kept in the shadow
	 * file, which the writer commits first. */
	[UDB_Q_IMAGE_GENERATIONS] =
		"SELECT (SELECT value FROM sec.meta WHERE key = 'image_generation'), "
		"(SELECT value FROM sec.meta WHERE key = 'shadow_image_generation'), "
		"(SELECT value FROM sec.meta WHERE key = 'image_delta_generation'), "
		"(SELECT value FROM sec.meta WHERE key = 'shadow_image_delta_generation')",
	/* The two of them auth confirms the owner check with (db.c): a
	 * statement a third as dear to compile as the one above, which an
	 * authentication prepares afresh. */
	[UDB_Q_PUBLIC_IMAGE_GENERATIONS] = "SELECT key, value FROM sec.meta WHERE key IN "
					   "('image_generation', 'image_delta_generation')",
	[UDB_Q_IMAGE_SET_GENERATION] =
		"INSERT INTO sec.meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
		"value = ?2",
	/* Kept in the public file, which a write commits last (replica.h). */
	[UDB_Q_REPLICA_SET_META] = "INSERT INTO pub.meta (key, value) VALUES (?1, ?2) ON CONFLICT "
				   "(key) DO UPDATE SET value = ?2",
	[UDB_Q_REPLICA_STATE] =
		"SELECT coalesce((SELECT CAST(value AS INTEGER) FROM pub.meta WHERE key = "
		"'central_rev'), 0), coalesce((SELECT CAST(value AS INTEGER) FROM pub.meta WHERE "
		"key = 'central_synced_at'), 0)",

	[UDB_Q_AUDIT_INSERT] = "INSERT INTO sec.audit (at, uid, actor, sudo_user, command, "
			       "subject_user, subject_role, message) VALUES (?1, ?2, ?3, ?4, ?5, "
			       "?6, ?7, ?8)",
	/* Columns: enum audit_column in audit.c. */
	[UDB_Q_AUDIT_LIST] = "SELECT id, at, uid, actor, sudo_user, command, subject_user, "
			     "subject_role, message FROM sec.audit WHERE (?1 IS NULL OR "
			     "subject_user = ?1) AND at >= ?2 ORDER BY id",
	/* When central was last found at the copy's revision: in the shadow
	 * file, which the PAM module reads alone (replica.h). */
	[UDB_Q_SYNC_SET_CHECKED] =
		"INSERT INTO sec.meta (key, value) VALUES ('central_checked_at', "
		"?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
	[UDB_Q_SYNC_CHECKED_AT] =
		"SELECT CAST(value AS INTEGER) FROM sec.meta WHERE key = 'central_checked_at'",
	/* One sequence for the store's outbox: never reused, so central can
	 * tell a part it took already (outbox.h). */
	[UDB_Q_OUTBOX_NEXT_SEQ] = "INSERT INTO sec.meta (key, value) VALUES ('outbox_seq', 1) ON "
				  "CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 "
				  "RETURNING CAST(value AS INTEGER)",
	/* ?1 user, ?2 kind, ?3 at, ?4 detail, ?5 seq */
	[UDB_Q_OUTBOX_ADD] =
		"INSERT INTO sec.outbox (user_id, kind, count, at, detail, seq) VALUES (?1, ?2, 1, "
		"?3, coalesce(?4, ''), ?5) ON CONFLICT (user_id, kind) DO UPDATE SET count = "
		"count + 1, at = max(at, excluded.at), detail = excluded.detail, seq = "
		"excluded.seq",
	[UDB_Q_OUTBOX_MARK] = "UPDATE sec.outbox SET sent_count = count, sent_seq = seq WHERE "
			      "sent_seq = 0",
	[UDB_Q_OUTBOX_MARKED] = "SELECT user_id, kind, sent_seq, sent_count, at, detail FROM "
				"sec.outbox WHERE sent_seq <> 0 ORDER BY sent_seq",
	[UDB_Q_OUTBOX_TAKE_OFF] =
		"UPDATE sec.outbox SET count = count - sent_count, sent_count = 0, "
		"sent_seq = 0 WHERE sent_seq <> 0",
	[UDB_Q_OUTBOX_DROP_SENT] = "DELETE FROM sec.outbox WHERE count <= 0",
	[UDB_Q_OUTBOX_COUNT] = "SELECT count(*) FROM sec.outbox",
	[UDB_Q_SSHKEY_INSERT] =
		"INSERT INTO pub.ssh_keys (user_id, type, blob, options, comment, "
		"fingerprint, added_at, until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[UDB_Q_SSHKEY_DELETE] = "DELETE FROM pub.ssh_keys WHERE user_id = ?1 AND fingerprint = ?2",
	[UDB_Q_SSHKEY_LIST] = "SELECT type, fingerprint, options, comment, added_at, until, blob "
			      "FROM pub.ssh_keys WHERE user_id = ?1 ORDER BY id",
	/* The generation keys.img was last built at (sshkey_image.c). */
	[UDB_Q_SSHKEY_IMAGE_GENERATION] = "SELECT coalesce((SELECT value FROM sec.meta WHERE key = "
					  "'keys_image_generation'), 0)",
	/* Every key of an enabled user, in name order (BINARY: the bytes, as
	 * the image reader's binary search compares them). A disabled user is
	 * left out: the world-readable image must not tell who is disabled. */
	[UDB_Q_SSHKEY_IMAGE_ROWS] =
		"SELECT u.username, a.is_enabled, a.not_before, a.not_after, k.options, k.type, "
		"k.blob, k.comment, k.until FROM pub.ssh_keys k JOIN pub.users u ON u.id = "
		"k.user_id JOIN sec.accounts a ON a.user_id = k.user_id WHERE a.is_enabled "
		"ORDER BY u.username, k.id",

	[UDB_Q_USER_RENAME] = "UPDATE pub.users SET username = ?2, updated_at = ?3 WHERE id = ?1",
	/* The name stays confirmed: the user exists in the public file. */
	/* Unconfirmed, like a new name (schema/0002-*.sql): until the next
	 * write, a login under it checks the public file, which a rename cut
	 * short between the commits does not reach. */
	[UDB_Q_ACCOUNT_NAME_RENAME] = "UPDATE sec.account_names SET username = ?2, confirmed = 0 "
				      "WHERE user_id = ?1",
	/* A personal group's gid is the uid: it moves with it. */
	[UDB_Q_USER_RENUMBER] = "UPDATE pub.users SET uid = ?2, gid = CASE WHEN primary_role_id "
				"IS NULL THEN ?2 ELSE gid END, updated_at = ?3 WHERE id = ?1",
	/* ?2 NULL: back to the personal group (gid = uid). */
	[UDB_Q_USER_SET_PRIMARY_ROLE] =
		"UPDATE pub.users SET primary_role_id = ?2, gid = coalesce((SELECT gid FROM "
		"pub.roles WHERE id = ?2), uid), updated_at = ?3 WHERE id = ?1",
	[UDB_Q_ROLE_RENAME] = "UPDATE pub.roles SET name = ?2 WHERE id = ?1",
	[UDB_Q_ROLE_RENUMBER] = "UPDATE pub.roles SET gid = ?2 WHERE id = ?1",
	[UDB_Q_ROLE_PRIMARY_GIDS] = "UPDATE pub.users SET gid = ?2 WHERE primary_role_id = ?1",
	[UDB_Q_ROLE_PRIMARY_ENTRIES] = "UPDATE pub.passwd_entries SET gid = ?2 WHERE id IN (SELECT "
				       "id FROM pub.users WHERE primary_role_id = ?1)",
	/* Deltas (image_delta.c, image_changes.c, schema/0009-*.sql): how many entries changed
	 * since the bases, counted up to ?1 only (the tables can be large
	 * after an import), and whether a change reaches beyond its entries. */
	[UDB_Q_IMAGE_CHANGES_PENDING] =
		"SELECT (SELECT count(*) FROM (SELECT 1 FROM pub.image_changes LIMIT ?1)) + "
		"(SELECT count(*) FROM (SELECT 1 FROM sec.image_changes LIMIT ?1)), "
		"EXISTS (SELECT 1 FROM pub.image_changes WHERE kind = 2)",
	[UDB_Q_IMAGE_MARK_PUB] =
		"INSERT OR IGNORE INTO pub.image_changes (kind, id) VALUES (?1, ?2)",
	[UDB_Q_IMAGE_MARK_SEC] = "INSERT OR IGNORE INTO sec.image_changes (user_id) VALUES (?1)",
	[UDB_Q_IMAGE_ENTRY_USER] = "SELECT id FROM pub.passwd_entries WHERE uid = ?1",
	[UDB_Q_IMAGE_CHANGES_CLEAR_PUB] = "DELETE FROM pub.image_changes",
	[UDB_Q_IMAGE_CHANGES_CLEAR_SEC] = "DELETE FROM sec.image_changes",
	[UDB_Q_IMAGE_CHANGED_USERS] = "SELECT id FROM pub.image_changes WHERE kind = 0 ORDER BY id",
	[UDB_Q_IMAGE_CHANGED_ROLES] = "SELECT id FROM pub.image_changes WHERE kind = 1 ORDER BY id",
	[UDB_Q_IMAGE_CHANGED_ACCOUNTS] = "SELECT id FROM pub.image_changes WHERE kind = 0 UNION "
					 "SELECT user_id FROM sec.image_changes ORDER BY 1",
	/* One user as UDB_Q_IMAGE_USERS reads it, and its memberships as
	 * UDB_Q_IMAGE_MEMBERSHIPS reads them. */
	[UDB_Q_IMAGE_USER_ONE] =
		"SELECT p.id, p.uid, p.gid, u.primary_role_id IS NULL, p.entry, "
		"u.username FROM pub.passwd_entries p JOIN pub.users u ON u.id = p.id "
		"WHERE p.id = ?1",
	[UDB_Q_IMAGE_USER_MEMBERSHIPS] =
		"SELECT c.role_id, ur.user_id, ur.not_before, ur.not_after FROM pub.user_roles ur "
		"JOIN pub.role_closure c ON c.member_role_id = ur.role_id WHERE ur.user_id = ?1",
	[UDB_Q_IMAGE_ROLE_ONE] = "SELECT id, name, gid FROM pub.roles WHERE id = ?1",
	[UDB_Q_IMAGE_ACCOUNT_ONE] = "SELECT u.username, " ACCOUNT_COLUMNS " FROM pub.users u JOIN "
				    "sec.accounts a ON a.user_id = u.id WHERE u.id = ?1",
};

const char *
udb_sql_text(enum udb_query q)
{
	return queries[q];
}

bool
udb_sql_changes_keys(enum udb_query q)
{
	switch (q) {
	case UDB_Q_SSHKEY_INSERT:
	case UDB_Q_SSHKEY_DELETE:
	case UDB_Q_USER_DELETE:
	case UDB_Q_USER_RENAME:
	case UDB_Q_ACCOUNT_DELETE:
	case UDB_Q_ACCOUNT_SET_ENABLED:
	case UDB_Q_ACCOUNT_SET_VALIDITY:
	case UDB_Q_REPAIR_ORPHAN_ACCOUNTS:
	case UDB_Q_REPAIR_ORPHAN_USERS:
	case UDB_Q_REPAIR_NAMES_ADD:
		return true;
	default:
		return false;
	}
}
