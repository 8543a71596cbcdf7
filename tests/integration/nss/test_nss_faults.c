/* A database that cannot be used: missing, corrupt, symlinked, writable by
 * others, locked. Every lookup must then say UNAVAIL or TRYAGAIN, never
 * NOTFOUND (glibc would move on and callers would believe "no such user"),
 * print nothing, and recover at the next lookup once the fault is gone.
 * Run by meson (suite nss). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "module.h"

static char big[1 << 16];

/* Every kind of lookup gives want / want_errno. */
static void
check_all_lookups(enum nss_status want, int want_errno)
{
	struct passwd pw;
	struct group gr;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	int err;
	enum nss_status st;

	err = 0;
	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getpwuid_r(2001, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getgrgid_r(NFX_STAFF_GID, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	groups[0] = 2001;
	st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	mod.setpwent(0);
	st = mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	mod.endpwent();
	err = 0;
	mod.setgrent(0);
	st = mod.getgrent_r(&gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	mod.endgrent();
	free(groups);
}

static void
path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", nfx.dbdir, name);
}

/* Replaces public.db by a file of the given bytes, keeping the original
 * aside as public.db.orig. */
static void
replace_public(const void *bytes, size_t len)
{
	char pub[256], orig[256];
	int fd;

	path(pub, sizeof(pub), "public.db");
	path(orig, sizeof(orig), "public.db.orig");
	ck_assert_int_eq(rename(pub, orig), 0);
	fd = open(pub, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

static void
restore_public(void)
{
	char pub[256], orig[256];

	path(pub, sizeof(pub), "public.db");
	path(orig, sizeof(orig), "public.db.orig");
	unlink(pub);
	ck_assert_int_eq(rename(orig, pub), 0);
}

START_TEST(test_missing_database_unavail_then_recovers)
{
	char away[256];

	/* A lookup first, so the module holds an open connection: the files
	 * going away must still be noticed at the next lookup. */
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	snprintf(away, sizeof(away), "%s/away", nfx.dir);
	ck_assert_int_eq(rename(nfx.dbdir, away), 0);
	check_all_lookups(NSS_STATUS_UNAVAIL, ENOENT);
	ck_assert_int_eq(rename(away, nfx.dbdir), 0);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_missing_config_unavail)
{
	setenv("USERDB_CONF", "/nonexistent/userdb.conf", 1);
	check_all_lookups(NSS_STATUS_UNAVAIL, ENOENT);
	setenv("USERDB_CONF", nfx.conf, 1);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_corrupt_database_unavail)
{
	char garbage[8192];

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7919 % 251);
	replace_public(garbage, sizeof(garbage));
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	restore_public();
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_empty_database_unavail)
{
	replace_public("", 0);
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	restore_public();
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_symlinked_database_unavail)
{
	char pub[256], real[256];

	path(pub, sizeof(pub), "public.db");
	path(real, sizeof(real), "real.db");
	ck_assert_int_eq(rename(pub, real), 0);
	ck_assert_int_eq(symlink(real, pub), 0);
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	unlink(pub);
	ck_assert_int_eq(rename(real, pub), 0);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_world_writable_database_unavail)
{
	char pub[256];

	path(pub, sizeof(pub), "public.db");
	ck_assert_int_eq(chmod(pub, 0666), 0);
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	ck_assert_int_eq(chmod(pub, 0644), 0);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

/* In WAL mode readers are never blocked by userdb's writers. What does block
 * them is a connection holding an exclusive lock on the database file:
 * SQLite in exclusive locking mode (an admin's `sqlite3` session with
 * `PRAGMA locking_mode=EXCLUSIVE`), or WAL recovery. Such a holder must
 * make lookups TRYAGAIN/EAGAIN (glibc tries the next source, nobody caches
 * "no such user"), and lookups work again once it lets go. The holder has
 * to come first: once the module's connection is open it holds a shared
 * lock the holder could not get past. */
START_TEST(test_locked_database_tryagain)
{
	char pub[256];
	int ready[2], release[2];
	pid_t pid;
	char c = 0;
	int status = 0;

	/* The fixture's own writer keeps a shared lock too: close it. */
	udb_db_close(nfx.db);
	nfx.db = NULL;
	path(pub, sizeof(pub), "public.db");
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(release), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db = NULL;
		int rc;

		rc = sqlite3_open_v2(pub, &db, SQLITE_OPEN_READWRITE, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db,
					  "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
					  "SELECT count(*) FROM users",
					  NULL, NULL, NULL);
		c = rc == SQLITE_OK ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(release[0], &c, 1) != 1)
			_exit(2);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_msg(c == 'y', "the lock holder could not lock");
	check_all_lookups(NSS_STATUS_TRYAGAIN, EAGAIN);
	ck_assert_int_eq(write(release[1], &c, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

/* A module lives in every process: it must never write to the program's
 * stdout or stderr, whatever goes wrong. */
START_TEST(test_nothing_printed_on_errors)
{
	char out[256], away[256];
	struct stat st;
	int fd, saved_out, saved_err;

	snprintf(out, sizeof(out), "%s/output", nfx.dir);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	snprintf(away, sizeof(away), "%s/away", nfx.dir);
	rename(nfx.dbdir, away);
	check_all_lookups(NSS_STATUS_UNAVAIL, ENOENT);
	setenv("USERDB_CONF", "/nonexistent", 1);
	check_all_lookups(NSS_STATUS_UNAVAIL, ENOENT);
	setenv("USERDB_CONF", nfx.conf, 1);
	rename(away, nfx.dbdir);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(fd);
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

/* Every descriptor the module opens is close-on-exec: a program that
 * looks a user up and then runs another must not leak the database. */
START_TEST(test_descriptors_close_on_exec)
{
	struct spwd sp;
	bool before[1024] = {false};
	int err = 0, new_fds = 0;

	for (int fd = 0; fd < 1024; fd++)
		before[fd] = fcntl(fd, F_GETFD) >= 0;
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
	for (int fd = 0; fd < 1024; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags < 0 || before[fd])
			continue;
		new_fds++;
		ck_assert_msg(flags & FD_CLOEXEC, "fd %d is not close-on-exec", fd);
	}
	ck_assert_int_gt(new_fds, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_faults");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_missing_database_unavail_then_recovers);
	tcase_add_test(tc, test_missing_config_unavail);
	tcase_add_test(tc, test_corrupt_database_unavail);
	tcase_add_test(tc, test_empty_database_unavail);
	tcase_add_test(tc, test_symlinked_database_unavail);
	tcase_add_test(tc, test_world_writable_database_unavail);
	tcase_add_test(tc, test_locked_database_tryagain);
	tcase_add_test(tc, test_nothing_printed_on_errors);
	tcase_add_test(tc, test_descriptors_close_on_exec);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
