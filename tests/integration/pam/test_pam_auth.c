/* pam_userdb.so's auth phase under pam_wrapper (pam_sm_authenticate,
 * pam_sm_setcred): right and wrong passwords, unknown users in every
 * phase, hashes that never verify, the failed-login lockout, re-hashing
 * of outdated hashes, use_first_pass, the failure delay and a caller that
 * cannot read the shadow file. Run by meson (suite pam). */
#include <check.h>
#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <security/pam_appl.h>

#include "fixture.h"
#include "hash.h"

#define AUTH_LINE "auth required @MODULE@ conf=@CONF@ nodelay"

static const char *right[] = {"correct horse", NULL};
static const char *wrong[] = {"battery staple", NULL};

/* One pam_authenticate; a failure names the caller's line. */
static void
auth_expect_at(const char *service, const char *user, const char **answers, int expected, int line)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, expected),
	};

	fx_run_(service, user, answers, cases, 1, NULL, __FILE__, line);
}
#define auth_expect(service, user, answers, expected)                                              \
	auth_expect_at(service, user, answers, expected, __LINE__)

START_TEST(test_authenticate_right_password)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
	};

	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE "\n");
	fx_run("login", "alice", right, cases);
}
END_TEST

START_TEST(test_authenticate_wrong_password)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_AUTH_ERR),
		pam_test(PAMTEST_SETCRED, PAM_AUTH_ERR),
	};
	struct udb_account *a;

	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE "\n");
	fx_run("login", "alice", wrong, cases);
	a = fx_account("alice");
	ck_assert_int_eq(a->failed_count, 1);
	ck_assert_int_ne(a->last_failed_at, 0);
	udb_account_free(a);
}
END_TEST

START_TEST(test_unknown_user_every_phase)
{
	static const char *answers[] = {"pw", "newpassword1", "newpassword1", NULL};
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_SETCRED, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_ACCOUNT, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_OPEN_SESSION, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_CHAUTHTOK, PAM_USER_UNKNOWN),
	};
	struct pam_testcase setcred_only[] = {
		pam_test(PAMTEST_SETCRED, PAM_USER_UNKNOWN),
	};

	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE "\n"
				      "account required @MODULE@ conf=@CONF@\n"
				      "password required @MODULE@ conf=@CONF@\n"
				      "session required @MODULE@ conf=@CONF@\n");
	fx_run("login", "mallory", answers, cases);
	/* setcred without authentication (sshd with a key) recognises the
	 * user from the public file. */
	fx_run("login", "mallory", NULL, setcred_only);
	/* A name that is not even valid is just as unknown. */
	auth_expect("login", "Bad Name", right, PAM_USER_UNKNOWN);
}
END_TEST

/* A user in the public file whose account row is missing (a writer killed
 * between the two files' commits) cannot log in. */
START_TEST(test_missing_account_row_is_unknown)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_ACCOUNT, PAM_USER_UNKNOWN),
	};
	char path[256], sql[128];
	int64_t id = fx_user("alice", "correct horse");
	sqlite3 *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", fx.dbdir, UDB_SHADOW_FILE);
	snprintf(sql, sizeof(sql), "DELETE FROM accounts WHERE user_id = %lld", (long long)id);
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	fx_service("login", AUTH_LINE "\naccount required @MODULE@ conf=@CONF@\n");
	fx_run("login", "alice", right, cases);
}
END_TEST

START_TEST(test_unusable_hashes_never_verify)
{
	static const char *tries[] = {"", "*", "!", "correct horse"};
	char banged[256];
	char *hash = NULL;

	ck_assert_int_eq(udb_hash_password(fx.cfg, "correct horse", &hash), UDB_OK);
	snprintf(banged, sizeof(banged), "!%s", hash);
	udb_secret_free(hash);
	fx_user("nohash", NULL);
	fx_user("empty", "x");
	fx_set_hash("empty", "");
	fx_user("star", "x");
	fx_set_hash("star", "*");
	fx_user("bang", "x");
	fx_set_hash("bang", "!");
	fx_user("banged", "x");
	fx_set_hash("banged", banged);
	fx_service("login", AUTH_LINE "\n");
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		const char *answer[] = {tries[i], NULL};

		auth_expect("login", "nohash", answer, PAM_AUTH_ERR);
		auth_expect("login", "empty", answer, PAM_AUTH_ERR);
		auth_expect("login", "star", answer, PAM_AUTH_ERR);
		auth_expect("login", "bang", answer, PAM_AUTH_ERR);
		auth_expect("login", "banged", answer, PAM_AUTH_ERR);
	}
}
END_TEST

START_TEST(test_lockout_after_deny_failures)
{
	struct udb_account *a;

	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE " deny=3 unlock_time=0\n");
	for (int i = 0; i < 3; i++)
		auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	a = fx_account("alice");
	ck_assert_int_eq(a->failed_count, 3);
	ck_assert(a->locked_until == INT64_MAX);
	udb_account_free(a);
	/* Locked: the right password fails too, without saying so. */
	auth_expect("login", "alice", right, PAM_AUTH_ERR);
	/* `userdb user unlock` */
	ck_assert_int_eq(udb_account_unlock(fx.db, "alice"), UDB_OK);
	auth_expect("login", "alice", right, PAM_SUCCESS);
}
END_TEST

START_TEST(test_attempts_while_locked_do_not_extend_the_lock)
{
	struct udb_account *before, *after;

	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE " deny=2 unlock_time=3600\n");
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	before = fx_account("alice");
	ck_assert(before->locked_until > udb_now());
	sleep(1);
	auth_expect("login", "alice", right, PAM_AUTH_ERR);
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	after = fx_account("alice");
	ck_assert(after->locked_until == before->locked_until);
	ck_assert_int_eq(after->failed_count, 4);
	udb_account_free(before);
	udb_account_free(after);
}
END_TEST

START_TEST(test_lock_ends_after_unlock_time)
{
	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE " deny=2 unlock_time=1\n");
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	auth_expect("login", "alice", right, PAM_AUTH_ERR);
	sleep(2);
	auth_expect("login", "alice", right, PAM_SUCCESS);
}
END_TEST

START_TEST(test_deny_from_config_and_argument_override)
{
	fx_user("alice", "correct horse");
	fx_user("bob", "correct horse");
	fx_conf("deny.conf", "deny = 2\nunlock_time = 0");
	fx_service("login", "auth required @MODULE@ conf=@DIR@/deny.conf nodelay\n");
	fx_service("login-nodeny", "auth required @MODULE@ conf=@DIR@/deny.conf nodelay deny=0\n");
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
	auth_expect("login", "alice", right, PAM_AUTH_ERR);
	for (int i = 0; i < 4; i++)
		auth_expect("login-nodeny", "bob", wrong, PAM_AUTH_ERR);
	auth_expect("login-nodeny", "bob", right, PAM_SUCCESS);
}
END_TEST

START_TEST(test_success_resets_the_counter)
{
	struct udb_account *a;

	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE " deny=3 unlock_time=0\n");
	for (int round = 0; round < 2; round++) {
		auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
		auth_expect("login", "alice", wrong, PAM_AUTH_ERR);
		auth_expect("login", "alice", right, PAM_SUCCESS);
		a = fx_account("alice");
		ck_assert_int_eq(a->failed_count, 0);
		ck_assert(a->locked_until == 0);
		udb_account_free(a);
	}
}
END_TEST

START_TEST(test_outdated_hash_is_rehashed)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;
	struct udb_account *a;
	int64_t changed = udb_now() - 10 * 86400;
	char *kept;

	/* An imported sha512crypt hash (5000 rounds, the old default). */
	memset(&data, 0, sizeof(data));
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$6$", 0, NULL, 0, setting, sizeof(setting)));
	ck_assert_ptr_nonnull(crypt_rn("correct horse", setting, &data, sizeof(data)));
	fx_user("carol", NULL);
	ck_assert_int_eq(udb_account_set_password(fx.db, "carol", data.output, changed), UDB_OK);
	fx_conf("yescrypt.conf", "hash_method = yescrypt\nhash_cost = 1");
	fx_service("login", "auth required @MODULE@ conf=@DIR@/yescrypt.conf nodelay\n");

	auth_expect("login", "carol", right, PAM_SUCCESS);
	a = fx_account("carol");
	ck_assert_msg(strncmp(a->password_hash, "$y$", 3) == 0, "hash is still %.3s",
		      a->password_hash);
	/* A re-hash is not a password change: aging goes on. */
	ck_assert(a->password_changed_at == changed);
	kept = strdup(a->password_hash);
	udb_account_free(a);

	/* The new hash verifies, and being current it is left alone. */
	auth_expect("login", "carol", right, PAM_SUCCESS);
	auth_expect("login", "carol", wrong, PAM_AUTH_ERR);
	a = fx_account("carol");
	ck_assert_str_eq(a->password_hash, kept);
	udb_account_free(a);
	free(kept);
}
END_TEST

START_TEST(test_current_hash_is_kept)
{
	struct udb_account *a;
	char *before;

	fx_user("alice", "correct horse");
	a = fx_account("alice");
	before = strdup(a->password_hash);
	udb_account_free(a);
	fx_service("login", AUTH_LINE "\n");
	auth_expect("login", "alice", right, PAM_SUCCESS);
	a = fx_account("alice");
	ck_assert_str_eq(a->password_hash, before);
	udb_account_free(a);
	free(before);
}
END_TEST

START_TEST(test_use_first_pass_takes_the_stacked_token)
{
	fx_user("alice", "correct horse");
	fx_service("login", "auth required @SETITEMS@\n" AUTH_LINE " use_first_pass\n");
	setenv("PAM_AUTHTOK", "correct horse", 1);
	auth_expect("login", "alice", NULL, PAM_SUCCESS);
	setenv("PAM_AUTHTOK", "battery staple", 1);
	auth_expect("login", "alice", NULL, PAM_AUTH_ERR);
	unsetenv("PAM_AUTHTOK");
}
END_TEST

static unsigned recorded_delay;
static int delay_calls;

static void
record_delay(int status, unsigned delay, void *appdata)
{
	recorded_delay = delay;
	delay_calls++;
}

static int
answer_password(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(data);
	*resp = r;
	return PAM_SUCCESS;
}

/* Runs one authentication with the application's delay function, which
 * libpam calls instead of sleeping, and returns the delay it was given. */
static unsigned
delay_of(const char *service, const char *password, int expected)
{
	struct pam_conv conv = {answer_password, (void *)(uintptr_t)password};
	void (*fn)(int, unsigned, void *) = record_delay;
	pam_handle_t *ph = NULL;
	void *item;

	memcpy(&item, &fn, sizeof(item));
	ck_assert_int_eq(pam_start(service, "alice", &conv, &ph), PAM_SUCCESS);
	ck_assert_int_eq(pam_set_item(ph, PAM_FAIL_DELAY, item), PAM_SUCCESS);
	delay_calls = 0;
	ck_assert_int_eq(pam_authenticate(ph, 0), expected);
	pam_end(ph, expected);
	ck_assert_int_eq(delay_calls, 1);
	return recorded_delay;
}

START_TEST(test_failure_delay)
{
	fx_user("alice", "correct horse");
	fx_service("login", "auth required @MODULE@ conf=@CONF@\n");
	fx_service("login-nodelay", AUTH_LINE "\n");
	/* libpam randomises the 2 s the module asks for by up to 50%. */
	ck_assert_uint_ge(delay_of("login", "battery staple", PAM_AUTH_ERR), 1000000);
	ck_assert_uint_eq(delay_of("login-nodelay", "battery staple", PAM_AUTH_ERR), 0);
}
END_TEST

/* Not root (and not group shadow): the shadow file cannot be opened, so
 * auth asks the helper, and without one that runs it fails closed with
 * AUTH_ERR, never AUTHINFO_UNAVAIL, which the profile would hand to
 * pam_unix (an uncounted check of the same hash). The account phase has
 * no helper and reports AUTHINFO_UNAVAIL. */
START_TEST(test_caller_without_shadow_access)
{
	struct pam_conv conv = {answer_password, (void *)(uintptr_t) "correct horse"};
	pam_handle_t *ph = NULL;
	int auth_rc, acct_rc;

	if (geteuid() != 0)
		return; /* needs root to become another user */
	fx_user("alice", "correct horse");
	fx_service("login", AUTH_LINE " chkpwd=@DIR@/no-such-helper\n"
				      "account required @MODULE@ conf=@CONF@\n");
	ck_assert_int_eq(pam_start("login", "alice", &conv, &ph), PAM_SUCCESS);
	ck_assert_int_eq(setegid(65534), 0);
	ck_assert_int_eq(seteuid(65534), 0);
	auth_rc = pam_authenticate(ph, 0);
	acct_rc = pam_acct_mgmt(ph, 0);
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_int_eq(setegid(0), 0);
	pam_end(ph, auth_rc);
	ck_assert_msg(auth_rc == PAM_AUTH_ERR, "auth gave %s", fx_code(auth_rc));
	ck_assert_msg(acct_rc == PAM_AUTHINFO_UNAVAIL, "account gave %s", fx_code(acct_rc));
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("pam_auth");
	TCase *tc = tcase_create("authenticate");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_authenticate_right_password);
	tcase_add_test(tc, test_authenticate_wrong_password);
	tcase_add_test(tc, test_unknown_user_every_phase);
	tcase_add_test(tc, test_missing_account_row_is_unknown);
	tcase_add_test(tc, test_unusable_hashes_never_verify);
	tcase_add_test(tc, test_lockout_after_deny_failures);
	tcase_add_test(tc, test_attempts_while_locked_do_not_extend_the_lock);
	tcase_add_test(tc, test_lock_ends_after_unlock_time);
	tcase_add_test(tc, test_deny_from_config_and_argument_override);
	tcase_add_test(tc, test_success_resets_the_counter);
	tcase_add_test(tc, test_outdated_hash_is_rehashed);
	tcase_add_test(tc, test_current_hash_is_kept);
	tcase_add_test(tc, test_use_first_pass_takes_the_stacked_token);
	tcase_add_test(tc, test_failure_delay);
	tcase_add_test(tc, test_caller_without_shadow_access);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
