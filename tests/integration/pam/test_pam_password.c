/* pam_userdb.so's password phase under pam_wrapper (pam_sm_chauthtok):
 * root without the old password, a user (setuid passwd) and an expired
 * password changed on the user's behalf with it, minimum length and age,
 * the user name refused, bcrypt's 72-byte limit, use_authtok after a
 * module that sets the token, and a busy database. Run by meson (suite pam). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "fixture.h"

#define DAY           86400
#define PASSWORD_LINE "password required @MODULE@ conf=@CONF@"

static void
chauthtok_expect_at(const char *service, const char *user, const char **answers, int flags,
		    int expected, int line)
{
	struct pam_testcase cases[] = {
		pam_test_flags(PAMTEST_CHAUTHTOK, expected, flags),
	};

	fx_run_(service, user, answers, cases, 1, NULL, __FILE__, line);
}
#define chauthtok_expect(service, user, answers, flags, expected)                                  \
	chauthtok_expect_at(service, user, answers, flags, expected, __LINE__)

static void
auth_expect_at(const char *user, const char *password, int expected, int line)
{
	const char *answers[] = {password, NULL};
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, expected),
	};

	fx_run_("login", user, answers, cases, 1, NULL, __FILE__, line);
}
#define auth_expect(user, password, expected) auth_expect_at(user, password, expected, __LINE__)

static void
setup_password(void)
{
	fx_setup();
	fx_user("alice", "correct horse");
	fx_service("login", "auth required @MODULE@ conf=@CONF@ nodelay\n");
	fx_service("passwd", PASSWORD_LINE "\n");
}

/* Runs body in a child whose real uid is nobody's while the effective uid
 * stays root: what a setuid passwd run by a user looks like. */
static int
as_setuid_user(void (*body)(void))
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (setresuid(65534, 0, 0) != 0)
			_exit(2);
		body();
		exit(0); /* with destructors: pam_wrapper removes its directory */
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

START_TEST(test_root_changes_without_old_password)
{
	static const char *answers[] = {"new password 1", "new password 1", NULL};
	struct udb_account *a;
	int64_t before = udb_now();

	if (getuid() != 0)
		return; /* root's rule needs root */
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	chauthtok_expect("passwd", "alice", answers, 0, PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert(!a->must_change);
	ck_assert(a->password_changed_at >= before);
	/* Written with the configured method (sha512crypt, 1000 rounds). */
	ck_assert_msg(strncmp(a->password_hash, "$6$rounds=1000$", 15) == 0, "hash %.15s",
		      a->password_hash);
	udb_account_free(a);
	auth_expect("alice", "new password 1", PAM_SUCCESS);
	auth_expect("alice", "correct horse", PAM_AUTH_ERR);
}
END_TEST

static void
user_changes(void)
{
	static const char *good[] = {"correct horse", "new password 2", "new password 2", NULL};
	static const char *bad[] = {"wrong horse", "new password 3", "new password 3", NULL};
	static const char *none[] = {"new password 4", "new password 4", NULL};

	/* A wrong current password changes nothing; none at all neither. */
	chauthtok_expect("passwd", "alice", bad, 0, PAM_AUTH_ERR);
	chauthtok_expect("passwd", "alice", none, 0, PAM_AUTH_ERR);
	chauthtok_expect("passwd", "alice", good, 0, PAM_SUCCESS);
}

START_TEST(test_user_needs_old_password)
{
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(as_setuid_user(user_changes), 0);
	auth_expect("alice", "new password 2", PAM_SUCCESS);
	auth_expect("alice", "new password 3", PAM_AUTH_ERR);
}
END_TEST

/* login (running as root) changing an expired password: the user must
 * give the old one. */
START_TEST(test_expired_password_change_needs_old_password)
{
	static const char *good[] = {"correct horse", "new password 5", "new password 5", NULL};
	static const char *bad[] = {"wrong horse", "new password 6", "new password 6", NULL};

	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	chauthtok_expect("passwd", "alice", bad, PAM_CHANGE_EXPIRED_AUTHTOK, PAM_AUTH_ERR);
	chauthtok_expect("passwd", "alice", good, PAM_CHANGE_EXPIRED_AUTHTOK, PAM_SUCCESS);
	auth_expect("alice", "new password 5", PAM_SUCCESS);
}
END_TEST

/* PAM_CHANGE_EXPIRED_AUTHTOK with a password that is not due (another
 * module of the stack asked for the change): nothing asked, nothing
 * changed. */
START_TEST(test_expired_flag_leaves_a_current_password_alone)
{
	struct udb_account *a = fx_account("alice");
	char *before = strdup(a->password_hash);

	udb_account_free(a);
	chauthtok_expect("passwd", "alice", NULL, PAM_CHANGE_EXPIRED_AUTHTOK, PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_str_eq(a->password_hash, before);
	udb_account_free(a);
	free(before);
}
END_TEST

START_TEST(test_minimum_length)
{
	static const char *short_pw[] = {"short12", "short12", NULL};
	static const char *eight[] = {"eight888", "eight888", NULL};
	static const char *eleven[] = {"eleven11111", "eleven11111", NULL};
	static const char *twelve[] = {"twelve121212", "twelve121212", NULL};

	if (getuid() != 0)
		return;
	fx_service("passwd12", PASSWORD_LINE " minlen=12\n");
	/* The config's pass_min_len (8 by default). */
	chauthtok_expect("passwd", "alice", short_pw, 0, PAM_AUTHTOK_ERR);
	chauthtok_expect("passwd", "alice", eight, 0, PAM_SUCCESS);
	/* minlen= overrides it. */
	chauthtok_expect("passwd12", "alice", eleven, 0, PAM_AUTHTOK_ERR);
	chauthtok_expect("passwd12", "alice", twelve, 0, PAM_SUCCESS);
	auth_expect("alice", "twelve121212", PAM_SUCCESS);
}
END_TEST

START_TEST(test_user_name_refused)
{
	static const char *same[] = {"alicealice", "alicealice", NULL};
	static const char *upper[] = {"ALICEALICE", "ALICEALICE", NULL};
	struct fx_msgs msgs;
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_CHAUTHTOK, PAM_AUTHTOK_ERR),
	};

	if (getuid() != 0)
		return;
	fx_user("alicealice", "correct horse");
	fx_run_msgs("passwd", "alicealice", same, cases, &msgs);
	ck_assert_msg(strstr(msgs.err[0], "user name"), "message: %s", msgs.err[0]);
	chauthtok_expect("passwd", "alicealice", upper, 0, PAM_AUTHTOK_ERR);
	auth_expect("alicealice", "correct horse", PAM_SUCCESS);
}
END_TEST

START_TEST(test_retyped_password_must_match)
{
	static const char *mismatch[] = {"new password 7", "new password 8", NULL};

	if (getuid() != 0)
		return;
	chauthtok_expect("passwd", "alice", mismatch, 0, PAM_TRY_AGAIN);
	auth_expect("alice", "correct horse", PAM_SUCCESS);
}
END_TEST

/* bcrypt ignores every byte past the 72nd: a longer new password is
 * refused with a message that says why, a 72-byte one is taken. */
START_TEST(test_bcrypt_refuses_over_72_bytes)
{
	char over[74], max[73];
	const char *too_long[] = {over, over, NULL};
	const char *fits[] = {max, max, NULL};
	struct fx_msgs msgs;
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_CHAUTHTOK, PAM_AUTHTOK_ERR),
	};
	struct udb_account *a;

	if (getuid() != 0)
		return;
	memset(over, 'b', 73);
	over[73] = '\0';
	memset(max, 'b', 72);
	max[72] = '\0';
	fx_conf("bcrypt.conf", "hash_method = bcrypt\nhash_cost = 4");
	fx_service("passwd-bcrypt", "password required @MODULE@ conf=@DIR@/bcrypt.conf\n");
	fx_run_msgs("passwd-bcrypt", "alice", too_long, cases, &msgs);
	ck_assert_msg(strstr(msgs.err[0], "longer than 72") && strstr(msgs.err[0], "bcrypt"),
		      "message: %s", msgs.err[0]);
	auth_expect("alice", "correct horse", PAM_SUCCESS);
	chauthtok_expect("passwd-bcrypt", "alice", fits, 0, PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_msg(strncmp(a->password_hash, "$2b$04$", 7) == 0, "hash %.7s", a->password_hash);
	udb_account_free(a);
	auth_expect("alice", max, PAM_SUCCESS);
}
END_TEST

/* Aging's minimum: a user may not change again too soon; root may. */
static void
user_changes_too_soon(void)
{
	static const char *answers[] = {"correct horse", "new password 9", "new password 9", NULL};

	chauthtok_expect("passwd", "alice", answers, 0, PAM_AUTHTOK_ERR);
}

START_TEST(test_minimum_password_age)
{
	static const char *answers[] = {"new password 10", "new password 10", NULL};

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 1, -1, -1, -1), UDB_OK);
	ck_assert_int_eq(as_setuid_user(user_changes_too_soon), 0);
	chauthtok_expect("passwd", "alice", answers, 0, PAM_SUCCESS);
}
END_TEST

/* pam_pwquality (here pam_set_items) sets PAM_AUTHTOK; with use_authtok
 * the module takes it and asks nothing. */
START_TEST(test_use_authtok_after_stacked_module)
{
	if (getuid() != 0)
		return;
	fx_service("stacked", "password required @SETITEMS@\n" PASSWORD_LINE " use_authtok\n");
	fx_service("alone", PASSWORD_LINE " use_authtok\n");
	setenv("PAM_AUTHTOK", "stacked password", 1);
	chauthtok_expect("stacked", "alice", NULL, 0, PAM_SUCCESS);
	unsetenv("PAM_AUTHTOK");
	auth_expect("alice", "stacked password", PAM_SUCCESS);
	/* use_authtok with nobody above to set it: refused, not prompted. */
	chauthtok_expect("alone", "alice", NULL, 0, PAM_AUTHTOK_ERR);
	auth_expect("alice", "stacked password", PAM_SUCCESS);
}
END_TEST

START_TEST(test_busy_database)
{
	static const char *answers[] = {"new password 11", "new password 11", NULL};
	struct udb_db *holder = NULL;

	if (getuid() != 0)
		return;
	/* Another writer holds the write lock for longer than the module's
	 * busy timeout (5 s). */
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &holder), UDB_OK);
	ck_assert_int_eq(udb_db_begin(holder), UDB_OK);
	chauthtok_expect("passwd", "alice", answers, 0, PAM_AUTHTOK_LOCK_BUSY);
	udb_db_rollback(holder);
	udb_db_close(holder);
	auth_expect("alice", "correct horse", PAM_SUCCESS);
}
END_TEST

/* The old password is a login by another door: wrong ones are counted
 * up to the lock, the lock holds for the right one too, and each refusal
 * costs the failure delay. */
START_TEST(test_wrong_old_passwords_lock_the_account)
{
	static const char *good[] = {"correct horse", "new password 13", "new password 13", NULL};
	static const char *bad[] = {"wrong horse", "new password 14", "new password 14", NULL};
	struct udb_account *a;

	fx_service("passwd-deny", PASSWORD_LINE " deny=3 unlock_time=0 nodelay\n");
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	for (int i = 0; i < 3; i++)
		chauthtok_expect("passwd-deny", "alice", bad, PAM_CHANGE_EXPIRED_AUTHTOK,
				 PAM_AUTH_ERR);
	a = fx_account("alice");
	ck_assert_int_eq(a->failed_count, 3);
	ck_assert(a->locked_until == INT64_MAX);
	udb_account_free(a);
	chauthtok_expect("passwd-deny", "alice", good, PAM_CHANGE_EXPIRED_AUTHTOK, PAM_AUTH_ERR);
	auth_expect("alice", "correct horse", PAM_AUTH_ERR);
	a = fx_account("alice");
	ck_assert_int_eq(a->failed_count, 5);
	ck_assert(a->must_change); /* nothing was changed */
	udb_account_free(a);
}
END_TEST

START_TEST(test_wrong_old_password_is_delayed)
{
	static const char *bad[] = {"wrong horse", "new password 15", "new password 15", NULL};
	struct timespec t0, t1;
	double secs;

	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	chauthtok_expect("passwd", "alice", bad, PAM_CHANGE_EXPIRED_AUTHTOK, PAM_AUTH_ERR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs >= 1.9, "refused after %.2f s", secs);
}
END_TEST

START_TEST(test_unknown_user)
{
	static const char *answers[] = {"new password 12", "new password 12", NULL};

	chauthtok_expect("passwd", "mallory", answers, 0, PAM_USER_UNKNOWN);
}
END_TEST

/* The value of PAM item name in the PAM environment pam_get_items made,
 * or NULL. */
static const char *
env_item(char **envlist, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; envlist && envlist[i]; i++)
		if (strncmp(envlist[i], name, len) == 0 && envlist[i][len] == '=')
			return envlist[i] + len + 1;
	return NULL;
}

/* Debian's common-password as pam-auth-update writes it: this module
 * first, then a module whose line has use_authtok (pam_unix; here
 * pam_get_items, which shows what PAM_AUTHTOK holds). For a user the
 * database does not have, this module asks for the new password, asks
 * nothing else, and leaves it for the module below. */
START_TEST(test_new_password_passed_on_for_users_not_ours)
{
	static const char *answers[] = {"local new pw 1", "local new pw 1", NULL};
	static const char *mismatch[] = {"local new pw 2", "local new pw 3", NULL};
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_CHAUTHTOK, PAM_SUCCESS),
		pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
	};
	struct pam_testcase refused[] = {
		pam_test(PAMTEST_CHAUTHTOK, PAM_TRY_AGAIN),
	};
	struct fx_msgs msgs;

	fx_service("common-password",
		   "password [success=done user_unknown=ignore authinfo_unavail=ignore "
		   "default=die] @MODULE@ conf=@CONF@\n"
		   "password required @GETITEMS@\n");
	fx_run_msgs("common-password", "lena", answers, cases, &msgs);
	ck_assert_str_eq(env_item(cases[1].case_out.envlist, "PAM_AUTHTOK"), "local new pw 1");
	ck_assert_ptr_null(env_item(cases[1].case_out.envlist, "PAM_OLDAUTHTOK"));
	pamtest_free_env(cases[1].case_out.envlist);
	/* The two entries differ: the stack stops here. */
	fx_run("common-password", "lena", mismatch, refused);
	/* A database user is this module's alone: success=done. */
	if (getuid() == 0) {
		static const char *alice[] = {"alice new pw 4", "alice new pw 4", NULL};

		chauthtok_expect("common-password", "alice", alice, 0, PAM_SUCCESS);
		auth_expect("alice", "alice new pw 4", PAM_SUCCESS);
	}
}
END_TEST

/* The same while the database cannot be opened: root's own password
 * must stay changeable. */
START_TEST(test_new_password_passed_on_without_a_database)
{
	static const char *answers[] = {"root new pw 1", "root new pw 1", NULL};
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_CHAUTHTOK, PAM_SUCCESS),
		pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
	};

	fx_conf("nodb.conf", "dbdir = /nonexistent/userdb");
	fx_service("common-password",
		   "password [success=done user_unknown=ignore authinfo_unavail=ignore "
		   "default=die] @MODULE@ conf=@DIR@/nodb.conf\n"
		   "password required @GETITEMS@\n");
	fx_run("common-password", "root", answers, cases);
	ck_assert_str_eq(env_item(cases[1].case_out.envlist, "PAM_AUTHTOK"), "root new pw 1");
	pamtest_free_env(cases[1].case_out.envlist);
}
END_TEST

static Suite *
password_suite(void)
{
	Suite *s = suite_create("pam_password");
	TCase *tc = tcase_create("chauthtok");

	tcase_add_checked_fixture(tc, setup_password, fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_root_changes_without_old_password);
	tcase_add_test(tc, test_user_needs_old_password);
	tcase_add_test(tc, test_expired_password_change_needs_old_password);
	tcase_add_test(tc, test_expired_flag_leaves_a_current_password_alone);
	tcase_add_test(tc, test_minimum_length);
	tcase_add_test(tc, test_user_name_refused);
	tcase_add_test(tc, test_retyped_password_must_match);
	tcase_add_test(tc, test_bcrypt_refuses_over_72_bytes);
	tcase_add_test(tc, test_minimum_password_age);
	tcase_add_test(tc, test_use_authtok_after_stacked_module);
	tcase_add_test(tc, test_busy_database);
	tcase_add_test(tc, test_unknown_user);
	tcase_add_test(tc, test_new_password_passed_on_for_users_not_ours);
	tcase_add_test(tc, test_new_password_passed_on_without_a_database);
	tcase_add_test(tc, test_wrong_old_passwords_lock_the_account);
	tcase_add_test(tc, test_wrong_old_password_is_delayed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(password_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
