/* The database side of an import (import.h): checking a plan read by
 * import.c against the database, the other name service sources and the
 * configured ranges, and creating its roles, users and grants inside the
 * caller's one transaction. Called by the CLI's `userdb import`. */
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "import.h"
#include "role.h"
#include "user.h"

static enum udb_result
problem(struct udb_import_plan *plan, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL, **v;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return UDB_NO_MEMORY;
	v = realloc(plan->problems, (plan->n_problems + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return UDB_NO_MEMORY;
	}
	plan->problems = v;
	v[plan->n_problems++] = s;
	return UDB_OK;
}

/* What another source (the files the accounts come from, under /, or any
 * other) says about a name or id: the account itself, met again, is not a
 * clash; another account with that name or id is. */
static bool
system_user_clash(const char *name, uint32_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[16384];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_uid != uid)
		return true;
	res = NULL;
	return getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
	       strcmp(res->pw_name, name) != 0;
}

static bool
system_group_clash(const char *name, uint32_t gid)
{
	struct group gr, *res = NULL;
	char buf[65536];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res && res->gr_gid != gid)
		return true;
	res = NULL;
	return getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res &&
	       strcmp(res->gr_name, name) != 0;
}

static enum udb_result
check_user(struct udb_db *db, const struct udb_config *cfg, struct udb_import_plan *plan,
	   const struct udb_import_user *u)
{
	enum udb_result r;

	if (u->uid < cfg->uid_min || u->uid > cfg->uid_max)
		return problem(plan, "user %s: uid %u is outside uid_min..uid_max (%u-%u)", u->name,
			       (unsigned)u->uid, (unsigned)cfg->uid_min, (unsigned)cfg->uid_max);
	r = udb_name_check_free(db, u->name, false);
	if (r == UDB_EXISTS)
		return problem(plan, "user %s: the name is already a userdb user or role", u->name);
	if (r != UDB_OK)
		return r;
	r = udb_id_check_free(db, u->uid, false);
	if (r == UDB_EXISTS)
		return problem(plan, "user %s: uid %u is already used in userdb", u->name,
			       (unsigned)u->uid);
	if (r != UDB_OK)
		return r;
	if (system_user_clash(u->name, u->uid))
		return problem(plan,
			       "user %s: another account has this name or uid %u in a name "
			       "service source",
			       u->name, (unsigned)u->uid);
	if (system_group_clash(u->name, u->uid))
		return problem(plan,
			       "user %s: another group has this name or gid %u in a name "
			       "service source",
			       u->name, (unsigned)u->uid);
	return UDB_OK;
}

static enum udb_result
check_role(struct udb_db *db, struct udb_import_plan *plan, const struct udb_import_role *role)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	enum udb_result r;

	r = udb_name_check_free(db, role->name, false);
	if (r == UDB_EXISTS)
		return problem(plan, "group %s: the name is already a userdb user or role",
			       role->name);
	if (r != UDB_OK)
		return r;
	r = udb_id_check_free(db, role->gid, false);
	if (r == UDB_EXISTS)
		return problem(plan, "group %s: gid %u is already used in userdb", role->name,
			       (unsigned)role->gid);
	if (r != UDB_OK)
		return r;
	if (system_group_clash(role->name, role->gid))
		return problem(plan,
			       "group %s: another group has this name or gid %u in a name "
			       "service source",
			       role->name, (unsigned)role->gid);
	/* Users and roles share one namespace in userdb. */
	if (getpwnam_r(role->name, &pw, buf, sizeof(buf), &res) == 0 && res)
		return problem(plan, "group %s: a user has this name in a name service source",
			       role->name);
	return UDB_OK;
}

enum udb_result
udb_import_check(struct udb_db *db, const struct udb_config *cfg, struct udb_import_plan *plan)
{
	enum udb_result r = UDB_OK;

	for (size_t i = 0; r == UDB_OK && i < plan->n_users; i++)
		r = check_user(db, cfg, plan, &plan->users[i]);
	for (size_t i = 0; r == UDB_OK && i < plan->n_roles; i++)
		r = check_role(db, plan, &plan->roles[i]);
	return r;
}

static enum udb_result
apply_user(struct udb_db *db, const struct udb_config *cfg, const struct udb_import_user *u,
	   int64_t now)
{
	struct udb_user_spec spec = {
		.username = u->name,
		.has_uid = true,
		.uid = u->uid,
		.primary_role = u->primary_role,
		.first_name = u->first_name,
		.last_name = u->last_name,
		.home = u->home,
		.shell = u->shell,
		.disabled = u->disabled,
	};
	struct udb_user *user = NULL;
	enum udb_result r;

	r = udb_user_add(db, cfg, &spec, false, now, &user);
	udb_user_free(user);
	/* The hash goes in with its own change date, as shadow had it. */
	if (r == UDB_OK && u->hash)
		r = udb_account_set_password(db, u->name, u->hash, u->changed_at);
	if (r == UDB_OK && u->must_change)
		r = udb_account_set_must_change(db, u->name, true);
	if (r == UDB_OK)
		r = udb_account_set_aging(db, u->name, u->min_days, u->max_days, u->warn_days,
					  u->inactive_days);
	if (r == UDB_OK && u->not_after)
		r = udb_account_set_validity(db, u->name, 0, u->not_after);
	return r;
}

enum udb_result
udb_import_apply_in_tx(struct udb_db *db, const struct udb_config *cfg,
		       const struct udb_import_plan *plan, int64_t now)
{
	enum udb_result r = plan->n_problems ? UDB_CONFLICT : UDB_OK;

	for (size_t i = 0; r == UDB_OK && i < plan->n_roles; i++) {
		struct udb_role_spec spec = {
			.name = plan->roles[i].name, .has_gid = true, .gid = plan->roles[i].gid};

		r = udb_role_add(db, cfg, &spec, false, now);
	}
	for (size_t i = 0; r == UDB_OK && i < plan->n_users; i++)
		r = apply_user(db, cfg, &plan->users[i], now);
	for (size_t i = 0; r == UDB_OK && i < plan->n_roles; i++)
		for (size_t j = 0; r == UDB_OK && j < plan->roles[i].n_members; j++)
			r = udb_grant(db, plan->roles[i].members[j], plan->roles[i].name, 0, 0, now,
				      NULL);
	return r;
}
