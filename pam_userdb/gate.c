/* The account phase's decision for a user that exists: the account state
 * (enabled, validity, password aging), then the gating arguments
 * roles_required, roles_accepted, permissions_required,
 * permissions_accepted and require_confirmed_email. Called by
 * pam_sm_acct_mgmt in pam_userdb.c with a handle that can read the shadow
 * file. Key-based sshd logins never run auth, so everything that must stop a
 * login is decided here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "email.h"
#include "module.h"
#include "role.h"
#include "validate.h"

#define DAY 86400

static bool
contains(char *const *names, size_t n, const char *name)
{
	/* Case-sensitive on purpose: role `Admins` is not role `admins`. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Checks one "required" (all) or "accepted" (any) list against the names
 * the user effectively has. On a refusal, *ret_missing names the first
 * required item missing (required) or is empty (accepted). */
static bool
list_satisfied(const char *list, bool need_all, char *const *have, size_t n_have, char *ret_missing,
	       size_t size)
{
	const char *cursor = list;
	char item[UDB_PERMISSION_MAX + 1];

	ret_missing[0] = '\0';
	while (pud_list_next(&cursor, item, sizeof(item))) {
		bool has = contains(have, n_have, item);

		if (need_all && !has) {
			snprintf(ret_missing, size, "%s", item);
			return false;
		}
		if (!need_all && has)
			return true;
	}
	return need_all;
}

/* One of the four role / permission arguments. */
struct grant_check {
	const char *list;
	bool need_all;
	bool is_permission;
};

static int
check_grants(pam_handle_t *pamh, const struct pud_args *args, struct udb_db *db,
	     const struct udb_account *account, int64_t now)
{
	const struct grant_check checks[] = {
		{args->roles_required, true, false},
		{args->roles_accepted, false, false},
		{args->permissions_required, true, true},
		{args->permissions_accepted, false, true},
	};
	char **roles = NULL, **perms = NULL;
	size_t n_roles = 0, n_perms = 0;
	bool have_roles = false, have_perms = false;
	char missing[UDB_PERMISSION_MAX + 1];
	enum udb_result r = UDB_OK;
	int rc = PAM_SUCCESS;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct grant_check *c = &checks[i];
		const char *what = c->is_permission ? "permission" : "role";

		if (!c->list)
			continue;
		if (!c->is_permission && !have_roles) {
			r = udb_user_effective_roles(db, account->user_id, now, &roles, &n_roles);
			have_roles = r == UDB_OK;
		} else if (c->is_permission && !have_perms) {
			r = udb_user_effective_permissions(db, account->user_id, now, &perms,
							   &n_perms);
			have_perms = r == UDB_OK;
		}
		if (r != UDB_OK) {
			pam_syslog(pamh, LOG_ERR, "cannot read the %ss of %s: %s", what,
				   account->username, udb_result_to_string(r));
			rc = pud_pam_code(PUD_STEP_LOOKUP, r);
			break;
		}
		if (c->is_permission ? list_satisfied(c->list, c->need_all, perms, n_perms, missing,
						      sizeof(missing))
				     : list_satisfied(c->list, c->need_all, roles, n_roles, missing,
						      sizeof(missing)))
			continue;
		if (c->need_all)
			pam_syslog(pamh, LOG_NOTICE, "access denied for %s: missing required %s %s",
				   account->username, what, missing);
		else
			pam_syslog(pamh, LOG_NOTICE,
				   "access denied for %s: none of the accepted %ss (%s)",
				   account->username, what, c->list);
		rc = PAM_PERM_DENIED;
		break;
	}
	udb_strv_free(roles, n_roles);
	udb_strv_free(perms, n_perms);
	return rc;
}

static int
check_email(pam_handle_t *pamh, struct udb_db *db, const struct udb_account *account)
{
	enum udb_result r;
	bool has = false;

	r = udb_user_has_confirmed_email(db, account->user_id, &has);
	if (r != UDB_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot read the emails of %s: %s", account->username,
			   udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_LOOKUP, r);
	}
	if (!has) {
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: no confirmed email address",
			   account->username);
		return PAM_PERM_DENIED;
	}
	return PAM_SUCCESS;
}

static void
tell(pam_handle_t *pamh, int flags, int style, const char *text)
{
	if (!(flags & PAM_SILENT))
		pam_prompt(pamh, style, NULL, "%s", text);
}

/* pam_unix's courtesy: a few days before the password ages out, say so. */
static void
warn_aging(pam_handle_t *pamh, int flags, const struct udb_account *a, int64_t now)
{
	int64_t expires, days;
	char text[96];

	if (!a->password_hash || !a->password_changed_at || a->max_days <= 0 || a->warn_days <= 0)
		return;
	expires = a->password_changed_at + (int64_t)a->max_days * DAY;
	if (now < expires - (int64_t)a->warn_days * DAY || now >= expires)
		return;
	days = (expires - now + DAY - 1) / DAY;
	snprintf(text, sizeof(text), "Warning: your password will expire in %lld day%s.",
		 (long long)days, days == 1 ? "" : "s");
	tell(pamh, flags, PAM_TEXT_INFO, text);
}

int
pud_gate_account(pam_handle_t *pamh, int flags, const struct pud_args *args, struct udb_db *db,
		 const struct udb_account *account, int64_t now)
{
	enum udb_account_status status = udb_account_status(account, now);
	const char *name = account->username;
	int rc;

	switch (status) {
	case UDB_ACCOUNT_DISABLED:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: account disabled", name);
		return PAM_PERM_DENIED;
	case UDB_ACCOUNT_NOT_YET_VALID:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: account not valid yet", name);
		tell(pamh, flags, PAM_ERROR_MSG,
		     "Your account is not active yet; please contact your system administrator.");
		return PAM_ACCT_EXPIRED;
	case UDB_ACCOUNT_EXPIRED:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: account expired", name);
		tell(pamh, flags, PAM_ERROR_MSG,
		     "Your account has expired; please contact your system administrator.");
		return PAM_ACCT_EXPIRED;
	case UDB_ACCOUNT_PASSWORD_EXPIRED:
		pam_syslog(pamh, LOG_NOTICE,
			   "access denied for %s: password expired past the inactive period", name);
		tell(pamh, flags, PAM_ERROR_MSG,
		     "Your account has expired; please contact your system administrator.");
		return PAM_AUTHTOK_EXPIRED;
	case UDB_ACCOUNT_PASSWORD_MUST_CHANGE:
	case UDB_ACCOUNT_OK:
		break;
	}

	/* The gates run before PAM_NEW_AUTHTOK_REQD is returned: that code lets
	 * the application go on with a password change and then open the
	 * session, so a user who lacks a required role must be refused here
	 * even when the password also has to change. */
	rc = check_grants(pamh, args, db, account, now);
	if (rc == PAM_SUCCESS && args->require_confirmed_email)
		rc = check_email(pamh, db, account);
	if (rc != PAM_SUCCESS)
		return rc;

	if (status == UDB_ACCOUNT_PASSWORD_MUST_CHANGE) {
		pam_syslog(pamh, LOG_NOTICE, "password change required for %s (%s)", name,
			   account->must_change ? "administrator enforced" : "password aged");
		tell(pamh, flags, PAM_ERROR_MSG,
		     account->must_change ? "You are required to change your password immediately "
					    "(administrator "
					    "enforced)."
					  : "You are required to change your password immediately "
					    "(password aged).");
		return PAM_NEW_AUTHTOK_REQD;
	}
	warn_aging(pamh, flags, account, now);
	if (args->debug)
		pam_syslog(pamh, LOG_DEBUG, "account of %s is usable", name);
	return PAM_SUCCESS;
}
