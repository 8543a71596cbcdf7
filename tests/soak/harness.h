/* The test bed shared by the soak (tests/soak/) and the fault injection
 * tests (tests/faults/): a temporary database directory with a config file
 * that USERDB_CONF names, the built admin tool run as a child process, the
 * built NSS module dlopen()ed and called through its symbols, the built PAM
 * module driven through pam_start_confdir() with a private service
 * directory, and read-only SQL checks on both files. Everything is black
 * box: the database is only ever changed through `userdb` or the modules.
 * Failures of the bed itself exit with status 99 (meson: hard error). */
#ifndef UDB_HARNESS_H
#define UDB_HARNESS_H

#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hx {
	char dir[256];    /* the temporary directory, 0755 */
	char dbdir[300];  /* dir/db */
	char conf[300];   /* dir/userdb.conf, exported as USERDB_CONF */
	char pamdir[300]; /* dir/pam: the PAM service files */
	char errfile[300];
	char userdb[4096]; /* the admin tool */
	char pam_module[4096];
};

/* Paths may be relative; they are made absolute (PAM wants that). Creates
 * the directory, writes the config (hash sha512crypt with 1000
 * rounds, so a login costs half a millisecond; then extra_conf), exports
 * USERDB_CONF and runs `userdb init`. */
void hx_setup(struct hx *h, const char *userdb, const char *pam_module, const char *extra_conf);
/* Removes the directory, unless keep. */
void hx_teardown(struct hx *h, bool keep);
void hx_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Runs `userdb ARGS...` (NULL-terminated), with stdin_text (may be NULL:
 * /dev/null) as its standard input; returns its exit status, or 128 + the
 * signal that ended it. Its stderr is kept in h->errfile; hx_last_error()
 * returns the first line. */
int hx_userdb(struct hx *h, const char *stdin_text, ...) __attribute__((sentinel));
int hx_userdbv(struct hx *h, const char *stdin_text, const char *const argv[]);
const char *hx_last_error(struct hx *h);
/* Starts `userdb` without waiting; extra_env (may be NULL) is one more
 * NAME=VALUE for it. Collect it with hx_wait(). */
pid_t hx_userdb_start(struct hx *h, const char *stdin_text, const char *extra_env,
		      const char *const argv[]);
int hx_wait(pid_t pid);

/* The NSS module's entry points. */
struct hx_nss {
	nss_getpwnam_r *getpwnam_r;
	nss_getpwuid_r *getpwuid_r;
	nss_setpwent *setpwent;
	nss_getpwent_r *getpwent_r;
	nss_endpwent *endpwent;
	nss_getgrnam_r *getgrnam_r;
	nss_getgrgid_r *getgrgid_r;
	nss_setgrent *setgrent;
	nss_getgrent_r *getgrent_r;
	nss_endgrent *endgrent;
	nss_initgroups_dyn *initgroups_dyn;
	nss_getspnam_r *getspnam_r;
	nss_setspent *setspent;
	nss_getspent_r *getspent_r;
	nss_endspent *endspent;
};
void hx_nss_load(const char *path, struct hx_nss *ret);
const char *hx_nss_status_name(enum nss_status st);

/* Writes the PAM service file pamdir/name: auth, account, password and
 * session lines naming the module with conf= and args. */
void hx_pam_service(struct hx *h, const char *name, const char *args);

/* One login through libpam as the application would run it: pam_start on
 * service (from pamdir), PAM_RHOST (may be NULL), pam_authenticate with
 * password; then, when session is set and auth succeeded, pam_acct_mgmt
 * and pam_open_session / pam_close_session. Returns the first code that
 * was not PAM_SUCCESS (or PAM_SUCCESS); *ret_step (may be NULL) names the
 * call that gave it. */
int hx_pam_login(struct hx *h, const char *service, const char *user, const char *password,
		 const char *rhost, bool session, const char **ret_step);
/* The same, only pam_acct_mgmt (no password asked). */
int hx_pam_account(struct hx *h, const char *service, const char *user);
/* Only pam_open_session and pam_close_session, with PAM_RHOST (may be
 * NULL), as sshd does after a key login. */
int hx_pam_session(struct hx *h, const char *service, const char *user, const char *rhost);

/* Read-only SQL on the database: public.db as main with shadow.db
 * attached as `sec`. hx_sql_int returns the first column of the first row
 * (missing: dflt). */
int64_t hx_sql_int(struct hx *h, const char *sql, int64_t dflt);
/* PRAGMA integrity_check on both files: true when both say "ok";
 * otherwise the first complaint is in msg. */
bool hx_integrity(struct hx *h, char *msg, size_t size);
/* Users in one file only: public users without an account row plus
 * accounts without a user. */
int64_t hx_half_users(struct hx *h);

/* Monotonic seconds. */
double hx_now(void);

#endif
