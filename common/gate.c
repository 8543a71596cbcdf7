/* The account phase's rules (see gate.h): the account state first, then,
 * on a fleet host, the host's allowed roles, then the four role and
 * permission arguments, then the confirmed email. The
 * gates run before a password change is asked for: PAM_NEW_AUTHTOK_REQD
 * lets the application go on with a change and then open the session, so a
 * user who lacks a required role is refused even when the password must
 * also change. Called by pam_userdb/gate.c and cli/explain.c. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "email.h"
#include "gate.h"
#include "replica.h"
#include "role.h"

bool
udb_gate_has(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

bool
udb_gate_allows(enum udb_gate_reason reason)
{
	return reason == UDB_GATE_OK || reason == UDB_GATE_MUST_CHANGE;
}

/* Checks one "required" (all) or "accepted" (any) list against the names
 * the user effectively has. On a refusal of a required list, missing gets
 * the first item missing. */
static bool
list_satisfied(const char *list, bool need_all, char *const *have, size_t n_have, char *missing,
	       size_t size)
{
	const char *cursor = list;
	char item[UDB_PERMISSION_MAX + 1];

	while (udb_pam_list_next(&cursor, item, sizeof(item))) {
		bool has = udb_gate_has(have, n_have, item);

		if (need_all && !has) {
			snprintf(missing, size, "%s", item);
			return false;
		}
		if (!need_all && has)
			return true;
	}
	return need_all;
}

struct grant_check {
	const char *argument;
	const char *list;
	bool need_all;
	bool is_permission;
};

static enum udb_result
check_grants(struct udb_db *db, const struct udb_pam_args *args, const struct udb_account *account,
	     int64_t now, struct udb_gate_verdict *v)
{
	const struct grant_check checks[] = {
		{"roles_required", args->roles_required, true, false},
		{"roles_accepted", args->roles_accepted, false, false},
		{"permissions_required", args->permissions_required, true, true},
		{"permissions_accepted", args->permissions_accepted, false, true},
	};
	char **roles = NULL, **perms = NULL;
	size_t n_roles = 0, n_perms = 0;
	bool have_roles = false, have_perms = false;
	enum udb_result r = UDB_OK;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]) && r == UDB_OK; i++) {
		const struct grant_check *c = &checks[i];
		bool ok;

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
		if (r != UDB_OK)
			break;
		ok = c->is_permission ? list_satisfied(c->list, c->need_all, perms, n_perms,
						       v->missing, sizeof(v->missing))
				      : list_satisfied(c->list, c->need_all, roles, n_roles,
						       v->missing, sizeof(v->missing));
		if (ok)
			continue;
		v->reason = c->need_all ? UDB_GATE_MISSING : UDB_GATE_NONE_ACCEPTED;
		v->argument = c->argument;
		v->list = c->list;
		break;
	}
	udb_strv_free(roles, n_roles);
	udb_strv_free(perms, n_perms);
	return r;
}

enum udb_result
udb_gate_account(struct udb_db *db, const struct udb_pam_args *args, const char *host,
		 const struct udb_account *account, int64_t now,
		 struct udb_gate_verdict *ret_verdict)
{
	struct udb_gate_verdict v = {.reason = UDB_GATE_OK};
	enum udb_result r;
	bool has = false;

	v.status = udb_account_status(account, now);
	switch (v.status) {
	case UDB_ACCOUNT_DISABLED:
		v.reason = UDB_GATE_DISABLED;
		break;
	case UDB_ACCOUNT_NOT_YET_VALID:
		v.reason = UDB_GATE_NOT_YET_VALID;
		break;
	case UDB_ACCOUNT_EXPIRED:
		v.reason = UDB_GATE_EXPIRED;
		break;
	case UDB_ACCOUNT_PASSWORD_EXPIRED:
		v.reason = UDB_GATE_PASSWORD_EXPIRED;
		break;
	case UDB_ACCOUNT_PASSWORD_MUST_CHANGE:
	case UDB_ACCOUNT_OK:
		break;
	}
	if (v.reason != UDB_GATE_OK) {
		*ret_verdict = v;
		return UDB_OK;
	}
	if (host) {
		bool allowed = false;

		r = udb_user_allowed_on_host(db, account->user_id, host, now, &allowed);
		if (r != UDB_OK)
			return r;
		if (!allowed) {
			v.reason = UDB_GATE_HOST_NOT_ALLOWED;
			v.host = host;
			*ret_verdict = v;
			return UDB_OK;
		}
	}
	r = check_grants(db, args, account, now, &v);
	if (r == UDB_OK && v.reason == UDB_GATE_OK && args->require_confirmed_email) {
		r = udb_user_has_confirmed_email(db, account->user_id, &has);
		if (r == UDB_OK && !has)
			v.reason = UDB_GATE_NO_CONFIRMED_EMAIL;
	}
	if (r != UDB_OK)
		return r;
	if (v.reason == UDB_GATE_OK && v.status == UDB_ACCOUNT_PASSWORD_MUST_CHANGE)
		v.reason = UDB_GATE_MUST_CHANGE;
	*ret_verdict = v;
	return UDB_OK;
}

enum udb_result
udb_gate_offline(struct udb_db *db, const struct udb_config *cfg, const struct udb_account *account,
		 int64_t now, bool *ret_refused, int64_t *ret_age)
{
	char **roles = NULL;
	size_t n_roles = 0;
	int64_t checked_at = 0;
	enum udb_result r;

	*ret_refused = false;
	*ret_age = 0;
	if (!cfg || !cfg->central || cfg->max_offline == 0 || !cfg->offline_roles)
		return UDB_OK;
	r = udb_replica_checked_at(db, &checked_at);
	if (r != UDB_OK)
		return r;
	*ret_age = checked_at ? now - checked_at : -1;
	if (checked_at && now - checked_at <= (int64_t)cfg->max_offline)
		return UDB_OK;
	r = udb_user_effective_roles(db, account->user_id, now, &roles, &n_roles);
	if (r != UDB_OK)
		return r;
	for (size_t i = 0; cfg->offline_roles[i] && !*ret_refused; i++)
		*ret_refused = udb_gate_has(roles, n_roles, cfg->offline_roles[i]);
	udb_strv_free(roles, n_roles);
	return UDB_OK;
}
