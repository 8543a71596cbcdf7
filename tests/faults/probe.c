/* A probe for the shell tests of tests/faults/: calls the NSS module's
 * symbols (dlopen) or runs one PAM login, and prints what came back, one
 * word per call, for the script to compare.
 *
 *   probe nss MODULE USER UID ROLE
 *       getpwnam=ST getpwuid=ST getgrnam=ST initgroups=ST getpwent=ST
 *       getgrent=ST getspnam=ST        (ST: SUCCESS, NOTFOUND, UNAVAIL, ...,
 *       or WRONG: SUCCESS with data that is not the user's)
 *   probe nss-warm MODULE USER UID ROLE READY GO
 *       the same twice: "before: ..." , then it creates READY, waits for GO
 *       to exist (the script breaks the database meanwhile), "after: ..."
 *   probe pam PAMDIR SERVICE USER PASSWORD [RHOST]
 *       auth=CODE account=CODE session=CODE  (CODE: PAM_SUCCESS, ...)
 *   probe login PAMDIR SERVICE USER PASSWORD
 *       login=CODE at=STEP: one whole login on one handle, as sshd, su and
 *       sudo run it (pam_authenticate, pam_acct_mgmt, then the session);
 *       STEP is the call that gave CODE (the last one on success)
 *   probe integrity DBDIR
 *       integrity=ok half=N   (N users in one file only), or the complaint
 *   probe hold DIR
 *       opens DIR and every file in it it can, takes a read lock on every
 *       byte of each (fcntl, from 0 to the end of all offsets), prints
 *       "NAME locked" or "NAME not-opened" per file, then "held", and keeps
 *       the locks until it is killed
 *
 * Any other status than the listed words is printed as a number, and a
 * crash shows as the probe's exit status; the scripts treat both as
 * failures. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

static struct hx_nss nss;
static char buf[1 << 16];

/* Prints what=ST; a SUCCESS whose data is not right prints WRONG. right is
 * only looked at for SUCCESS (the struct is unset otherwise). */
static void
show(const char *what, enum nss_status st, bool right)
{
	printf(" %s=%s", what,
	       st == NSS_STATUS_SUCCESS && !right ? "WRONG" : hx_nss_status_name(st));
}

static bool
has_member(char **mem, const char *name)
{
	for (; mem && *mem; mem++)
		if (strcmp(*mem, name) == 0)
			return true;
	return false;
}

/* One call of each kind; the database holds one user (user, uid) in one
 * role (role). */
static void
nss_round(const char *user, uid_t uid, const char *role)
{
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t)), role_gid = (gid_t)-1;
	bool in_role = false;
	enum nss_status st;
	int err = 0;

	if (!groups)
		hx_die("out of memory");
	st = nss.getpwnam_r(user, &pw, buf, sizeof(buf), &err);
	show("getpwnam", st,
	     st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, user) == 0 && pw.pw_uid == uid);
	st = nss.getpwuid_r(uid, &pw, buf, sizeof(buf), &err);
	show("getpwuid", st,
	     st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, user) == 0 && pw.pw_uid == uid);
	st = nss.getgrnam_r(role, &gr, buf, sizeof(buf), &err);
	if (st == NSS_STATUS_SUCCESS)
		role_gid = gr.gr_gid;
	show("getgrnam", st,
	     st == NSS_STATUS_SUCCESS && strcmp(gr.gr_name, role) == 0 &&
		     has_member(gr.gr_mem, user));
	groups[0] = uid;
	st = nss.initgroups_dyn(user, uid, &start, &size, &groups, -1, &err);
	for (long i = 1; i < start; i++)
		in_role |= groups[i] == role_gid;
	show("initgroups", st, in_role || role_gid == (gid_t)-1);
	nss.setpwent(0);
	st = nss.getpwent_r(&pw, buf, sizeof(buf), &err);
	show("getpwent", st,
	     st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, user) == 0 && pw.pw_uid == uid);
	nss.endpwent();
	nss.setgrent(0);
	st = nss.getgrent_r(&gr, buf, sizeof(buf), &err);
	show("getgrent", st,
	     st == NSS_STATUS_SUCCESS &&
		     (strcmp(gr.gr_name, role) == 0 || strcmp(gr.gr_name, user) == 0));
	nss.endgrent();
	st = nss.getspnam_r(user, &sp, buf, sizeof(buf), &err);
	show("getspnam", st,
	     st == NSS_STATUS_SUCCESS && strcmp(sp.sp_namp, user) == 0 && sp.sp_pwdp[0] == '$');
	putchar('\n');
	fflush(stdout);
	free(groups);
}

static const char *
pam_name(int rc)
{
	static char other[32];

	switch (rc) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_AUTH_ERR:
		return "PAM_AUTH_ERR";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR:
		return "PAM_SERVICE_ERR";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_SESSION_ERR:
		return "PAM_SESSION_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_BUF_ERR:
		return "PAM_BUF_ERR";
	case PAM_ACCT_EXPIRED:
		return "PAM_ACCT_EXPIRED";
	case PAM_NEW_AUTHTOK_REQD:
		return "PAM_NEW_AUTHTOK_REQD";
	}
	snprintf(other, sizeof(other), "PAM_%d", rc);
	return other;
}

static int
probe_pam(int argc, char **argv)
{
	const char *rhost = argc > 6 ? argv[6] : NULL;
	struct hx h = {0};

	snprintf(h.pamdir, sizeof(h.pamdir), "%s", argv[2]);
	printf("auth=%s",
	       pam_name(hx_pam_login(&h, argv[3], argv[4], argv[5], rhost, false, NULL)));
	printf(" account=%s", pam_name(hx_pam_account(&h, argv[3], argv[4])));
	printf(" session=%s\n", pam_name(hx_pam_session(&h, argv[3], argv[4], rhost)));
	return 0;
}

static int
probe_login(char **argv)
{
	struct hx h = {0};
	const char *step = "pam_start";
	int rc;

	snprintf(h.pamdir, sizeof(h.pamdir), "%s", argv[2]);
	rc = hx_pam_login(&h, argv[3], argv[4], argv[5], NULL, true, &step);
	printf("login=%s at=%s\n", pam_name(rc), step);
	return 0;
}

static int
probe_integrity(const char *dbdir)
{
	struct hx h = {0};
	char msg[512];

	snprintf(h.dbdir, sizeof(h.dbdir), "%s", dbdir);
	if (!hx_integrity(&h, msg, sizeof(msg)))
		printf("integrity=%s", msg);
	else
		printf("integrity=ok");
	printf(" half=%lld\n", (long long)hx_half_users(&h));
	return 0;
}

/* A read lock on every byte of fd; true when it was granted. */
static bool
lock_all(int fd)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

	return fcntl(fd, F_SETLK, &fl) == 0;
}

static int
probe_hold(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (dfd < 0) {
		printf(". not-opened\nheld\n");
		fflush(stdout);
		pause();
		return 0;
	}
	printf(". %s\n", lock_all(dfd) ? "locked" : "not-locked");
	d = fdopendir(dup(dfd));
	while (d && (e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.' && (!e->d_name[1] || strcmp(e->d_name, "..") == 0))
			continue;
		/* Never closed: closing would drop the locks. */
		fd = openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			printf("%s not-opened\n", e->d_name);
		else
			printf("%s %s\n", e->d_name, lock_all(fd) ? "locked" : "not-locked");
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	struct stat st;

	if (argc >= 6 && strcmp(argv[1], "pam") == 0)
		return probe_pam(argc, argv);
	if (argc == 6 && strcmp(argv[1], "login") == 0)
		return probe_login(argv);
	if (argc == 3 && strcmp(argv[1], "hold") == 0)
		return probe_hold(argv[2]);
	if (argc == 3 && strcmp(argv[1], "integrity") == 0)
		return probe_integrity(argv[2]);
	if (argc < 6 || (strcmp(argv[1], "nss") != 0 && strcmp(argv[1], "nss-warm") != 0) ||
	    (strcmp(argv[1], "nss-warm") == 0 && argc < 8)) {
		fprintf(stderr, "usage: probe nss MODULE USER UID ROLE\n"
				"       probe nss-warm MODULE USER UID ROLE READY GO\n"
				"       probe pam PAMDIR SERVICE USER PASSWORD [RHOST]\n"
				"       probe integrity DBDIR\n"
				"       probe hold DIR\n");
		return 64;
	}
	hx_nss_load(argv[2], &nss);
	if (strcmp(argv[1], "nss") == 0) {
		nss_round(argv[3], (uid_t)atol(argv[4]), argv[5]);
		return 0;
	}
	fputs("before:", stdout);
	nss_round(argv[3], (uid_t)atol(argv[4]), argv[5]);
	close(open(argv[6], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	for (int i = 0; i < 3000 && stat(argv[7], &st) < 0; i++)
		usleep(10000);
	fputs("after:", stdout);
	nss_round(argv[3], (uid_t)atol(argv[4]), argv[5]);
	return 0;
}
