/* Loading the configuration and opening the database for a command, with
 * the error line that says which file is wrong and what to do about it;
 * and `userdb init`, which creates or upgrades the database. Called by the
 * command files of cli/ once their arguments have been checked. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "hash.h"
#include "trust.h"

/* The error line for a configuration that did not load. It never quotes
 * the file (see config.h): someone allowed to run one `sudo userdb`
 * command could otherwise read any root-only file with --config. */
static enum udb_result
report_config(enum udb_result r, const struct udb_config_error *e)
{
	char where[64] = "";

	if (e->line)
		snprintf(where, sizeof(where), ", line %u", e->line);
	if (e->key)
		return cli_error(r, "config %s%s: %s %s", cli_quote(e->path), where, e->key,
				 e->reason);
	if (r == UDB_UNSAFE)
		return cli_error(r, "config %s: refusing it: it %s", cli_quote(e->path), e->reason);
	return cli_error(r, "config %s%s: %s", cli_quote(e->path), where, e->reason);
}

enum udb_result
cli_load_config(struct cli *c)
{
	struct udb_config_error e;
	enum udb_result r;

	if (c->cfg)
		return UDB_OK;
	r = udb_config_load_explained(c->config_path, &c->cfg, &e);
	if (r != UDB_OK) {
		c->config_failed = true;
		return report_config(r, &e);
	}
	/* The loader leaves this to the callers that hash, so that the NSS
	 * module does not need libcrypt. */
	r = udb_config_check_hash(c->cfg);
	if (r == UDB_OK)
		return UDB_OK;
	c->config_failed = true;
	r = cli_error(r, "config %s: hash_cost %lu is not a cost hash_method %s can take",
		      cli_quote(c->cfg->path ? c->cfg->path : UDB_CONFIG_PATH), c->cfg->hash_cost,
		      c->cfg->hash_method ? cli_quote(c->cfg->hash_method) : "(default)");
	udb_config_free(c->cfg);
	c->cfg = NULL;
	return r;
}

/* Which of the database's paths is a symlink or may be changed by others,
 * and why, for the error line; false when none is. The files are looked at
 * with lstat, not opened: closing a descriptor of a database file would
 * drop the locks of a connection this process may have open to it (the NSS
 * module's, after a getpwnam). */
static bool
find_unsafe(const char *dbdir, struct udb_trust_problem *p)
{
	static const char *const files[] = {"", UDB_PUBLIC_FILE, UDB_SHADOW_FILE};
	struct stat st;

	for (size_t i = 0; i < 3; i++) {
		snprintf(p->path, sizeof(p->path), "%s%s%s", dbdir, i ? "/" : "", files[i]);
		if (lstat(p->path, &st) == 0 &&
		    udb_trust_explain(&st, i == 0, false, p->reason, sizeof(p->reason)))
			return true;
	}
	return false;
}

/* The error line for a database that cannot be opened (or initialised). */
static enum udb_result
report_open(struct cli *c, enum udb_result r)
{
	const char *dir = c->cfg->dbdir;
	struct udb_trust_problem problem;

	/* A symlinked dbdir fails to open like a missing one: say which. */
	if ((r == UDB_UNSAFE || r == UDB_UNAVAILABLE) && find_unsafe(dir, &problem))
		return cli_error(UDB_UNSAFE, "database %s: refusing it: %s %s", cli_quote(dir),
				 cli_quote(problem.path), problem.reason);
	switch (r) {
	case UDB_UNAVAILABLE:
		return cli_error(r, "database %s: not found (run `userdb init` to create it)",
				 cli_quote(dir));
	case UDB_PERMISSION:
		/* The store is private to root (README "Decisions"). */
		return cli_error(r, "database %s: permission denied: run as root", cli_quote(dir));
	case UDB_UNSAFE:
		return cli_error(r,
				 "database %s: refusing it: a symlink, or changeable by "
				 "someone other than root",
				 cli_quote(dir));
	case UDB_CORRUPT:
		return cli_error(r, "database %s: not a userdb database, or damaged",
				 cli_quote(dir));
	case UDB_SCHEMA:
		return cli_error(r,
				 "database %s: schema version is not %u (run `userdb init` to "
				 "upgrade an older database)",
				 cli_quote(dir), udb_db_schema_version());
	case UDB_BUSY:
		return cli_error(r, "database %s: busy (another change is running; try again)",
				 cli_quote(dir));
	default:
		return cli_error(r, "database %s: %s", cli_quote(dir), udb_result_to_string(r));
	}
}

enum udb_result
cli_open(struct cli *c, enum cli_access access)
{
	enum udb_result r;

	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	/* A fleet host's store is a copy of central's, rewritten by each
	 * sync: a change made here would be lost or would collide with the
	 * next one. Only what is the host's own (its failed-login counts)
	 * may be changed on it. */
	if (access == CLI_WRITE && c->cfg->host && !c->host_local)
		return cli_error(UDB_PERMISSION,
				 "this is fleet host %s: its store is a copy of the central "
				 "database; make changes on the admin box (nothing changed)",
				 cli_quote(c->cfg->host));
	switch (access) {
	case CLI_WRITE:
	case CLI_WRITE_LOCAL:
		r = udb_db_open(c->cfg->dbdir, UDB_OPEN_WRITE, &c->db);
		break;
	case CLI_READ_SHADOW:
		r = udb_db_open(c->cfg->dbdir, UDB_OPEN_READ_BOTH, &c->db);
		break;
	case CLI_READ:
		r = udb_db_open(c->cfg->dbdir, UDB_OPEN_READ_BOTH, &c->db);
		if (r == UDB_PERMISSION) {
			/* The caller owns the public file but not the shadow file (a test
			 * setup; an installed store is root-only): show what the public
			 * file has. */
			r = udb_db_open(c->cfg->dbdir, UDB_OPEN_PUBLIC, &c->db);
			c->public_only = r == UDB_OK;
		}
		break;
	}
	if (r != UDB_OK)
		return report_open(c, r);
	if (access == CLI_WRITE)
		return cli_central_attach(c);
	return UDB_OK;
}

enum udb_result
cli_begin(struct cli *c)
{
	enum udb_result r = udb_db_begin(c->db);

	if (r != UDB_OK)
		return report_open(c, r);
	return UDB_OK;
}

enum udb_result
cli_finish(struct cli *c, enum udb_result r)
{
	if (r != UDB_OK) {
		udb_db_rollback(c->db);
		return r;
	}
	r = udb_db_commit(c->db);
	if (r != UDB_OK)
		return report_open(c, r);
	return UDB_OK;
}

enum udb_result
cmd_init(struct cli *c, int argc, char **argv)
{
	struct cli_args a = {.help = "Creates dbdir with public.db and shadow.db (root's, "
				     "0600),\nor applies the missing migrations to an older "
				     "database.\n"};
	unsigned old_version = 0;
	enum cli_parse_result p;
	enum udb_result r = UDB_OK;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	if (r == UDB_OK)
		r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	r = udb_db_init(c->cfg->dbdir, &old_version);
	if (r == UDB_UNSAFE || r == UDB_UNAVAILABLE) {
		struct udb_trust_problem problem;

		/* The same walk again, read-only, for the path and reason. */
		if (udb_trust_check_dbdir(c->cfg->dbdir, &problem) == r)
			return cli_error(r, "database %s: refusing it: %s %s (nothing was changed)",
					 cli_quote(c->cfg->dbdir), cli_quote(problem.path),
					 problem.reason);
	}
	if (r == UDB_PERMISSION)
		return cli_error(r, "database %s: permission denied: run as root",
				 cli_quote(c->cfg->dbdir));
	if (r == UDB_CORRUPT)
		return cli_error(r, "database %s: the files there are not a userdb database",
				 cli_quote(c->cfg->dbdir));
	if (r == UDB_SCHEMA)
		return cli_error(r, "database %s: made by a newer userdb (schema version above %u)",
				 cli_quote(c->cfg->dbdir), udb_db_schema_version());
	if (r != UDB_OK)
		return report_open(c, r);
	return out_init(c, c->cfg->dbdir, old_version, udb_db_schema_version());
}

enum udb_result
cmd_compact(struct cli *c, int argc, char **argv)
{
	bool force = false;
	const struct cli_opt opts[] = {
		{"force", CLI_FLAG, &force},
		{0},
	};
	struct cli_args a = {
		.help = "Rebuilds the image bases (nss.img, nss-shadow.img) from the store and\n"
			"removes the deltas beside them, which every change adds to. Nothing\n"
			"to do when nothing changed since the last rebuild. Run from a timer.\n"
			"  --force  rebuild anyway (rows written into the store with sqlite3)\n",
		.opts = opts,
	};
	enum cli_parse_result p;
	enum udb_result r;
	size_t folded = 0;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	c->host_local = true; /* changes no data: a host compacts its own images */
	r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	r = udb_db_compact(c->db, force, &folded);
	if (r != UDB_OK)
		return cli_error(r, "database %s: %s", cli_quote(c->cfg->dbdir),
				 udb_result_to_string(r));
	if (folded > 0 || force)
		out_done(c, true, "rebuilt the images in %s (%zu changes taken in)", c->cfg->dbdir,
			 folded);
	else
		out_done(c, false, "the images in %s have no changes to take in", c->cfg->dbdir);
	return UDB_OK;
}

/* Whether the passwd (or group) file at path has an entry called name. */
static bool
file_has_name(const char *path, bool group, const char *name)
{
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return false;
	while (!found) {
		struct passwd *pw = group ? NULL : fgetpwent(f);
		struct group *gr = group ? fgetgrent(f) : NULL;

		if (!pw && !gr)
			break;
		found = strcmp(pw ? pw->pw_name : gr->gr_name, name) == 0;
	}
	fclose(f);
	return found;
}

/* Which source holds a name that is taken (r: UDB_EXISTS for userdb
 * itself, UDB_CONFLICT for another NSS source), for the messages below:
 * the admin must know where to look. */
static const char *
name_holder(struct cli *c, enum udb_result r, const char *name)
{
	struct udb_user *u = NULL;
	struct passwd *pw;

	if (r == UDB_EXISTS) {
		if (udb_user_by_name(c->db, name, &u) == UDB_OK) {
			udb_user_free(u);
			return "a userdb user";
		}
		return "a userdb role";
	}
	if (file_has_name("/etc/passwd", false, name))
		return "a user in /etc/passwd, another name service source";
	if (file_has_name("/etc/group", true, name))
		return "a group in /etc/group, another name service source";
	pw = getpwnam(name);
	return pw ? "a user of another name service source (nsswitch.conf passwd: line)"
		  : "a group of another name service source (nsswitch.conf group: line)";
}

enum udb_result
check_new_name(struct cli *c, const char *what, const char *name)
{
	enum udb_result r = udb_name_check_free(c->db, name, true);

	if (r == UDB_EXISTS || r == UDB_CONFLICT)
		return cli_error(r, "%s %s: the name is already taken by %s", what, cli_quote(name),
				 name_holder(c, r, name));
	if (r != UDB_OK)
		return cli_error(r, "%s %s: %s", what, cli_quote(name), udb_result_to_string(r));
	return UDB_OK;
}

enum udb_result
check_new_id(struct cli *c, const char *what, uint32_t id)
{
	bool uid = strcmp(what, "uid") == 0;
	uint32_t min = uid ? c->cfg->uid_min : c->cfg->gid_min;
	uint32_t max = uid ? c->cfg->uid_max : c->cfg->gid_max;
	enum udb_result r = udb_id_check_free(c->db, id, true);

	if (r == UDB_EXISTS)
		return cli_error(r, "%s %u: already used as a uid or gid in userdb", what,
				 (unsigned)id);
	if (r == UDB_CONFLICT)
		return cli_error(r,
				 "%s %u: already used as a uid or gid by another name service "
				 "source",
				 what, (unsigned)id);
	if (r != UDB_OK)
		return cli_fail(r, what);
	if (id >= min && id <= max)
		return UDB_OK;
	/* The NSS module serves no entry outside the configured ranges, so an
	 * id there is almost always a typo; --force is for the admin who is
	 * about to widen the range. */
	if (!c->force)
		return cli_error(UDB_INVALID,
				 "%s %u: outside %s_min..%s_max (%u..%u) of the configuration; the "
				 "NSS module would not serve it (use --force to take it anyway)",
				 what, (unsigned)id, what, what, (unsigned)min, (unsigned)max);
	out_note("%s %u is outside %s_min..%s_max (%u..%u): the NSS module will not serve it "
		 "until the range covers it",
		 what, (unsigned)id, what, what, (unsigned)min, (unsigned)max);
	return UDB_OK;
}
