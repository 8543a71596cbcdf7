/* `user mod`: a user's names, home and shell, and as usermod -l/-u/-g its
 * login name, uid and primary role, all in one transaction. A new uid
 * leaves the files of the old one behind: the command counts those under
 * the home directory and says how to hand them over. Dispatched from
 * main.c. */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "procs.h"
#include "rename.h"

struct mod_args {
	struct udb_user_changes ch;
	const char *new_name, *uid_arg, *primary_role;
	uint32_t uid;
};

static bool
changes_fields(const struct udb_user_changes *ch)
{
	return ch->first_name || ch->last_name || ch->home || ch->shell;
}

static enum udb_result
check_args(struct cli *c, const char *name, struct mod_args *m)
{
	enum udb_result r = arg_username(name);

	if (r == UDB_OK && !changes_fields(&m->ch) && !m->new_name && !m->uid_arg &&
	    !m->primary_role)
		r = cli_error(UDB_INVALID, "user mod: nothing to change (see `userdb user mod "
					   "--help`)");
	if (r == UDB_OK && m->ch.first_name)
		r = arg_text("--first-name", m->ch.first_name);
	if (r == UDB_OK && m->ch.last_name)
		r = arg_text("--last-name", m->ch.last_name);
	if (r == UDB_OK && m->ch.home)
		r = arg_path("--home", m->ch.home);
	if (r == UDB_OK && m->ch.shell)
		r = arg_shell("--shell", m->ch.shell, c->force);
	if (r == UDB_OK && m->new_name)
		r = arg_username(m->new_name);
	if (r == UDB_OK && m->uid_arg)
		r = arg_id("--uid", m->uid_arg, &m->uid);
	if (r == UDB_OK && m->primary_role && strcmp(m->primary_role, "none") != 0)
		r = arg_rolename(m->primary_role);
	return r;
}

/* The checks that need the database: a new name and uid free everywhere
 * (the name service sources too), and no process running as the old uid,
 * which would keep it (usermod -u refuses the same). */
static enum udb_result
check_free(struct cli *c, const char *name, const struct mod_args *m, uint32_t *ret_old_uid)
{
	struct udb_user *u = NULL;
	unsigned running = 0;
	enum udb_result r;

	r = udb_user_by_name(c->db, name, &u);
	if (r != UDB_OK)
		return report_user(r, name);
	*ret_old_uid = u->uid;
	udb_user_free(u);
	if (m->new_name && strcmp(m->new_name, name) != 0) {
		r = check_new_name(c, "user", m->new_name);
		if (r != UDB_OK)
			return r;
	}
	if (!m->uid_arg || m->uid == *ret_old_uid)
		return UDB_OK;
	r = check_new_id(c, "uid", m->uid);
	if (r == UDB_OK)
		r = udb_procs_count(*ret_old_uid, &running);
	if (r != UDB_OK)
		return r == UDB_EXISTS || cli_error_reported() ? r : cli_fail(r, "uid");
	if (running)
		return cli_error(UDB_IN_USE,
				 "user %s: %u processes run as uid %u; end them before changing "
				 "the uid (nothing was changed)",
				 cli_quote(name), running, (unsigned)*ret_old_uid);
	return UDB_OK;
}

/* Inside the transaction: fields first (by the old name), the rename last. */
static enum udb_result
apply(struct cli *c, const char *name, const struct mod_args *m)
{
	enum udb_result r = UDB_OK;

	if (changes_fields(&m->ch))
		r = udb_user_modify(c->db, name, &m->ch, c->now);
	if (r == UDB_OK && m->primary_role)
		r = udb_user_set_primary_role(
			c->db, name, strcmp(m->primary_role, "none") ? m->primary_role : NULL,
			c->now);
	if (r == UDB_OK && m->uid_arg)
		r = udb_user_renumber(c->db, c->cfg, name, m->uid, c->now);
	if (r == UDB_OK && m->new_name && strcmp(m->new_name, name) != 0)
		r = udb_user_rename(c->db, name, m->new_name, c->now);
	if (r == UDB_NOT_FOUND && m->primary_role)
		return report_role(r, m->primary_role);
	if (r != UDB_OK)
		return report_user(r, name);
	return UDB_OK;
}

/* Files under the home directory still owned by the old uid. */
static struct {
	uid_t uid;
	size_t n;
	char first[256];
} left;

static int
count_left(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_NS && st->st_uid == left.uid && left.n++ == 0)
		snprintf(left.first, sizeof(left.first), "%s", path);
	return FTW_CONTINUE;
}

static void
remind_files(const char *home, uint32_t old_uid, uint32_t new_uid)
{
	left.uid = old_uid;
	left.n = 0;
	/* Physical walk on the home's file system only: a symlink or a mount
	 * under it is not the user's to hand over. */
	if (home[0] == '/')
		nftw(home, count_left, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
	if (left.n)
		out_note("%zu files under %s still belong to uid %u (%s%s): `chown -hR "
			 "--from=%u %u %s`",
			 left.n, cli_quote(home), (unsigned)old_uid, cli_quote(left.first),
			 left.n > 1 ? ", ..." : "", (unsigned)old_uid, (unsigned)new_uid, home);
	out_note("files of uid %u elsewhere (mail spool, crontab, /tmp) are not changed: `find / "
		 "-xdev -uid %u` lists them",
		 (unsigned)old_uid, (unsigned)old_uid);
}

static enum udb_result
run(struct cli *c, const char *name, struct mod_args *m)
{
	const char *now_name = m->new_name ? m->new_name : name;
	struct udb_user *u = NULL;
	uint32_t old_uid = 0;
	enum udb_result r;

	r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK)
		r = cli_begin(c);
	if (r != UDB_OK)
		return r;
	r = check_free(c, name, m, &old_uid);
	if (r == UDB_OK)
		r = apply(c, name, m);
	r = cli_finish(c, r);
	if (r != UDB_OK)
		return r;
	c->subject.user = now_name;
	if (m->uid_arg && m->uid != old_uid) {
		c->subject.uid = m->uid;
		if (udb_user_by_name(c->db, now_name, &u) == UDB_OK)
			remind_files(u->home, old_uid, m->uid);
		udb_user_free(u);
	}
	if (m->new_name && strcmp(m->new_name, name) != 0)
		out_done(c, true, "changed user %s (now %s)", name, now_name);
	else
		out_done(c, true, "changed user %s", name);
	return UDB_OK;
}

enum udb_result
cmd_user_mod(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct mod_args m = {0};
	const char *name = NULL;
	const struct cli_opt opts[] = {
		{"first-name", CLI_VALUE, &m.ch.first_name},
		{"last-name", CLI_VALUE, &m.ch.last_name},
		{"home", CLI_VALUE, &m.ch.home},
		{"shell", CLI_VALUE, &m.ch.shell},
		{"name", CLI_VALUE, &m.new_name},
		{"uid", CLI_VALUE, &m.uid_arg},
		{"primary-role", CLI_VALUE, &m.primary_role},
		{"force", CLI_FLAG, &c->force},
		{0},
	};
	struct cli_args a = {
		.help = "  --first-name S, --last-name S, --home DIR, --shell PATH\n"
			"  --name NEW          the new login name (the home is not moved)\n"
			"  --uid N             the new uid (a personal group's gid follows); the\n"
			"                      files of the old uid are counted, not changed\n"
			"  --primary-role R    the primary group (granted if need be); none: the\n"
			"                      personal group again\n"
			"  --force  take a --shell not listed in /etc/shells or a --uid outside\n"
			"           uid_min..uid_max\n"
			"An empty --first-name or --last-name clears it. One transaction.\n",
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
	r = check_args(c, name, &m);
	if (r != UDB_OK)
		return r;
	return run(c, name, &m);
}
