/*
 * A stand-in libnss_userdb.so.2 that knows exactly one user, e2estub
 * (uid 4343), built and used only by tests/e2e/selftest.sh.
 *
 * It lets the harness prove, before the real module builds, that glibc in
 * getent, in setuid sudo and in sshd finds a module called "userdb" in a
 * private directory through the private ld.so cache that e2e_setup_nss binds
 * over /etc/ld.so.cache. It is never installed and shares no code with
 * nss_userdb/.
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#define STUB_NAME "e2estub"
#define STUB_UID  4343

#define STUB_EXPORT __attribute__((visibility("default")))

/* The typedefs from <nss.h> make a wrong prototype a build error. */
STUB_EXPORT nss_getpwnam_r _nss_userdb_getpwnam_r;
STUB_EXPORT nss_getpwuid_r _nss_userdb_getpwuid_r;

static const char *const stub_strings[] = {STUB_NAME, "x", "e2e stub user", "/", "/bin/sh"};

/*
 * Copies the fixed record into the caller's buffer. glibc retries with a
 * larger buffer after ERANGE + NSS_STATUS_TRYAGAIN, so a short buffer is
 * reported, never truncated.
 */
static enum nss_status
stub_pack(struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	char *fields[5];
	size_t used = 0;
	size_t i;

	for (i = 0; i < 5; i++) {
		size_t len = strlen(stub_strings[i]) + 1;

		if (buflen - used < len) {
			*errnop = ERANGE;
			return NSS_STATUS_TRYAGAIN;
		}
		fields[i] = memcpy(buf + used, stub_strings[i], len);
		used += len;
	}
	pwd->pw_name = fields[0];
	pwd->pw_passwd = fields[1];
	pwd->pw_gecos = fields[2];
	pwd->pw_dir = fields[3];
	pwd->pw_shell = fields[4];
	pwd->pw_uid = STUB_UID;
	pwd->pw_gid = STUB_UID;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	if (strcmp(name, STUB_NAME) != 0)
		return NSS_STATUS_NOTFOUND;
	return stub_pack(pwd, buf, buflen, errnop);
}

enum nss_status
_nss_userdb_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	if (uid != STUB_UID)
		return NSS_STATUS_NOTFOUND;
	return stub_pack(pwd, buf, buflen, errnop);
}
