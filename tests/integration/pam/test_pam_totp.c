/* pam_userdb.so's second factor under pam_wrapper: the TOTP code asked
 * after the password (second_factor=enrolled, the default), required and
 * off, the window, replays, recovery codes, the lockout, and self-enrolment
 * at login (second_factor=enrol). Codes are computed by oathtool from the
 * secret, not by the library the module uses. Each login runs its own
 * conversation, which counts the prompts and keeps the messages, so a test
 * can say what the user was asked. Run by meson (suite pam). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "fixture.h"
#include "hash.h"
#include "totp.h"
#include "user.h"

#define AUTH "auth required @MODULE@ conf=@CONF@ nodelay"

/* One login's conversation: the answers given to the prompts in turn, and
 * what the module showed. With code_from_uri, the answer after the first
 * is computed from the secret of the otpauth:// URI shown before it. */
struct talk {
	const char *answers[4];
	bool code_from_uri;
	int prompts;
	char prompt[4][64];
	char info[4096];
	char code[16];
};

/* The code of base32 secret at Unix time t, by oathtool. */
static void
code_at(const char *secret, int64_t t, char *out, size_t size)
{
	char cmd[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "oathtool --totp -b -N @%lld '%s'", (long long)t, secret);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, (int)size, p));
	ck_assert_int_eq(pclose(p), 0);
	out[strcspn(out, "\n")] = '\0';
	ck_assert_uint_eq(strlen(out), 6);
}

/* The time now, at least 3 s from a step boundary (waiting when not), so
 * that a login made next still falls in the step of the returned time. */
static int64_t
steady_now(void)
{
	int64_t t = time(NULL);

	if (t % UDB_TOTP_STEP < 2 || t % UDB_TOTP_STEP > UDB_TOTP_STEP - 4) {
		sleep(5);
		t = time(NULL);
	}
	return t;
}

static void
secret_of_uri(const char *info, char *out, size_t size)
{
	const char *p = strstr(info, "secret=");
	size_t n;

	ck_assert_msg(p != NULL, "no otpauth URI shown: %s", info);
	p += strlen("secret=");
	n = strcspn(p, "&\n");
	ck_assert_uint_lt(n, size);
	memcpy(out, p, n);
	out[n] = '\0';
}

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct talk *t = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *answer;

		if (msg[i]->msg_style == PAM_TEXT_INFO || msg[i]->msg_style == PAM_ERROR_MSG) {
			strncat(t->info, msg[i]->msg, sizeof(t->info) - strlen(t->info) - 2);
			strcat(t->info, "\n");
			continue;
		}
		if (t->prompts < 4)
			snprintf(t->prompt[t->prompts], sizeof(t->prompt[0]), "%s", msg[i]->msg);
		answer = t->prompts < 4 ? t->answers[t->prompts] : NULL;
		if (t->code_from_uri && t->prompts == 1) {
			char secret[64];

			secret_of_uri(t->info, secret, sizeof(secret));
			code_at(secret, time(NULL), t->code, sizeof(t->code));
			answer = t->code;
		}
		t->prompts++;
		if (!answer) {
			free(r);
			return PAM_CONV_ERR;
		}
		r[i].resp = strdup(answer);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* pam_authenticate of user on service with the talk's answers. */
static int
login(const char *service, const char *user, struct talk *t)
{
	struct pam_conv conv = {converse, t};
	pam_handle_t *pamh = NULL;
	int rc;

	ck_assert_int_eq(pam_start(service, user, &conv, &pamh), PAM_SUCCESS);
	rc = pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	return rc;
}

/* A login with the password and code; the number of prompts is checked. */
static int
login_with(const char *service, const char *user, const char *password, const char *code,
	   int prompts)
{
	struct talk t = {.answers = {password, code}};
	int rc = login(service, user, &t);

	ck_assert_int_eq(t.prompts, prompts);
	if (prompts == 2)
		ck_assert_str_eq(t.prompt[1], "Verification code: ");
	return rc;
}

static int64_t
user_id_of(const char *name)
{
	struct udb_user *u = NULL;
	int64_t id;

	ck_assert_int_eq(udb_user_by_name(fx.db, name, &u), UDB_OK);
	id = u->id;
	udb_user_free(u);
	return id;
}

/* Gives name a confirmed second factor, confirmed at time `at` with the
 * code of that time (so that step and earlier ones are used up); the base32
 * secret. */
static char *
enrol(const char *name, int64_t at)
{
	char *secret = NULL, code[16];

	ck_assert_int_eq(udb_totp_enroll(fx.db, user_id_of(name), &secret), UDB_OK);
	code_at(secret, at, code, sizeof(code));
	ck_assert_int_eq(udb_totp_confirm(fx.db, user_id_of(name), code, at, 1), UDB_OK);
	return secret;
}

static unsigned
failures_of(const char *name)
{
	struct udb_account *a = fx_account(name);
	unsigned n = (unsigned)a->failed_count;

	udb_account_free(a);
	return n;
}

static void
setup_alice(void)
{
	fx_setup();
	fx_user("alice", "correct horse");
	fx_service("login", AUTH "\n");
	fx_service("required", AUTH " second_factor=required\n");
	fx_service("off", AUTH " second_factor=off\n");
	fx_service("enrol", AUTH " second_factor=enrol\n");
	fx_service("wide", AUTH " totp_window=3\n");
	fx_service("lockout", AUTH " deny=3 unlock_time=600\n");
	fx_service("bogus", AUTH " second_factor=always\n");
	fx_service("toowide", AUTH " totp_window=11\n");
}

START_TEST(test_right_password_and_code)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 300);
	char code[16];

	code_at(secret, now, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
	ck_assert_uint_eq(failures_of("alice"), 0);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_wrong_code_is_counted)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 300);
	char code[16], wrong[16];

	code_at(secret, now, code, sizeof(code));
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 1) % 1000000);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", wrong, 2), PAM_AUTH_ERR);
	ck_assert_uint_eq(failures_of("alice"), 1);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", "", 2), PAM_AUTH_ERR);
	ck_assert_uint_eq(failures_of("alice"), 2);
	/* The right code still works: a wrong one used nothing up. */
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
	ck_assert_uint_eq(failures_of("alice"), 0);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_wrong_password_asks_the_code_too)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 300);
	char code[16];

	code_at(secret, now, code, sizeof(code));
	/* The same prompts, the same answer, whichever was wrong. */
	ck_assert_int_eq(login_with("login", "alice", "battery staple", code, 2), PAM_AUTH_ERR);
	ck_assert_uint_eq(failures_of("alice"), 1);
	/* A right code given with a wrong password is not used up. */
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_replayed_code_refused)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 300);
	char code[16];

	code_at(secret, now, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_AUTH_ERR);
	ck_assert_uint_eq(failures_of("alice"), 1);
	/* Nor an earlier step's code, though it is inside the window. */
	code_at(secret, now - UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_AUTH_ERR);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_previous_and_next_step)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 300);
	char code[16];

	code_at(secret, now - UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
	code_at(secret, now + UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_window_is_one_step_unless_configured)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 600);
	char code[16];

	code_at(secret, now - 2 * UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_AUTH_ERR);
	ck_assert_int_eq(login_with("wide", "alice", "correct horse", code, 2), PAM_SUCCESS);
	code_at(secret, now + 3 * UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("wide", "alice", "correct horse", code, 2), PAM_SUCCESS);
	code_at(secret, now + 5 * UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("wide", "alice", "correct horse", code, 2), PAM_AUTH_ERR);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_recovery_code_once_not_twice)
{
	char *secret = enrol("alice", steady_now() - 300);
	char **codes = NULL;
	struct udb_totp_state s;

	ck_assert_int_eq(udb_totp_recovery_codes(fx.db, user_id_of("alice"), &codes), UDB_OK);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", codes[0], 2), PAM_SUCCESS);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", codes[0], 2), PAM_AUTH_ERR);
	ck_assert_int_eq(udb_totp_state(fx.db, user_id_of("alice"), &s), UDB_OK);
	ck_assert_uint_eq(s.recovery_left, UDB_RECOVERY_CODES - 1);
	/* Not with a wrong password either, and then it is not spent. */
	ck_assert_int_eq(login_with("login", "alice", "wrong", codes[1], 2), PAM_AUTH_ERR);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", codes[1], 2), PAM_SUCCESS);
	udb_totp_codes_free(codes);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_required_refuses_unenrolled)
{
	/* Asked for a code like everyone, and refused whatever it is. */
	ck_assert_int_eq(login_with("required", "alice", "correct horse", "123456", 2),
			 PAM_AUTH_ERR);
	ck_assert_uint_eq(failures_of("alice"), 1);
	/* An unknown user is asked the same two questions. */
	ck_assert_int_eq(login_with("required", "nosuch", "correct horse", "123456", 2),
			 PAM_USER_UNKNOWN);
}
END_TEST

START_TEST(test_enrolled_default_and_off)
{
	int64_t now = steady_now();
	char *secret;

	/* No factor: the password alone, one prompt. */
	ck_assert_int_eq(login_with("login", "alice", "correct horse", NULL, 1), PAM_SUCCESS);
	/* A pending factor is not asked. */
	ck_assert_int_eq(udb_totp_enroll(fx.db, user_id_of("alice"), &secret), UDB_OK);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", NULL, 1), PAM_SUCCESS);
	udb_secret_free(secret);
	secret = enrol("alice", now - 300);
	ck_assert_int_eq(login_with("login", "alice", "correct horse", NULL, 2), PAM_AUTH_ERR);
	ck_assert_int_eq(login_with("off", "alice", "correct horse", NULL, 1), PAM_SUCCESS);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_wrong_codes_lock_the_account)
{
	int64_t now = steady_now();
	char *secret = enrol("alice", now - 300);
	char code[16];

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(login_with("lockout", "alice", "correct horse", "000000", 2),
				 PAM_AUTH_ERR);
	code_at(secret, now, code, sizeof(code));
	ck_assert_int_eq(login_with("lockout", "alice", "correct horse", code, 2), PAM_AUTH_ERR);
	ck_assert_uint_eq(failures_of("alice"), 4);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_enrol_at_login)
{
	struct talk t = {.answers = {"correct horse", NULL}, .code_from_uri = true};
	struct udb_totp_state s;
	char secret[64], code[16];

	steady_now();
	ck_assert_int_eq(login("enrol", "alice", &t), PAM_SUCCESS);
	ck_assert_int_eq(t.prompts, 2);
	ck_assert_str_eq(t.prompt[1], "Verification code: ");
	ck_assert_ptr_nonnull(strstr(t.info, "otpauth://totp/"));
	ck_assert_ptr_nonnull(strstr(t.info, "\u2580"));
	ck_assert_int_eq(udb_totp_state(fx.db, user_id_of("alice"), &s), UDB_OK);
	ck_assert(s.enrolled);
	/* From now on the code is asked, and the one used to enrol is spent. */
	secret_of_uri(t.info, secret, sizeof(secret));
	ck_assert_int_eq(login_with("enrol", "alice", "correct horse", t.code, 2), PAM_AUTH_ERR);
	code_at(secret, time(NULL) + UDB_TOTP_STEP, code, sizeof(code));
	ck_assert_int_eq(login_with("login", "alice", "correct horse", code, 2), PAM_SUCCESS);
}
END_TEST

START_TEST(test_enrol_wrong_code_refused)
{
	struct udb_totp_state s;

	/* A wrong first code: refused, counted, not enrolled. */
	ck_assert_int_eq(login_with("enrol", "alice", "correct horse", "abcdef", 2), PAM_AUTH_ERR);
	ck_assert_int_eq(udb_totp_state(fx.db, user_id_of("alice"), &s), UDB_OK);
	ck_assert(!s.enrolled);
	ck_assert_uint_eq(failures_of("alice"), 1);
	/* A wrong password: no enrolment offered, one prompt. */
	ck_assert_int_eq(login_with("enrol", "alice", "wrong", NULL, 1), PAM_AUTH_ERR);
}
END_TEST

START_TEST(test_bad_arguments_refuse)
{
	ck_assert_int_eq(login_with("bogus", "alice", "correct horse", NULL, 0), PAM_SERVICE_ERR);
	ck_assert_int_eq(login_with("toowide", "alice", "correct horse", NULL, 0), PAM_SERVICE_ERR);
}
END_TEST

static Suite *
totp_suite(void)
{
	Suite *s = suite_create("pam_totp");
	TCase *tc = tcase_create("second_factor");

	tcase_add_checked_fixture(tc, setup_alice, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_right_password_and_code);
	tcase_add_test(tc, test_wrong_code_is_counted);
	tcase_add_test(tc, test_wrong_password_asks_the_code_too);
	tcase_add_test(tc, test_replayed_code_refused);
	tcase_add_test(tc, test_previous_and_next_step);
	tcase_add_test(tc, test_window_is_one_step_unless_configured);
	tcase_add_test(tc, test_recovery_code_once_not_twice);
	tcase_add_test(tc, test_required_refuses_unenrolled);
	tcase_add_test(tc, test_enrolled_default_and_off);
	tcase_add_test(tc, test_wrong_codes_lock_the_account);
	tcase_add_test(tc, test_enrol_at_login);
	tcase_add_test(tc, test_enrol_wrong_code_refused);
	tcase_add_test(tc, test_bad_arguments_refuse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	Suite *s = totp_suite();
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
