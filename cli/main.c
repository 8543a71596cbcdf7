/* The entry point of the admin tool `userdb`: global options, the command
 * table and dispatch, the one error line, and the one mapping from enum
 * udb_result to a sysexits status. Run by administrators and by tests/cli/. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "central.h"
#include "cli.h"
#include "nscd.h"

#ifndef UDB_VERSION
#define UDB_VERSION "unknown"
#endif

#define OPT_JSON   0x100
#define OPT_CONFIG 0x101

struct command {
	const char *group; /* "user", "role", "email", or NULL for a one-word command */
	const char *name;
	cli_command_fn fn;
	const char *synopsis; /* what follows the command words */
	const char *summary;
};

static const struct command commands[] = {
	{NULL, "init", cmd_init, "", "create the database, or upgrade it to the current schema"},
	{NULL, "compact", cmd_compact, "[--force]",
	 "rebuild the image bases, taking in the deltas of every change since"},
	{"user", "add", cmd_user_add,
	 "NAME [--uid N] [--primary-role ROLE] [--first-name S] [--last-name S] [--email ADDR]... "
	 "[--home DIR] [--shell PATH] [--role ROLE]... [--disabled] [--password-stdin | "
	 "--password-hash-stdin] [--force] [--create-home]",
	 "create a user"},
	{"user", "mod", cmd_user_mod,
	 "NAME [--first-name S] [--last-name S] [--home DIR] [--shell PATH] [--name NEW] "
	 "[--uid N] [--primary-role ROLE|none] [--force]",
	 "change a user's names, home, shell, login name, uid or primary role"},
	{"user", "del", cmd_user_del, "NAME", "delete a user with grants, emails and account"},
	{"user", "show", cmd_user_show, "NAME | --email ADDR", "show a user"},
	{"user", "list", cmd_user_list, "[--role ROLE] [--disabled] [--locked] [--expired]",
	 "list users, or the effective members of a role"},
	{"user", "enable", cmd_user_enable, "NAME", "allow a user to log in"},
	{"user", "disable", cmd_user_disable, "NAME", "stop a user from logging in"},
	{"user", "passwd", cmd_user_passwd, "NAME [--password-stdin | --password-hash-stdin]",
	 "set a user's password"},
	{"user", "unlock", cmd_user_unlock, "NAME", "clear the failed-login lockout"},
	{"user", "lock-password", cmd_user_lock_password, "NAME",
	 "refuse password logins (like passwd -l); keys still work"},
	{"user", "unlock-password", cmd_user_unlock_password, "NAME",
	 "undo lock-password: the password logs in again"},
	{"user", "expire", cmd_user_expire,
	 "NAME [--account DATE|never] [--not-before DATE|never] [--password-now] "
	 "[--min-days N|never] [--max-days N|never] [--warn-days N|never] "
	 "[--inactive-days N|never]",
	 "set account validity, password aging, or force a password change"},
	{"role", "add", cmd_role_add,
	 "NAME [--gid N] [--description S] [--permission P]... [--includes ROLE]... [--force]",
	 "create a role"},
	{"role", "mod", cmd_role_mod,
	 "NAME [--description S] [--add-permission P]... [--remove-permission P]... "
	 "[--include ROLE]... [--exclude ROLE]... [--name NEW] [--gid N] [--force]",
	 "change a role's description, permissions, inclusions, name or gid"},
	{"role", "del", cmd_role_del, "NAME", "delete a role"},
	{"role", "show", cmd_role_show, "NAME", "show a role"},
	{"role", "list", cmd_role_list, "", "list roles"},
	{NULL, "grant", cmd_grant, "USER ROLE [--from TIME] [--until TIME|never]",
	 "grant a role, optionally for a time"},
	{NULL, "revoke", cmd_revoke, "USER ROLE", "revoke a grant"},
	{"email", "add", cmd_email_add, "USER ADDR [--primary] [--confirmed]",
	 "add an email address"},
	{"email", "del", cmd_email_del, "USER ADDR", "remove an email address"},
	{"email", "confirm", cmd_email_confirm, "USER ADDR", "mark an address confirmed"},
	{"email", "primary", cmd_email_primary, "USER ADDR", "make an address the primary one"},
	{"email", "list", cmd_email_list, "USER", "list a user's addresses"},
	{"totp", "enroll", cmd_totp_enroll, "USER",
	 "make a pending second factor: key, otpauth:// URI and QR code"},
	{"totp", "confirm", cmd_totp_confirm, "USER CODE",
	 "put the pending second factor in force when CODE is right"},
	{"totp", "disable", cmd_totp_disable, "USER", "remove a user's second factor"},
	{"totp", "status", cmd_totp_status, "USER",
	 "whether a user has a second factor, and recovery codes left"},
	{"totp", "recovery-codes", cmd_totp_recovery_codes, "USER",
	 "print 10 new single-use recovery codes"},
	{NULL, "import", cmd_import,
	 "--from-system [--root DIR] [--min-uid N] [--max-uid N] [--dry-run] | FILE.json",
	 "create users, roles and grants from passwd, shadow, group and gshadow, or "
	 "everything from an export into an empty database"},
	{NULL, "export", cmd_export, "[--with-secrets]",
	 "print the whole database as JSON (with --with-secrets also hashes and second "
	 "factors)"},
	{NULL, "backup", cmd_backup, "DIR",
	 "copy both files, consistently while in use, into the new directory DIR"},
	{NULL, "restore", cmd_restore, "DIR", "put back a backup in one transaction"},
	{NULL, "check", cmd_check, "[DIR]",
	 "check the files, their pairing and the images (or a backup in DIR)"},
	{NULL, "log", cmd_log, "[--user USER] [--since TIME]",
	 "show the audit trail: who changed what, with this tool"},
	{NULL, "sync", cmd_sync, "[--follow | --status | --full] [--verify]",
	 "bring the local copy up to the central database's revision"},
	{NULL, "explain", cmd_explain, "USER SERVICE [--pam-dir DIR]",
	 "why SERVICE's account phase would allow or refuse USER now (exit 0 / 1)"},
	{"central", "init", cmd_central_init, "",
	 "create or upgrade userdb's schema in the central PostgreSQL database"},
	{"central", "push-local", cmd_central_push_local, "",
	 "copy this host's database into an empty central database (it becomes the admin mirror)"},
	{"central", "set", cmd_central_set, "fleet-deny|fleet-deny-window VALUE",
	 "set the failed logins across the fleet that lock an account everywhere, or their window"},
	{"host", "add", cmd_host_add, "NAME [--allow-role ROLE]... [--passfile PATH]",
	 "enrol a fleet host and print its configuration lines"},
	{"host", "allow", cmd_host_allow, "NAME ROLE", "let a role's members log in on a host"},
	{"host", "deny", cmd_host_deny, "NAME ROLE", "stop a role's members logging in on a host"},
	{"host", "list", cmd_host_list, "", "list the enrolled hosts and their allowed roles"},
	{"host", "del", cmd_host_del, "NAME", "remove a host and its PostgreSQL login"},
	{"ssh-key", "add", cmd_ssh_key_add, "USER KEY... [--comment S] [--until TIME]",
	 "add SSH public keys (authorized_keys lines, or - for lines on stdin)"},
	{"ssh-key", "del", cmd_ssh_key_del, "USER FINGERPRINT", "remove an SSH public key"},
	{"ssh-key", "list", cmd_ssh_key_list, "USER",
	 "list a user's SSH keys: type, SHA256 fingerprint, comment, added, until"},
	{NULL, "ssh-authorized-keys", cmd_ssh_authorized_keys, "USER",
	 "print USER's current keys for sshd's AuthorizedKeysCommand (any user may run it)"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The one error of a run: kept by cli_error() and printed by main() once
 * the exit status is known, as a line of text or, with --json, as one JSON
 * object. */
static struct {
	bool reported;
	enum udb_result result;
	char message[1024];
} error;

bool
cli_error_reported(void)
{
	return error.reported;
}

void
cli_error_forget(void)
{
	error.reported = false;
	error.message[0] = '\0';
}

enum udb_result
cli_error(enum udb_result r, const char *fmt, ...)
{
	va_list ap;

	if (error.reported)
		return r;
	error.reported = true;
	error.result = r;
	va_start(ap, fmt);
	vsnprintf(error.message, sizeof(error.message), fmt, ap);
	va_end(ap);
	/* Everything echoed back went through cli_quote(); this only guards
	 * the promise of exactly one line. */
	for (char *p = error.message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return r;
}

/* Adds key: s to o; false when out of memory. */
static bool
jadd_str(struct json_object *o, const char *key, const char *s)
{
	struct json_object *v = json_object_new_string(s);

	if (v && json_object_object_add(o, key, v) == 0)
		return true;
	json_object_put(v);
	return false;
}

/* The error object: {"error", "reason", "status" (the exit status), and
 * "notes" when the run made any}. */
static bool
build_error(struct json_object *o, int status)
{
	struct json_object *a = NULL;
	const char *note;

	if (!jadd_str(o, "error", error.message) ||
	    !jadd_str(o, "reason", udb_result_to_string(error.result)) ||
	    json_object_object_add(o, "status", json_object_new_int(status)) != 0)
		return false;
	if (!out_note_text(0))
		return true;
	a = json_object_new_array();
	if (!a || json_object_object_add(o, "notes", a) != 0) {
		json_object_put(a);
		return false;
	}
	for (size_t i = 0; (note = out_note_text(i)); i++)
		if (json_object_array_add(a, json_object_new_string(note)) != 0)
			return false;
	return true;
}

/* One JSON object on stderr: {"note": note}, or the error when note is
 * NULL. False when it could not be built (then nothing was printed). */
static bool
print_json(const char *note, int status)
{
	struct json_object *o = json_object_new_object();
	const char *s = NULL;

	if (o && (note ? jadd_str(o, "note", note) : build_error(o, status)))
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		fprintf(stderr, "%s\n", s);
	json_object_put(o);
	return s != NULL;
}

/* The notes and the error of the run on stderr: `userdb: note: ...` lines,
 * then `userdb: <message>`. With json a failed run prints only the error
 * object, notes inside it, and a successful one each note as {"note"}. */
static void
print_diagnostics(bool json, int status)
{
	const char *note;

	for (size_t i = 0; (note = out_note_text(i)); i++) {
		if (json && error.reported)
			break;
		if (!json || !print_json(note, status))
			fprintf(stderr, "userdb: note: %s\n", note);
	}
	if (error.reported && (!json || !print_json(NULL, status)))
		fprintf(stderr, "userdb: %s\n", error.message);
}

/* --json anywhere before `--`: an error found while parsing, before the
 * parser reached --json, is still reported as JSON. */
static bool
wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

enum udb_result
cli_fail(enum udb_result r, const char *what)
{
	return cli_error(r, "%s: %s", what, udb_result_to_string(r));
}

/* The one place a result becomes an exit status. A NOT_FOUND or INVALID
 * while loading the configuration is the configuration's fault. */
static int
exit_status(enum udb_result r, bool config)
{
	switch (r) {
	case UDB_OK:
		return EX_OK;
	case UDB_INVALID:
	case UDB_NOT_FOUND:
		if (config)
			return EX_CONFIG;
		return r == UDB_INVALID ? EX_USAGE : EX_NOUSER;
	case UDB_EXISTS:
	case UDB_CONFLICT:
	case UDB_CYCLE:
	case UDB_IN_USE:
		return EX_DATAERR;
	case UDB_PERMISSION:
	case UDB_AUTH_FAILED:
		return EX_NOPERM;
	case UDB_UNSAFE:
	case UDB_EXHAUSTED:
		return EX_CONFIG;
	case UDB_UNAVAILABLE:
	case UDB_CORRUPT:
	case UDB_SCHEMA:
		return EX_UNAVAILABLE;
	case UDB_BUSY:
	case UDB_STALE:
		return EX_TEMPFAIL;
	case UDB_IO:
		return EX_IOERR;
	case UDB_NO_MEMORY:
		return EX_OSERR;
	case UDB_BUFFER_TOO_SMALL:
	case UDB_INTERNAL:
		return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}

static void
print_usage(FILE *f, const char *group)
{
	fprintf(f, "usage: userdb [--config PATH] [--json] COMMAND ...\n\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *cmd = &commands[i];

		if (group && (!cmd->group || strcmp(cmd->group, group) != 0))
			continue;
		fprintf(f, "  userdb %s%s%s %s\n      %s\n", cmd->group ? cmd->group : "",
			cmd->group ? " " : "", cmd->name, cmd->synopsis, cmd->summary);
	}
	fprintf(f, "\nTimes: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS], @SECONDS or +N{s,m,h,d,w}, UTC.\n"
		   "Configuration: --config PATH, else $USERDB_CONF, else /etc/userdb.conf.\n"
		   "Run `userdb COMMAND --help` for a command's options.\n");
}

static const struct command *
find_command(const char *group, const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *cmd = &commands[i];

		if ((cmd->group == NULL) != (group == NULL))
			continue;
		if (group && strcmp(cmd->group, group) != 0)
			continue;
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	}
	return NULL;
}

static bool
is_group(const char *word)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i].group && strcmp(commands[i].group, word) == 0)
			return true;
	return false;
}

/* Finds the command named by argv (after the global options) and runs it. */
static enum udb_result
dispatch(struct cli *c, int argc, char **argv)
{
	const struct command *cmd;
	/* Static: c->name outlives this call (main() hands it to the audit
	 * record after the command returns). */
	static char name[64];

	if (argc < 1)
		return cli_error(UDB_INVALID, "missing command (see `userdb --help`)");
	if (strcmp(argv[0], "help") == 0) {
		print_usage(stdout, argc > 1 && is_group(argv[1]) ? argv[1] : NULL);
		return UDB_OK;
	}
	if (is_group(argv[0])) {
		if (argc < 2)
			return cli_error(UDB_INVALID,
					 "%s: missing subcommand (see `userdb %s --help`)", argv[0],
					 argv[0]);
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			print_usage(stdout, argv[0]);
			return UDB_OK;
		}
		cmd = find_command(argv[0], argv[1]);
		if (!cmd)
			return cli_error(UDB_INVALID,
					 "%s: unknown subcommand %s (see `userdb %s --help`)",
					 argv[0], cli_quote(argv[1]), argv[0]);
		argc--;
		argv++;
	} else {
		cmd = find_command(NULL, argv[0]);
		if (!cmd)
			return cli_error(UDB_INVALID, "unknown command %s (see `userdb --help`)",
					 cli_quote(argv[0]));
	}
	snprintf(name, sizeof(name), "%s%s%s", cmd->group ? cmd->group : "", cmd->group ? " " : "",
		 cmd->name);
	c->name = name;
	c->synopsis = cmd->synopsis;
	return cmd->fn(c, argc, argv);
}

/* The options before the command word (--config, --json, --help,
 * --version). Sets ret_done when nothing is left to run. */
static enum udb_result
global_options(struct cli *c, int argc, char **argv, bool *ret_done)
{
	static const struct option global[] = {
		{"config", required_argument, NULL, OPT_CONFIG},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	enum udb_result r = UDB_OK;
	int opt;

	opterr = 0;
	/* `+`: stop at the command word; the command parses the rest. */
	while (!*ret_done && (opt = getopt_long(argc, argv, "+:hV", global, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			c->config_path = optarg;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case 'h':
			print_usage(stdout, NULL);
			*ret_done = true;
			break;
		case 'V':
			printf("userdb %s (schema version %u)\n", UDB_VERSION,
			       udb_db_schema_version());
			*ret_done = true;
			break;
		case ':':
			r = cli_error(UDB_INVALID, "option --config needs a value");
			*ret_done = true;
			break;
		default:
			if (optopt > 0x20 && optopt < 0x7f)
				r = cli_error(UDB_INVALID,
					      "unknown option '-%c' (see `userdb --help`)", optopt);
			else
				r = cli_error(UDB_INVALID,
					      "unknown option %s (see `userdb --help`)",
					      cli_quote(argv[optind - 1]));
			*ret_done = true;
			break;
		}
	}
	return r;
}

int
main(int argc, char **argv)
{
	struct cli c = {.name = "userdb", .now = udb_now()};
	enum udb_result r = UDB_OK;
	bool done = false;
	int status;

	r = global_options(&c, argc, argv, &done);
	if (!done) {
		int first = optind;

		r = dispatch(&c, argc - first, argv + first);
		/* On fleet mode's admin box another admin committed between
		 * this command's check and its commit: nothing changed; run it
		 * once more on the mirror brought up to central. */
		if (r == UDB_STALE && c.central_stale) {
			cli_central_rerun_reset(&c);
			r = dispatch(&c, argc - first, argv + first);
		}
	}
	if (c.changed) {
		enum udb_result a = cli_audit_record(&c);

		if (r == UDB_OK)
			r = a;
	}
	/* As useradd does: a running nscd would otherwise serve the old
	 * entries (and a revoked role) until its cache expires. */
	if (c.changed) {
		enum udb_result n = udb_nscd_invalidate(NULL);

		if (n != UDB_OK)
			out_note("nscd did not confirm dropping its passwd and group caches (%s): "
				 "run `nscd -i passwd; nscd -i group`",
				 udb_result_to_string(n));
	}
	udb_db_close(c.db);
	udb_central_close(c.central);
	cli_central_free(&c);
	cli_password_forget(&c);
	udb_config_free(c.cfg);
	cli_parse_free(&c);
	if (r != UDB_OK && !cli_error_reported())
		cli_fail(r, c.name);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (r == UDB_OK)
			r = cli_error(UDB_IO, "standard output: %s", strerror(errno));
	}
	status = exit_status(r, c.config_failed);
	/* explain's answer "refused" is not an error. */
	if (r == UDB_OK && c.refused)
		status = 1;
	print_diagnostics(c.json || wants_json(argc, argv), status);
	return status;
}
