/* The rules of a password change: the current password proved by the
 * user, the minimum password age, the new password's length and its
 * difference from the user name and the old one, then the write (on a
 * fleet host central's first, through writeback.c); and for
 * users that are not the database's, the new password passed on to
 * pam_unix. Called by pam_sm_chauthtok in pam_userdb.c, which has opened
 * the database and read the account. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "hash.h"
#include "module.h"

#define DAY 86400

static void
tell_error(pam_handle_t *pamh, int flags, const char *text)
{
	if (!(flags & PAM_SILENT))
		pam_error(pamh, "%s", text);
}

/* The user proves the current password. Done in both passes: libpam runs
 * PAM_UPDATE_AUTHTOK whenever the stack as a whole passed
 * PAM_PRELIM_CHECK, which a control like [default=ignore] can allow even
 * when this module refused, so the check that guards the write sits right
 * before it. */
int
pud_passwd_check_old(struct pud_ctx *ctx, const struct udb_account *account, int flags)
{
	int64_t now = udb_now();
	const char *old = NULL;
	enum udb_result verified;
	int rc;

	rc = pam_get_authtok(ctx->pamh, PAM_OLDAUTHTOK, &old, "Current password: ");
	if (rc != PAM_SUCCESS)
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
	/* The same door as a login: the attempt is counted, the lock decided
	 * after the hash, and a refusal costs the failure delay, so that
	 * `passwd` is no faster oracle for the current password than login
	 * is. libpam applies pam_fail_delay to pam_authenticate only, so the
	 * module waits itself here. */
	verified = udb_hash_verify(ctx->cfg, old, account->password_hash);
	rc = pud_attempt(ctx, account, verified, NULL, "password change");
	if (rc != PAM_SUCCESS) {
		if (!ctx->args.nodelay)
			pud_fail_sleep();
		return rc;
	}
	/* Aging's minimum days (passwd's rule): not when a change is due. */
	if (account->min_days > 0 && account->password_changed_at && !account->must_change &&
	    now < account->password_changed_at + (int64_t)account->min_days * DAY) {
		pam_syslog(ctx->pamh, LOG_NOTICE,
			   "password change refused for %s: minimum password age not reached",
			   account->username);
		tell_error(ctx->pamh, flags, "You must wait longer to change your password.");
		return PAM_AUTHTOK_ERR;
	}
	return PAM_SUCCESS;
}

/* The rules a new password must meet. They apply to root too: a short
 * password set by root is as weak as one set by its user. */
static int
approve_new_password(struct pud_ctx *ctx, const struct udb_account *account, const char *old,
		     const char *new, int flags)
{
	unsigned minlen = ctx->args.has_minlen ? ctx->args.minlen : ctx->cfg->pass_min_len;
	size_t len = strlen(new);
	const char *why = NULL;
	char text[96];

	if (len == 0) {
		why = "No password has been supplied.";
	} else if (len > UDB_PASSWORD_MAX) {
		snprintf(text, sizeof(text), "The password is longer than %d characters.",
			 UDB_PASSWORD_MAX);
		why = text;
	} else if (len > udb_hash_password_max(ctx->cfg)) {
		/* bcrypt would cut it: every password sharing its start would
		 * then match. */
		snprintf(text, sizeof(text),
			 "The password is longer than %zu characters, the most bcrypt uses.",
			 udb_hash_password_max(ctx->cfg));
		why = text;
	} else if (len < minlen) { /* bytes, as pam_unix counts */
		snprintf(text, sizeof(text), "The password is shorter than %u characters.", minlen);
		why = text;
	} else if (strcasecmp(new, account->username) == 0) {
		why = "The password is the same as the user name.";
	} else if (old && strcmp(old, new) == 0) {
		why = "The password has not been changed.";
	}
	if (!why)
		return PAM_SUCCESS;
	pam_syslog(ctx->pamh, LOG_NOTICE, "password change refused for %s: %s", account->username,
		   why);
	tell_error(ctx->pamh, flags, why);
	return PAM_AUTHTOK_ERR;
}

int
pud_passwd_change(struct pud_ctx *ctx, const struct udb_account *account, bool as_root, int flags)
{
	const void *old = NULL;
	const char *new = NULL;
	int64_t at = udb_now(), rev = 0;
	enum udb_result r;
	char *hash = NULL;
	int rc;

	if (!as_root && pam_get_item(ctx->pamh, PAM_OLDAUTHTOK, &old) != PAM_SUCCESS)
		old = NULL;
	/* Takes PAM_AUTHTOK when a module above (pam_pwquality) has set it,
	 * which use_authtok demands; otherwise asks twice. */
	rc = pam_get_authtok(ctx->pamh, PAM_AUTHTOK, &new, NULL);
	if (rc != PAM_SUCCESS) {
		pam_syslog(ctx->pamh, LOG_NOTICE, "password change for %s: no new password: %s",
			   account->username, pam_strerror(ctx->pamh, rc));
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
	}
	rc = approve_new_password(ctx, account, old, new, flags);
	if (rc != PAM_SUCCESS)
		return rc;
	/* Hash before taking the write lock, so the lock is held briefly. */
	r = udb_hash_password(ctx->cfg, new, &hash);
	if (r == UDB_OK && ctx->cfg->host) {
		/* A fleet host: central first, the local copy only after it. */
		rc = pud_writeback_password(ctx, account, hash, at, flags, &rev);
		if (rc != PAM_SUCCESS) {
			udb_secret_free(hash);
			return rc;
		}
		r = udb_account_set_password_as(ctx->db, account->username, hash, at, rev);
	} else if (r == UDB_OK) {
		r = udb_account_set_password(ctx->db, account->username, hash, at);
	}
	udb_secret_free(hash);
	if (r != UDB_OK && rev > 0) {
		/* Central has it; this host's copy gets it with the next sync. */
		pam_syslog(ctx->pamh, LOG_ERR,
			   "password of %s changed centrally (revision %lld) but not locally: %s",
			   account->username, (long long)rev, udb_result_to_string(r));
		tell_error(ctx->pamh, flags,
			   "The password was changed in the central user database but not yet "
			   "on this host: it arrives with the next sync.");
		return pud_pam_code(PUD_STEP_CHANGE, r);
	}
	if (r != UDB_OK) {
		pam_syslog(ctx->pamh, LOG_ERR, "cannot change the password of %s: %s",
			   account->username, udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_CHANGE, r);
	}
	if (rev > 0)
		pam_syslog(ctx->pamh, LOG_NOTICE, "password changed for %s (central revision %lld)",
			   account->username, (long long)rev);
	else
		pam_syslog(ctx->pamh, LOG_NOTICE, "password changed for %s", account->username);
	return PAM_SUCCESS;
}

/* In Debian's common-password, ordered by pam-auth-update, this module
 * comes first and pam_unix after it on a line with use_authtok: pam_unix
 * takes the new password from PAM_AUTHTOK and never asks for it. So for a
 * user this module does not own (a user of /etc/passwd, root), or for
 * anyone while the database cannot be read, it asks for the new password
 * (twice, through pam_get_authtok, which takes the one a module above such
 * as pam_pwquality has set instead) and leaves it in PAM_AUTHTOK, as
 * pam_pwquality does; the checks and the write are pam_unix's, and so is
 * asking for the current password, in its preliminary pass. */
int
pud_passwd_pass_on(pam_handle_t *pamh, int rc)
{
	const char *new = NULL;
	int got;

	got = pam_get_authtok(pamh, PAM_AUTHTOK, &new, NULL);
	if (got == PAM_SUCCESS)
		return rc;
	return got == PAM_CONV_AGAIN ? PAM_INCOMPLETE : got;
}
