/* The admin box of fleet mode in the admin tool: with `central` set and no
 * `host`, the store is a mirror of the central database and every change a
 * command makes goes to central in the same run (common/central_admin.h),
 * through the command's own code, so validation, messages, exit codes and
 * --json stay those of a single host. Called by open.c when a command opens
 * the store for writing, and by main.c at exit. */
#include <inttypes.h>
#include <string.h>

#include "central_admin.h"
#include "cli.h"
#include "replica.h"
#include "sync.h"

static enum udb_result
report(struct cli *c, enum udb_result r)
{
	const char *why = udb_central_admin_error(c->central_admin);

	switch (r) {
	case UDB_UNAVAILABLE:
		return cli_error(r, "central database unreachable: nothing changed%s%s%s",
				 *why ? " (" : "", why, *why ? ")" : "");
	case UDB_STALE:
		return cli_error(r,
				 "the admin mirror is behind the central database (%s): nothing "
				 "changed; run `userdb sync` and try again",
				 why);
	default:
		return cli_error(r, "central database refused the change: %s: nothing changed",
				 *why ? why : udb_result_to_string(r));
	}
}

/* The change hook's send, reporting its failure: the first error of a run
 * is the one printed, so the command's own message for the failed commit
 * (which cannot know why) does not replace this one. */
static enum udb_result
send(struct udb_db *db, const void *changeset, int size, void *ctx)
{
	struct cli *c = ctx;
	enum udb_result r = udb_central_admin_send(db, changeset, size, c->central_admin);

	/* Another admin committed since the check: main.c runs the command
	 * once more, on the mirror synced by the next cli_open(). */
	if (r == UDB_STALE)
		c->central_stale = true;
	return r == UDB_OK ? r : report(c, r);
}

/* Brings the mirror up to central with one sync pass (common/sync.h), as
 * `userdb sync` does; the hook is not set yet, so nothing is sent back. */
static enum udb_result
sync_mirror(struct cli *c)
{
	struct udb_sync_report rep = {0};
	struct udb_sync *s = NULL;
	char detail[256] = "";
	enum udb_result r;

	r = udb_sync_connect(c->cfg->central, &s, detail, sizeof(detail));
	if (r == UDB_OK)
		r = udb_sync_pass(s, c->db, false, udb_now(), &rep);
	udb_sync_close(s);
	if (r == UDB_OK)
		return UDB_OK;
	return cli_error(r, "could not bring the admin mirror up to the central database: %s%s",
			 rep.detail[0] ? rep.detail : detail, ": nothing changed");
}

/* Before a change: central must be reachable (a change that could only
 * fail at its commit should not run at all), and a mirror that central has
 * moved past is synced first. */
static enum udb_result
check_current(struct cli *c)
{
	int64_t central = 0, local = 0, synced_at = 0;
	enum udb_result r;

	r = udb_central_admin_rev(c->central_admin, &central);
	if (r != UDB_OK)
		return report(c, r);
	r = udb_replica_state(c->db, &local, &synced_at);
	if (r == UDB_OK && central > local) {
		/* Behind (another admin's change, a host enrolled): catch up
		 * first, so that the command sees what central has. */
		r = sync_mirror(c);
		if (r != UDB_OK)
			return r;
		r = udb_replica_state(c->db, &local, &synced_at);
	}
	if (r != UDB_OK)
		return cli_fail(r, "the admin mirror's central revision");
	if (central > local)
		return cli_error(UDB_STALE,
				 "the admin mirror is behind the central database (central at "
				 "revision %" PRId64 ", this mirror at %" PRId64
				 "): nothing changed; run `userdb sync` and try again",
				 central, local);
	if (central < local)
		return cli_error(UDB_CORRUPT,
				 "the central database is at revision %" PRId64
				 ", behind this mirror's %" PRId64
				 " (restored from an older backup?): nothing changed",
				 central, local);
	return UDB_OK;
}

enum udb_result
cli_central_attach(struct cli *c)
{
	struct udb_change_hook hook = {
		.captures = udb_central_admin_captures,
		.send = send,
		.ctx = c,
	};
	enum udb_result r;

	if (!c->cfg->central || c->cfg->host)
		return UDB_OK;
	r = udb_central_admin_new(c->cfg->central, &c->central_admin);
	if (r != UDB_OK)
		return cli_fail(r, "central database");
	r = check_current(c);
	if (r != UDB_OK)
		return r;
	/* The hook's context is the struct cli, which outlives the handle. */
	hook.ctx = c;
	udb_db_set_change_hook(c->db, &hook);
	return UDB_OK;
}

void
cli_central_rerun_reset(struct cli *c)
{
	udb_db_close(c->db);
	c->db = NULL;
	cli_central_free(c);
	c->central_stale = false;
	c->public_only = false;
	c->changed = false;
	memset(&c->subject, 0, sizeof(c->subject));
	cli_parse_free(c);
	cli_error_forget();
	out_notes_forget();
}

void
cli_central_free(struct cli *c)
{
	udb_central_admin_free(c->central_admin);
	c->central_admin = NULL;
}

enum udb_result
cmd_central_push_local(struct cli *c, int argc, char **argv)
{
	struct cli_args a = {.help = "Copies this host's database into the empty central database "
				     "named by `central =`,\nin one transaction; this box is then "
				     "the admin mirror at that revision.\n"};
	struct udb_central_push_report rep;
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	if (!c->cfg->central || c->cfg->host) {
		c->config_failed = true;
		return cli_error(UDB_INVALID,
				 "central push-local: runs on the admin box: set `central = "
				 "CONNINFO` and no `host =` in %s",
				 cli_quote(c->cfg->path ? c->cfg->path : UDB_CONFIG_PATH));
	}
	r = cli_open(c, CLI_WRITE_LOCAL);
	if (r != UDB_OK)
		return r;
	r = udb_central_admin_new(c->cfg->central, &c->central_admin);
	if (r == UDB_OK)
		r = udb_central_admin_push_local(c->central_admin, c->db, &rep);
	if (r == UDB_UNAVAILABLE || r == UDB_EXISTS || r == UDB_CORRUPT || r == UDB_INTERNAL)
		return cli_error(r, "central push-local: %s%s: nothing changed",
				 r == UDB_UNAVAILABLE ? "central database unreachable: " : "",
				 udb_central_admin_error(c->central_admin));
	if (r != UDB_OK)
		return cli_fail(r, "central push-local");
	out_done(c, true,
		 "copied %zu users and %zu roles to the central database (revision %" PRId64
		 "); this box is now its admin mirror",
		 rep.rows[UDB_REPLICA_USERS], rep.rows[UDB_REPLICA_ROLES], rep.rev);
	return UDB_OK;
}
