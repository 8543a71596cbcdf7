/* The `grant` and `revoke` commands: a role given to a user directly,
 * optionally only from or until a time (the grant then starts or ends by
 * itself). Dispatched from main.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "validate.h"

static const char *const user_role_names[] = {"USER", "ROLE"};

/* Checks both names of USER ROLE. */
static enum udb_result
user_and_role(const char *const *args)
{
	enum udb_result r;

	r = arg_username(args[0]);
	if (r == UDB_OK)
		r = arg_rolename(args[1]);
	return r;
}

/* Says which of user and role a NOT_FOUND is about. */
static enum udb_result
report_missing(struct cli *c, enum udb_result r, const char *user, const char *role)
{
	struct udb_user *u = NULL;

	if (r != UDB_NOT_FOUND)
		return cli_error(r, "user %s, role %s: %s", cli_quote(user), cli_quote(role),
				 udb_result_to_string(r));
	if (udb_user_by_name(c->db, user, &u) == UDB_NOT_FOUND)
		return report_user(r, user);
	udb_user_free(u);
	return report_role(r, role);
}

/* " from A until B", " from A" or " until B" (times in UTC), or "". */
static void
grant_dates(int64_t not_before, int64_t not_after, char *buf, size_t size)
{
	char from[32] = "", until[32] = "";

	if (not_before)
		udb_format_time(not_before, from, sizeof(from));
	if (not_after)
		udb_format_time(not_after, until, sizeof(until));
	snprintf(buf, size, "%s%s%s%s", not_before ? " from " : "", from,
		 not_after ? " until " : "", until);
}

enum udb_result
cmd_grant(struct cli *c, int argc, char **argv)
{
	const char *from = NULL, *until = NULL, *args[2] = {0};
	const char *user, *role;
	int64_t not_before = 0, not_after = 0;
	char when[80];
	bool changed = false;
	const struct cli_opt opts[] = {
		{"from", CLI_VALUE, &from},
		{"until", CLI_VALUE, &until},
		{0},
	};
	struct cli_args a = {
		.help = "  --from TIME         the grant counts from TIME (default: now)\n"
			"  --until TIME|never  the grant stops counting at TIME (default: never)\n"
			"Granting again replaces the dates.\n",
		.opts = opts,
		.names = user_role_names,
		.min_args = 2,
		.max_args = 2,
		.args = args};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = user_and_role(args);
	if (r != UDB_OK)
		return r;
	user = c->subject.user = args[0];
	role = c->subject.role = args[1];
	if (from)
		r = arg_time("--from", from, c->now, false, &not_before);
	if (r == UDB_OK && until)
		r = arg_time("--until", until, c->now, true, &not_after);
	if (r == UDB_OK && not_after && not_after <= c->now)
		r = cli_error(UDB_INVALID, "--until %s: already in the past", cli_quote(until));
	if (r == UDB_OK && not_after && not_before && not_after <= not_before)
		r = cli_error(UDB_INVALID, "--until %s: not after --from %s", cli_quote(until),
			      cli_quote(from));
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	c->subject.from = not_before;
	c->subject.until = not_after;
	r = udb_grant(c->db, user, role, not_before, not_after, c->now, &changed);
	if (r == UDB_IN_USE)
		return cli_error(r,
				 "role %s: it is the primary group of user %s, whose grant "
				 "cannot expire",
				 cli_quote(role), cli_quote(user));
	if (r != UDB_OK)
		return report_missing(c, r, user, role);
	grant_dates(not_before, not_after, when, sizeof(when));
	if (changed)
		out_done(c, true, "granted role %s to user %s%s", role, user, when);
	else
		out_done(c, false, "user %s already had role %s%s", user, role,
			 not_before || not_after ? when : " with these dates");
	return UDB_OK;
}

/* --terminate of `revoke`: a process keeps the group list it started
 * with, so the user's processes end, but only when the role is really gone
 * (not still held through another role). */
static enum udb_result
terminate_if_role_gone(struct cli *c, const char *user, const char *role)
{
	struct udb_user *u = NULL;
	char **roles = NULL;
	size_t n = 0;
	bool still = false;
	enum udb_result r;

	r = udb_user_by_name(c->db, user, &u);
	if (r == UDB_OK)
		r = udb_user_effective_roles(c->db, u->id, c->now, &roles, &n);
	if (r != UDB_OK) {
		udb_user_free(u);
		return cli_fail(r, "revoke");
	}
	for (size_t i = 0; i < n; i++)
		still = still || strcmp(roles[i], role) == 0;
	udb_strv_free(roles, n);
	if (still) {
		c->subject.terminate = true;
		c->subject.terminated = 0;
		out_note("user %s still has role %s through another role: no process was "
			 "signalled",
			 user, role);
	} else {
		r = cli_terminate(c, user, u->uid);
	}
	udb_user_free(u);
	return r;
}

enum udb_result
cmd_revoke(struct cli *c, int argc, char **argv)
{
	const char *args[2] = {0};
	bool terminate = false;
	const struct cli_opt opts[] = {
		{"terminate", CLI_FLAG, &terminate},
		{0},
	};
	struct cli_args a = {
		.help = "Removes a direct grant. Roles the user has through another "
			"role's\n"
			"inclusion stay.\n"
			"  --terminate  if the user no longer has the role, end the "
			"user's running\n"
			"               processes (their group lists still hold it) and "
			"say how many\n",
		.opts = opts,
		.names = user_role_names,
		.min_args = 2,
		.max_args = 2,
		.args = args};
	bool changed = false;
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = user_and_role(args);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	c->subject.user = args[0];
	c->subject.role = args[1];
	r = udb_revoke(c->db, args[0], args[1], &changed);
	if (r == UDB_IN_USE)
		return cli_error(r, "role %s: it is the primary group of user %s",
				 cli_quote(args[1]), cli_quote(args[0]));
	if (r != UDB_OK)
		return report_missing(c, r, args[0], args[1]);
	if (changed && terminate)
		r = terminate_if_role_gone(c, args[0], args[1]);
	if (r != UDB_OK)
		return r;
	if (changed)
		out_done(c, true, "revoked role %s from user %s%s", args[1], args[0],
			 cli_terminated_text(c));
	else
		out_done(c, false, "user %s had no direct grant of role %s", args[0], args[1]);
	return UDB_OK;
}
