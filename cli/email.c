/* The `email add`, `email del`, `email confirm`, `email primary` and
 * `email list` commands: a user's addresses, unique across users and
 * compared without regard to ASCII case, kept in the shadow file.
 * Dispatched from main.c. */
#include "cli.h"

/* Parses USER ADDR and the options, checks both and opens the database for
 * writing. c->db stays NULL when --help was printed instead. */
static enum udb_result
user_and_address(struct cli *c, int argc, char **argv, const char *help, const struct cli_opt *opts,
		 const char **args)
{
	static const char *const names[] = {"USER", "ADDR"};
	struct cli_args a = {.help = help,
			     .opts = opts,
			     .names = names,
			     .min_args = 2,
			     .max_args = 2,
			     .args = args};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	c->subject.user = args[0];
	c->subject.email = args[1];
	r = arg_username(args[0]);
	if (r == UDB_OK)
		r = arg_email(args[1]);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	return r;
}

static bool
user_exists(struct cli *c, const char *user)
{
	struct udb_user *u = NULL;
	enum udb_result r = udb_user_by_name(c->db, user, &u);

	udb_user_free(u);
	return r == UDB_OK;
}

/* A NOT_FOUND from an address change: the user, or the user's address. */
static enum udb_result
report(struct cli *c, enum udb_result r, const char *user, const char *address)
{
	struct udb_user *u = NULL;

	if (r == UDB_EXISTS)
		return cli_error(r, "email address %s: already in use", cli_quote(address));
	if (r != UDB_NOT_FOUND)
		return cli_error(r, "email address %s: %s", cli_quote(address),
				 udb_result_to_string(r));
	if (udb_user_by_name(c->db, user, &u) == UDB_NOT_FOUND)
		return report_user(r, user);
	udb_user_free(u);
	return cli_error(r, "email address %s: user %s has no such address", cli_quote(address),
			 cli_quote(user));
}

enum udb_result
cmd_email_add(struct cli *c, int argc, char **argv)
{
	const char *args[2] = {0};
	bool primary = false, confirmed = false;
	const struct cli_opt opts[] = {
		{"primary", CLI_FLAG, &primary},
		{"confirmed", CLI_FLAG, &confirmed},
		{0},
	};
	enum udb_result r;

	r = user_and_address(
		c, argc, argv,
		"  --primary    make it the primary address (the first one always is)\n"
		"  --confirmed  mark it confirmed now\n",
		opts, args);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_add(c->db, args[0], args[1], primary, confirmed, c->now);
	if (r != UDB_OK)
		return report(c, r, args[0], args[1]);
	out_done(c, true, "added email address %s to user %s", args[1], args[0]);
	return UDB_OK;
}

enum udb_result
cmd_email_del(struct cli *c, int argc, char **argv)
{
	const char *args[2] = {0};
	enum udb_result r;

	r = user_and_address(c, argc, argv,
			     "Removes the address. Removing the primary one leaves none primary.\n",
			     NULL, args);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_delete(c->db, args[0], args[1]);
	/* Removing what is not there is nothing to do, as for revoke; the
	 * user must exist. */
	if (r == UDB_NOT_FOUND && user_exists(c, args[0])) {
		out_done(c, false, "user %s had no email address %s", args[0], args[1]);
		return UDB_OK;
	}
	if (r != UDB_OK)
		return report(c, r, args[0], args[1]);
	out_done(c, true, "removed email address %s from user %s", args[1], args[0]);
	return UDB_OK;
}

enum udb_result
cmd_email_confirm(struct cli *c, int argc, char **argv)
{
	const char *args[2] = {0};
	bool changed = false;
	enum udb_result r;

	r = user_and_address(c, argc, argv, "Marks the address confirmed now.\n", NULL, args);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_confirm(c->db, args[0], args[1], c->now, &changed);
	if (r != UDB_OK)
		return report(c, r, args[0], args[1]);
	if (changed)
		out_done(c, true, "confirmed email address %s of user %s", args[1], args[0]);
	else
		out_done(c, false, "email address %s of user %s was already confirmed", args[1],
			 args[0]);
	return UDB_OK;
}

enum udb_result
cmd_email_primary(struct cli *c, int argc, char **argv)
{
	const char *args[2] = {0};
	enum udb_result r;

	r = user_and_address(c, argc, argv, "Makes the address the user's primary one.\n", NULL,
			     args);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_make_primary(c->db, args[0], args[1]);
	if (r != UDB_OK)
		return report(c, r, args[0], args[1]);
	out_done(c, true, "email address %s is now the primary address of user %s", args[1],
		 args[0]);
	return UDB_OK;
}

enum udb_result
cmd_email_list(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER"};
	struct udb_email *emails = NULL;
	const char *user = NULL;
	size_t n = 0;
	struct cli_args a = {.help = "Lists the addresses, primary first. Needs root or group "
				     "shadow.\n"
				     "  --json  a JSON array\n",
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &user};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_username(user);
	if (r == UDB_OK)
		r = cli_open(c, CLI_READ_SHADOW);
	if (r != UDB_OK)
		return r;
	r = udb_email_list(c->db, user, &emails, &n);
	if (r != UDB_OK)
		return report_user(r, user);
	r = out_email_list(c, user, emails, n);
	udb_email_list_free(emails, n);
	return r;
}
