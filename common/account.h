/* The shadow record of a user: password hash, aging, enabled flag,
 * validity dates, failed-login lockout and login tracking. Stored in the
 * shadow file, readable by root only. Called by the PAM
 * module (auth, account, password, session), the NSS module (shadow
 * entries) and the CLI. */
#ifndef UDB_ACCOUNT_H
#define UDB_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define UDB_DAYS_UNSET (-1)

struct udb_account {
	int64_t user_id;
	char *username;              /* filled by udb_account_by_name and udb_shadow_page */
	char *password_hash;         /* NULL: no password; wiped on free */
	int64_t password_changed_at; /* 0: never */
	int min_days, max_days, warn_days, inactive_days; /* UDB_DAYS_UNSET: none */
	bool must_change;
	bool is_enabled;
	int64_t not_before, not_after; /* account validity, 0: none */
	int failed_count;
	int64_t last_failed_at;
	int64_t locked_until; /* 0: not locked; INT64_MAX: until unlocked */
	int64_t last_login_at, current_login_at;
	char *last_login_ip, *current_login_ip; /* NULL: none */
	int64_t login_count;
};

void udb_account_free(struct udb_account *account);
void udb_account_list_free(struct udb_account **accounts, size_t n);

/* Needs a handle with the shadow file. A user without an account row (see
 * db.h on a writer killed mid-change) is UDB_NOT_FOUND. */
enum udb_result udb_account_by_name(struct udb_db *db, const char *name,
				    struct udb_account **ret_account);
/* udb_account_by_name with only user_id, username and password_hash
 * filled (every other field 0): what authentication decides on before the
 * hash (the state is read again after it, attempt.h), read with a
 * statement a third as dear for SQLite to compile. */
enum udb_result udb_account_for_login(struct udb_db *db, const char *name,
				      struct udb_account **ret_account);
enum udb_result udb_account_by_user_id(struct udb_db *db, int64_t user_id,
				       struct udb_account **ret_account);
/* Shadow enumeration: accounts with user id > after_id, in id order. */
enum udb_result udb_shadow_page(struct udb_db *db, int64_t after_id, size_t max,
				struct udb_account ***ret_accounts, size_t *ret_n);

/* What the account's state says about a login at time now, in the order
 * the PAM account phase checks it. */
enum udb_account_status {
	UDB_ACCOUNT_OK,
	UDB_ACCOUNT_DISABLED,
	UDB_ACCOUNT_NOT_YET_VALID,
	UDB_ACCOUNT_EXPIRED,
	UDB_ACCOUNT_PASSWORD_MUST_CHANGE, /* flag set, or past max_days */
	UDB_ACCOUNT_PASSWORD_EXPIRED,     /* past max_days + inactive_days */
};
enum udb_account_status udb_account_status(const struct udb_account *account, int64_t now);
const char *udb_account_status_to_string(enum udb_account_status status);
/* Locked after failed logins at now. Inline, like udb_account_shadow_pwdp,
 * so that the shadow packer needs nothing else of the core. */
static inline bool
udb_account_is_locked(const struct udb_account *account, int64_t now)
{
	return account->locked_until != 0 && now < account->locked_until;
}

/* What the shadow entry's password field shows at now, for pam_unix,
 * unix_chkpwd, `passwd -S` and `chage -l`: the hash of an enabled, unlocked
 * account with a password, behind "!" while the account is disabled or
 * locked after failed logins (as `passwd -l` does), and "!" alone without a
 * usable hash. An empty hash never reaches pam_unix, which would take it as
 * "no password needed" (nullok). *ret_prefix and *ret_hash point into
 * account or to constants. Called by the NSS shadow packer. */
static inline void
udb_account_shadow_pwdp(const struct udb_account *account, int64_t now, const char **ret_prefix,
			const char **ret_hash)
{
	const char *hash =
		account->password_hash && account->password_hash[0] ? account->password_hash : NULL;

	*ret_prefix =
		!hash || !account->is_enabled || udb_account_is_locked(account, now) ? "!" : "";
	*ret_hash = hash ? hash : "";
}

/* Changes, each its own transaction; *ret_changed (may be NULL) says
 * whether anything changed. */
enum udb_result udb_account_set_enabled(struct udb_db *db, const char *name, bool enabled,
					bool *ret_changed);
/* Stores a new hash (NULL: remove the password), sets the change time and
 * clears must-change. */
enum udb_result udb_account_set_password(struct udb_db *db, const char *name, const char *hash,
					 int64_t now);
/* The same for a change central made first (fleet host, PAM's password
 * write-back): central_rev is its revision there. When the local copy was
 * at central_rev - 1, it is now at central_rev (the change was that one
 * revision), so the next sync does not read it back; else the revision is
 * left for the sync. UDB_INVALID: a NULL hash or no revision. */
enum udb_result udb_account_set_password_as(struct udb_db *db, const char *name, const char *hash,
					    int64_t now, int64_t central_rev);
/* Replaces old_hash with new_hash, a hash of the same password in the
 * configured method, keeping the change time and must-change: a re-hash is
 * not a password change, so aging goes on as before. Nothing changes when
 * the stored hash is no longer old_hash (the password was changed
 * meanwhile); that is not an error. Called by the PAM module after a
 * successful login with an outdated hash. */
enum udb_result udb_account_upgrade_hash(struct udb_db *db, int64_t user_id, const char *old_hash,
					 const char *new_hash);
/* Locks the password alone, as `passwd -l` does: "!" goes before the
 * stored hash, so no password verifies while other ways in (keys) still
 * work; unlocking takes it off again. *ret_changed is false when there was
 * nothing to do (already locked or unlocked, or no password). */
enum udb_result udb_account_lock_password(struct udb_db *db, const char *name, bool lock,
					  bool *ret_changed);
/* Whether a stored hash is a password locked by udb_account_lock_password()
 * (or imported so). */
static inline bool
udb_account_password_locked(const char *hash)
{
	return hash && hash[0] == '!' && hash[1] != '\0';
}
enum udb_result udb_account_set_validity(struct udb_db *db, const char *name, int64_t not_before,
					 int64_t not_after);
enum udb_result udb_account_set_must_change(struct udb_db *db, const char *name, bool must_change);
enum udb_result udb_account_set_aging(struct udb_db *db, const char *name, int min_days,
				      int max_days, int warn_days, int inactive_days);
enum udb_result udb_account_unlock(struct udb_db *db, const char *name);
/* udb_account_unlock on the admin box of a fleet: also ends central's
 * fleet-wide lock and records now as the unlock time, which every host
 * takes as the end of its own lock and failure count (replica.h). */
enum udb_result udb_account_unlock_fleet(struct udb_db *db, const char *name, int64_t now);

/* Login outcomes, recorded by the PAM module. A failure counts and, at the
 * deny-th consecutive one, locks until now + unlock_time (0: until
 * unlocked); *ret_locked says whether the account is now locked. */
enum udb_result udb_account_record_failure(struct udb_db *db, int64_t user_id, int64_t now,
					   unsigned deny, unsigned unlock_time, bool *ret_locked);
enum udb_result udb_account_record_success(struct udb_db *db, int64_t user_id);
/* A failed attempt for a name that does not exist: counted in the shadow
 * file's meta table, which also gives it the same cost as a real failure. */
enum udb_result udb_account_record_unknown_failure(struct udb_db *db);
/* A login session: current becomes last, count + 1. rhost may be NULL. */
enum udb_result udb_account_record_login(struct udb_db *db, int64_t user_id, int64_t now,
					 const char *rhost);

#endif
