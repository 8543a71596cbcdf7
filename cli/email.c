/* The `email add`, `email del`, `email confirm`, `email primary` and
 * `email list` commands: a user's addresses, unique across users and
 * compared without regard to ASCII case, kept in the shadow file.
 * Dispatched from main.c. */
#include "cli.h"

enum {
	O_PRIMARY = 0x600,
	O_CONFIRMED,
};

/* Parses USER ADDR (options already taken), checks both and opens the
 * database for writing. */
static enum udb_result
user_and_address(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER", "ADDR"};
	enum udb_result r;

	r = cli_positionals(c, argc, argv, 2, 2, names);
	if (r == UDB_OK)
		r = arg_username(argv[optind]);
	if (r == UDB_OK)
		r = arg_email(argv[optind + 1]);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	return r;
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

/* email del / confirm / primary: USER ADDR and no options. */
static enum udb_result
simple(struct cli *c, int argc, char **argv, const char *help)
{
	static const struct option opts[] = {{0}};
	int opt;

	while ((opt = cli_getopt(c, argc, argv, opts, help)) >= 0)
		;
	if (opt != -1)
		return opt == CLI_OPT_DONE ? UDB_OK : UDB_INVALID;
	return user_and_address(c, argc, argv);
}

enum udb_result
cmd_email_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"primary", no_argument, NULL, O_PRIMARY},
		{"confirmed", no_argument, NULL, O_CONFIRMED},
		{0},
	};
	bool primary = false, confirmed = false;
	enum udb_result r;
	int opt;

	while ((opt = cli_getopt(
			c, argc, argv, opts,
			"  --primary    make it the primary address (the first one always is)\n"
			"  --confirmed  mark it confirmed now\n")) >= 0) {
		if (opt == O_PRIMARY)
			primary = true;
		else if (opt == O_CONFIRMED)
			confirmed = true;
	}
	if (opt != -1)
		return opt == CLI_OPT_DONE ? UDB_OK : UDB_INVALID;
	r = user_and_address(c, argc, argv);
	if (r != UDB_OK)
		return r;
	r = udb_email_add(c->db, argv[optind], argv[optind + 1], primary, confirmed, c->now);
	if (r != UDB_OK)
		return report(c, r, argv[optind], argv[optind + 1]);
	out_done(c, true, "added email address %s to user %s", argv[optind + 1], argv[optind]);
	return UDB_OK;
}

enum udb_result
cmd_email_del(struct cli *c, int argc, char **argv)
{
	enum udb_result r;

	r = simple(c, argc, argv,
		   "Removes the address. Removing the primary one leaves none primary.\n");
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_delete(c->db, argv[optind], argv[optind + 1]);
	if (r != UDB_OK)
		return report(c, r, argv[optind], argv[optind + 1]);
	out_done(c, true, "removed email address %s from user %s", argv[optind + 1], argv[optind]);
	return UDB_OK;
}

enum udb_result
cmd_email_confirm(struct cli *c, int argc, char **argv)
{
	bool changed = false;
	enum udb_result r;

	r = simple(c, argc, argv, "Marks the address confirmed now.\n");
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_confirm(c->db, argv[optind], argv[optind + 1], c->now, &changed);
	if (r != UDB_OK)
		return report(c, r, argv[optind], argv[optind + 1]);
	if (changed)
		out_done(c, true, "confirmed email address %s of user %s", argv[optind + 1],
			 argv[optind]);
	else
		out_done(c, false, "email address %s of user %s was already confirmed",
			 argv[optind + 1], argv[optind]);
	return UDB_OK;
}

enum udb_result
cmd_email_primary(struct cli *c, int argc, char **argv)
{
	enum udb_result r;

	r = simple(c, argc, argv, "Makes the address the user's primary one.\n");
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_email_make_primary(c->db, argv[optind], argv[optind + 1]);
	if (r != UDB_OK)
		return report(c, r, argv[optind], argv[optind + 1]);
	out_done(c, true, "email address %s is now the primary address of user %s",
		 argv[optind + 1], argv[optind]);
	return UDB_OK;
}

enum udb_result
cmd_email_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{0}};
	static const char *const names[] = {"USER"};
	struct udb_email *emails = NULL;
	size_t n = 0;
	enum udb_result r;
	int opt;

	while ((opt = cli_getopt(c, argc, argv, opts,
				 "Lists the addresses, primary first. Needs root or group shadow.\n"
				 "  --json  a JSON array\n")) >= 0)
		;
	if (opt != -1)
		return opt == CLI_OPT_DONE ? UDB_OK : UDB_INVALID;
	r = cli_positionals(c, argc, argv, 1, 1, names);
	if (r == UDB_OK)
		r = arg_username(argv[optind]);
	if (r == UDB_OK)
		r = cli_open(c, CLI_READ_SHADOW);
	if (r != UDB_OK)
		return r;
	r = udb_email_list(c->db, argv[optind], &emails, &n);
	if (r != UDB_OK)
		return report_user(r, argv[optind]);
	r = out_email_list(c, argv[optind], emails, n);
	udb_email_list_free(emails, n);
	return r;
}
