/* The account phase's answer for a user that exists: common/gate.c
 * decides (the same code as `userdb explain`); this file turns the verdict
 * into a PAM code, a log line and the message the user sees. Called by
 * pam_sm_acct_mgmt in pam_userdb.c with a handle that can read the shadow
 * file. Key-based sshd logins never run auth, so everything that must stop
 * a login is decided here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "config.h"
#include "gate.h"
#include "module.h"

#define DAY 86400

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

static const char expired_text[] =
	"Your account has expired; please contact your system administrator.";

/* A refusal: its log line, message and code. */
static int
refuse(pam_handle_t *pamh, int flags, const struct udb_gate_verdict *v, const char *name)
{
	const char *what =
		v->argument && strncmp(v->argument, "roles", 5) == 0 ? "role" : "permission";

	switch (v->reason) {
	case UDB_GATE_DISABLED:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: account disabled", name);
		return PAM_PERM_DENIED;
	case UDB_GATE_NOT_YET_VALID:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: account not valid yet", name);
		tell(pamh, flags, PAM_ERROR_MSG,
		     "Your account is not active yet; please contact your system administrator.");
		return PAM_ACCT_EXPIRED;
	case UDB_GATE_EXPIRED:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: account expired", name);
		tell(pamh, flags, PAM_ERROR_MSG, expired_text);
		return PAM_ACCT_EXPIRED;
	case UDB_GATE_PASSWORD_EXPIRED:
		pam_syslog(pamh, LOG_NOTICE,
			   "access denied for %s: password expired past the inactive period", name);
		tell(pamh, flags, PAM_ERROR_MSG, expired_text);
		return PAM_AUTHTOK_EXPIRED;
	case UDB_GATE_MISSING:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: missing required %s %s", name,
			   what, v->missing);
		return PAM_PERM_DENIED;
	case UDB_GATE_NONE_ACCEPTED:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: none of the accepted %ss (%s)",
			   name, what, v->list);
		return PAM_PERM_DENIED;
	case UDB_GATE_NO_CONFIRMED_EMAIL:
		pam_syslog(pamh, LOG_NOTICE, "access denied for %s: no confirmed email address",
			   name);
		return PAM_PERM_DENIED;
	case UDB_GATE_HOST_NOT_ALLOWED:
		pam_syslog(pamh, LOG_NOTICE,
			   "access denied for %s: none of its roles is allowed on host %s", name,
			   v->host);
		return PAM_PERM_DENIED;
	case UDB_GATE_OK:
	case UDB_GATE_MUST_CHANGE:
		break;
	}
	return PAM_SERVICE_ERR;
}

int
pud_gate_account(pam_handle_t *pamh, int flags, const struct udb_pam_args *args,
		 const struct udb_config *cfg, struct udb_db *db, const struct udb_account *account,
		 int64_t now)
{
	struct udb_gate_verdict v;
	const char *name = account->username;
	bool stale = false;
	int64_t age = 0;
	enum udb_result r;

	r = udb_gate_account(db, args, cfg->host, account, now, &v);
	if (r != UDB_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot read the roles, permissions or emails of %s: %s",
			   name, udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_LOOKUP, r);
	}
	if (!udb_gate_allows(v.reason))
		return refuse(pamh, flags, &v, name);
	r = udb_gate_offline(db, cfg, account, now, &stale, &age);
	if (r != UDB_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot read how old the local copy is for %s: %s", name,
			   udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_LOOKUP, r);
	}
	if (stale) {
		if (age < 0)
			pam_syslog(pamh, LOG_NOTICE,
				   "access denied for %s: an offline role, and this host never "
				   "synced with central (max_offline %us)",
				   name, cfg->max_offline);
		else
			pam_syslog(pamh, LOG_NOTICE,
				   "access denied for %s: an offline role, and the last sync with "
				   "central was %llds ago (max_offline %us)",
				   name, (long long)age, cfg->max_offline);
		tell(pamh, flags, PAM_ERROR_MSG,
		     "Access denied: this host has lost touch with the central user database.");
		return PAM_PERM_DENIED;
	}
	if (v.reason == UDB_GATE_MUST_CHANGE) {
		pam_syslog(pamh, LOG_NOTICE, "password change required for %s (%s)", name,
			   account->must_change ? "administrator enforced" : "password aged");
		tell(pamh, flags, PAM_ERROR_MSG,
		     account->must_change ? "You are required to change your password immediately "
					    "(administrator enforced)."
					  : "You are required to change your password immediately "
					    "(password aged).");
		return PAM_NEW_AUTHTOK_REQD;
	}
	warn_aging(pamh, flags, account, now);
	if (args->debug)
		pam_syslog(pamh, LOG_DEBUG, "account of %s is usable", name);
	return PAM_SUCCESS;
}
