/* pam_userdb.so's account phase under pam_wrapper (pam_sm_acct_mgmt):
 * disabled, not yet valid, expired, must change, aged and inactive
 * passwords, their order, and the gating arguments roles_required,
 * roles_accepted, permissions_required, permissions_accepted and
 * require_confirmed_email with inherited roles and timed grants. Run by
 * meson (suite pam). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "email.h"
#include "fixture.h"
#include "hash.h"

#define DAY 86400

static void
account_expect_at(const char *service, const char *user, int expected, int line)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_ACCOUNT, expected),
	};

	fx_run_(service, user, NULL, cases, 1, NULL, __FILE__, line);
}
#define account_expect(service, user, expected) account_expect_at(service, user, expected, __LINE__)

/* staff (ssh:login); admins (sudo:all) includes staff; auditors
 * (audit:read). alice: admins. bob: staff. carol: admins, expired. dave:
 * admins, from tomorrow. erin: nothing. */
static void
setup_roles(void)
{
	int64_t now = udb_now();

	fx_setup();
	fx_role("staff", "ssh:login", NULL);
	fx_role("admins", "sudo:all", "staff");
	fx_role("auditors", "audit:read", NULL);
	fx_user("alice", "correct horse");
	fx_user("bob", "correct horse");
	fx_user("carol", "correct horse");
	fx_user("dave", "correct horse");
	fx_user("erin", "correct horse");
	fx_grant("alice", "admins", 0, 0);
	fx_grant("bob", "staff", 0, 0);
	fx_grant("carol", "admins", now - 2 * DAY, now - 3600);
	fx_grant("dave", "admins", now + DAY, 0);
	fx_service("plain", "account required @MODULE@ conf=@CONF@\n");
}

START_TEST(test_account_usable)
{
	struct fx_msgs msgs;
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
	};

	fx_run_msgs("plain", "alice", NULL, cases, &msgs);
	ck_assert_str_eq(msgs.err[0], "");
}
END_TEST

START_TEST(test_account_disabled)
{
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", false, NULL), UDB_OK);
	account_expect("plain", "alice", PAM_PERM_DENIED);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", true, NULL), UDB_OK);
	account_expect("plain", "alice", PAM_SUCCESS);
}
END_TEST

START_TEST(test_account_not_yet_valid)
{
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", udb_now() + 3600, 0), UDB_OK);
	account_expect("plain", "alice", PAM_ACCT_EXPIRED);
}
END_TEST

START_TEST(test_account_expired)
{
	struct fx_msgs msgs;
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED),
	};
	struct pam_testcase silent[] = {
		pam_test_flags(PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED, PAM_SILENT),
	};

	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", 0, udb_now() - 60), UDB_OK);
	fx_run_msgs("plain", "alice", NULL, cases, &msgs);
	ck_assert_msg(strstr(msgs.err[0], "expired"), "message: %s", msgs.err[0]);
	/* PAM_SILENT: the same answer, nothing shown. */
	fx_run_msgs("plain", "alice", NULL, silent, &msgs);
	ck_assert_str_eq(msgs.err[0], "");
}
END_TEST

START_TEST(test_account_must_change)
{
	struct fx_msgs msgs;
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_ACCOUNT, PAM_NEW_AUTHTOK_REQD),
	};

	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	fx_run_msgs("plain", "alice", NULL, cases, &msgs);
	ck_assert_msg(strstr(msgs.err[0], "change your password"), "message: %s", msgs.err[0]);
}
END_TEST

/* Changed 10 days ago, valid for 5: must change; with 2 inactive days on
 * top, too late: only an admin can help. */
START_TEST(test_account_password_aging)
{
	struct udb_account *a = fx_account("alice");
	char *hash = strdup(a->password_hash);

	udb_account_free(a);
	ck_assert_int_eq(udb_account_set_password(fx.db, "alice", hash, udb_now() - 10 * DAY),
			 UDB_OK);
	free(hash);
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 0, 5, -1, -1), UDB_OK);
	account_expect("plain", "alice", PAM_NEW_AUTHTOK_REQD);
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 0, 5, -1, 30), UDB_OK);
	account_expect("plain", "alice", PAM_NEW_AUTHTOK_REQD);
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 0, 5, -1, 2), UDB_OK);
	account_expect("plain", "alice", PAM_AUTHTOK_EXPIRED);
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 0, 30, -1, 2), UDB_OK);
	account_expect("plain", "alice", PAM_SUCCESS);
}
END_TEST

START_TEST(test_password_expiry_warning)
{
	struct fx_msgs msgs;
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
	};
	struct udb_account *a = fx_account("alice");
	char *hash = strdup(a->password_hash);

	udb_account_free(a);
	ck_assert_int_eq(udb_account_set_password(fx.db, "alice", hash, udb_now() - 5 * DAY),
			 UDB_OK);
	free(hash);
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 0, 10, 7, -1), UDB_OK);
	fx_run_msgs("plain", "alice", NULL, cases, &msgs);
	ck_assert_msg(strstr(msgs.info[0], "expire in 5 days"), "message: %s", msgs.info[0]);
}
END_TEST

/* The order of SPEC.md: disabled, then validity, then the password. */
START_TEST(test_account_check_order)
{
	int64_t now = udb_now();

	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", false, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", 0, now - 60), UDB_OK);
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	account_expect("plain", "alice", PAM_PERM_DENIED);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", true, NULL), UDB_OK);
	account_expect("plain", "alice", PAM_ACCT_EXPIRED);
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", now + 60, 0), UDB_OK);
	account_expect("plain", "alice", PAM_ACCT_EXPIRED);
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", 0, 0), UDB_OK);
	account_expect("plain", "alice", PAM_NEW_AUTHTOK_REQD);
}
END_TEST

/* PAM_NEW_AUTHTOK_REQD lets the application go on after a password change,
 * so it must not hide a missing role. */
START_TEST(test_must_change_does_not_skip_the_gates)
{
	fx_service("admins", "account required @MODULE@ conf=@CONF@ roles_required=admins\n");
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "bob", true), UDB_OK);
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	account_expect("admins", "bob", PAM_PERM_DENIED);
	account_expect("admins", "alice", PAM_NEW_AUTHTOK_REQD);
}
END_TEST

START_TEST(test_roles_required)
{
	fx_service("staff", "account required @MODULE@ conf=@CONF@ roles_required=staff\n");
	fx_service("both", "account required @MODULE@ conf=@CONF@ roles_required=staff,admins\n");
	fx_service("audit",
		   "account required @MODULE@ conf=@CONF@ roles_required=staff,auditors\n");
	fx_service("upper", "account required @MODULE@ conf=@CONF@ roles_required=Staff\n");
	/* alice has staff through admins. */
	account_expect("staff", "alice", PAM_SUCCESS);
	account_expect("both", "alice", PAM_SUCCESS);
	account_expect("audit", "alice", PAM_PERM_DENIED);
	account_expect("upper", "alice", PAM_PERM_DENIED);
	account_expect("staff", "bob", PAM_SUCCESS);
	account_expect("both", "bob", PAM_PERM_DENIED);
	account_expect("staff", "erin", PAM_PERM_DENIED);
}
END_TEST

START_TEST(test_roles_accepted)
{
	fx_service("priv",
		   "account required @MODULE@ conf=@CONF@ roles_accepted=admins,auditors\n");
	fx_service("any", "account required @MODULE@ conf=@CONF@ roles_accepted=auditors,staff\n");
	account_expect("priv", "alice", PAM_SUCCESS);
	account_expect("priv", "bob", PAM_PERM_DENIED);
	account_expect("any", "bob", PAM_SUCCESS);
	account_expect("any", "alice", PAM_SUCCESS);
	account_expect("any", "erin", PAM_PERM_DENIED);
}
END_TEST

START_TEST(test_expired_and_future_grants_do_not_count)
{
	fx_service("staff", "account required @MODULE@ conf=@CONF@ roles_required=staff\n");
	fx_service("priv",
		   "account required @MODULE@ conf=@CONF@ roles_accepted=admins,auditors\n");
	fx_service("perm",
		   "account required @MODULE@ conf=@CONF@ permissions_accepted=ssh:login\n");
	account_expect("staff", "carol", PAM_PERM_DENIED);
	account_expect("priv", "carol", PAM_PERM_DENIED);
	account_expect("perm", "carol", PAM_PERM_DENIED);
	account_expect("staff", "dave", PAM_PERM_DENIED);
	account_expect("priv", "dave", PAM_PERM_DENIED);
	/* The same grant, renewed, counts again. */
	fx_grant("carol", "admins", 0, udb_now() + DAY);
	account_expect("staff", "carol", PAM_SUCCESS);
}
END_TEST

START_TEST(test_permissions_required)
{
	fx_service(
		"perm",
		"account required @MODULE@ conf=@CONF@ permissions_required=ssh:login,sudo:all\n");
	/* alice: sudo:all from admins, ssh:login from staff through admins. */
	account_expect("perm", "alice", PAM_SUCCESS);
	account_expect("perm", "bob", PAM_PERM_DENIED);
	account_expect("perm", "erin", PAM_PERM_DENIED);
}
END_TEST

START_TEST(test_permissions_accepted)
{
	fx_service(
		"priv",
		"account required @MODULE@ conf=@CONF@ permissions_accepted=sudo:all,audit:read\n");
	fx_service("ssh", "account required @MODULE@ conf=@CONF@ "
			  "permissions_accepted=ssh:login,audit:read\n");
	account_expect("priv", "alice", PAM_SUCCESS);
	account_expect("priv", "bob", PAM_PERM_DENIED);
	account_expect("ssh", "bob", PAM_SUCCESS);
	account_expect("ssh", "erin", PAM_PERM_DENIED);
}
END_TEST

START_TEST(test_require_confirmed_email)
{
	int64_t now = udb_now();

	fx_service("email", "account required @MODULE@ conf=@CONF@ require_confirmed_email\n");
	ck_assert_int_eq(udb_email_add(fx.db, "alice", "alice@example.org", true, true, now),
			 UDB_OK);
	ck_assert_int_eq(udb_email_add(fx.db, "bob", "bob@example.org", true, false, now), UDB_OK);
	account_expect("email", "alice", PAM_SUCCESS);
	account_expect("email", "bob", PAM_PERM_DENIED);
	account_expect("email", "erin", PAM_PERM_DENIED);
	ck_assert_int_eq(udb_email_confirm(fx.db, "bob", "BOB@example.org", now, NULL), UDB_OK);
	account_expect("email", "bob", PAM_SUCCESS);
}
END_TEST

/* All gates on one line: each must hold. */
START_TEST(test_gates_combined)
{
	fx_service("all", "account required @MODULE@ conf=@CONF@ roles_required=staff "
			  "roles_accepted=admins,auditors permissions_required=ssh:login "
			  "permissions_accepted=sudo:all require_confirmed_email\n");
	account_expect("all", "alice", PAM_PERM_DENIED);
	ck_assert_int_eq(udb_email_add(fx.db, "alice", "a@example.org", true, true, udb_now()),
			 UDB_OK);
	account_expect("all", "alice", PAM_SUCCESS);
	account_expect("all", "bob", PAM_PERM_DENIED);
}
END_TEST

static Suite *
account_suite(void)
{
	Suite *s = suite_create("pam_account");
	TCase *tc = tcase_create("acct_mgmt");

	tcase_add_checked_fixture(tc, setup_roles, fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_account_usable);
	tcase_add_test(tc, test_account_disabled);
	tcase_add_test(tc, test_account_not_yet_valid);
	tcase_add_test(tc, test_account_expired);
	tcase_add_test(tc, test_account_must_change);
	tcase_add_test(tc, test_account_password_aging);
	tcase_add_test(tc, test_password_expiry_warning);
	tcase_add_test(tc, test_account_check_order);
	tcase_add_test(tc, test_must_change_does_not_skip_the_gates);
	tcase_add_test(tc, test_roles_required);
	tcase_add_test(tc, test_roles_accepted);
	tcase_add_test(tc, test_expired_and_future_grants_do_not_count);
	tcase_add_test(tc, test_permissions_required);
	tcase_add_test(tc, test_permissions_accepted);
	tcase_add_test(tc, test_require_confirmed_email);
	tcase_add_test(tc, test_gates_combined);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(account_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
