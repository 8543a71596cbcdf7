/* The module living in real processes: a change made through the core is
 * in the very next lookup, in this process and after another process made
 * it; a database replaced by another is seen at the next lookup; lookups
 * work in a fork child while the parent goes on; and twelve threads
 * looking up at once while another process adds users and grants and
 * revokes roles get no error and no wrong answer. Run by meson (suite
 * nss). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "module.h"
#include "role.h"
#include "user.h"

static char big[1 << 16];

static void
expect_gecos(const char *name, const char *gecos)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st = mod.getpwnam_r(name, &pw, big, sizeof(big), &err);

	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(pw.pw_gecos, gecos);
}

static void
expect_staff(const char *const *members)
{
	struct group gr;
	int err = 0;
	enum nss_status st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);

	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_msg(members_are(gr.gr_mem, members), "staff members");
}

START_TEST(test_change_visible_at_next_lookup)
{
	static const char *const with_carol[] = {"alice", "bob", "carol", NULL};
	static const char *const without[] = {"alice", "bob", NULL};
	struct udb_user_changes ch = {.last_name = "Pleasance"};
	struct passwd pw;
	int err = 0;
	enum nss_status st;

	expect_gecos("alice", "Alice Liddell");
	expect_staff(without);
	ck_assert_int_eq(udb_user_modify(nfx.db, "alice", &ch, udb_now()), UDB_OK);
	expect_gecos("alice", "Alice Pleasance");
	nfx_grant("carol", "staff", 0, 0);
	expect_staff(with_carol);
	nfx_revoke("carol", "staff");
	expect_staff(without);
	nfx_user("frank", 2006, "Frank", NULL, NULL, NULL, false);
	expect_gecos("frank", "Frank");
	ck_assert_int_eq(udb_user_delete(nfx.db, "frank"), UDB_OK);
	st = mod.getpwnam_r("frank", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
}
END_TEST

/* Lookups read the mapped image and never the store: after lookups of
 * every kind the process has nss.img mapped and no SQLite file mapped or
 * open. */
START_TEST(test_image_mapped_store_never_opened)
{
	struct group gr;
	int err = 0;

	udb_db_close(nfx.db);
	nfx.db = NULL;
	expect_gecos("alice", "Alice Liddell");
	ck_assert_int_eq(mod.getgrnam_r("staff", &gr, big, sizeof(big), &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(file_mapped("nss.img"), 1);
	ck_assert_int_eq(file_mapped("public.db"), 0);
	ck_assert_int_eq(file_mapped("public.db-shm"), 0);
	ck_assert_int_eq(file_mapped("shadow.db-shm"), 0);
}
END_TEST

START_TEST(test_change_by_other_process_visible)
{
	int status = 0;
	pid_t pid;

	expect_gecos("bob", "Bob");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct udb_user_changes ch = {.first_name = "Robert"};
		struct udb_db *db = NULL;

		if (udb_db_open(nfx.dbdir, UDB_OPEN_WRITE, &db) != UDB_OK)
			_exit(2);
		_exit(udb_user_modify(db, "bob", &ch, udb_now()) == UDB_OK ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	expect_gecos("bob", "Robert");
}
END_TEST

static void *
alice_gecos_is_restored(void *unused)
{
	static char buf[4096];
	struct passwd pw;
	int err = 0;

	(void)unused;
	if (mod.getpwnam_r("alice", &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
		return NULL;
	return strcmp(pw.pw_gecos, "Restored") == 0 ? buf : NULL;
}

/* Restoring a backup by swapping directories: a process that has the old
 * image mapped keeps its consistent view (noticing costs no system call:
 * only a write through the directory it mapped from tells it), and every
 * process that maps afresh (a new one, here a fork child that has no
 * image yet after the swap) sees the restored data. */
START_TEST(test_replaced_database_seen_at_next_lookup)
{
	struct udb_user_changes ch = {.first_name = "Restored"};
	char copy[256], old[256];
	struct udb_db *db = NULL;

	expect_gecos("alice", "Alice Liddell");
	snprintf(copy, sizeof(copy), "%s/copy", nfx.dir);
	snprintf(old, sizeof(old), "%s/old", nfx.dir);
	ck_assert_int_eq(udb_db_init(copy, NULL), UDB_OK);
	ck_assert_int_eq(udb_db_open(copy, UDB_OPEN_WRITE, &db), UDB_OK);
	{
		struct udb_user_spec spec = {.username = "alice", .has_uid = true, .uid = 2001};

		ck_assert_int_eq(udb_user_add(db, nfx.cfg, &spec, false, udb_now(), NULL), UDB_OK);
		ck_assert_int_eq(udb_user_modify(db, "alice", &ch, udb_now()), UDB_OK);
	}
	udb_db_close(db);
	ck_assert_int_eq(rename(nfx.dbdir, old), 0);
	ck_assert_int_eq(rename(copy, nfx.dbdir), 0);
	expect_gecos("alice", "Alice Liddell");
	{
		int status = 0;
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			pthread_t t;
			void *seen = NULL;

			/* A new thread maps afresh, as a new process does. */
			if (pthread_create(&t, NULL, alice_gecos_is_restored, NULL) != 0 ||
			    pthread_join(t, &seen) != 0)
				_exit(2);
			_exit(seen ? 0 : 1);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_int_eq(status, 0);
	}
}
END_TEST

START_TEST(test_lookups_after_fork)
{
	struct udb_user_changes ch = {.first_name = "Forked"};
	int status = 0, go[2], done[2];
	pid_t pid;
	char c;

	/* The parent has open connections (public and shadow) when it forks. */
	expect_gecos("alice", "Alice Liddell");
	{
		struct spwd sp;
		int err = 0;

		ck_assert_int_eq(mod.getspnam_r("alice", &sp, big, sizeof(big), &err),
				 NSS_STATUS_SUCCESS);
	}
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct passwd pw;
		struct spwd sp;
		int err = 0;

		for (int i = 0; i < 2000; i++)
			if (mod.getpwnam_r("alice", &pw, big, sizeof(big), &err) !=
				    NSS_STATUS_SUCCESS ||
			    strcmp(pw.pw_gecos, "Alice Liddell") != 0)
				_exit(2);
		if (mod.getspnam_r("alice", &sp, big, sizeof(big), &err) != NSS_STATUS_SUCCESS)
			_exit(3);
		if (write(done[1], "d", 1) != 1)
			_exit(6);
		/* The parent changes alice now: the child sees it too. */
		if (read(go[0], &c, 1) != 1)
			_exit(4);
		if (mod.getpwnam_r("alice", &pw, big, sizeof(big), &err) != NSS_STATUS_SUCCESS ||
		    strcmp(pw.pw_gecos, "Forked Liddell") != 0)
			_exit(5);
		_exit(0);
	}
	/* Meanwhile the parent goes on looking up with its own connection. */
	for (int i = 0; i < 2000; i++)
		expect_gecos("alice", "Alice Liddell");
	/* Change alice only once the child's own lookups are done. */
	ck_assert_int_eq(read(done[0], &c, 1), 1);
	ck_assert_int_eq(udb_user_modify(nfx.db, "alice", &ch, udb_now()), UDB_OK);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with %d",
		      WEXITSTATUS(status));
	expect_gecos("alice", "Forked Liddell");
}
END_TEST

/* fork() while another thread is inside a lookup: without the module's
 * fork handlers the child would inherit the module's lock held by a thread
 * that does not exist in the child, and hang at its first lookup. */
static atomic_int hammer_stop;
/* Static, not on the hammering thread's heap: the forked children have
 * no such thread, and valgrind would count its buffer as lost in each. */
static char hammer_buf[1 << 16];

static void *
hammer(void *arg)
{
	struct passwd pw;
	struct group gr;
	int err = 0;

	(void)arg;
	while (!hammer_stop) {
		mod.getpwnam_r("alice", &pw, hammer_buf, sizeof(hammer_buf), &err);
		mod.getgrnam_r("staff", &gr, hammer_buf, sizeof(hammer_buf), &err);
		/* Under valgrind, which runs one thread at a time, this thread
		 * would otherwise take the module lock back before the forking
		 * thread, woken by its release, ever runs: fork()'s prepare
		 * handler then waited for minutes. The lock is still held at
		 * most moments the main thread forks. */
		sched_yield();
	}
	return NULL;
}

START_TEST(test_fork_while_other_thread_looks_up)
{
	pthread_t thread;
	int hung = 0, failed = 0;

	expect_gecos("alice", "Alice Liddell");
	ck_assert_int_eq(pthread_create(&thread, NULL, hammer, NULL), 0);
	for (int i = 0; i < 100; i++) {
		int status = 0;
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct passwd pw;
			int err = 0;

			alarm(5);
			_exit(mod.getpwnam_r("alice", &pw, big, sizeof(big), &err) ==
					      NSS_STATUS_SUCCESS
				      ? 0
				      : 1);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		hung += WIFSIGNALED(status);
		failed += WIFEXITED(status) && WEXITSTATUS(status) != 0;
	}
	hammer_stop = 1;
	pthread_join(thread, NULL);
	ck_assert_msg(hung == 0 && failed == 0, "%d children hung, %d failed", hung, failed);
}
END_TEST

/* --- twelve threads and a writer ----------------------------------------- */

#define THREADS  12
#define DURATION 3 /* seconds */

static atomic_int stop;
static atomic_long errors, lookups;
static char first_error[256];
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

static void
thread_error(const char *what, const char *key, enum nss_status st, int err)
{
	pthread_mutex_lock(&error_lock);
	if (errors++ == 0)
		snprintf(first_error, sizeof(first_error), "%s(%s): %s errno %d", what, key,
			 status_name(st), err);
	pthread_mutex_unlock(&error_lock);
}

/* The writer adds t0 .. tN (uid 30000 + i, GECOS "Temp <i>") one by one,
 * grants each the role churn, and revokes every other grant again. */
static bool
temp_ok(const struct passwd *pw, unsigned i)
{
	char gecos[32];

	snprintf(gecos, sizeof(gecos), "Temp %u", i);
	return pw->pw_uid == 30000 + i && strcmp(pw->pw_gecos, gecos) == 0;
}

static void *
reader(void *arg)
{
	static const char *const staff[] = {"alice", "bob", NULL};
	char *buf = malloc(1 << 16);
	unsigned seed = (unsigned)(uintptr_t)arg;

	while (!stop) {
		unsigned i = (unsigned)rand_r(&seed) % 400;
		char name[32];
		struct passwd pw;
		struct group gr;
		long start = 1, size = 2;
		gid_t *groups = malloc(2 * sizeof(gid_t));
		int err = 0;
		enum nss_status st;

		snprintf(name, sizeof(name), "t%u", i);
		switch (rand_r(&seed) % 6) {
		case 0:
			st = mod.getpwnam_r("alice", &pw, buf, 1 << 16, &err);
			if (st != NSS_STATUS_SUCCESS || pw.pw_uid != 2001 ||
			    strcmp(pw.pw_gecos, "Alice Liddell") != 0)
				thread_error("getpwnam", "alice", st, err);
			break;
		case 1:
			st = mod.getgrnam_r("staff", &gr, buf, 1 << 16, &err);
			if (st != NSS_STATUS_SUCCESS || !members_are(gr.gr_mem, staff))
				thread_error("getgrnam", "staff", st, err);
			break;
		case 2:
			st = mod.getpwnam_r(name, &pw, buf, 1 << 16, &err);
			if (!(st == NSS_STATUS_NOTFOUND && err == ENOENT) &&
			    !(st == NSS_STATUS_SUCCESS && temp_ok(&pw, i)))
				thread_error("getpwnam", name, st, err);
			break;
		case 3:
			st = mod.getpwuid_r(30000 + i, &pw, buf, 1 << 16, &err);
			if (!(st == NSS_STATUS_NOTFOUND && err == ENOENT) &&
			    !(st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, name) == 0))
				thread_error("getpwuid", name, st, err);
			break;
		case 4:
			st = mod.getgrnam_r("churn", &gr, buf, 1 << 16, &err);
			if (st != NSS_STATUS_SUCCESS) {
				thread_error("getgrnam", "churn", st, err);
				break;
			}
			for (char **m = gr.gr_mem; *m; m++)
				if ((*m)[0] != 't')
					thread_error("getgrnam member", *m, st, err);
			break;
		default:
			groups[0] = 2001;
			st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
			if (st != NSS_STATUS_SUCCESS || start != 3)
				thread_error("initgroups", "alice", st, err);
			break;
		}
		free(groups);
		lookups++;
	}
	free(buf);
	return NULL;
}

static void
writer(const char *dbdir, const struct udb_config *cfg)
{
	struct udb_db *db = NULL;
	time_t end = time(NULL) + DURATION;

	if (udb_db_open(dbdir, UDB_OPEN_WRITE, &db) != UDB_OK)
		_exit(2);
	for (unsigned i = 0; time(NULL) < end && i < 400; i++) {
		char name[32], gecos[32];
		struct udb_user_spec spec = {.username = name,
					     .has_uid = true,
					     .uid = 30000 + i,
					     .first_name = "Temp",
					     .last_name = gecos};

		snprintf(name, sizeof(name), "t%u", i);
		snprintf(gecos, sizeof(gecos), "%u", i);
		if (udb_user_add(db, cfg, &spec, false, udb_now(), NULL) != UDB_OK ||
		    udb_grant(db, name, "churn", 0, 0, udb_now(), NULL) != UDB_OK ||
		    (i % 2 && udb_revoke(db, name, "churn", NULL) != UDB_OK))
			_exit(3);
		usleep(2000);
	}
	udb_db_close(db);
	_exit(0);
}

START_TEST(test_threads_while_writing)
{
	pthread_t threads[THREADS];
	int status = 0;
	pid_t pid;

	/* Connections opened before the writer starts, as in a daemon. */
	expect_gecos("alice", "Alice Liddell");
	udb_db_close(nfx.db);
	nfx.db = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		writer(nfx.dbdir, nfx.cfg);
	for (uintptr_t i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, reader, (void *)(i + 1)), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	stop = 1;
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed");
	ck_assert_msg(errors == 0, "%ld errors in %ld lookups, first: %s", (long)errors,
		      (long)lookups, first_error);
	ck_assert_int_gt(lookups, 1000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_process");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("process");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_change_visible_at_next_lookup);
	tcase_add_test(tc, test_change_by_other_process_visible);
	tcase_add_test(tc, test_image_mapped_store_never_opened);
	tcase_add_test(tc, test_replaced_database_seen_at_next_lookup);
	tcase_add_test(tc, test_lookups_after_fork);
	tcase_add_test(tc, test_fork_while_other_thread_looks_up);
	tcase_add_test(tc, test_threads_while_writing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
