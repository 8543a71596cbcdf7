/* Every SQL statement userdb runs, by name. The text lives in sql.c so that
 * all SQL can be reviewed in one place; the handle caches each statement
 * prepared once. Used by the files of common/ only. */
#ifndef UDB_SQL_H
#define UDB_SQL_H

#include <stdbool.h>

enum udb_query {
	/* meta and transactions */
	UDB_Q_BEGIN_READ,
	UDB_Q_BEGIN_WRITE,
	UDB_Q_COMMIT,
	UDB_Q_ROLLBACK,
	UDB_Q_GENERATIONS,
	UDB_Q_SET_GENERATION_PUB,
	UDB_Q_SET_GENERATION_SEC,
	UDB_Q_REPAIR_ORPHAN_ACCOUNTS,
	UDB_Q_REPAIR_ORPHAN_USERS,
	UDB_Q_CONFIRM_ACCOUNT_NAMES,
	UDB_Q_META_PAIR,
	UDB_Q_COUNT_UNKNOWN_FAILURE,
	UDB_Q_DATA_VERSION,
	/* users */
	UDB_Q_USER_BY_NAME,
	UDB_Q_USER_BY_UID,
	UDB_Q_USER_BY_EMAIL,
	UDB_Q_USER_PAGE,
	UDB_Q_USERS_IN_ROLE,
	UDB_Q_PASSWD_BY_NAME,
	UDB_Q_PASSWD_ENTRY_BY_UID,
	UDB_Q_PASSWD_PAGE,
	UDB_Q_PASSWD_ENTRY_REFRESH,
	UDB_Q_USER_INSERT,
	UDB_Q_USER_UPDATE,
	UDB_Q_USER_DELETE,
	UDB_Q_ACCOUNT_INSERT,
	UDB_Q_ACCOUNT_NAME_INSERT,
	UDB_Q_ACCOUNT_DELETE,
	UDB_Q_ID_IN_USE,
	UDB_Q_NAME_IN_USE,
	UDB_Q_NEXT_FREE_ID,
	UDB_Q_ID_MARKS,
	UDB_Q_ID_MARK_RAISE,
	/* roles */
	UDB_Q_ROLE_BY_NAME,
	UDB_Q_ROLE_BY_GID,
	UDB_Q_ROLE_LIST,
	UDB_Q_ROLE_INSERT,
	UDB_Q_ROLE_UPDATE_DESCRIPTION,
	UDB_Q_ROLE_DELETE,
	UDB_Q_ROLE_PRIMARY_USERS,
	UDB_Q_ROLE_PERMISSIONS,
	UDB_Q_ROLE_PERMISSION_ADD,
	UDB_Q_ROLE_PERMISSION_DEL,
	UDB_Q_ROLE_INCLUDES,
	UDB_Q_ROLE_INCLUDE_ADD,
	UDB_Q_ROLE_INCLUDE_DEL,
	UDB_Q_ROLE_CLOSURE_HAS,
	UDB_Q_ROLE_CLOSURE_CLEAR,
	UDB_Q_ROLE_CLOSURE_BUILD,
	/* grants */
	UDB_Q_GRANT_UPSERT,
	UDB_Q_GRANT_GET,
	UDB_Q_GRANT_DELETE,
	UDB_Q_USER_GRANTS,
	UDB_Q_USER_EFFECTIVE_ROLES,
	UDB_Q_USER_EFFECTIVE_PERMISSIONS,
	UDB_Q_USER_EFFECTIVE_GIDS,
	/* fleet mode: the roles allowed on this host (pub.host_roles) */
	UDB_Q_HOST_ROLES,
	UDB_Q_USER_HOST_ALLOWED,
	/* groups as NSS shows them */
	UDB_Q_ROLE_HAS_INCLUDERS,
	UDB_Q_ROLE_MEMBERS_DIRECT,
	UDB_Q_ROLE_MEMBERS,
	UDB_Q_PERSONAL_GROUP_BY_NAME,
	UDB_Q_PERSONAL_GROUP_BY_GID,
	UDB_Q_ROLE_PAGE,
	UDB_Q_PERSONAL_GROUP_PAGE,
	/* shadow */
	UDB_Q_ACCOUNT_BY_USER_ID,
	UDB_Q_ACCOUNT_BY_NAME,
	UDB_Q_CREDENTIALS_BY_NAME,
	UDB_Q_SHADOW_PAGE,
	UDB_Q_ACCOUNT_SET_ENABLED,
	UDB_Q_ACCOUNT_SET_PASSWORD,
	UDB_Q_ACCOUNT_LOCK_PASSWORD,
	UDB_Q_ACCOUNT_UNLOCK_PASSWORD,
	UDB_Q_ACCOUNT_SET_VALIDITY,
	UDB_Q_ACCOUNT_SET_MUST_CHANGE,
	UDB_Q_ACCOUNT_SET_AGING,
	UDB_Q_ACCOUNT_UNLOCK,
	UDB_Q_ACCOUNT_FAILURE,
	UDB_Q_ATTEMPT_STATE,
	UDB_Q_ACCOUNT_SUCCESS,
	UDB_Q_ACCOUNT_LOGIN,
	UDB_Q_ACCOUNT_UPGRADE_HASH,
	/* the second factor (totp.c) */
	UDB_Q_TOTP_GET,
	UDB_Q_TOTP_SET_PENDING,
	UDB_Q_TOTP_CONFIRM,
	UDB_Q_TOTP_DELETE,
	UDB_Q_TOTP_USE_STEP,
	UDB_Q_TOTP_SET_RECOVERY,
	/* emails */
	UDB_Q_EMAIL_INSERT,
	UDB_Q_EMAIL_DELETE,
	UDB_Q_EMAIL_CONFIRM,
	UDB_Q_EMAIL_CLEAR_PRIMARY,
	UDB_Q_EMAIL_SET_PRIMARY,
	UDB_Q_EMAIL_LIST,
	UDB_Q_EMAIL_COUNT,
	UDB_Q_EMAIL_HAS_CONFIRMED,
	/* the compiled images (image_write.c) */
	UDB_Q_IMAGE_USERS,
	UDB_Q_IMAGE_ROLES,
	UDB_Q_IMAGE_MEMBERSHIPS,
	UDB_Q_IMAGE_ACCOUNTS,
	UDB_Q_IMAGE_GENERATIONS,
	UDB_Q_IMAGE_SET_GENERATION,
	/* fleet mode: the local copy's central revision (replica.c) */
	UDB_Q_REPLICA_SET_META,
	UDB_Q_REPLICA_STATE,
	/* the audit trail (audit.c) */
	UDB_Q_AUDIT_INSERT,
	UDB_Q_AUDIT_LIST,
	/* fleet mode: when central was last found current (sync.c) */
	UDB_Q_SYNC_SET_CHECKED,
	UDB_Q_SYNC_CHECKED_AT,
	/* ssh keys (sshkey_store.c) and their image (sshkey_image.c) */
	UDB_Q_SSHKEY_INSERT,
	UDB_Q_SSHKEY_DELETE,
	UDB_Q_SSHKEY_LIST,
	UDB_Q_SSHKEY_IMAGE_GENERATION,
	UDB_Q_SSHKEY_IMAGE_ROWS,
	/* renames and new ids (rename.c) */
	UDB_Q_USER_RENAME,
	UDB_Q_ACCOUNT_NAME_RENAME,
	UDB_Q_USER_RENUMBER,
	UDB_Q_USER_SET_PRIMARY_ROLE,
	UDB_Q_ROLE_RENAME,
	UDB_Q_ROLE_RENUMBER,
	UDB_Q_ROLE_PRIMARY_GIDS,
	UDB_Q_ROLE_PRIMARY_ENTRIES,
	UDB_Q_COUNT
};

const char *udb_sql_text(enum udb_query q);

/* Whether q may change what `userdb ssh-authorized-keys` serves: a key, an
 * account's enabled state or validity dates, an account's or a user's
 * existence or name. udb_stmt() marks the open transaction when it hands one out,
 * and the commit then rebuilds keys.img (sshkey_image.c). A statement
 * added here that changes any of those belongs in this list; a writer that
 * changes rows without a statement of this table calls
 * udb_db_mark_keys_changed(). */
bool udb_sql_changes_keys(enum udb_query q);

#endif
