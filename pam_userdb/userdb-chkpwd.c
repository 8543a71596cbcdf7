/* userdb-chkpwd: checks a database user's password for a caller that cannot
 * read the shadow file (a screen locker running as the user), and records
 * the attempt like a login, so that no unprivileged path guesses uncounted.
 * Run by pam_userdb.so (chkpwd.c), installed setuid root under libexecdir,
 * as unix_chkpwd is for pam_unix:
 *
 *   userdb-chkpwd USER        the password on stdin, up to EOF
 *
 * Exit status: 0 right password and not locked; 1 refused (wrong, locked,
 * or the attempt could not be recorded); 2 no such database user; 3 USER
 * is not the caller (only root may check another user's password); 4 the
 * configuration or the database cannot be used; 64 bad usage.
 *
 * It cannot be used to hold the database's write lock:
 *  1. the caller's uid is noted, then all three uids become root's, so
 *     the caller can no longer send it any signal (kill(2) needs the
 *     caller's uid to be the target's real or saved uid): no SIGSTOP;
 *  2. it leaves the caller's session (setsid) and ignores the terminal's
 *     signals, so ^Z and ^C at the caller's terminal do not reach it;
 *  3. the password is read and hashed before any lock is taken; the write
 *     lock is held only for the few statements of udb_attempt_record,
 *     with nothing the caller controls in between.
 * What it does not stop is noted in README ("Unprivileged callers"). The
 * environment is cleared; USERDB_CONF is read with secure_getenv, so a
 * setuid run always uses the default configuration and its deny and
 * unlock_time. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "account.h"
#include "attempt.h"
#include "config.h"
#include "db.h"
#include "hash.h"
#include "outbox.h"
#include "user.h"
#include "validate.h"

enum {
	EXIT_ACCEPTED = 0,
	EXIT_REFUSED = 1,
	EXIT_UNKNOWN = 2,
	EXIT_NOT_CALLER = 3,
	EXIT_UNAVAILABLE = 4,
	EXIT_USAGE = 64,
};

/* Steps 1 and 2 of the header. */
static void
detach_from_caller(void)
{
	static const int ignored[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGPIPE};

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	if (geteuid() == 0 && setresuid(0, 0, 0) != 0)
		_exit(EXIT_UNAVAILABLE);
	setsid();
}

/* The password from stdin: at most UDB_PASSWORD_MAX + 1 bytes are kept (a
 * longer one never verifies, after the same work); false on a read error
 * or a NUL byte. */
static bool
read_password(char *buf, size_t size)
{
	size_t n = 0;
	char sink[256];
	ssize_t got;

	for (;;) {
		if (n < size - 1)
			got = read(STDIN_FILENO, buf + n, size - 1 - n);
		else
			got = read(STDIN_FILENO, sink, sizeof(sink));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return false;
		if (got == 0)
			break;
		if (n < size - 1)
			n += (size_t)got;
	}
	buf[n] = '\0';
	explicit_bzero(sink, sizeof(sink));
	return strlen(buf) == n;
}

/* Hash first, no lock held; then the short write transaction. */
static int
check(const struct udb_config *cfg, struct udb_db *db, const struct udb_account *account,
      const char *password)
{
	enum udb_attempt attempt = UDB_ATTEMPT_WRONG;
	char *new_hash = NULL;
	enum udb_result verified, r;

	verified = udb_hash_verify_timed(cfg, password, account->password_hash, &new_hash);
	r = udb_attempt_record(db, account, verified == UDB_OK, udb_now(), cfg->deny,
			       cfg->unlock_time, &attempt);
	if (r != UDB_OK) {
		syslog(LOG_ERR, "password check refused for %s: the attempt cannot be recorded: %s",
		       account->username, udb_result_to_string(r));
		udb_secret_free(new_hash);
		return EXIT_REFUSED;
	}
	if (attempt == UDB_ATTEMPT_ACCEPTED && new_hash &&
	    udb_account_upgrade_hash(db, account->user_id, account->password_hash, new_hash) ==
		    UDB_OK)
		syslog(LOG_INFO, "password hash of %s upgraded", account->username);
	udb_secret_free(new_hash);
	if (attempt == UDB_ATTEMPT_ACCEPTED)
		return EXIT_ACCEPTED;
	syslog(LOG_NOTICE, "password check failure for %s; uid=%u%s", account->username,
	       (unsigned)getuid(),
	       attempt == UDB_ATTEMPT_LOCKED       ? "; account locked"
	       : attempt == UDB_ATTEMPT_LOCKED_NOW ? "; account now locked"
						   : "");
	return EXIT_REFUSED;
}

/* The user's account, once the caller may check it. */
static int
run(const char *conf, const char *name, uid_t caller, const char *password)
{
	struct udb_config *cfg = NULL;
	struct udb_account *account = NULL;
	struct udb_user *user = NULL;
	struct udb_db *db = NULL;
	enum udb_result r;
	unsigned line = 0;
	int status = EXIT_UNAVAILABLE;

	r = udb_config_load(conf, &cfg, &line);
	if (r == UDB_OK)
		r = udb_config_check_hash(cfg);
	if (r == UDB_OK)
		r = udb_db_open(cfg->dbdir, UDB_OPEN_WRITE, &db);
	if (r == UDB_OK) {
		/* A fleet host queues failures for central (outbox.h). */
		udb_db_set_outbox(db, cfg->central && cfg->host);
		r = udb_user_by_name(db, name, &user);
	}
	if (r == UDB_OK)
		r = udb_account_by_name(db, name, &account);
	if (r == UDB_NOT_FOUND) {
		status = EXIT_UNKNOWN;
	} else if (r != UDB_OK) {
		syslog(LOG_ERR, "cannot check a password: %s", udb_result_to_string(r));
	} else if (caller != 0 && caller != user->uid) {
		/* unix_chkpwd's rule: no oracle for someone else's password. */
		syslog(LOG_WARNING, "uid %u may not check the password of %s", (unsigned)caller,
		       name);
		status = EXIT_NOT_CALLER;
	} else {
		status = check(cfg, db, account, password);
	}
	udb_account_free(account);
	udb_user_free(user);
	udb_db_close(db);
	udb_config_free(cfg);
	return status;
}

int
main(int argc, char **argv)
{
	char password[UDB_PASSWORD_MAX + 2];
	const char *env_conf = secure_getenv("USERDB_CONF");
	char *conf = env_conf ? strdup(env_conf) : NULL;
	uid_t caller = getuid();
	int status;

	detach_from_caller();
	clearenv();
	openlog("userdb-chkpwd", LOG_PID, LOG_AUTHPRIV);
	if (argc != 2 || !udb_valid_username(argv[1]) || isatty(STDIN_FILENO)) {
		fprintf(stderr, "usage: userdb-chkpwd USER <PASSWORD (run by pam_userdb.so)\n");
		free(conf);
		return EXIT_USAGE;
	}
	if (!read_password(password, sizeof(password)))
		status = EXIT_REFUSED;
	else
		status = run(conf, argv[1], caller, password);
	explicit_bzero(password, sizeof(password));
	free(conf);
	return status;
}
