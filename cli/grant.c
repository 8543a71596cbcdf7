/* The `grant` and `revoke` commands: a role given to a user directly,
 * optionally only from or until a time (the grant then starts or ends by
 * itself). Dispatched from main.c. */
#include <stdio.h>

#include "cli.h"
#include "validate.h"

enum {
	O_FROM = 0x500,
	O_UNTIL,
};

/* Parses USER ROLE and checks both names. */
static enum udb_result
user_and_role(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER", "ROLE"};
	enum udb_result r;

	r = cli_positionals(c, argc, argv, 2, 2, names);
	if (r == UDB_OK)
		r = arg_username(argv[optind]);
	if (r == UDB_OK)
		r = arg_rolename(argv[optind + 1]);
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

enum udb_result
cmd_grant(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, O_FROM},
		{"until", required_argument, NULL, O_UNTIL},
		{0},
	};
	const char *from = NULL, *until = NULL, *user, *role;
	int64_t not_before = 0, not_after = 0;
	char when[32];
	bool changed = false;
	enum udb_result r;
	int opt;

	while ((opt = cli_getopt(
			c, argc, argv, opts,
			"  --from TIME         the grant counts from TIME (default: now)\n"
			"  --until TIME|never  the grant stops counting at TIME (default: never)\n"
			"Granting again replaces the dates.\n")) >= 0) {
		if (opt == O_FROM)
			from = optarg;
		else if (opt == O_UNTIL)
			until = optarg;
	}
	if (opt != -1)
		return opt == CLI_OPT_DONE ? UDB_OK : UDB_INVALID;
	r = user_and_role(c, argc, argv);
	if (r != UDB_OK)
		return r;
	user = argv[optind];
	role = argv[optind + 1];
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
	r = udb_grant(c->db, user, role, not_before, not_after, c->now, &changed);
	if (r == UDB_IN_USE)
		return cli_error(r,
				 "role %s: it is the primary group of user %s, whose grant "
				 "cannot expire",
				 cli_quote(role), cli_quote(user));
	if (r != UDB_OK)
		return report_missing(c, r, user, role);
	if (not_after)
		udb_format_time(not_after, when, sizeof(when));
	if (changed)
		out_done(c, true, "granted role %s to user %s%s%s", role, user,
			 not_after ? " until " : "", not_after ? when : "");
	else
		out_done(c, false, "user %s already had role %s with these dates", user, role);
	return UDB_OK;
}

enum udb_result
cmd_revoke(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{0}};
	bool changed = false;
	enum udb_result r;
	int opt;

	while ((opt = cli_getopt(
			c, argc, argv, opts,
			"Removes a direct grant. Roles the user has through another role's\n"
			"inclusion stay.\n")) >= 0)
		;
	if (opt != -1)
		return opt == CLI_OPT_DONE ? UDB_OK : UDB_INVALID;
	r = user_and_role(c, argc, argv);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	r = udb_revoke(c->db, argv[optind], argv[optind + 1], &changed);
	if (r == UDB_IN_USE)
		return cli_error(r, "role %s: it is the primary group of user %s",
				 cli_quote(argv[optind + 1]), cli_quote(argv[optind]));
	if (r != UDB_OK)
		return report_missing(c, r, argv[optind], argv[optind + 1]);
	if (changed)
		out_done(c, true, "revoked role %s from user %s", argv[optind + 1], argv[optind]);
	else
		out_done(c, false, "user %s had no direct grant of role %s", argv[optind],
			 argv[optind + 1]);
	return UDB_OK;
}
