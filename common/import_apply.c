/* The database side of an import (import.h): checking a plan read by
 * import.c against the database, the other name service sources and the
 * configured ranges, and creating its roles, users and grants inside the
 * caller's one transaction. Called by the CLI's `userdb import`. */
#include <errno.h>
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

/* Every name and id the name service sources list (getpwent, getgrent:
 * files, userdb, systemd, and any other source that enumerates), read
 * once and sorted twice, so that a check costs a binary search instead of
 * a lookup that reads a whole file (100k lookups in a 100k-line
 * /etc/passwd would take hours). A source that does not enumerate (sssd or
 * LDAP with enumeration off) is not seen. */
struct sys_entry {
	char *name;
	uint32_t id;
};
struct sys_table {
	struct sys_entry *by_name, *by_id; /* the same entries; names owned by by_name */
	size_t n, cap;
};

static void
table_free(struct sys_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->by_name[i].name);
	free(t->by_name);
	free(t->by_id);
	*t = (struct sys_table){0};
}

static enum udb_result
table_add(struct sys_table *t, const char *name, uint32_t id)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct sys_entry *v = realloc(t->by_name, cap * sizeof(*v));

		if (!v)
			return UDB_NO_MEMORY;
		t->by_name = v;
		t->cap = cap;
	}
	t->by_name[t->n].name = strdup(name);
	t->by_name[t->n].id = id;
	return t->by_name[t->n++].name ? UDB_OK : UDB_NO_MEMORY;
}

static int
cmp_entry_name(const void *a, const void *b)
{
	return strcmp(((const struct sys_entry *)a)->name, ((const struct sys_entry *)b)->name);
}

static int
cmp_entry_id(const void *a, const void *b)
{
	uint32_t x = ((const struct sys_entry *)a)->id, y = ((const struct sys_entry *)b)->id;

	return x < y ? -1 : x > y;
}

static enum udb_result
table_sort(struct sys_table *t)
{
	t->by_id = malloc((t->n ? t->n : 1) * sizeof(*t->by_id));
	if (!t->by_id)
		return UDB_NO_MEMORY;
	if (t->n == 0)
		return UDB_OK;
	memcpy(t->by_id, t->by_name, t->n * sizeof(*t->by_id));
	qsort(t->by_name, t->n, sizeof(*t->by_name), cmp_entry_name);
	qsort(t->by_id, t->n, sizeof(*t->by_id), cmp_entry_id);
	return UDB_OK;
}

/* glibc keeps the enumeration where it was after ERANGE, so the same entry
 * comes again with the larger buffer. */
static enum udb_result
load_passwd(struct sys_table *t)
{
	struct passwd pw, *res;
	size_t size = 16384;
	char *buf = malloc(size), *big;
	enum udb_result r = UDB_OK;
	int err;

	setpwent();
	while (r == UDB_OK && buf) {
		err = getpwent_r(&pw, buf, size, &res);
		if (err == ERANGE && size < (1U << 24) && (big = realloc(buf, size * 2))) {
			buf = big;
			size *= 2;
			continue;
		}
		if (err != 0)
			break;
		r = table_add(t, pw.pw_name, pw.pw_uid);
	}
	endpwent();
	r = !buf ? UDB_NO_MEMORY : r;
	free(buf);
	return r == UDB_OK ? table_sort(t) : r;
}

static enum udb_result
load_group(struct sys_table *t)
{
	struct group gr, *res;
	size_t size = 65536;
	char *buf = malloc(size), *big;
	enum udb_result r = UDB_OK;
	int err;

	setgrent();
	while (r == UDB_OK && buf) {
		err = getgrent_r(&gr, buf, size, &res);
		if (err == ERANGE && size < (1U << 26) && (big = realloc(buf, size * 2))) {
			buf = big;
			size *= 2;
			continue;
		}
		if (err != 0)
			break;
		r = table_add(t, gr.gr_name, gr.gr_gid);
	}
	endgrent();
	r = !buf ? UDB_NO_MEMORY : r;
	free(buf);
	return r == UDB_OK ? table_sort(t) : r;
}

/* The first entry of v (sorted by cmp) not below key. */
static size_t
lower_bound(const struct sys_entry *v, size_t n, const struct sys_entry *key,
	    int (*cmp)(const void *, const void *))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp(&v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The account itself, met again (the files it comes from, under /), is
 * not a clash; another entry with this name or this id is. */
static bool
table_clash(const struct sys_table *t, const char *name, uint32_t id)
{
	struct sys_entry key = {.name = (char *)(uintptr_t)name, .id = id};

	for (size_t i = lower_bound(t->by_name, t->n, &key, cmp_entry_name);
	     i < t->n && strcmp(t->by_name[i].name, name) == 0; i++)
		if (t->by_name[i].id != id)
			return true;
	for (size_t i = lower_bound(t->by_id, t->n, &key, cmp_entry_id);
	     i < t->n && t->by_id[i].id == id; i++)
		if (strcmp(t->by_id[i].name, name) != 0)
			return true;
	return false;
}

static bool
table_has_name(const struct sys_table *t, const char *name)
{
	struct sys_entry key = {.name = (char *)(uintptr_t)name};
	size_t i = lower_bound(t->by_name, t->n, &key, cmp_entry_name);

	return i < t->n && strcmp(t->by_name[i].name, name) == 0;
}

struct sys_tables {
	struct sys_table pw, gr;
};

static enum udb_result
check_user(struct udb_db *db, const struct udb_config *cfg, const struct sys_tables *st,
	   struct udb_import_plan *plan, const struct udb_import_user *u)
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
	if (table_clash(&st->pw, u->name, u->uid))
		return problem(plan,
			       "user %s: another account has this name or uid %u in a name "
			       "service source",
			       u->name, (unsigned)u->uid);
	if (table_clash(&st->gr, u->name, u->uid))
		return problem(plan,
			       "user %s: another group has this name or gid %u in a name "
			       "service source",
			       u->name, (unsigned)u->uid);
	return UDB_OK;
}

static enum udb_result
check_role(struct udb_db *db, const struct sys_tables *st, struct udb_import_plan *plan,
	   const struct udb_import_role *role)
{
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
	if (table_clash(&st->gr, role->name, role->gid))
		return problem(plan,
			       "group %s: another group has this name or gid %u in a name "
			       "service source",
			       role->name, (unsigned)role->gid);
	/* Users and roles share one namespace in userdb. */
	if (table_has_name(&st->pw, role->name))
		return problem(plan, "group %s: a user has this name in a name service source",
			       role->name);
	return UDB_OK;
}

enum udb_result
udb_import_check(struct udb_db *db, const struct udb_config *cfg, struct udb_import_plan *plan)
{
	struct sys_tables st = {0};
	enum udb_result r;

	r = load_passwd(&st.pw);
	if (r == UDB_OK)
		r = load_group(&st.gr);
	for (size_t i = 0; r == UDB_OK && i < plan->n_users; i++)
		r = check_user(db, cfg, &st, plan, &plan->users[i]);
	for (size_t i = 0; r == UDB_OK && i < plan->n_roles; i++)
		r = check_role(db, &st, plan, &plan->roles[i]);
	table_free(&st.pw);
	table_free(&st.gr);
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
