/* The entry points of pam_userdb.so: authentication (with the failed-login
 * lockout and re-hashing of outdated hashes), account checks (through
 * gate.c), password changes (the rules are passwd.c's) and login tracking,
 * plus the one mapping from enum udb_result to PAM codes. Called by libpam;
 * arguments are parsed by args.c, a call's context (configuration, store
 * handle, user, account) is context.c's, and every read and write goes
 * through common/. Nothing lives between calls except the auth result kept for
 * pam_sm_setcred.
 *
 * Passwords are never copied: they stay in libpam's PAM_AUTHTOK and
 * PAM_OLDAUTHTOK items, which libpam wipes, and the core wipes every
 * buffer it hashes in. Logs never name an unknown user (people type
 * passwords into the login prompt) and never show a hash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "hash.h"
#include "module.h"
#include "user.h"

/* Linux-PAM ships an unrelated pam_userdb.so (Berkeley DB). The install
 * script (dist/install.sh) overwrites a pam_userdb.so only if it
 * carries this marker, i.e. is ours. */
__attribute__((used)) static const char install_marker[] = "userdb-role-database-pam-module";

#define PUD_EXPORT __attribute__((visibility("default")))

/* Never read here: `userdb explain` finds it in the file to tell this
 * module from Linux-PAM's pam_userdb.so (pam_args.h). */
__attribute__((used)) static const char pud_marker[] = UDB_PAM_MODULE_MARKER;

#define AUTH_RESULT_KEY "pam_userdb:auth_result"

int
pud_pam_code(enum pud_step step, enum udb_result r)
{
	if (r == UDB_OK)
		return PAM_SUCCESS;
	if (r == UDB_NO_MEMORY)
		return PAM_BUF_ERR;
	switch (step) {
	case PUD_STEP_OPEN:
		/* Missing, unreadable (the caller is not root), unsafe, corrupt
		 * or of another schema: fail closed. AUTHINFO_UNAVAIL is never
		 * success and never ignored by default, and an admin can still
		 * fall through to pam_unix with [authinfo_unavail=ignore]. */
		return PAM_AUTHINFO_UNAVAIL;
	case PUD_STEP_LOOKUP:
		return r == UDB_NOT_FOUND ? PAM_USER_UNKNOWN : PAM_AUTHINFO_UNAVAIL;
	case PUD_STEP_VERIFY:
		return PAM_AUTH_ERR;
	case PUD_STEP_CHANGE:
		if (r == UDB_BUSY)
			return PAM_AUTHTOK_LOCK_BUSY;
		return r == UDB_NOT_FOUND ? PAM_USER_UNKNOWN : PAM_AUTHTOK_ERR;
	case PUD_STEP_SESSION:
		return r == UDB_NOT_FOUND ? PAM_USER_UNKNOWN : PAM_SESSION_ERR;
	}
	return PAM_SERVICE_ERR;
}

/* ---- auth ---- */

static int
auth_unknown(struct pud_ctx *ctx, const char *password)
{
	enum udb_result r;

	/* The same work as a wrong password for a real user: one hash of the
	 * configured method and cost and one write transaction on the shadow
	 * file, so that the time taken does not tell whether a name exists;
	 * where every user is asked for a code, so is an unknown one. */
	udb_hash_burn(ctx->cfg, password);
	if (ctx->args.second_factor == UDB_SECOND_FACTOR_REQUIRED)
		udb_secret_free(pud_factor_ask(ctx));
	if (!pud_ctx_make_writer(ctx))
		return PAM_USER_UNKNOWN;
	r = udb_account_record_unknown_failure(ctx->db);
	if (r != UDB_OK)
		pam_syslog(ctx->pamh, LOG_ERR, "cannot count a failed login: %s",
			   udb_result_to_string(r));
	return PAM_USER_UNKNOWN;
}

/* Replaces an outdated hash (another method or cost than configured,
 * e.g. an imported sha512crypt one) with hash, a fresh one of the same
 * password. The password was just verified; a failure here does not undo
 * the login. */
static void
upgrade_hash(struct pud_ctx *ctx, const struct udb_account *account, const char *hash)
{
	enum udb_result r;

	/* An accepted attempt may have been decided on the reader. */
	if (!pud_ctx_make_writer(ctx))
		return;
	r = udb_account_upgrade_hash(ctx->db, account->user_id, account->password_hash, hash);
	if (r != UDB_OK)
		pam_syslog(ctx->pamh, LOG_ERR, "cannot re-hash the password of %s: %s",
			   account->username, udb_result_to_string(r));
	else
		pam_syslog(ctx->pamh, LOG_INFO, "password hash of %s upgraded", account->username);
}

static int
auth_known(struct pud_ctx *ctx, const struct udb_account *account, const char *password)
{
	enum udb_result verified;
	char *new_hash = NULL, *code = NULL;
	bool ask = false, enrolled = false;
	int rc;

	rc = pud_factor_state(ctx, account, &ask, &enrolled);
	if (rc != PAM_SUCCESS)
		return rc;
	/* Hash first, with no lock held and even while locked (the time then
	 * says nothing about whether the password was right); the lock is
	 * decided afterwards, on what is read then under the write lock (in
	 * the writer's transaction that records the attempt, or, for a right
	 * password with nothing else to change, on this handle: attempt.c),
	 * so an attempt that read the account before a lock was taken cannot
	 * slip through. An outdated hash (another method or
	 * cost, e.g. an imported sha512crypt one) is verified while a hash of
	 * the configured method is made: the attempt then takes as long as
	 * for any other user, and a right password has its replacement. */
	verified = udb_hash_verify_timed(ctx->cfg, password, account->password_hash, &new_hash);
	/* The code is asked whatever the password was (factor.c). */
	if (ask)
		code = pud_factor_ask(ctx);
	if (ask && !code)
		rc = PAM_BUF_ERR;
	else
		rc = pud_attempt(ctx, account, verified, code, "authentication");
	udb_secret_free(code);
	if (rc == PAM_SUCCESS && new_hash && ctx->cfg)
		upgrade_hash(ctx, account, new_hash);
	udb_secret_free(new_hash);
	if (rc == PAM_SUCCESS && !enrolled && ctx->args.second_factor == UDB_SECOND_FACTOR_ENROL &&
	    !pud_factor_fleet_host(ctx))
		rc = pud_factor_enrol(ctx, account);
	if (rc == PAM_SUCCESS && ctx->args.debug)
		pam_syslog(ctx->pamh, LOG_DEBUG, "authenticated %s", account->username);
	return rc;
}

static int
auth_with_database(struct pud_ctx *ctx, const char *user, const char *password)
{
	struct udb_account *account = NULL;
	int rc;

	rc = pud_ctx_account(ctx, user, LOG_NOTICE, "authentication failure", true, &account);
	if (rc == PAM_USER_UNKNOWN)
		rc = auth_unknown(ctx, password);
	else if (rc == PAM_SUCCESS)
		rc = auth_known(ctx, account, password);
	udb_account_free(account);
	return rc;
}

static void
free_auth_result(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

/* Kept for pam_sm_setcred, which must answer like pam_sm_authenticate did
 * (pam_unix does the same). */
static void
remember_auth_result(pam_handle_t *pamh, int rc)
{
	int *copy = malloc(sizeof(*copy));

	if (!copy)
		return;
	*copy = rc;
	if (pam_set_data(pamh, AUTH_RESULT_KEY, copy, free_auth_result) != PAM_SUCCESS)
		free(copy);
}

/* A database user whose store cannot be opened is refused: the profile
 * ignores AUTHINFO_UNAVAIL (so that a broken store never locks root out),
 * which for one of ours would hand the login to pam_unix with the hash NSS
 * shows and none of this module's gates. */
static int
closed_if_ours(struct pud_ctx *ctx, int rc, int refusal, const char *what)
{
	if (rc != PAM_AUTHINFO_UNAVAIL || !ctx->ours)
		return rc;
	pam_syslog(ctx->pamh, LOG_ERR, "%s refused: the store cannot be read", what);
	return refusal;
}

PUD_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	const char *user = NULL, *password = NULL;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc != PAM_SUCCESS)
		goto out;
	if (!ctx.args.nodelay)
		pam_fail_delay(pamh, PUD_FAIL_DELAY_USEC);
	rc = pud_get_user(&ctx, true, &user);
	/* A local user is answered at once: no prompt, no hash, no write. A
	 * database user found in the image is confirmed after the open. */
	ctx.image_owner = true;
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "authentication");
	if (rc != PAM_SUCCESS)
		goto out;
	/* Ask for the password before looking the name up, so that an unknown
	 * user is prompted exactly like a known one. pam_get_authtok handles
	 * use_first_pass / try_first_pass from the module line. */
	rc = pam_get_authtok(pamh, PAM_AUTHTOK, &password, NULL);
	if (rc != PAM_SUCCESS) {
		if (rc == PAM_CONV_AGAIN)
			rc = PAM_INCOMPLETE;
		else
			pam_syslog(pamh, LOG_NOTICE, "cannot get the password: %s",
				   pam_strerror(pamh, rc));
		goto out;
	}
	/* The shadow file alone: that is all a password check needs before
	 * the hash, and root's handle on it can then decide a right password
	 * that changes nothing (attempt.c); the writer of both files is
	 * opened afterwards only to record a failure, a reset or a code. It
	 * is read-write when it can be (root), else read-only, and then every
	 * attempt goes to the writer. A caller that may not read it (a screen
	 * locker running as the user) asks the setuid helper, which records
	 * the attempt too: no caller verifies a database password uncounted. */
	if (geteuid() == 0) {
		rc = pud_ctx_open(&ctx, UDB_OPEN_SHADOW_ATTEMPT);
		if (rc != PAM_SUCCESS && ctx.open_result == UDB_PERMISSION)
			rc = pud_ctx_open(&ctx, UDB_OPEN_SHADOW_ONLY);
	} else {
		rc = pud_ctx_open(&ctx, UDB_OPEN_SHADOW_ONLY);
	}
	if (rc != PAM_SUCCESS && ctx.open_result == UDB_PERMISSION && geteuid() != 0) {
		rc = pud_chkpwd_run(&ctx, user, password);
	} else if (rc == PAM_SUCCESS) {
		rc = pud_confirm_owner(&ctx, user, "authentication");
		if (rc == PAM_SUCCESS)
			rc = auth_with_database(&ctx, user, password);
	}
out:
	rc = closed_if_ours(&ctx, rc, PAM_AUTH_ERR, "authentication");
	if (rc != PAM_INCOMPLETE)
		remember_auth_result(pamh, rc);
	pud_ctx_close(&ctx);
	return rc;
}

/* Whether the user is one of ours, from the public file (any caller can
 * read it): for the phases that have nothing else to do. */
static int
user_is_ours(pam_handle_t *pamh, int argc, const char **argv, const char *what)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_user *u = NULL;
	const char *user = NULL;
	enum udb_result r;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS)
		rc = pud_get_user(&ctx, false, &user);
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, what);
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_open(&ctx, UDB_OPEN_PUBLIC);
	if (rc == PAM_SUCCESS) {
		r = udb_user_by_name(ctx.db, user, &u);
		if (r == UDB_NOT_FOUND && ctx.args.debug)
			pam_syslog(pamh, LOG_DEBUG, "%s for an unknown user", what);
		else if (r != UDB_OK && r != UDB_NOT_FOUND)
			pam_syslog(pamh, LOG_ERR, "%s: cannot read the user: %s", what,
				   udb_result_to_string(r));
		rc = pud_pam_code(PUD_STEP_LOOKUP, r);
	}
	udb_user_free(u);
	pud_ctx_close(&ctx);
	return rc;
}

PUD_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;

	if (pam_get_data(pamh, AUTH_RESULT_KEY, &data) == PAM_SUCCESS && data)
		return *(const int *)data;
	/* This module did not authenticate in this transaction (sshd with a
	 * key): there are no credentials to set, only a user to recognise. */
	return user_is_ours(pamh, argc, argv, "credentials");
}

/* ---- account ---- */

PUD_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_account *account = NULL;
	const char *user = NULL;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS)
		rc = pud_get_user(&ctx, true, &user);
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "account check");
	/* Read-only is enough here: nothing is written, and the account phase
	 * then works for every caller that may read the shadow file. */
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_open(&ctx, UDB_OPEN_READ_BOTH);
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_account(&ctx, user, LOG_NOTICE, "account check", false, &account);
	if (rc == PAM_SUCCESS)
		rc = pud_gate_account(pamh, flags, &ctx.args, ctx.cfg, ctx.db, account, udb_now());
	rc = closed_if_ours(&ctx, rc, PAM_PERM_DENIED, "account check");
	udb_account_free(account);
	pud_ctx_close(&ctx);
	return rc;
}

/* ---- password ---- */

static bool
password_due(const struct udb_account *account)
{
	enum udb_account_status status = udb_account_status(account, udb_now());

	return status == UDB_ACCOUNT_PASSWORD_MUST_CHANGE || status == UDB_ACCOUNT_PASSWORD_EXPIRED;
}

PUD_EXPORT int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_account *account = NULL;
	const char *user = NULL;
	bool update = flags & PAM_UPDATE_AUTHTOK;
	/* pam_unix's rule: root changes a password without the old one,
	 * except when an application running as root (login, sshd) changes an
	 * expired password on the user's behalf; then the user must prove who
	 * they are. A setuid passwd run by a user has getuid() != 0. */
	bool as_root = getuid() == 0 && !(flags & PAM_CHANGE_EXPIRED_AUTHTOK);
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS && !(flags & (PAM_PRELIM_CHECK | PAM_UPDATE_AUTHTOK)))
		rc = PAM_SERVICE_ERR;
	if (rc == PAM_SUCCESS)
		rc = pud_get_user(&ctx, true, &user);
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "password change");
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_open(&ctx, update ? UDB_OPEN_WRITE : UDB_OPEN_READ_BOTH);
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_account(&ctx, user, LOG_DEBUG, "password change", false, &account);
	rc = closed_if_ours(&ctx, rc, PAM_AUTHTOK_ERR, "password change");
	if ((rc == PAM_USER_UNKNOWN || rc == PAM_AUTHINFO_UNAVAIL) && update)
		rc = pud_passwd_pass_on(pamh, rc);
	if (rc != PAM_SUCCESS)
		goto out;
	/* PAM_CHANGE_EXPIRED_AUTHTOK asks for a change only of passwords that
	 * are due (pam_chauthtok(3)): login asks the whole stack when any one
	 * module said PAM_NEW_AUTHTOK_REQD, and ours may not be that one. */
	if ((flags & PAM_CHANGE_EXPIRED_AUTHTOK) && !password_due(account)) {
		if (ctx.args.debug)
			pam_syslog(pamh, LOG_DEBUG, "password of %s is not due, left alone",
				   account->username);
		goto out;
	}
	if (!as_root)
		rc = pud_passwd_check_old(&ctx, account, flags);
	if (rc == PAM_SUCCESS && update)
		rc = pud_passwd_change(&ctx, account, as_root, flags);
out:
	udb_account_free(account);
	pud_ctx_close(&ctx);
	return rc;
}

/* ---- session ---- */

PUD_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_account *account = NULL;
	char rhost[PUD_RHOST_MAX + 1];
	const char *user = NULL;
	enum udb_result r;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS)
		rc = pud_get_user(&ctx, false, &user);
	/* Not a login: nothing to write, only the user to recognise, as at
	 * close. */
	if (rc == PAM_SUCCESS && !pud_session_is_login(pamh, user)) {
		if (ctx.args.debug)
			pam_syslog(pamh, LOG_DEBUG, "session is not a login, not recorded");
		return user_is_ours(pamh, argc, argv, "session");
	}
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "session");
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_open(&ctx, UDB_OPEN_WRITE);
	if (rc == PAM_SUCCESS)
		rc = pud_ctx_account(&ctx, user, LOG_INFO, "session", false, &account);
	if (rc != PAM_SUCCESS)
		goto out;
	/* Stored escaped and cut, like it is logged: `userdb user show` must
	 * not print a client's control characters to an admin's terminal. */
	pud_get_rhost(pamh, rhost, sizeof(rhost));
	r = udb_account_record_login(ctx.db, account->user_id, udb_now(), rhost[0] ? rhost : NULL);
	if (r != UDB_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot record the login of %s: %s", account->username,
			   udb_result_to_string(r));
		rc = pud_pam_code(PUD_STEP_SESSION, r);
		goto out;
	}
	pam_syslog(pamh, LOG_INFO, "login of %s recorded; rhost=%s", account->username, rhost);
out:
	udb_account_free(account);
	pud_ctx_close(&ctx);
	return rc;
}

PUD_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	/* Nothing is recorded at logout; only recognise the user, so that an
	 * unknown one is PAM_USER_UNKNOWN here too. */
	return user_is_ours(pamh, argc, argv, "session close");
}
