/* userdb-central-passwd: a fleet host's password write-back. pam_userdb.so
 * (writeback.c) runs it when a password is changed through PAM on a host
 * (`host =` in userdb.conf), so that the change goes to the central
 * database first; the module writes its local copy only after this
 * succeeded. It exists so that pam_userdb.so, which sshd, login and su
 * load, does not link libpq: only this program talks to PostgreSQL.
 *
 *   userdb-central-passwd USER_ID AT     the new hash on stdin, up to EOF
 *
 * It calls userdb.host_set_password(USER_ID, hash, AT) with the host's own
 * login (the config's `central` line and its passfile), connect_timeout
 * capped at CONNECT_SECONDS, and prints central's revision of the change.
 *
 * Exit status: 0 committed (the revision on stdout); 1 central refused the
 * change (the user may not log in on this host, or not a hash); 2 central
 * refused the host's login; 3 the caller is not root; 4 the configuration
 * cannot be used or is not a fleet host's; 5 central is unreachable; 6
 * central failed otherwise; 64 bad usage.
 *
 * Not setuid: it must be run by root (real and effective uid 0), as
 * pam_userdb does from a root application or a setuid passwd, which has
 * made the caller prove the current password. Anyone else is refused
 * before the configuration is read (the host's passfile is root's anyway),
 * so a user cannot set anyone's password through it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "central.h"
#include "config.h"
#include "hash.h"

#define CONNECT_SECONDS 3
#define HASH_MAX        512

enum {
	EXIT_DONE = 0,
	EXIT_REFUSED = 1,
	EXIT_LOGIN_REFUSED = 2,
	EXIT_NOT_ROOT = 3,
	EXIT_CONFIG = 4,
	EXIT_UNREACHABLE = 5,
	EXIT_FAILED = 6,
	EXIT_USAGE = 64,
};

/* The hash from stdin, without a final newline; false when it is empty,
 * longer than HASH_MAX or holds a NUL or another line. */
static bool
read_hash(char *buf, size_t size)
{
	size_t n = 0;
	ssize_t got;

	for (;;) {
		got = read(STDIN_FILENO, buf + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == size - 1)
			return false;
	}
	if (got < 0)
		return false;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n > 0 && strlen(buf) == n && !strchr(buf, '\n');
}

static bool
parse_int(const char *s, int64_t *ret)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return false;
	*ret = v;
	return true;
}

static int
exit_of(enum udb_result r)
{
	switch (r) {
	case UDB_OK:
		return EXIT_DONE;
	case UDB_PERMISSION:
	case UDB_INVALID:
		return EXIT_REFUSED;
	case UDB_AUTH_FAILED:
		return EXIT_LOGIN_REFUSED;
	case UDB_UNAVAILABLE:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_FAILED;
	}
}

/* Sends the change; logs why it failed. */
static int
send_change(const struct udb_config *cfg, int64_t user_id, int64_t at, const char *hash)
{
	struct udb_central *central = NULL;
	int64_t rev = 0;
	enum udb_result r;
	char err[512];

	r = udb_central_connect_within(cfg->central, CONNECT_SECONDS, &central, err, sizeof(err));
	if (r != UDB_OK) {
		syslog(LOG_ERR, "password of user id %" PRId64 " not changed: central: %s: %s",
		       user_id, udb_result_to_string(r), err);
		return exit_of(r);
	}
	r = udb_central_host_set_password(central, user_id, hash, at, &rev);
	if (r != UDB_OK)
		syslog(r == UDB_PERMISSION ? LOG_WARNING : LOG_ERR,
		       "password of user id %" PRId64 " not changed: central: %s: %s", user_id,
		       udb_result_to_string(r), udb_central_error(central));
	udb_central_close(central);
	if (r != UDB_OK)
		return exit_of(r);
	syslog(LOG_INFO, "password of user id %" PRId64 " changed centrally, revision %" PRId64,
	       user_id, rev);
	printf("%" PRId64 "\n", rev);
	return fflush(stdout) == 0 ? EXIT_DONE : EXIT_FAILED;
}

int
main(int argc, char **argv)
{
	const char *env_conf = secure_getenv("USERDB_CONF");
	struct udb_config *cfg = NULL;
	char hash[HASH_MAX + 2];
	int64_t user_id = 0, at = 0;
	unsigned line = 0;
	enum udb_result r;
	int status;

	openlog("userdb-central-passwd", LOG_PID, LOG_AUTHPRIV);
	if (getuid() != 0 || geteuid() != 0) {
		fprintf(stderr, "userdb-central-passwd: only root may run this\n");
		syslog(LOG_WARNING, "refused: run by uid %u", (unsigned)getuid());
		return EXIT_NOT_ROOT;
	}
	if (argc != 3 || !parse_int(argv[1], &user_id) || !parse_int(argv[2], &at) ||
	    isatty(STDIN_FILENO)) {
		fprintf(stderr, "usage: userdb-central-passwd USER_ID AT <HASH (run by "
				"pam_userdb.so)\n");
		return EXIT_USAGE;
	}
	if (!read_hash(hash, sizeof(hash))) {
		fprintf(stderr, "userdb-central-passwd: no hash on stdin\n");
		explicit_bzero(hash, sizeof(hash));
		return EXIT_USAGE;
	}
	r = udb_config_load(env_conf, &cfg, &line);
	if (r != UDB_OK || !cfg->central || !cfg->host) {
		syslog(LOG_ERR, "password not changed: %s",
		       r != UDB_OK ? "the configuration cannot be read" : "not a fleet host");
		status = EXIT_CONFIG;
	} else {
		status = send_change(cfg, user_id, at, hash);
	}
	explicit_bzero(hash, sizeof(hash));
	udb_config_free(cfg);
	return status;
}
