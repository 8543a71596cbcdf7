/* The arguments of one pam_userdb.so module line: which are ours, which
 * values are bad, and the comma-separated role and permission lists. One
 * home for these rules: pam_userdb/args.c parses its argv with them (and
 * logs), and `userdb explain` parses the lines it finds in a PAM
 * configuration with them, so both read a line the same way. */
#ifndef UDB_PAM_ARGS_H
#define UDB_PAM_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* Built into pam_userdb.so, so that `userdb explain` can tell userdb's
 * module from Linux-PAM's Berkeley DB pam_userdb.so of the same name. */
#define UDB_PAM_MODULE_MARKER "userdb-pam-module: pam_userdb.so of userdb (roles and permissions)"

/* second_factor=: when auth asks for a TOTP code after the password. */
enum udb_second_factor {
	UDB_SECOND_FACTOR_ENROLLED = 0, /* the default: users who have one */
	UDB_SECOND_FACTOR_REQUIRED,     /* everyone; users without one are refused */
	UDB_SECOND_FACTOR_OFF,          /* never */
	UDB_SECOND_FACTOR_ENROL,        /* as enrolled; users without one enrol at login */
};

/* Strings point into the argument strings given to udb_pam_arg_parse, so
 * a struct udb_pam_args lives no longer than they do. */
struct udb_pam_args {
	bool debug;
	bool nodelay;     /* no pam_fail_delay (pam_unix's nodelay) */
	const char *conf; /* NULL: udb_config_load's default */
	/* NULL: the installed userdb-chkpwd (PUD_CHKPWD_PATH, from meson) */
	const char *chkpwd;
	/* NULL: the installed userdb-central-passwd (PUD_CENTRAL_PASSWD_PATH) */
	const char *central_passwd;
	bool has_deny;
	unsigned deny;
	bool has_unlock_time;
	unsigned unlock_time;
	bool has_minlen;
	unsigned minlen;
	/* Comma-separated lists exactly as given, every item checked to be a
	 * valid role name / permission; NULL when the argument is absent. */
	const char *roles_required;
	const char *roles_accepted;
	const char *permissions_required;
	const char *permissions_accepted;
	bool require_confirmed_email;
	enum udb_second_factor second_factor;
	bool has_totp_window;
	unsigned totp_window; /* steps either side of now; UDB_TOTP_WINDOW when unset */
};

/* Parses one argument into *args: UDB_OK for one of ours (or one that
 * libpam itself reads, such as use_first_pass), UDB_INVALID for one of
 * ours with a bad value (a typo in `deny=` or `roles_required=` must not
 * quietly weaken a gate), UDB_NOT_FOUND for an argument that is not ours
 * (the module logs and ignores it). */
enum udb_result udb_pam_arg_parse(const char *arg, struct udb_pam_args *args);

/* Copies the next item of a comma-separated list (validated by
 * udb_pam_arg_parse) into buf and advances *cursor; false at the end. */
bool udb_pam_list_next(const char **cursor, char *buf, size_t size);

#endif
