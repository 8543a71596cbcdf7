/* The configuration: /etc/userdb.conf (or the file USERDB_CONF / conf= /
 * --config names), `key = value` lines. Read by the CLI, the PAM module and
 * the NSS module at open time. */
#ifndef UDB_CONFIG_H
#define UDB_CONFIG_H

#include <stdint.h>

#include "result.h"

#define UDB_CONFIG_PATH   "/etc/userdb.conf"
#define UDB_DBDIR_DEFAULT "/var/lib/userdb"

struct udb_config {
	char *path;  /* the file it came from, NULL when only defaults */
	char *dbdir; /* directory of public.db and shadow.db */
	uint32_t uid_min, uid_max;
	uint32_t gid_min, gid_max;
	char *hash_method;       /* libxcrypt prefix, e.g. "$y$"; NULL = libxcrypt's default */
	unsigned long hash_cost; /* 0 = the method's default cost */
	unsigned deny;           /* failed logins before lockout, 0 = never */
	unsigned unlock_time;    /* seconds a lockout lasts, 0 = until `user unlock` */
	unsigned pass_min_len;
	char *default_shell;
	char *home_base;
	/* Fleet mode (doc/userdb.conf.5): the central PostgreSQL database as a
	 * libpq conninfo, NULL when single-host; and, on a host of the fleet,
	 * the host's name as enrolled with `userdb host add`, NULL on the admin
	 * side. */
	char *central;
	char *host;
	/* On a host: after max_offline seconds without a successful sync
	 * (0: never, the default), the account phase refuses users holding
	 * one of offline_roles (NULL-terminated, or NULL). */
	unsigned max_offline;
	char **offline_roles;
};

/* What is wrong with a configuration that did not load. Nothing in it
 * quotes the file: a caller allowed to run `userdb` through sudo may point
 * --config at a file it cannot read (/etc/shadow), so messages name the
 * file, the line number, a known key and the reason, never a line's text. */
struct udb_config_error {
	const char *path; /* the file concerned (the argument, USERDB_CONF or the default) */
	unsigned line;    /* the offending line, 0 when not about one line */
	const char *key;  /* the known key concerned, or NULL (static text) */
	char reason[192]; /* e.g. "must be a number from 1 to 4294967294" */
};

/* Loads the configuration. path NULL means: USERDB_CONF (through
 * secure_getenv, so setuid programs ignore it), else /etc/userdb.conf if it
 * exists, else the defaults. A named file that is missing is an error; so is
 * a file that is a symlink, not a regular file, owned by anyone but root (or
 * the caller, when its real and effective uids are equal, which makes
 * unprivileged test setups possible) or writable by anyone but its owner.
 * On failure *ret_error says what and where. Whether hash_method can take
 * hash_cost is not checked here (that needs libcrypt, which the NSS module
 * must not load): callers that hash call udb_config_check_hash() from
 * hash.h next. */
enum udb_result udb_config_load_explained(const char *path, struct udb_config **ret_config,
					  struct udb_config_error *ret_error);
/* The same, for callers that only want the line (0: not about one line). */
enum udb_result udb_config_load(const char *path, struct udb_config **ret_config,
				unsigned *ret_error_line);
void udb_config_free(struct udb_config *config);

/* Checks that an open file may be trusted: a regular file (or, when
 * want_dir, a directory) owned by root or by the caller (real and effective
 * uid equal), and not writable by group or others unless that group is
 * root's (trust.h's udb_trust_explain says why not). */
enum udb_result udb_check_trusted_fd(int fd, int want_dir);
/* The same check on what stat or lstat found. */
struct stat;
enum udb_result udb_check_trusted_stat(const struct stat *st, int want_dir);

#endif
