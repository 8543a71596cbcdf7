/* The `role add`, `role mod`, `role del`, `role show` and `role list`
 * commands: roles (shown as groups), their permissions and the roles they
 * include. Dispatched from main.c. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rename.h"
#include "group.h"

static enum udb_result
check_all(const struct cli_list *l, enum udb_result (*check)(const char *))
{
	enum udb_result r = UDB_OK;

	for (size_t i = 0; r == UDB_OK && i < l->n; i++)
		r = check(l->v[i]);
	return r;
}

/* Every named role must exist; reports the first that does not. */
static enum udb_result
roles_exist(struct cli *c, const struct cli_list *l)
{
	enum udb_result r = UDB_OK;

	for (size_t i = 0; r == UDB_OK && i < l->n; i++) {
		struct udb_role *role = NULL;

		r = udb_role_by_name(c->db, l->v[i], &role);
		udb_role_free(role);
		if (r != UDB_OK)
			report_role(r, l->v[i]);
	}
	return r;
}

/* A role including itself is the shortest cycle: said plainly. */
static enum udb_result
report_self_include(const char *name)
{
	return cli_error(UDB_CYCLE, "role %s: a role cannot include itself (that would be a cycle)",
			 cli_quote(name));
}

static enum udb_result
add_locked(struct cli *c, const struct udb_role_spec *spec, const struct cli_list *includes,
	   uint32_t *ret_gid)
{
	struct udb_role *role = NULL;
	enum udb_result r;

	r = check_new_name(c, "role", spec->name);
	if (r != UDB_OK)
		return r;
	if (spec->has_gid) {
		r = check_new_id(c, "gid", spec->gid);
		if (r != UDB_OK)
			return r;
	}
	r = roles_exist(c, includes);
	if (r != UDB_OK)
		return r;
	r = udb_role_add(c->db, c->cfg, spec, true, c->now);
	if (r == UDB_EXHAUSTED)
		return cli_error(r,
				 "role %s: no gid left above the high-water mark in "
				 "gid_min..gid_max (%u..%u); "
				 "freed gids are not handed out again (name one with --gid)",
				 cli_quote(spec->name), (unsigned)c->cfg->gid_min,
				 (unsigned)c->cfg->gid_max);
	if (r == UDB_OK)
		r = udb_role_by_name(c->db, spec->name, &role);
	if (r != UDB_OK)
		return report_role(r, spec->name);
	*ret_gid = role->gid;
	udb_role_free(role);
	return UDB_OK;
}

enum udb_result
cmd_role_add(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct cli_list perms = {0}, includes = {0};
	struct udb_role_spec spec = {0};
	const char *gid_arg = NULL;
	uint32_t gid = 0;
	const struct cli_opt opts[] = {
		{"gid", CLI_VALUE, &gid_arg},     {"description", CLI_VALUE, &spec.description},
		{"permission", CLI_LIST, &perms}, {"includes", CLI_LIST, &includes},
		{"force", CLI_FLAG, &c->force},   {0},
	};
	struct cli_args a = {
		.help = "  --gid N            the gid (default: lowest free one in "
			"gid_min..gid_max)\n"
			"  --description S\n"
			"  --permission P     repeatable, e.g. ssh:login\n"
			"  --includes ROLE    repeatable: members of NAME become effective\n"
			"                     members of ROLE (admin --includes moderator)\n"
			"  --force            take a --gid outside gid_min..gid_max\n",
		.opts = opts,
		.names = names,
		.min_args = 1,
		.max_args = 1,
		.args = &spec.name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	spec.permissions = perms.v;
	spec.n_permissions = perms.n;
	spec.includes = includes.v;
	spec.n_includes = includes.n;
	r = arg_rolename(spec.name);
	if (r == UDB_OK && gid_arg) {
		spec.has_gid = true;
		r = arg_id("--gid", gid_arg, &spec.gid);
	}
	if (r == UDB_OK && spec.description)
		r = arg_text("--description", spec.description);
	if (r == UDB_OK)
		r = check_all(&perms, arg_permission);
	if (r == UDB_OK)
		r = check_all(&includes, arg_rolename);
	for (size_t i = 0; r == UDB_OK && i < includes.n; i++)
		if (strcmp(includes.v[i], spec.name) == 0)
			r = report_self_include(spec.name);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK)
		r = cli_begin(c);
	if (r == UDB_OK)
		r = cli_finish(c, add_locked(c, &spec, &includes, &gid));
	if (r == UDB_OK)
		c->subject = (struct cli_subject){.role = spec.name, .gid = gid};
	if (r == UDB_OK)
		out_done(c, true, "added role %s (gid %u)", spec.name, (unsigned)gid);
	return r;
}

struct mod_args {
	const char *description;
	struct cli_list add_perms, remove_perms, include, exclude;
	const char *new_name, *gid_arg;
	uint32_t gid;
};

/* groupmod -n / -g, after every other change (made by the old name). The
 * new name and gid must be free in userdb and in every name service
 * source. */
static enum udb_result
rename_locked(struct cli *c, const char *name, const struct mod_args *m, size_t *ret_changes)
{
	struct udb_role *role = NULL;
	enum udb_result r;

	r = udb_role_by_name(c->db, name, &role);
	if (r != UDB_OK)
		return report_role(r, name);
	if (m->gid_arg && m->gid != role->gid) {
		r = check_new_id(c, "gid", m->gid);
		if (r == UDB_OK)
			r = udb_role_renumber(c->db, c->cfg, name, m->gid);
		if (r == UDB_OK) {
			c->subject.gid = m->gid;
			*ret_changes += 1;
			out_note("files of gid %u are not changed: `find / -xdev -gid %u` lists "
				 "them",
				 (unsigned)role->gid, (unsigned)role->gid);
		}
	}
	if (r == UDB_OK && m->new_name && strcmp(m->new_name, name) != 0) {
		r = check_new_name(c, "role", m->new_name);
		if (r == UDB_OK)
			r = udb_role_rename(c->db, name, m->new_name);
		if (r == UDB_OK) {
			*ret_changes += 1;
			out_note("rules that name role %s (sudoers %%%s, sshd AllowGroups, "
				 "pam_userdb roles_required=) are not changed",
				 name, name);
		}
	}
	udb_role_free(role);
	if (r != UDB_OK && !cli_error_reported())
		return report_role(r, name);
	return r;
}

static enum udb_result
mod_locked(struct cli *c, const char *name, const struct mod_args *m, size_t *ret_changes)
{
	struct udb_role *role = NULL;
	enum udb_result r;
	bool changed = false;

	r = udb_role_by_name(c->db, name, &role);
	udb_role_free(role);
	if (r != UDB_OK)
		return report_role(r, name);
	r = roles_exist(c, &m->include);
	if (r == UDB_OK)
		r = roles_exist(c, &m->exclude);
	if (r != UDB_OK)
		return r;
	if (m->description) {
		r = udb_role_set_description(c->db, name, m->description);
		*ret_changes += 1;
	}
	for (size_t i = 0; r == UDB_OK && i < m->add_perms.n; i++) {
		r = udb_role_permission_add(c->db, name, m->add_perms.v[i], &changed);
		*ret_changes += changed;
	}
	for (size_t i = 0; r == UDB_OK && i < m->remove_perms.n; i++) {
		r = udb_role_permission_remove(c->db, name, m->remove_perms.v[i], &changed);
		*ret_changes += changed;
	}
	for (size_t i = 0; r == UDB_OK && i < m->include.n; i++) {
		if (strcmp(m->include.v[i], name) == 0)
			return report_self_include(name);
		r = udb_role_include(c->db, name, m->include.v[i], &changed);
		if (r == UDB_CYCLE)
			return cli_error(r,
					 "role %s: including %s would make a cycle (%s already "
					 "includes %s, directly or not)",
					 cli_quote(name), cli_quote(m->include.v[i]),
					 cli_quote(m->include.v[i]), cli_quote(name));
		*ret_changes += changed;
	}
	for (size_t i = 0; r == UDB_OK && i < m->exclude.n; i++) {
		r = udb_role_exclude(c->db, name, m->exclude.v[i], &changed);
		*ret_changes += changed;
	}
	if (r != UDB_OK)
		return report_role(r, name);
	return rename_locked(c, name, m, ret_changes);
}

enum udb_result
cmd_role_mod(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct mod_args m = {0};
	size_t changes = 0;
	const char *name = NULL;
	const struct cli_opt opts[] = {
		{"description", CLI_VALUE, &m.description},
		{"add-permission", CLI_LIST, &m.add_perms},
		{"remove-permission", CLI_LIST, &m.remove_perms},
		{"include", CLI_LIST, &m.include},
		{"exclude", CLI_LIST, &m.exclude},
		{"name", CLI_VALUE, &m.new_name},
		{"gid", CLI_VALUE, &m.gid_arg},
		{"force", CLI_FLAG, &c->force},
		{0},
	};
	struct cli_args a = {.help = "  --description S\n"
				     "  --add-permission P, --remove-permission P      repeatable\n"
				     "  --include ROLE, --exclude ROLE                  "
				     "repeatable: start or stop\n"
				     "      making members of NAME effective members of ROLE\n"
				     "  --name NEW  the new name\n"
				     "  --gid N     the new gid (users whose primary role it is "
				     "follow)\n"
				     "  --force     take a --gid outside gid_min..gid_max\n"
				     "All changes happen in one transaction.\n",
			     .opts = opts,
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_rolename(name);
	if (r == UDB_OK && m.description)
		r = arg_text("--description", m.description);
	if (r == UDB_OK)
		r = check_all(&m.add_perms, arg_permission);
	if (r == UDB_OK)
		r = check_all(&m.remove_perms, arg_permission);
	if (r == UDB_OK)
		r = check_all(&m.include, arg_rolename);
	if (r == UDB_OK)
		r = check_all(&m.exclude, arg_rolename);
	if (r == UDB_OK && m.new_name)
		r = arg_rolename(m.new_name);
	if (r == UDB_OK && m.gid_arg)
		r = arg_id("--gid", m.gid_arg, &m.gid);
	if (r == UDB_OK && !m.description && !m.add_perms.n && !m.remove_perms.n && !m.include.n &&
	    !m.exclude.n && !m.new_name && !m.gid_arg)
		r = cli_error(UDB_INVALID, "role mod: nothing to change (see `userdb role mod "
					   "--help`)");
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK)
		r = cli_begin(c);
	if (r == UDB_OK)
		r = cli_finish(c, mod_locked(c, name, &m, &changes));
	c->subject.role = m.new_name && r == UDB_OK ? m.new_name : name;
	if (r == UDB_OK && changes && m.new_name && strcmp(m.new_name, name) != 0)
		out_done(c, true, "changed role %s (now %s)", name, m.new_name);
	else if (r == UDB_OK && changes)
		out_done(c, true, "changed role %s", name);
	else if (r == UDB_OK)
		out_done(c, false, "role %s: nothing changed", name);
	return r;
}

enum udb_result
cmd_role_del(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	const char *name = NULL;
	struct cli_args a = {.help = "Deletes the role, its permissions, inclusions and grants.\n"
				     "Refused while the role is some user's primary group.\n",
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_rolename(name);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	r = udb_role_delete(c->db, name);
	if (r == UDB_IN_USE)
		return cli_error(r, "role %s: still the primary group of a user", cli_quote(name));
	if (r != UDB_OK)
		return report_role(r, name);
	c->subject.role = name;
	out_done(c, true, "deleted role %s", name);
	return UDB_OK;
}

static void
view_free(struct cli_role_view *v)
{
	udb_role_free(v->role);
	udb_strv_free(v->permissions, v->n_permissions);
	udb_strv_free(v->includes, v->n_includes);
	udb_strv_free(v->all_permissions, v->n_all_permissions);
	udb_strv_free(v->members, v->n_members);
}

/* The role, its own permissions and the roles it includes directly. */
static enum udb_result
view_load(struct cli *c, const char *name, struct cli_role_view *v)
{
	enum udb_result r;

	r = udb_role_by_name(c->db, name, &v->role);
	if (r == UDB_OK)
		r = udb_role_permissions(c->db, v->role, &v->permissions, &v->n_permissions);
	if (r == UDB_OK)
		r = udb_role_includes(c->db, v->role, &v->includes, &v->n_includes);
	return r;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a copy of s to v unless it is there; *cap grows as needed. */
static enum udb_result
strv_add_unique(char ***v, size_t *n, size_t *cap, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return UDB_OK;
	if (*n == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 16;
		char **grown = realloc(*v, grown_cap * sizeof(**v));

		if (!grown)
			return UDB_NO_MEMORY;
		*v = grown;
		*cap = grown_cap;
	}
	(*v)[*n] = strdup(s);
	if (!(*v)[*n])
		return UDB_NO_MEMORY;
	(*n)++;
	return UDB_OK;
}

/* The permissions a member of v->role gets: those of the role and of every
 * role it includes, transitively. Walks the inclusions breadth first;
 * `seen` doubles as the queue. */
static enum udb_result
load_all_permissions(struct cli *c, struct cli_role_view *v)
{
	char **seen = NULL, **perms = NULL;
	size_t n_seen = 0, cap_seen = 0, n_perms = 0, cap_perms = 0;
	enum udb_result r;

	r = strv_add_unique(&seen, &n_seen, &cap_seen, v->role->name);
	for (size_t i = 0; r == UDB_OK && i < n_seen; i++) {
		struct cli_role_view sub = {0};

		r = view_load(c, seen[i], &sub);
		for (size_t j = 0; r == UDB_OK && j < sub.n_includes; j++)
			r = strv_add_unique(&seen, &n_seen, &cap_seen, sub.includes[j]);
		for (size_t j = 0; r == UDB_OK && j < sub.n_permissions; j++)
			r = strv_add_unique(&perms, &n_perms, &cap_perms, sub.permissions[j]);
		view_free(&sub);
	}
	udb_strv_free(seen, n_seen);
	if (r != UDB_OK) {
		udb_strv_free(perms, n_perms);
		return r;
	}
	if (n_perms)
		qsort(perms, n_perms, sizeof(*perms), compare_strings);
	v->all_permissions = perms;
	v->n_all_permissions = n_perms;
	return UDB_OK;
}

enum udb_result
cmd_role_show(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct cli_role_view v = {0};
	struct udb_group *group = NULL;
	const char *name = NULL;
	struct cli_args a = {.help = "Shows the role, what it includes, its own permissions, all "
				     "the\n"
				     "permissions its members get, and its effective members now.\n"
				     "  --json  one JSON object\n",
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_rolename(name);
	if (r == UDB_OK)
		r = cli_open(c, CLI_READ);
	if (r != UDB_OK)
		return r;
	r = view_load(c, name, &v);
	if (r == UDB_OK)
		r = load_all_permissions(c, &v);
	if (r == UDB_OK)
		r = udb_group_by_name(c->db, name, c->now, &group);
	if (r == UDB_OK) {
		v.members = group->members;
		v.n_members = group->n_members;
		group->members = NULL;
		group->n_members = 0;
		udb_group_free(group);
		if (v.n_members)
			qsort(v.members, v.n_members, sizeof(*v.members), compare_strings);
		r = out_role(c, &v);
	} else {
		report_role(r, name);
	}
	view_free(&v);
	return r;
}

enum udb_result
cmd_role_list(struct cli *c, int argc, char **argv)
{
	struct cli_role_view *views = NULL;
	struct udb_role **roles = NULL;
	size_t n = 0;
	struct cli_args a = {.help = "  --json  a JSON array\n"};
	enum cli_parse_result p;
	enum udb_result r = UDB_OK;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	if (r == UDB_OK)
		r = cli_open(c, CLI_READ);
	if (r != UDB_OK)
		return r;
	r = udb_role_list(c->db, &roles, &n);
	if (r == UDB_OK) {
		views = calloc(n ? n : 1, sizeof(*views));
		if (!views)
			r = UDB_NO_MEMORY;
	}
	for (size_t i = 0; r == UDB_OK && i < n; i++) {
		views[i].role = roles[i];
		roles[i] = NULL;
		r = udb_role_permissions(c->db, views[i].role, &views[i].permissions,
					 &views[i].n_permissions);
		if (r == UDB_OK)
			r = udb_role_includes(c->db, views[i].role, &views[i].includes,
					      &views[i].n_includes);
	}
	if (r == UDB_OK)
		r = out_role_list(c, views, n);
	else
		cli_error(r, "role list: %s", udb_result_to_string(r));
	for (size_t i = 0; views && i < n; i++)
		view_free(&views[i]);
	free(views);
	udb_role_list_free(roles, n);
	return r;
}
