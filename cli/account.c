/* The account-state commands: `user enable`, `user disable`, `user passwd`,
 * `user unlock` and `user expire` (validity dates, password aging, forced
 * password change). Everything they change lives in the shadow file.
 * Dispatched from main.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hash.h"
#include "validate.h"

static enum udb_result
set_enabled(struct cli *c, int argc, char **argv, bool enabled)
{
	const char *name = NULL;
	struct udb_user *u = NULL;
	bool changed = false, terminate = false;
	const struct cli_opt opts[] = {
		{"terminate", CLI_FLAG, &terminate},
		{0},
	};
	enum udb_result r;

	r = cli_user_command(
		c, argc, argv,
		enabled ? "Allows the user to log in again.\n"
			: "Stops the user from logging in; shadow entries show the "
			  "account as expired.\n"
			  "  --terminate  also end the user's running processes (SIGHUP, "
			  "then SIGKILL\n"
			  "               after a second) and say how many were "
			  "signalled\n",
		enabled ? NULL : opts, &name);
	if (r != UDB_OK || !name)
		return r;
	r = udb_account_set_enabled(c->db, name, enabled, &changed);
	if (r != UDB_OK)
		return report_user(r, name);
	/* Disabled now, whether by this run or before: end what still runs. */
	if (terminate) {
		r = udb_user_by_name(c->db, name, &u);
		if (r != UDB_OK)
			return report_user(r, name);
		r = cli_terminate(c, name, u->uid);
		udb_user_free(u);
		if (r != UDB_OK)
			return r;
	}
	if (changed)
		out_done(c, true, "%s user %s%s", enabled ? "enabled" : "disabled", name,
			 cli_terminated_text(c));
	else
		out_done(c, c->subject.terminated > 0, "user %s was already %s%s", name,
			 enabled ? "enabled" : "disabled", cli_terminated_text(c));
	return UDB_OK;
}

enum udb_result
cmd_user_enable(struct cli *c, int argc, char **argv)
{
	return set_enabled(c, argc, argv, true);
}

enum udb_result
cmd_user_disable(struct cli *c, int argc, char **argv)
{
	return set_enabled(c, argc, argv, false);
}

enum udb_result
cmd_user_unlock(struct cli *c, int argc, char **argv)
{
	struct udb_account *a = NULL;
	const char *name = NULL;
	enum udb_result r;
	bool was_locked;
	int failed;

	/* Failed logins are counted by each host: a fleet host unlocks its own. */
	c->host_local = true;
	r = cli_user_command(c, argc, argv,
			     "Clears the failed-login counter and any lockout it caused.\n", NULL,
			     &name);
	if (r != UDB_OK || !name)
		return r;
	r = udb_account_by_name(c->db, name, &a);
	if (r != UDB_OK)
		return report_user(r, name);
	was_locked = udb_account_is_locked(a, c->now);
	failed = a->failed_count;
	udb_account_free(a);
	/* On the admin box the unlock also ends central's fleet-wide lock, and
	 * every host ends its own lock when it syncs. */
	if (c->cfg->central && !c->cfg->host)
		r = udb_account_unlock_fleet(c->db, name, c->now);
	else
		r = udb_account_unlock(c->db, name);
	if (r != UDB_OK)
		return report_user(r, name);
	if (was_locked)
		out_done(c, true, "unlocked user %s (%d failed logins cleared)", name, failed);
	else
		out_done(c, failed > 0, "user %s was not locked (%d failed logins cleared)", name,
			 failed);
	return UDB_OK;
}

static enum udb_result
lock_password(struct cli *c, int argc, char **argv, bool lock)
{
	const char *name = NULL;
	bool changed = false;
	enum udb_result r;

	r = cli_user_command(c, argc, argv,
			     lock ? "Locks the password alone, as `passwd -l` does: no password "
				    "logs in (the\nshadow entry shows `!` before the hash), other "
				    "ways in (ssh keys) still\nwork. `user unlock-password` undoes "
				    "it; `user passwd` sets a new one.\n"
				  : "Undoes `user lock-password`: the password logs in again.\n",
			     NULL, &name);
	if (r != UDB_OK || !name)
		return r;
	r = udb_account_lock_password(c->db, name, lock, &changed);
	if (r != UDB_OK)
		return report_user(r, name);
	c->subject.user = name;
	if (changed) {
		out_done(c, true, "%s the password of user %s", lock ? "locked" : "unlocked", name);
		return UDB_OK;
	}
	if (!lock) {
		out_done(c, false, "the password of user %s was not locked", name);
		return UDB_OK;
	}
	/* Nothing to lock, or locked already: say which. */
	{
		struct udb_account *a = NULL;
		bool locked;

		r = udb_account_by_name(c->db, name, &a);
		if (r != UDB_OK)
			return report_user(r, name);
		locked = udb_account_password_locked(a->password_hash);
		udb_account_free(a);
		if (!locked)
			return cli_error(UDB_INVALID,
					 "user %s has no password to lock (nothing was changed)",
					 cli_quote(name));
	}
	out_done(c, false, "the password of user %s was already locked", name);
	return UDB_OK;
}

enum udb_result
cmd_user_lock_password(struct cli *c, int argc, char **argv)
{
	return lock_password(c, argc, argv, true);
}

enum udb_result
cmd_user_unlock_password(struct cli *c, int argc, char **argv)
{
	return lock_password(c, argc, argv, false);
}

enum udb_result
cmd_user_passwd(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct udb_user *user = NULL;
	bool from_stdin = false, hash_stdin = false;
	const char *name = NULL;
	char *hash = NULL;
	const struct cli_opt opts[] = {
		{"password-stdin", CLI_FLAG, &from_stdin},
		{"password-hash-stdin", CLI_FLAG, &hash_stdin},
		{0},
	};
	struct cli_args a = {
		.help = "  --password-stdin  read the password as one line from stdin;\n"
			"                    otherwise it is asked twice on the terminal\n"
			"  --password-hash-stdin  read a libxcrypt hash ($y$..., $6$...) as\n"
			"                    one line from stdin and store it as it is\n",
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
	r = arg_username(name);
	if (r == UDB_OK && from_stdin && hash_stdin)
		r = cli_error(UDB_INVALID, "--password-stdin and --password-hash-stdin exclude "
					   "each other");
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	/* Ask only for a user that exists; no lock is held while asking. */
	r = udb_user_by_name(c->db, name, &user);
	udb_user_free(user);
	if (r != UDB_OK)
		return report_user(r, name);
	if (hash_stdin)
		r = cli_password_hash_stdin(c, &hash);
	else
		r = cli_password_hash(c, from_stdin, name, &hash);
	if (r == UDB_OK) {
		r = udb_account_set_password(c->db, name, hash, udb_now());
		if (r != UDB_OK)
			report_user(r, name);
	}
	udb_secret_free(hash);
	if (r == UDB_OK)
		c->subject.user = name;
	if (r == UDB_OK)
		out_done(c, true, "changed the password of user %s", name);
	return r;
}

struct expire_args {
	bool has_not_before, has_not_after, password_now, has_aging;
	int64_t not_before, not_after;
	int days[4]; /* min, max, warn, inactive */
	bool has_days[4];
};

/* Applies the changes of `user expire` in the caller's transaction. Fields
 * not given keep their current values. */
static enum udb_result
expire_locked(struct cli *c, const char *name, const struct expire_args *x)
{
	struct udb_account *a = NULL;
	enum udb_result r;
	int days[4];

	r = udb_account_by_name(c->db, name, &a);
	if (r != UDB_OK)
		return report_user(r, name);
	if (x->has_not_before || x->has_not_after) {
		int64_t nb = x->has_not_before ? x->not_before : a->not_before;
		int64_t na = x->has_not_after ? x->not_after : a->not_after;

		if (nb && na && na <= nb)
			r = cli_error(UDB_INVALID,
				      "user %s: the account would end before it starts "
				      "(--account must be after --not-before)",
				      cli_quote(name));
		else
			r = udb_account_set_validity(c->db, name, nb, na);
	}
	if (r == UDB_OK && x->has_aging) {
		int current[4] = {a->min_days, a->max_days, a->warn_days, a->inactive_days};

		for (int i = 0; i < 4; i++)
			days[i] = x->has_days[i] ? x->days[i] : current[i];
		r = udb_account_set_aging(c->db, name, days[0], days[1], days[2], days[3]);
	}
	if (r == UDB_OK && x->password_now)
		r = udb_account_set_must_change(c->db, name, true);
	udb_account_free(a);
	if (r != UDB_OK && !cli_error_reported())
		report_user(r, name);
	return r;
}

/* --terminate of `user expire`: the processes end only if the account, as
 * changed, can no longer log in now (expired, not yet valid, disabled, or
 * a password expired past its inactive days). */
static enum udb_result
terminate_if_shut_out(struct cli *c, const char *name)
{
	struct udb_account *a = NULL;
	struct udb_user *u = NULL;
	enum udb_account_status st;
	enum udb_result r;

	r = udb_account_by_name(c->db, name, &a);
	if (r == UDB_OK)
		r = udb_user_by_name(c->db, name, &u);
	if (r != UDB_OK) {
		udb_account_free(a);
		return report_user(r, name);
	}
	st = udb_account_status(a, c->now);
	if (st == UDB_ACCOUNT_OK || st == UDB_ACCOUNT_PASSWORD_MUST_CHANGE) {
		c->subject.terminate = true;
		c->subject.terminated = 0;
		out_note("user %s can still log in (%s): no process was signalled", name,
			 udb_account_status_to_string(st));
	} else {
		r = cli_terminate(c, name, u->uid);
	}
	udb_account_free(a);
	udb_user_free(u);
	return r;
}

enum udb_result
cmd_user_expire(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	static const char *const day_options[] = {"--min-days", "--max-days", "--warn-days",
						  "--inactive-days"};
	const char *account = NULL, *not_before = NULL, *day_args[4] = {0};
	struct expire_args x = {0};
	const char *name = NULL;
	bool terminate = false;
	const struct cli_opt opts[] = {
		{"account", CLI_VALUE, &account},
		{"not-before", CLI_VALUE, &not_before},
		{"password-now", CLI_FLAG, &x.password_now},
		{"min-days", CLI_VALUE, &day_args[0]},
		{"max-days", CLI_VALUE, &day_args[1]},
		{"warn-days", CLI_VALUE, &day_args[2]},
		{"inactive-days", CLI_VALUE, &day_args[3]},
		{"terminate", CLI_FLAG, &terminate},
		{0},
	};
	struct cli_args a = {
		.help = "  --account DATE|never     the account stops being valid at DATE\n"
			"  --not-before DATE|never  the account is not valid before DATE\n"
			"  --password-now           the password must be changed at the next "
			"login\n"
			"  --min-days N|never, --max-days N|never, --warn-days N|never,\n"
			"  --inactive-days N|never  password aging, as in shadow(5)\n"
			"  --terminate              if the account can no longer log in after "
			"the change,\n"
			"                           end the user's running processes and say "
			"how many\n",
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
	r = arg_username(name);
	if (r == UDB_OK && account) {
		x.has_not_after = true;
		r = arg_time("--account", account, c->now, true, &x.not_after);
	}
	if (r == UDB_OK && not_before) {
		x.has_not_before = true;
		r = arg_time("--not-before", not_before, c->now, true, &x.not_before);
	}
	for (int i = 0; r == UDB_OK && i < 4; i++) {
		if (!day_args[i])
			continue;
		x.has_aging = x.has_days[i] = true;
		r = arg_days(day_options[i], day_args[i], &x.days[i]);
	}
	if (r == UDB_OK && !account && !not_before && !x.password_now && !x.has_aging)
		r = cli_error(UDB_INVALID, "user expire: nothing to change (see `userdb user "
					   "expire --help`)");
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK)
		r = cli_begin(c);
	if (r == UDB_OK)
		r = cli_finish(c, expire_locked(c, name, &x));
	if (r == UDB_OK)
		c->subject.user = name;
	if (r == UDB_OK && terminate)
		r = terminate_if_shut_out(c, name);
	if (r == UDB_OK)
		out_done(c, true, "changed the account of user %s%s", name, cli_terminated_text(c));
	return r;
}
