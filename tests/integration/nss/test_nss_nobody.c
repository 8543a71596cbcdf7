/* The module in an unprivileged process (uid and gid nobody, no
 * supplementary groups): shadow lookups are UNAVAIL with EACCES, while
 * passwd and group lookups keep working and see changes at the next
 * lookup (such a reader cannot write the -shm file, a different path
 * through SQLite), and a thread cancelled in a lookup leaves no lock held.
 * Needs root to drop to nobody: exits 77 (skipped)
 * otherwise. Run by meson (suite nss). */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "module.h"
#include "user.h"

#define NOBODY 65534

static char big[1 << 16];

/* Failures in the unprivileged child go to the parent through a pipe. */
static int report_fd = -1;

static void
child_fail(const char *what, enum nss_status st, int err)
{
	dprintf(report_fd, "%s: got %s errno %d", what, status_name(st), err);
	_exit(1);
}

static void
expect(const char *what, enum nss_status st, int err, enum nss_status want, int want_err)
{
	if (st != want || (want != NSS_STATUS_SUCCESS && err != want_err))
		child_fail(what, st, err);
}

static void
as_nobody(int ready_fd, int go_fd)
{
	static const char *const staff[] = {"alice", "bob", NULL};
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	int err = 0;
	char c;
	enum nss_status st;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		child_fail("dropping privileges", NSS_STATUS_UNAVAIL, errno);
	st = mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
	expect("getspnam", st, err, NSS_STATUS_UNAVAIL, EACCES);
	mod.setspent(0);
	err = 0;
	st = mod.getspent_r(&sp, big, sizeof(big), &err);
	expect("getspent", st, err, NSS_STATUS_UNAVAIL, EACCES);
	mod.endspent();
	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	expect("getpwnam", st, err, NSS_STATUS_SUCCESS, 0);
	if (strcmp(pw.pw_gecos, "Alice Liddell") != 0)
		child_fail("getpwnam gecos", st, 0);
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	expect("getgrnam", st, err, NSS_STATUS_SUCCESS, 0);
	if (!members_are(gr.gr_mem, staff))
		child_fail("getgrnam members", st, 0);
	/* Still refused after public lookups, and the other way round. */
	err = 0;
	st = mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
	expect("getspnam again", st, err, NSS_STATUS_UNAVAIL, EACCES);
	/* The parent changes alice now; the very next lookup shows it. */
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(2);
	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	expect("getpwnam after change", st, err, NSS_STATUS_SUCCESS, 0);
	if (strcmp(pw.pw_gecos, "Alicia Liddell") != 0)
		child_fail("gecos after change", st, 0);
	_exit(0);
}

START_TEST(test_unprivileged_caller)
{
	struct udb_user_changes ch = {.first_name = "Alicia"};
	int report[2], ready[2], go[2], status = 0;
	char msg[512] = "", c;
	ssize_t n;
	pid_t pid;

	/* No connection that can write the -shm file may be open while the
	 * child reads: SQLite's read-only shared-memory mode (the usual case for
	 * unprivileged callers) is only used when no such connection exists. */
	udb_db_close(nfx.db);
	nfx.db = NULL;
	ck_assert_int_eq(pipe(report), 0);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(report[0]);
		report_fd = report[1];
		as_nobody(ready[1], go[0]);
	}
	close(report[1]);
	close(ready[1]);
	/* Once the child made its first lookups (or failed), change alice. */
	if (read(ready[0], &c, 1) == 1) {
		ck_assert_int_eq(udb_db_open(nfx.dbdir, UDB_OPEN_WRITE, &nfx.db), UDB_OK);
		ck_assert_int_eq(udb_user_modify(nfx.db, "alice", &ch, udb_now()), UDB_OK);
		udb_db_close(nfx.db);
		nfx.db = NULL;
	}
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	n = read(report[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "as nobody: %s", msg);
}
END_TEST

/* A process that read a hash as root and then dropped to nobody gets no
 * hash at its next getspnam: every call opens the shadow image anew, so
 * the credentials checked are the ones the process has at that call, as
 * with nss_files and /etc/shadow. Root only. */
START_TEST(test_dropped_privileges_no_hash)
{
	int report[2], status = 0;
	char msg[512] = "";
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(pipe(report), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct spwd sp;
		int err = 0;
		enum nss_status st;

		close(report[0]);
		report_fd = report[1];
		st = mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
		expect("getspnam as root", st, err, NSS_STATUS_SUCCESS, 0);
		if (strcmp(sp.sp_pwdp, NFX_HASH) != 0)
			child_fail("the hash as root", st, 0);
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			child_fail("dropping privileges", NSS_STATUS_UNAVAIL, errno);
		memset(big, 0, sizeof(big));
		err = 0;
		st = mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
		expect("getspnam after dropping", st, err, NSS_STATUS_UNAVAIL, EACCES);
		if (memmem(big, sizeof(big), NFX_HASH, strlen(NFX_HASH)))
			child_fail("the hash is in the buffer", st, 0);
		_exit(0);
	}
	close(report[1]);
	n = read(report[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", msg);
}
END_TEST

#ifndef __SANITIZE_ADDRESS__
/* pthread_cancel() of a thread in the middle of a lookup. An unprivileged
 * reader goes through pread() inside SQLite, a cancellation point: if
 * cancellation could act there, the thread would die holding the module's
 * lock and the next lookup would hang (alarm() then fails the test). */
static void *
looker(void *arg)
{
	struct passwd pw;
	int err = 0;

	(void)arg;
	for (;;) {
		mod.getpwuid_r(2001, &pw, big, sizeof(big), &err);
		/* Where the program's own cancellation points would be. */
		pthread_testcancel();
	}
	return NULL;
}

START_TEST(test_cancelled_thread_leaves_no_lock)
{
	int status = 0;
	pid_t pid;

	/* As above: with the fixture's writer closed, every lookup of the
	 * unprivileged child rereads pages with pread(). */
	udb_db_close(nfx.db);
	nfx.db = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct passwd pw;
		pthread_t thread;
		int err = 0;

		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(2);
		for (int i = 0; i < 20; i++) {
			if (pthread_create(&thread, NULL, looker, NULL) != 0)
				_exit(3);
			usleep(5000);
			pthread_cancel(thread);
			pthread_join(thread, NULL);
			alarm(5);
			if (mod.getpwnam_r("alice", &pw, big, sizeof(big), &err) !=
			    NSS_STATUS_SUCCESS)
				_exit(4);
			alarm(0);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST
#endif

int
main(void)
{
	Suite *s = suite_create("nss_nobody");
	TCase *tc;
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("not root: cannot become nobody, skipped\n");
		return 77;
	}
	module_load();
	tc = tcase_create("nobody");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_unprivileged_caller);
	tcase_add_test(tc, test_dropped_privileges_no_hash);
#ifndef __SANITIZE_ADDRESS__
	/* ASan reports a stack overflow of its own in any thread that ends by
	 * pthread_cancel (google/sanitizers#1399): a false positive. */
	tcase_add_test(tc, test_cancelled_thread_leaves_no_lock);
#endif
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
