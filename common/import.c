/* Reading the system's account files into an import plan: glibc's
 * fgetpwent_r, fgetspent_r, fgetgrent_r and fgetsgent_r parse the files
 * (so a copy under --root is read exactly as the files module reads
 * /etc), and the plan maps them onto userdb's model: users with their
 * uid, names, home, shell, hash and aging; personal groups (name = user,
 * gid = uid); other groups in the gid range as roles with their members.
 * What does not fit becomes a problem sentence in the plan. Called by the
 * CLI through import.h; the files are read by import_files.c, the
 * database side is in import_apply.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "hash.h"
#include "import-files.h"
#include "import.h"
#include "validate.h"

#define DAY 86400
static enum udb_result
push_text(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0 || !udb_import_grow(v, *n, sizeof(**v))) {
		if (len >= 0)
			free(s);
		return UDB_NO_MEMORY;
	}
	(*v)[(*n)++] = s;
	return UDB_OK;
}

#define PROBLEM(plan, ...) push_text(&(plan)->problems, &(plan)->n_problems, __VA_ARGS__)
#define NOTE(plan, ...)    push_text(&(plan)->notes, &(plan)->n_notes, __VA_ARGS__)

/* shadow's day counts: -1 (empty) stays unset; userdb takes 0..99999. */
static bool
days_field(long v, int *ret)
{
	if (v == -1) {
		*ret = UDB_DAYS_UNSET;
		return true;
	}
	*ret = (int)v;
	return v >= 0 && v <= 99999;
}

/* The password field: a hash as is, `!hash` (passwd -l) disabled with its
 * hash, and `*`, `!`, `!*` or empty as no password. */
static enum udb_result
plan_hash(struct udb_import_plan *plan, struct udb_import_user *u, const char *field)
{
	const char *h = field;

	if (h[0] == '!' && h[1] != '\0' && h[1] != '*' && h[1] != '!') {
		u->disabled = true;
		h++;
	}
	if (h[0] == '\0' || h[0] == '*' || h[0] == '!')
		return UDB_OK;
	if (udb_hash_check_stored(h) != UDB_OK)
		return PROBLEM(plan, "user %s: the password hash is not one libxcrypt can verify",
			       u->name);
	u->hash = strdup(h);
	if (!u->hash)
		return UDB_NO_MEMORY;
	if (u->disabled)
		return NOTE(plan,
			    "user %s: the password is locked (!) in shadow: imported disabled "
			    "(userdb user enable %s allows logins again)",
			    u->name, u->name);
	return UDB_OK;
}

static enum udb_result
plan_aging(struct udb_import_plan *plan, struct udb_import_user *u, const struct udb_import_sp *sp)
{
	u->min_days = u->max_days = u->warn_days = u->inactive_days = UDB_DAYS_UNSET;
	if (!sp)
		return UDB_OK;
	if (!days_field(sp->min, &u->min_days) || !days_field(sp->max, &u->max_days) ||
	    !days_field(sp->warn, &u->warn_days) || !days_field(sp->inact, &u->inactive_days))
		return PROBLEM(plan, "user %s: an aging field in shadow is outside 0..99999",
			       u->name);
	if (sp->lstchg == 0)
		u->must_change = true;
	else if (sp->lstchg > 0)
		u->changed_at = (int64_t)sp->lstchg * DAY;
	if (sp->expire == 0)
		return PROBLEM(plan,
			       "user %s: account expiry day 0 in shadow means either never or "
			       "1970-01-01: set it to empty or a date first",
			       u->name);
	if (sp->expire > 0)
		u->not_after = (int64_t)sp->expire * DAY;
	return UDB_OK;
}

/* GECOS: its first comma-separated field is the full name, split at the
 * first space into first and last name (they are joined with one space
 * again in the passwd entry); the other fields (room, phones) have no
 * place in userdb and are dropped with a note. */
static enum udb_result
plan_names(struct udb_import_plan *plan, struct udb_import_user *u, const char *gecos)
{
	size_t full = strcspn(gecos, ",");
	const char *space = memchr(gecos, ' ', full);
	size_t first = space ? (size_t)(space - gecos) : full;

	u->first_name = strndup(gecos, first);
	u->last_name = space ? strndup(space + 1, full - first - 1) : strdup("");
	if (!u->first_name || !u->last_name)
		return UDB_NO_MEMORY;
	if (!udb_valid_text(u->first_name) || !udb_valid_text(u->last_name))
		return PROBLEM(plan, "user %s: the GECOS name is not valid text for userdb",
			       u->name);
	if (gecos[full] == ',' && strspn(gecos + full, ",") != strlen(gecos + full))
		return NOTE(plan, "user %s: GECOS fields after the name are not imported", u->name);
	return UDB_OK;
}

static enum udb_result
plan_user(struct udb_import_plan *plan, const struct udb_import_files *f,
	  const struct udb_import_pw *pw)
{
	struct udb_import_user *u;
	const struct udb_import_sp *sp = udb_import_find_shadow(f, pw->name);
	enum udb_result r;

	if (!udb_import_grow(&plan->users, plan->n_users, sizeof(*plan->users)))
		return UDB_NO_MEMORY;
	u = &plan->users[plan->n_users++];
	*u = (struct udb_import_user){.uid = pw->uid, .gid = pw->gid};
	u->name = strdup(pw->name);
	u->home = strdup(pw->dir);
	u->shell = strdup(pw->shell);
	if (!u->name || !u->home || !u->shell)
		return UDB_NO_MEMORY;
	if (!udb_valid_username(u->name))
		return PROBLEM(plan, "user '%s': not a valid userdb user name", u->name);
	if (!udb_valid_path(u->home) || !udb_valid_path(u->shell))
		return PROBLEM(plan, "user %s: the home or the shell is not an absolute path",
			       u->name);
	r = plan_names(plan, u, pw->gecos);
	if (r == UDB_OK)
		r = plan_hash(plan, u, sp ? sp->hash : strcmp(pw->passwd, "x") ? pw->passwd : "");
	if (r == UDB_OK)
		r = plan_aging(plan, u, sp);
	return r;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct udb_import_user *const *)a)->name,
		      (*(struct udb_import_user *const *)b)->name);
}

static int
cmp_id(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int
cmp_uid(const void *a, const void *b)
{
	return cmp_id((*(struct udb_import_user *const *)a)->uid,
		      (*(struct udb_import_user *const *)b)->uid);
}

static int
cmp_gid(const void *a, const void *b)
{
	return cmp_id((*(struct udb_import_user *const *)a)->gid,
		      (*(struct udb_import_user *const *)b)->gid);
}

/* Sorts the users three ways, so that a group's lookups cost a logarithm
 * of the user count, not the count (100k users, as many groups). */
static enum udb_result
plan_index(struct udb_import_plan *plan)
{
	struct udb_import_user ***v[] = {&plan->by_name, &plan->by_uid, &plan->by_gid};
	int (*const cmp[])(const void *, const void *) = {cmp_name, cmp_uid, cmp_gid};

	for (size_t k = 0; k < 3; k++) {
		*v[k] = malloc((plan->n_users ? plan->n_users : 1) * sizeof(**v[k]));
		if (!*v[k])
			return UDB_NO_MEMORY;
		for (size_t i = 0; i < plan->n_users; i++)
			(*v[k])[i] = &plan->users[i];
		qsort(*v[k], plan->n_users, sizeof(**v[k]), cmp[k]);
	}
	return UDB_OK;
}

static void
plan_unindex(struct udb_import_plan *plan)
{
	free(plan->by_name);
	free(plan->by_uid);
	free(plan->by_gid);
	plan->by_name = plan->by_uid = plan->by_gid = NULL;
}

static const struct udb_import_user *
plan_find_user(const struct udb_import_plan *plan, const char *name)
{
	struct udb_import_user key = {.name = (char *)(uintptr_t)name}, *kp = &key, **hit;

	hit = bsearch(&kp, plan->by_name, plan->n_users, sizeof(kp), cmp_name);
	return hit ? *hit : NULL;
}

/* The imported user with this uid (by_uid) or this primary gid (by_gid). */
static const struct udb_import_user *
plan_find_id(struct udb_import_user *const *v, size_t n, uint32_t id, bool gid)
{
	struct udb_import_user key = {.uid = id, .gid = id}, *kp = &key, *const * hit;

	hit = bsearch(&kp, v, n, sizeof(kp), gid ? cmp_gid : cmp_uid);
	return hit ? *hit : NULL;
}

/* The files' own duplicates: glibc answers the first, userdb would refuse
 * the second. Neighbours in the sorted indexes. */
static enum udb_result
plan_duplicates(struct udb_import_plan *plan)
{
	enum udb_result r = UDB_OK;

	for (size_t i = 1; r == UDB_OK && i < plan->n_users; i++) {
		const struct udb_import_user *a = plan->by_name[i - 1], *b = plan->by_name[i];
		const struct udb_import_user *c = plan->by_uid[i - 1], *d = plan->by_uid[i];

		if (strcmp(a->name, b->name) == 0)
			r = PROBLEM(plan, "users %s and %s: the same name twice", a->name, b->name);
		else if (c->uid == d->uid)
			r = PROBLEM(plan, "users %s and %s: the same uid %u twice", c->name,
				    d->name, (unsigned)c->uid);
	}
	return r;
}

/* A group named like an imported user is its personal group: gid = uid,
 * no other member. */
static enum udb_result
plan_personal(struct udb_import_plan *plan, const struct udb_import_user *u,
	      const struct udb_import_gr *g)
{
	if (g->gid != u->uid)
		return PROBLEM(plan,
			       "group %s: the personal group of user %s has gid %u, not the uid "
			       "%u (userdb gives a personal group the uid as gid)",
			       g->name, u->name, (unsigned)g->gid, (unsigned)u->uid);
	for (size_t i = 0; i < g->n_mem; i++)
		if (strcmp(g->mem[i], u->name) != 0)
			return PROBLEM(plan,
				       "group %s: the personal group of user %s has another "
				       "member, %s",
				       g->name, u->name, g->mem[i]);
	return UDB_OK;
}

static enum udb_result
plan_role(struct udb_import_plan *plan, const struct udb_import_gr *g)
{
	struct udb_import_role *role;
	enum udb_result r = UDB_OK;

	if (!udb_valid_rolename(g->name))
		return PROBLEM(plan, "group '%s': not a valid userdb role name", g->name);
	for (size_t i = 0; i < g->n_mem; i++)
		if (!plan_find_user(plan, g->mem[i]))
			return PROBLEM(plan, "group %s: member %s is not among the imported users",
				       g->name, g->mem[i]);
	for (size_t i = 0; i < plan->n_roles; i++)
		if (plan->roles[i].gid == g->gid)
			return PROBLEM(plan, "groups %s and %s: the same gid %u twice",
				       plan->roles[i].name, g->name, (unsigned)g->gid);
	if (!udb_import_grow(&plan->roles, plan->n_roles, sizeof(*plan->roles)))
		return UDB_NO_MEMORY;
	role = &plan->roles[plan->n_roles++];
	*role = (struct udb_import_role){.name = strdup(g->name), .gid = g->gid};
	if (!role->name)
		return UDB_NO_MEMORY;
	for (size_t i = 0; r == UDB_OK && i < g->n_mem; i++) {
		if (!udb_import_grow(&role->members, role->n_members, sizeof(*role->members)))
			return UDB_NO_MEMORY;
		role->members[role->n_members] = strdup(g->mem[i]);
		r = role->members[role->n_members++] ? UDB_OK : UDB_NO_MEMORY;
	}
	return r;
}

/* Any other group an imported user belongs to (by membership or as the
 * primary group): a role when its gid is in the gid range; otherwise it
 * stays in the group file, and so does the membership. */
static enum udb_result
plan_group(struct udb_import_plan *plan, const struct udb_config *cfg,
	   const struct udb_import_gr *g)
{
	enum udb_result r = UDB_OK;
	const struct udb_import_user *owner;
	bool related = plan_find_id(plan->by_gid, plan->n_users, g->gid, true) != NULL;

	for (size_t i = 0; !related && i < g->n_mem; i++)
		related = plan_find_user(plan, g->mem[i]) != NULL;
	if (!related)
		return UDB_OK;
	owner = plan_find_id(plan->by_uid, plan->n_users, g->gid, false);
	if (owner)
		return PROBLEM(plan,
			       "group %s: its gid %u is user %s's uid, which userdb keeps "
			       "for that user's personal group",
			       g->name, (unsigned)g->gid, owner->name);
	if (g->gid >= cfg->gid_min && g->gid <= cfg->gid_max)
		return plan_role(plan, g);
	for (size_t i = 0; r == UDB_OK && i < g->n_mem; i++)
		if (plan_find_user(plan, g->mem[i]))
			r = NOTE(plan,
				 "user %s stays a member of group %s (gid %u, outside "
				 "gid_min..gid_max) "
				 "through the group file",
				 g->mem[i], g->name, (unsigned)g->gid);
	return r;
}

static enum udb_result
plan_groups(struct udb_import_plan *plan, const struct udb_config *cfg,
	    const struct udb_import_files *f)
{
	enum udb_result r = UDB_OK;

	for (size_t i = 0; r == UDB_OK && i < f->n_gr; i++) {
		const struct udb_import_user *owner = plan_find_user(plan, f->gr[i].name);

		r = owner ? plan_personal(plan, owner, &f->gr[i])
			  : plan_group(plan, cfg, &f->gr[i]);
	}
	for (size_t i = 0; r == UDB_OK && i < plan->n_users; i++) {
		struct udb_import_user *u = &plan->users[i];

		if (u->gid == u->uid)
			continue;
		for (size_t j = 0; j < plan->n_roles; j++)
			if (plan->roles[j].gid == u->gid)
				u->primary_role = plan->roles[j].name;
		if (!u->primary_role)
			r = PROBLEM(
				plan,
				"user %s: the primary gid %u is neither a personal group (gid = "
				"uid) nor a group imported as a role",
				u->name, (unsigned)u->gid);
	}
	return r;
}

enum udb_result
udb_import_read(const char *root, const struct udb_config *cfg, uint32_t min_uid, uint32_t max_uid,
		struct udb_import_plan **ret_plan, const char **ret_path)
{
	struct udb_import_files f = {0};
	struct udb_import_plan *plan = calloc(1, sizeof(*plan));
	enum udb_result r;

	if (!plan)
		return UDB_NO_MEMORY;
	r = udb_import_files_read(root, &f, ret_path);
	for (size_t i = 0; r == UDB_OK && i < f.n_pw; i++)
		if (f.pw[i].uid >= min_uid && f.pw[i].uid <= max_uid)
			r = plan_user(plan, &f, &f.pw[i]);
	if (r == UDB_OK)
		r = plan_index(plan);
	if (r == UDB_OK)
		r = plan_duplicates(plan);
	if (r == UDB_OK)
		r = plan_groups(plan, cfg, &f);
	plan_unindex(plan);
	udb_import_files_free(&f);
	if (r != UDB_OK) {
		udb_import_plan_free(plan);
		return r;
	}
	*ret_plan = plan;
	return UDB_OK;
}

void
udb_import_plan_free(struct udb_import_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_users; i++) {
		struct udb_import_user *u = &plan->users[i];

		free(u->name);
		free(u->first_name);
		free(u->last_name);
		free(u->home);
		free(u->shell);
		udb_secret_free(u->hash);
	}
	for (size_t i = 0; i < plan->n_roles; i++) {
		free(plan->roles[i].name);
		for (size_t j = 0; j < plan->roles[i].n_members; j++)
			free(plan->roles[i].members[j]);
		free(plan->roles[i].members);
	}
	for (size_t i = 0; i < plan->n_problems; i++)
		free(plan->problems[i]);
	for (size_t i = 0; i < plan->n_notes; i++)
		free(plan->notes[i]);
	free(plan->users);
	free(plan->roles);
	free(plan->problems);
	free(plan->notes);
	plan_unindex(plan);
	free(plan);
}
