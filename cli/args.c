/* Checks of command-line arguments before anything touches the database,
 * each reporting one error line that says what is wrong and what is
 * allowed; also the error lines for a user or role lookup that failed.
 * Called by the command files of cli/. The rules themselves live in
 * common/validate.c; this file only explains a refusal. */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "validate.h"

/* Why s is not a valid name, for the common ways a name goes wrong. */
static const char *
name_problem(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "is empty";
	if (n > UDB_NAME_MAX)
		return "is longer than 32 bytes";
	if (s[0] == '-' || s[0] == '+')
		return s[0] == '-' ? "starts with '-'" : "starts with '+'";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x80)
			return "is not plain ASCII";
		if (ch < 0x20 || ch == 0x7f)
			return "contains a control character";
		if (ch == ':')
			return "contains ':'";
	}
	return "has a character that is not allowed";
}

enum udb_result
arg_username(const char *s)
{
	if (udb_valid_username(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "user name %s: invalid: %s (allowed: [a-z_][a-z0-9_-]* with an optional "
			 "trailing $, at most 32 bytes)",
			 cli_quote(s), name_problem(s));
}

enum udb_result
arg_rolename(const char *s)
{
	if (udb_valid_rolename(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "role name %s: invalid: %s (allowed: [A-Za-z_][A-Za-z0-9_.-]*, at most 32 "
			 "bytes)",
			 cli_quote(s), name_problem(s));
}

enum udb_result
arg_email(const char *s)
{
	if (udb_valid_email(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "email address %s: invalid (one '@' with text on both sides, printable "
			 "ASCII without spaces, at most 254 bytes)",
			 cli_quote(s));
}

enum udb_result
arg_permission(const char *s)
{
	if (udb_valid_permission(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "permission %s: invalid (allowed: [A-Za-z0-9_.:*-], 1 to 128 bytes, e.g. "
			 "ssh:login)",
			 cli_quote(s));
}

enum udb_result
arg_text(const char *option, const char *s)
{
	if (udb_valid_text(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "%s %s: invalid (UTF-8 text without control characters, ':' or ',', at "
			 "most 256 bytes)",
			 option, cli_quote(s));
}

enum udb_result
arg_path(const char *option, const char *s)
{
	if (udb_valid_path(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "%s %s: invalid (an absolute path without ':' or control characters)",
			 option, cli_quote(s));
}

/* Whether s is a line of /etc/shells. */
static bool
listed_shell(const char *s)
{
	const char *line;
	bool found = false;

	setusershell();
	while (!found && (line = getusershell()))
		found = strcmp(line, s) == 0;
	endusershell();
	return found;
}

enum udb_result
arg_shell(const char *option, const char *s, bool force)
{
	const char *base = strrchr(s, '/');
	enum udb_result r = arg_path(option, s);

	if (r != UDB_OK)
		return r;
	base = base ? base + 1 : s;
	if (listed_shell(s))
		return UDB_OK;
	if ((strcmp(base, "nologin") == 0 || strcmp(base, "false") == 0) && access(s, X_OK) == 0)
		return UDB_OK;
	if (!force)
		return cli_error(UDB_INVALID,
				 "%s %s: not a shell listed in /etc/shells (use --force to set it "
				 "anyway)",
				 option, cli_quote(s));
	out_note("%s %s is not listed in /etc/shells", option, cli_quote(s));
	return UDB_OK;
}

enum udb_result
arg_id(const char *option, const char *s, uint32_t *ret_id)
{
	uint32_t id = 0;

	if (udb_parse_id(s, &id) != UDB_OK || id == 0)
		return cli_error(UDB_INVALID, "%s %s: invalid (a number from 1 to 4294967294)",
				 option, cli_quote(s));
	*ret_id = id;
	return UDB_OK;
}

enum udb_result
arg_time(const char *option, const char *s, int64_t now, bool allow_never, int64_t *ret_time)
{
	int64_t t = 0;

	if (allow_never && strcmp(s, "never") == 0) {
		*ret_time = 0;
		return UDB_OK;
	}
	/* 0 means "not set" everywhere in the core, so the epoch itself is
	 * not a usable time. */
	if (udb_parse_time(s, now, &t) != UDB_OK || t <= 0)
		return cli_error(UDB_INVALID,
				 "%s %s: invalid time (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS], @SECONDS "
				 "or +N with s, m, h, d or w; UTC%s)",
				 option, cli_quote(s), allow_never ? "; or never" : "");
	*ret_time = t;
	return UDB_OK;
}

enum udb_result
arg_days(const char *option, const char *s, int *ret_days)
{
	unsigned long v = 0;

	if (strcmp(s, "never") == 0) {
		*ret_days = UDB_DAYS_UNSET;
		return UDB_OK;
	}
	if (udb_parse_uint(s, 99999, &v) != UDB_OK)
		return cli_error(UDB_INVALID,
				 "%s %s: invalid (a number of days up to 99999, or never)", option,
				 cli_quote(s));
	*ret_days = (int)v;
	return UDB_OK;
}

enum udb_result
report_user(enum udb_result r, const char *name)
{
	if (r == UDB_NOT_FOUND)
		return cli_error(r, "user %s: no such user", cli_quote(name));
	return cli_error(r, "user %s: %s", cli_quote(name), udb_result_to_string(r));
}

enum udb_result
report_role(enum udb_result r, const char *name)
{
	if (r == UDB_NOT_FOUND)
		return cli_error(r, "role %s: no such role", cli_quote(name));
	return cli_error(r, "role %s: %s", cli_quote(name), udb_result_to_string(r));
}
