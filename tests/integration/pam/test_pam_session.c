/* pam_userdb.so's session phase under pam_wrapper (pam_sm_open_session,
 * pam_sm_close_session): login time, count and PAM_RHOST recorded,
 * current becoming last, a hostile PAM_RHOST escaped and cut, a switch by
 * another user (PAM_RUSER) not counted, and logout changing nothing. Run by meson (suite pam). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "fixture.h"

static void
session_expect_at(const char *user, const char *rhost, int expected, int line)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_OPEN_SESSION, expected),
		pam_test(PAMTEST_CLOSE_SESSION, expected),
	};

	if (rhost)
		setenv("PAM_RHOST", rhost, 1);
	else
		unsetenv("PAM_RHOST");
	fx_run_("sshd", user, NULL, cases, 2, NULL, __FILE__, line);
	unsetenv("PAM_RHOST");
}
#define session_expect(user, rhost, expected) session_expect_at(user, rhost, expected, __LINE__)

static void
setup_session(void)
{
	fx_setup();
	fx_user("alice", "correct horse");
	/* pam_set_items stands in for sshd setting PAM_RHOST (and su PAM_RUSER). */
	fx_service("sshd", "session required @SETITEMS@\n"
			   "session required @MODULE@ conf=@CONF@\n");
	fx_service("logout", "session required @MODULE@ conf=@CONF@\n");
}

START_TEST(test_session_records_logins)
{
	struct udb_account *a;
	int64_t before = udb_now();

	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 0);
	ck_assert_ptr_null(a->current_login_ip);
	udb_account_free(a);

	session_expect("alice", "192.0.2.1", PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 1);
	ck_assert(a->current_login_at >= before);
	ck_assert_str_eq(a->current_login_ip, "192.0.2.1");
	udb_account_free(a);

	session_expect("alice", "client.example.org", PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 2);
	ck_assert_str_eq(a->current_login_ip, "client.example.org");
	ck_assert_str_eq(a->last_login_ip, "192.0.2.1");
	ck_assert(a->last_login_at >= before);
	udb_account_free(a);

	/* A local login has no remote host. */
	session_expect("alice", NULL, PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 3);
	ck_assert_ptr_null(a->current_login_ip);
	ck_assert_str_eq(a->last_login_ip, "client.example.org");
	udb_account_free(a);
}
END_TEST

START_TEST(test_hostile_rhost_is_escaped_and_cut)
{
	char longhost[2000];
	struct udb_account *a;

	session_expect("alice", "evil\nhost\033[31m\\", PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_str_eq(a->current_login_ip, "evil\\x0ahost\\x1b[31m\\x5c");
	udb_account_free(a);

	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	session_expect("alice", longhost, PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_uint_eq(strlen(a->current_login_ip), 255);
	udb_account_free(a);
}
END_TEST

START_TEST(test_close_session_changes_nothing)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	struct udb_account *a;

	fx_run("logout", "alice", NULL, cases);
	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 0);
	ck_assert_int_eq(a->current_login_at, 0);
	udb_account_free(a);
}
END_TEST

/* su and sudo set PAM_RUSER to whoever ran them: a switch to alice by
 * someone else (root's `su - alice`) is not her login and changes nothing;
 * PAM_RUSER naming alice herself is. */
START_TEST(test_switch_by_another_user_is_not_a_login)
{
	struct udb_account *a;

	setenv("PAM_RUSER", "root", 1);
	session_expect("alice", NULL, PAM_SUCCESS);
	session_expect("mallory", NULL, PAM_USER_UNKNOWN);
	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 0);
	ck_assert_int_eq(a->current_login_at, 0);
	udb_account_free(a);
	setenv("PAM_RUSER", "alice", 1);
	session_expect("alice", NULL, PAM_SUCCESS);
	unsetenv("PAM_RUSER");
	a = fx_account("alice");
	ck_assert_int_eq(a->login_count, 1);
	udb_account_free(a);
}
END_TEST

START_TEST(test_session_unknown_user)
{
	session_expect("mallory", "192.0.2.1", PAM_USER_UNKNOWN);
}
END_TEST

static Suite *
session_suite(void)
{
	Suite *s = suite_create("pam_session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup_session, fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_session_records_logins);
	tcase_add_test(tc, test_hostile_rhost_is_escaped_and_cut);
	tcase_add_test(tc, test_close_session_changes_nothing);
	tcase_add_test(tc, test_switch_by_another_user_is_not_a_login);
	tcase_add_test(tc, test_session_unknown_user);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(session_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
