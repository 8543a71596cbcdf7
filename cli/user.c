/* The `user add` and `user del` commands: users as identities,
 * with their roles, emails and homes. Dispatched from main.c; `user show`
 * and `user list` are in user_view.c, `user mod` in user_mod.c, the account-state commands (enable,
 * passwd, expire, ...) in account.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "account.h"
#include "cli.h"
#include "validate.h"
#include "hash.h"
#include "home.h"
#include "procs.h"

static const char add_help[] =
	"  --uid N              the uid (default: the next above the high-water mark)\n"
	"  --primary-role ROLE  primary group (default: a personal group, gid = uid)\n"
	"  --first-name S, --last-name S\n"
	"  --email ADDR         repeatable; the first becomes the primary address\n"
	"  --home DIR           default: home_base/NAME\n"
	"  --shell PATH         default: default_shell\n"
	"  --role ROLE          grant a role, repeatable\n"
	"  --disabled           create the account disabled\n"
	"  --password-stdin     read the password as one line from stdin\n"
	"  --password-hash-stdin  read a libxcrypt hash ($y$..., $6$...) as one line\n"
	"                       from stdin and store it as it is\n"
	"  --force              take a --shell not in /etc/shells or a --uid outside\n"
	"                       uid_min..uid_max\n"
	"  --create-home        create the home (mode 0700) with a copy of /etc/skel;\n"
	"                       an existing path is refused\n"
	"All of it happens in one transaction: on any error nothing is created.\n";

/* The checks of `user add` that need the database, inside its transaction,
 * so that each refusal names its reason. */
static enum udb_result
add_precheck(struct cli *c, const struct udb_user_spec *spec, const char *const *roles,
	     size_t n_roles)
{
	struct udb_role *role = NULL;
	enum udb_result r;

	r = check_new_name(c, "user", spec->username);
	if (r != UDB_OK)
		return r;
	if (spec->has_uid) {
		r = check_new_id(c, "uid", spec->uid);
		if (r != UDB_OK)
			return r;
	}
	for (size_t i = 0; i <= n_roles; i++) {
		const char *name = i < n_roles ? roles[i] : spec->primary_role;

		if (!name)
			continue;
		r = udb_role_by_name(c->db, name, &role);
		udb_role_free(role);
		role = NULL;
		if (r != UDB_OK)
			return report_role(r, name);
	}
	return UDB_OK;
}

/* The user, its grants and emails, in the caller's transaction. */
static enum udb_result
add_locked(struct cli *c, const struct udb_user_spec *spec, const char *const *roles,
	   size_t n_roles, const char *const *emails, size_t n_emails, struct udb_user **ret_user)
{
	enum udb_result r;

	r = add_precheck(c, spec, roles, n_roles);
	if (r != UDB_OK)
		return r;
	r = udb_user_add(c->db, c->cfg, spec, true, c->now, ret_user);
	if (r == UDB_EXHAUSTED)
		return cli_error(r,
				 "user %s: no uid left above the high-water mark in "
				 "uid_min..uid_max (%u..%u); "
				 "freed uids are not handed out again (name one with --uid)",
				 cli_quote(spec->username), (unsigned)c->cfg->uid_min,
				 (unsigned)c->cfg->uid_max);
	if (r != UDB_OK)
		return report_user(r, spec->username);
	for (size_t i = 0; r == UDB_OK && i < n_roles; i++) {
		r = udb_grant(c->db, spec->username, roles[i], 0, 0, c->now, NULL);
		if (r != UDB_OK)
			report_role(r, roles[i]);
	}
	for (size_t i = 0; r == UDB_OK && i < n_emails; i++) {
		r = udb_email_add(c->db, spec->username, emails[i], false, false, c->now);
		if (r == UDB_EXISTS)
			cli_error(r, "email address %s: already in use", cli_quote(emails[i]));
		else if (r != UDB_OK)
			cli_error(r, "email address %s: %s", cli_quote(emails[i]),
				  udb_result_to_string(r));
	}
	return r;
}

/* The home a new user gets: --home, else home_base/NAME. It must not exist
 * yet: an existing directory is never adopted (someone may have prepared
 * it with their own files). */
static enum udb_result
home_precheck(struct cli *c, const struct udb_user_spec *spec, char *home, size_t size)
{
	struct stat st;

	if ((size_t)snprintf(home, size, "%s%s%s", spec->home ? spec->home : c->cfg->home_base,
			     spec->home ? "" : "/", spec->home ? "" : spec->username) >= size)
		return cli_error(UDB_INVALID, "user %s: the home path is too long",
				 cli_quote(spec->username));
	if (lstat(home, &st) == 0)
		return cli_error(UDB_EXISTS,
				 "user %s: --create-home: %s already exists (an existing path is "
				 "never adopted)",
				 cli_quote(spec->username), cli_quote(home));
	return UDB_OK;
}

/* The directory a home was made in, for taking it back. */
static const char *
home_parent(const char *home)
{
	static char parent[UDB_PATH_MAX + 1];
	const char *slash = strrchr(home, '/');

	snprintf(parent, sizeof(parent), "%.*s", slash && slash != home ? (int)(slash - home) : 1,
		 home);
	return parent;
}

/* --create-home, inside the add's transaction, so that a failure here
 * adds no user. */
static enum udb_result
home_create(const char *home, const struct udb_user *user)
{
	enum udb_result r = udb_home_create(home, "/etc/skel", user->uid, user->gid);

	if (r == UDB_EXISTS)
		return cli_error(r, "user %s: --create-home: %s already exists",
				 cli_quote(user->username), cli_quote(home));
	if (r == UDB_NOT_FOUND)
		return cli_error(r, "user %s: --create-home: the parent of %s does not exist",
				 cli_quote(user->username), cli_quote(home));
	if (r != UDB_OK)
		return cli_error(r, "user %s: --create-home: cannot create %s: %s",
				 cli_quote(user->username), cli_quote(home),
				 udb_result_to_string(r));
	return UDB_OK;
}

/* Checks what `user add` was given before anything is opened. */
static enum udb_result
check_add_args(const struct cli *c, struct udb_user_spec *spec, const char *uid_arg,
	       const struct cli_list *roles, const struct cli_list *emails)
{
	enum udb_result r;

	r = arg_username(spec->username);
	if (r == UDB_OK && uid_arg) {
		spec->has_uid = true;
		r = arg_id("--uid", uid_arg, &spec->uid);
	}
	if (r == UDB_OK && spec->primary_role)
		r = arg_rolename(spec->primary_role);
	if (r == UDB_OK && spec->first_name)
		r = arg_text("--first-name", spec->first_name);
	if (r == UDB_OK && spec->last_name)
		r = arg_text("--last-name", spec->last_name);
	if (r == UDB_OK && spec->home)
		r = arg_path("--home", spec->home);
	if (r == UDB_OK && spec->shell)
		r = arg_shell("--shell", spec->shell, c->force);
	for (size_t i = 0; r == UDB_OK && i < roles->n; i++)
		r = arg_rolename(roles->v[i]);
	for (size_t i = 0; r == UDB_OK && i < emails->n; i++)
		r = arg_email(emails->v[i]);
	return r;
}

enum udb_result
cmd_user_add(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct udb_user_spec spec = {0};
	struct cli_list roles = {0}, emails = {0};
	struct udb_user *user = NULL;
	const char *uid_arg = NULL;
	char *hash = NULL;
	char home[UDB_PATH_MAX + 1] = "";
	bool password_stdin = false, hash_stdin = false, create_home = false, home_made = false;
	const struct cli_opt opts[] = {
		{"uid", CLI_VALUE, &uid_arg},
		{"primary-role", CLI_VALUE, &spec.primary_role},
		{"first-name", CLI_VALUE, &spec.first_name},
		{"last-name", CLI_VALUE, &spec.last_name},
		{"email", CLI_LIST, &emails},
		{"home", CLI_VALUE, &spec.home},
		{"shell", CLI_VALUE, &spec.shell},
		{"role", CLI_LIST, &roles},
		{"disabled", CLI_FLAG, &spec.disabled},
		{"password-stdin", CLI_FLAG, &password_stdin},
		{"password-hash-stdin", CLI_FLAG, &hash_stdin},
		{"force", CLI_FLAG, &c->force},
		{"create-home", CLI_FLAG, &create_home},
		{0},
	};
	struct cli_args a = {.help = add_help,
			     .opts = opts,
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &spec.username};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = check_add_args(c, &spec, uid_arg, &roles, &emails);
	/* The password is read before the database is opened, so nobody holds
	 * the write lock while someone types. */
	if (r == UDB_OK && password_stdin && hash_stdin)
		r = cli_error(UDB_INVALID, "--password-stdin and --password-hash-stdin exclude "
					   "each other");
	if (r == UDB_OK && password_stdin)
		r = cli_password_hash(c, true, spec.username, &hash);
	if (r == UDB_OK && hash_stdin)
		r = cli_password_hash_stdin(c, &hash);
	spec.password_hash = hash;
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK && create_home)
		r = home_precheck(c, &spec, home, sizeof(home));
	if (r == UDB_OK)
		r = cli_begin(c);
	if (r == UDB_OK) {
		r = add_locked(c, &spec, roles.v, roles.n, emails.v, emails.n, &user);
		if (r == UDB_OK && create_home)
			r = home_create(home, user);
		home_made = r == UDB_OK && create_home;
		r = cli_finish(c, r);
		/* The add did not land: the home made for it goes too. */
		if (r != UDB_OK && home_made)
			udb_home_remove(home, home_parent(home), user->uid);
	}
	if (r == UDB_OK)
		c->subject = (struct cli_subject){
			.user = spec.username, .uid = user->uid, .gid = user->gid};
	if (r == UDB_OK)
		out_done(c, true, "added user %s (uid %u, gid %u)%s%s", user->username,
			 (unsigned)user->uid, (unsigned)user->gid,
			 create_home ? "; created its home " : "", create_home ? user->home : "");
	if (r == UDB_OK && !create_home && !c->json)
		out_note("no home directory was created for %s (%s): use --create-home, or "
			 "pam_mkhomedir at the first login",
			 user->username, user->home);
	udb_user_free(user);
	udb_secret_free(hash);
	return r;
}

/* What `user del` refuses: processes still running as the user (unless
 * --force: a new user given the uid later could be signalled by them, but
 * ids are never reused, see ids.h), and with --remove-home a home that is
 * not the user's own directory under home_base. */
static enum udb_result
del_precheck(struct cli *c, const struct udb_user *u, bool force, bool remove_home)
{
	char reason[160];
	unsigned n = 0;
	enum udb_result r;

	if (!force) {
		r = udb_procs_count(u->uid, &n);
		if (r != UDB_OK)
			return cli_error(r, "user %s: cannot look for its processes: %s",
					 cli_quote(u->username), udb_result_to_string(r));
		if (n > 0)
			return cli_error(UDB_IN_USE,
					 "user %s: %u process%s running as uid %u (end them, e.g. "
					 "with `userdb user disable --terminate`, or use --force)",
					 cli_quote(u->username), n, n == 1 ? " is" : "es are",
					 (unsigned)u->uid);
	}
	if (!remove_home)
		return UDB_OK;
	r = udb_home_check_removable(u->home, c->cfg->home_base, u->uid, reason, sizeof(reason));
	if (r != UDB_OK)
		return cli_error(r,
				 "user %s: not removing the home %s: it %s (nothing was changed)",
				 cli_quote(u->username), cli_quote(u->home), reason);
	return UDB_OK;
}

/* After the delete: the home goes. A failure now is reported as such, the
 * user being already gone. */
static enum udb_result
del_home(struct cli *c, const struct udb_user *u)
{
	enum udb_result r = udb_home_remove(u->home, c->cfg->home_base, u->uid);

	(void)c;
	if (r == UDB_IN_USE)
		return cli_error(r,
				 "deleted user %s, but its home %s holds a mount point, which was "
				 "left (with what it holds)",
				 cli_quote(u->username), cli_quote(u->home));
	if (r != UDB_OK)
		return cli_error(r, "deleted user %s, but removing its home %s failed: %s",
				 cli_quote(u->username), cli_quote(u->home),
				 udb_result_to_string(r));
	return UDB_OK;
}

enum udb_result
cmd_user_del(struct cli *c, int argc, char **argv)
{
	bool force = false, remove_home = false;
	const struct cli_opt opts[] = {
		{"force", CLI_FLAG, &force},
		{"remove-home", CLI_FLAG, &remove_home},
		{0},
	};
	const char *name = NULL;
	struct udb_user *u = NULL;
	enum udb_result r;

	r = cli_user_command(c, argc, argv,
			     "Deletes the user, its grants, emails and account state.\n"
			     "  --force        even while processes run as the user (they keep "
			     "running)\n"
			     "  --remove-home  also remove the home directory: only a real "
			     "directory owned\n"
			     "                 by the user directly under home_base\n",
			     opts, &name);
	if (r != UDB_OK || !name)
		return r;
	r = udb_user_by_name(c->db, name, &u);
	if (r != UDB_OK)
		return report_user(r, name);
	/* Every refusal comes before the delete: nothing changes then. */
	r = del_precheck(c, u, force, remove_home);
	if (r == UDB_OK) {
		r = udb_user_delete(c->db, name);
		if (r != UDB_OK)
			report_user(r, name);
	}
	if (r == UDB_OK && remove_home)
		r = del_home(c, u);
	if (r == UDB_OK)
		out_done(c, true, "deleted user %s%s%s", name, remove_home ? "; removed " : "",
			 remove_home ? u->home : "");
	udb_user_free(u);
	return r;
}
