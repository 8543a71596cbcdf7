/* Unit tests of common/procs.c: a uid's processes are counted by real,
 * effective or saved uid, and --terminate's SIGHUP-then-SIGKILL ends all
 * of them, those that ignore the hangup and those forked meanwhile
 * included. Needs root (the children switch to a spare uid). */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "procs.h"

#define SPARE_UID 64123

enum child_kind { PLAIN, IGNORES_HUP, SAVED_UID_ONLY, FORKS_ON_HUP };

static void
on_hup_fork(int sig)
{
	(void)sig;
	if (fork() == 0)
		for (;;)
			pause();
}

/* A child of the given kind, running as SPARE_UID; returns once it is. */
static pid_t
spawn(enum child_kind kind)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		if (kind == IGNORES_HUP)
			signal(SIGHUP, SIG_IGN);
		if (kind == FORKS_ON_HUP)
			signal(SIGHUP, on_hup_fork);
		if (kind == SAVED_UID_ONLY ? setresuid(65534, 65534, SPARE_UID) < 0
					   : setresuid(SPARE_UID, SPARE_UID, SPARE_UID) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static unsigned
count(void)
{
	unsigned n = 99;

	ck_assert_int_eq(udb_procs_count(SPARE_UID, &n), UDB_OK);
	return n;
}

START_TEST(test_udb_procs_count_and_terminate)
{
	pid_t pids[4];
	unsigned signalled = 0;
	int status;

	if (geteuid() != 0)
		return;
	ck_assert_uint_eq(count(), 0);
	pids[0] = spawn(PLAIN);
	pids[1] = spawn(IGNORES_HUP);
	pids[2] = spawn(SAVED_UID_ONLY);
	pids[3] = spawn(FORKS_ON_HUP);
	ck_assert_uint_eq(count(), 4);
	ck_assert_int_eq(udb_procs_terminate(SPARE_UID, 300, &signalled), UDB_OK);
	/* The four, and the child the last one forked on SIGHUP. */
	ck_assert_uint_eq(signalled, 5);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFSIGNALED(status));
	}
	ck_assert_uint_eq(count(), 0);
	ck_assert_int_eq(udb_procs_terminate(SPARE_UID, 300, &signalled), UDB_OK);
	ck_assert_uint_eq(signalled, 0);
}
END_TEST

START_TEST(test_udb_procs_root_refused)
{
	unsigned n = 0;

	ck_assert_int_eq(udb_procs_count(0, &n), UDB_INVALID);
	ck_assert_int_eq(udb_procs_terminate(0, 0, &n), UDB_INVALID);
}
END_TEST

static Suite *
procs_suite(void)
{
	Suite *s = suite_create("procs");
	TCase *tc;

	tc = fx_tcase(s, "udb_procs", false);
	tcase_add_test(tc, test_udb_procs_count_and_terminate);
	tcase_add_test(tc, test_udb_procs_root_refused);
	return s;
}

int
main(void)
{
	return fx_main(procs_suite());
}
