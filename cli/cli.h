/* Shared between the files of the admin tool `userdb` only: the command
 * context, the command entry points that main.c dispatches to, error
 * reporting, argument checks, opening the database, password input and
 * printing. Nothing outside cli/ includes this. */
#ifndef UDB_CLI_H
#define UDB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "config.h"
#include "db.h"
#include "email.h"
#include "result.h"
#include "role.h"
#include "user.h"

struct json_object;
struct udb_central;
struct udb_central_admin;

/* One run of the tool. Commands fill cfg and db through cli_open() after
 * every argument has been checked, so bad input never touches a file. */
struct cli {
	const char *config_path; /* --config; NULL: USERDB_CONF, else /etc/userdb.conf */
	const char *name;        /* "user add", for messages */
	const char *synopsis;    /* of the running command, for --help */
	bool json;
	bool config_failed; /* the error came from the configuration */
	struct udb_config *cfg;
	struct udb_db *db;
	struct udb_central *central; /* fleet commands: the central database */
	bool central_only;           /* the command changes central only: no local audit row */
	bool public_only;            /* a read command could not open the shadow file */
	bool force;                  /* --force: take a shell or id the checks would refuse */
	struct udb_central_admin *central_admin; /* the admin box's sender (central_admin.c) */
	bool host_local;    /* the command changes only a host's own state (user unlock) */
	bool central_stale; /* central moved on between the check and the commit */
	char *cached_hash;  /* the run's password hash, kept for a rerun (password.c) */
	int64_t now;
	/* What a change touched or allocated, added to out_done()'s JSON:
	 * names that are NULL and ids or times that are 0 stay out. */
	struct cli_subject {
		const char *user, *role, *email;
		uint32_t uid, gid;
		int64_t from, until; /* a grant's dates */
		bool terminate;      /* --terminate was given: "terminated" is shown */
		unsigned terminated; /* the processes it signalled */
	} subject;
	bool refused;            /* explain: the login would be refused (exit 1) */
	bool changed;            /* out_done() reported a change (nscd is then flushed) */
	char audit_message[512]; /* the change's message, for the audit trail */
	/* The command's words, copied by cli_changed(): c->name points into
	 * dispatch()'s frame, gone when the trail is written. */
	char audit_command[64];
	const char **lists[8]; /* the option lists of cli_parse() */
	size_t n_lists;
};

/* A command: argv[0] is its last word ("add"); options follow. Returns
 * UDB_OK or the failure, which it has reported with cli_error(). */
typedef enum udb_result (*cli_command_fn)(struct cli *c, int argc, char **argv);

/* main.c: error reporting. Prints `userdb: <message>` as the one line on
 * stderr (later calls in the same run print nothing) and returns r. */
enum udb_result cli_error(enum udb_result r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* `what: <udb_result_to_string(r)>`. */
enum udb_result cli_fail(enum udb_result r, const char *what);
bool cli_error_reported(void);
/* Forgets the run's error (a command run again: cli_central_rerun_reset). */
void cli_error_forget(void);

/* parse.c: the one parse of a command line. A command lists its options,
 * each with where its value goes, and its positional arguments; --json,
 * --config and --help are added to every command. */
enum cli_opt_kind {
	CLI_FLAG,  /* dest is a bool: set to true */
	CLI_VALUE, /* dest is a const char *: the value (a repeat replaces it) */
	CLI_LIST,  /* dest is a struct cli_list: every value, in order */
};
struct cli_list {
	const char **v; /* owned by the struct cli; freed by cli_parse_free() */
	size_t n;
};
struct cli_opt {
	const char *name; /* without the leading "--" */
	enum cli_opt_kind kind;
	void *dest;
};
struct cli_args {
	const char *help;           /* printed after the usage line by --help */
	const struct cli_opt *opts; /* ends with a zero entry; NULL: none */
	const char *const *names;   /* of the positionals ("NAME"), for messages */
	int min_args, max_args;
	const char **args; /* receives the positionals (max_args entries) */
};
enum cli_parse_result {
	CLI_PARSED,     /* every value is in place; positionals are not empty */
	CLI_HELP_SHOWN, /* --help was printed: the command is done (exit 0) */
	CLI_BAD_ARGS,   /* reported with cli_error() */
};
enum cli_parse_result cli_parse(struct cli *c, int argc, char **argv, const struct cli_args *a);
/* What a command returns when cli_parse() did not give CLI_PARSED. */
enum udb_result cli_parse_status(enum cli_parse_result p);
void cli_parse_free(struct cli *c);

/* parse.c: a command that takes a user NAME and options (NULL: none) (user
 * del, enable, ...): parses, checks the name and opens the database for
 * writing. *ret_name stays NULL when --help was printed instead. */
enum udb_result cli_user_command(struct cli *c, int argc, char **argv, const char *help,
				 const struct cli_opt *opts, const char **ret_name);

/* session.c: a user's running processes. cli_terminate() ends them
 * (SIGHUP, then SIGKILL after a short grace) when the account's change
 * took its access away (the caller decides), reports a failure with
 * cli_error() and sets c->subject.terminate and .terminated (shown in the
 * JSON) to the number signalled. */
enum udb_result cli_terminate(struct cli *c, const char *name, uint32_t uid);
/* The text for a change message: "; ended N processes" or "". */
const char *cli_terminated_text(const struct cli *c);

/* open.c: configuration and database. */
enum cli_access {
	CLI_WRITE,       /* both files, read-write: root */
	CLI_READ,        /* both files if allowed, else the public file only */
	CLI_READ_SHADOW, /* both files, read-only: root (or the files' owner) */
	/* both files, read-write, and never through central on fleet mode's
	 * admin box: what this box keeps for itself (its audit rows) */
	CLI_WRITE_LOCAL,
};
enum udb_result cli_load_config(struct cli *c);
enum udb_result cli_open(struct cli *c, enum cli_access access);
enum udb_result cmd_init(struct cli *c, int argc, char **argv);
/* sync.c: `userdb sync` (fleet mode). */
enum udb_result cmd_sync(struct cli *c, int argc, char **argv);
enum udb_result cmd_compact(struct cli *c, int argc, char **argv);
/* A name for a new user or role (what: "user", "role") or a new uid / gid
 * (what: "uid", "gid") must be free in userdb and in every other name
 * service source; reports which it is not. An id must also be inside the
 * configured range, unless c->force. */
enum udb_result check_new_name(struct cli *c, const char *what, const char *name);
enum udb_result check_new_id(struct cli *c, const char *what, uint32_t id);
/* A transaction around several core calls (they nest inside it). cli_finish
 * commits when r is UDB_OK and rolls back otherwise; it reports a failed
 * commit and returns the final result. */
enum udb_result cli_begin(struct cli *c);
enum udb_result cli_finish(struct cli *c, enum udb_result r);

/* central_admin.c: on fleet mode's admin box (`central` set, no `host`), makes
 * the write handle c->db send every change to central (reported with
 * cli_error() when that fails) after checking that central is reachable and
 * the mirror current; a no-op otherwise. cli_central_free() at exit. */
enum udb_result cli_central_attach(struct cli *c);
void cli_central_free(struct cli *c);
/* Prepares a second run of the command after its commit found central
 * moved on (c->central_stale): closes the store, forgets the run's error,
 * notes and parse, keeps the configuration and the password hash. */
void cli_central_rerun_reset(struct cli *c);

/* args.c: argument checks, each reporting its own error. */
enum udb_result arg_username(const char *s);
enum udb_result arg_rolename(const char *s);
enum udb_result arg_email(const char *s);
enum udb_result arg_permission(const char *s);
enum udb_result arg_text(const char *option, const char *s);
enum udb_result arg_path(const char *option, const char *s);
/* A login shell: an absolute path listed in /etc/shells, or an executable
 * named nologin or false (the "no login" shells /etc/shells leaves out);
 * with force any valid path, with a note. */
enum udb_result arg_shell(const char *option, const char *s, bool force);
enum udb_result arg_id(const char *option, const char *s, uint32_t *ret_id);
/* A time for option; "never" gives 0 when allow_never. */
enum udb_result arg_time(const char *option, const char *s, int64_t now, bool allow_never,
			 int64_t *ret_time);
/* Days for aging: a number up to 99999, or "never" (UDB_DAYS_UNSET). */
enum udb_result arg_days(const char *option, const char *s, int *ret_days);
/* Reports a failed lookup or change of a user / role by name. */
enum udb_result report_user(enum udb_result r, const char *name);
enum udb_result report_role(enum udb_result r, const char *name);

/* password.c: a new password, hashed with the configured method. */
enum udb_result cli_password_hash(struct cli *c, bool from_stdin, const char *username,
				  char **ret_hash);
/* password.c: a ready-made hash from one line of stdin (one trailing \r
 * dropped), checked with udb_hash_check_stored(). */
enum udb_result cli_password_hash_stdin(struct cli *c, char **ret_hash);
/* Wipes and frees the hash the run kept for a rerun (main.c, at exit). */
void cli_password_forget(struct cli *c);

/* Commands (user.c, account.c, role.c, grant.c, email.c, totp.c). */
enum udb_result cmd_user_add(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_mod(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_del(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_show(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_list(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_enable(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_disable(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_passwd(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_unlock(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_lock_password(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_unlock_password(struct cli *c, int argc, char **argv);
enum udb_result cmd_user_expire(struct cli *c, int argc, char **argv);
enum udb_result cmd_role_add(struct cli *c, int argc, char **argv);
enum udb_result cmd_role_mod(struct cli *c, int argc, char **argv);
enum udb_result cmd_role_del(struct cli *c, int argc, char **argv);
enum udb_result cmd_role_show(struct cli *c, int argc, char **argv);
enum udb_result cmd_role_list(struct cli *c, int argc, char **argv);
enum udb_result cmd_grant(struct cli *c, int argc, char **argv);
enum udb_result cmd_revoke(struct cli *c, int argc, char **argv);
enum udb_result cmd_email_add(struct cli *c, int argc, char **argv);
enum udb_result cmd_email_del(struct cli *c, int argc, char **argv);
enum udb_result cmd_email_confirm(struct cli *c, int argc, char **argv);
enum udb_result cmd_email_primary(struct cli *c, int argc, char **argv);
enum udb_result cmd_email_list(struct cli *c, int argc, char **argv);
enum udb_result cmd_totp_enroll(struct cli *c, int argc, char **argv);
enum udb_result cmd_totp_confirm(struct cli *c, int argc, char **argv);
enum udb_result cmd_totp_disable(struct cli *c, int argc, char **argv);
enum udb_result cmd_totp_status(struct cli *c, int argc, char **argv);
enum udb_result cmd_totp_recovery_codes(struct cli *c, int argc, char **argv);
enum udb_result cmd_import(struct cli *c, int argc, char **argv);
enum udb_result cmd_explain(struct cli *c, int argc, char **argv);
/* central.c: the central database and its hosts. */
enum udb_result cmd_central_init(struct cli *c, int argc, char **argv);
/* central_admin.c: `central push-local`. */
enum udb_result cmd_central_push_local(struct cli *c, int argc, char **argv);
enum udb_result cmd_central_set(struct cli *c, int argc, char **argv);
enum udb_result cmd_host_add(struct cli *c, int argc, char **argv);
enum udb_result cmd_host_allow(struct cli *c, int argc, char **argv);
enum udb_result cmd_host_deny(struct cli *c, int argc, char **argv);
enum udb_result cmd_host_del(struct cli *c, int argc, char **argv);
enum udb_result cmd_host_list(struct cli *c, int argc, char **argv);
enum udb_result cmd_ssh_key_add(struct cli *c, int argc, char **argv);
enum udb_result cmd_ssh_key_del(struct cli *c, int argc, char **argv);
enum udb_result cmd_ssh_key_list(struct cli *c, int argc, char **argv);
enum udb_result cmd_ssh_authorized_keys(struct cli *c, int argc, char **argv);

/* The audit trail. cli_changed() (output.c) marks the run as having
 * changed something and keeps message (the first one) for the trail;
 * cli_audit_record() (audit.c) then logs it to authpriv and adds the
 * audit row (main.c, once, after the command). */
void cli_changed(struct cli *c, const char *message);
enum udb_result cli_audit_record(struct cli *c);
enum udb_result cmd_log(struct cli *c, int argc, char **argv);
/* export.c: export, and import of its JSON (called by cmd_import). */
enum udb_result cmd_export(struct cli *c, int argc, char **argv);
enum udb_result cli_import_json(struct cli *c, const char *path);
/* backup.c: backup, restore and check. */
enum udb_result cmd_backup(struct cli *c, int argc, char **argv);
enum udb_result cmd_restore(struct cli *c, int argc, char **argv);
enum udb_result cmd_check(struct cli *c, int argc, char **argv);

/* output.c: printing. */

/* s in single quotes, safe for a terminal: bytes outside printable ASCII
 * and the quote and backslash are escaped (\n, \xNN), and input past 128
 * bytes is cut with its length noted. Returns one of a few static buffers
 * that rotate, so up to four may appear in one message. */
const char *cli_quote(const char *s);

/* The result of a change: a line for people; with --json one object with
 * "changed", "message" and what c->subject names ("user", "role",
 * "email", "uid", "gid", "from", "until"). */
void out_done(struct cli *c, bool changed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A note on stderr that is not an error (the command still succeeds). */
void out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The i-th note of the run, NULL past the last; main() prints them. */
const char *out_note_text(size_t i);
/* Drops the notes made so far (a command run again). */
void out_notes_forget(void);

/* Everything `user show` shows. Fields stay NULL / 0 when not read. */
struct cli_user_view {
	struct udb_user *user;
	char **roles; /* effective, sorted */
	bool *inherited;
	size_t n_roles;
	struct udb_grant *grants;
	size_t n_grants;
	char **permissions;
	size_t n_permissions;
	bool have_shadow; /* emails and account were read */
	struct udb_email *emails;
	size_t n_emails;
	struct udb_account *account;
	int64_t now;
	/* The admin box of a fleet: the last login across the fleet that the
	 * hosts pushed to central (fleet_login NONE on any other store). */
	enum {
		FLEET_LOGIN_NONE,
		FLEET_LOGIN_NEVER,
		FLEET_LOGIN_FOUND,
		FLEET_LOGIN_UNREACHABLE
	} fleet_login;
	int64_t fleet_login_at;
	char fleet_login_host[64];
	char fleet_login_from[256];
};
enum udb_result out_user(struct cli *c, const struct cli_user_view *v);
/* Every reason the account cannot log in at now ("disabled, locked"), or
 * "ok"; in buf (128 bytes are enough). */
const char *cli_account_status(const struct udb_account *a, int64_t now, char *buf, size_t size);

/* `user list`: begin, one call per user with its account (NULL when the
 * shadow file was not read), end. complete is false after an error: the
 * rows are dropped. */
void out_user_list_begin(struct cli *c);
enum udb_result out_user_list_item(struct cli *c, const struct udb_user *u,
				   const struct udb_account *a);
void out_user_list_end(struct cli *c, bool complete);

struct cli_role_view {
	struct udb_role *role;
	char **permissions; /* its own */
	size_t n_permissions;
	char **includes; /* roles it includes directly */
	size_t n_includes;
	char **all_permissions; /* its own and those of every role it includes */
	size_t n_all_permissions;
	char **members; /* effective members now */
	size_t n_members;
};
enum udb_result out_role(struct cli *c, const struct cli_role_view *v);
/* `role list`: views with role, permissions and includes filled. */
enum udb_result out_role_list(struct cli *c, const struct cli_role_view *views, size_t n);

enum udb_result out_email_list(struct cli *c, const char *user, const struct udb_email *emails,
			       size_t n);

enum udb_result out_init(struct cli *c, const char *dbdir, unsigned old_version,
			 unsigned new_version);

#endif
