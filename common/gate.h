/* The account phase's decision for a user that exists, as a structured
 * verdict: the account state (enabled, validity, password aging), then the
 * gating arguments roles_required, roles_accepted, permissions_required,
 * permissions_accepted and require_confirmed_email, in that order. The one
 * home of these rules: pam_userdb's account phase (pam_userdb/gate.c maps
 * the verdict to a PAM code and messages) and `userdb explain` both call
 * udb_gate_account, so explain's answer is the module's. */
#ifndef UDB_GATE_H
#define UDB_GATE_H

#include <stdint.h>

#include "account.h"
#include "db.h"
#include "pam_args.h"
#include "result.h"
#include "validate.h"

enum udb_gate_reason {
	UDB_GATE_OK,          /* the login may go on */
	UDB_GATE_MUST_CHANGE, /* it may, after a password change */
	UDB_GATE_DISABLED,    /* refused from here on */
	UDB_GATE_NOT_YET_VALID,
	UDB_GATE_EXPIRED,          /* the account's validity has ended */
	UDB_GATE_PASSWORD_EXPIRED, /* past max_days + inactive_days */
	UDB_GATE_MISSING,          /* a *_required item is missing */
	UDB_GATE_NONE_ACCEPTED,    /* none of a *_accepted list */
	UDB_GATE_NO_CONFIRMED_EMAIL,
	UDB_GATE_HOST_NOT_ALLOWED, /* fleet mode: no role of the user is allowed on this host */
};

struct udb_gate_verdict {
	enum udb_gate_reason reason;
	enum udb_account_status status; /* udb_account_status at now */
	/* For MISSING and NONE_ACCEPTED: the argument ("roles_required") and
	 * its list as given; else NULL. */
	const char *argument;
	const char *list;
	char missing[UDB_PERMISSION_MAX + 1]; /* MISSING: the first missing item */
	const char *host;                     /* HOST_NOT_ALLOWED: the host's name */
};

/* Decides for account at now under args, on fleet host host (the
 * configuration's `host =`; NULL when not a fleet host): there, after the
 * account state and before the arguments, a user none of whose effective
 * roles is allowed on the host (udb_user_allowed_on_host) is refused, with
 * or without roles_required=. UDB_OK with *ret_verdict filled, or the
 * failure to read the roles, permissions or emails (the verdict is then
 * not usable: fail closed). */
enum udb_result udb_gate_account(struct udb_db *db, const struct udb_pam_args *args,
				 const char *host, const struct udb_account *account, int64_t now,
				 struct udb_gate_verdict *ret_verdict);

/* Fleet mode's offline limit (userdb.conf max_offline and offline_roles):
 * when the local copy has not been found current by a sync for longer than
 * max_offline (or never), a user who effectively holds one of
 * offline_roles at now is refused (*ret_refused, with the copy's age in
 * seconds, -1 for never). Off (no refusal) without central, max_offline or
 * offline_roles. A failure to read is returned: the caller fails closed.
 * Called by pam_userdb/gate.c. */
struct udb_config;
enum udb_result udb_gate_offline(struct udb_db *db, const struct udb_config *cfg,
				 const struct udb_account *account, int64_t now, bool *ret_refused,
				 int64_t *ret_age);

/* Whether the reason lets the login go on (OK, MUST_CHANGE). */
bool udb_gate_allows(enum udb_gate_reason reason);

/* Whether a name list (sorted or not) holds name, case-sensitively: role
 * `Admins` is not role `admins`. */
bool udb_gate_has(char *const *names, size_t n, const char *name);

#endif
