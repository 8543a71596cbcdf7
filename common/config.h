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
};

/* Loads the configuration. path NULL means: USERDB_CONF (through
 * secure_getenv, so setuid programs ignore it), else /etc/userdb.conf if it
 * exists, else the defaults. A named file that is missing is an error; so is
 * a file that is a symlink or writable by anyone but root (or the caller's
 * own euid, which makes unprivileged test setups possible). On failure
 * *ret_error_line holds the offending line number (0 for file-level errors).
 * Whether hash_method can take hash_cost is not checked here (that needs
 * libcrypt, which the NSS module must not load): callers that hash call
 * udb_config_check_hash() from hash.h next. */
enum udb_result udb_config_load(const char *path, struct udb_config **ret_config,
				unsigned *ret_error_line);
void udb_config_free(struct udb_config *config);

/* Checks that an open file may be trusted: a regular file (or, when
 * want_dir, a directory) owned by root or by the effective uid, and not
 * writable by group or others unless that group is root's. */
enum udb_result udb_check_trusted_fd(int fd, int want_dir);
/* The same check on what stat or lstat found. */
struct stat;
enum udb_result udb_check_trusted_stat(const struct stat *st, int want_dir);

#endif
