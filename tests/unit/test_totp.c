/* Unit tests of common/totp.c and qr.c: enrolment, confirmation, the code
 * check of a login (window, replay, recovery codes), disable, the URI and
 * the QR text. Codes are computed by oathtool from the secret, not by the
 * library under test. */
#include <dirent.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "hash.h"
#include "totp.h"

static int64_t alice;

static void
setup_alice(void)
{
	fx_setup();
	alice = fx_add_user("alice");
}

/* The code of base32 secret at Unix time t, by oathtool. */
static const char *
code_at(const char *secret, int64_t t)
{
	static char out[4][16];
	static int next;
	char cmd[256];
	char *o = out[next++ % 4];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "oathtool --totp -b -N @%lld %s", (long long)t, secret);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(o, 16, p));
	ck_assert_int_eq(pclose(p), 0);
	o[strcspn(o, "\n")] = '\0';
	ck_assert_uint_eq(strlen(o), 6);
	return o;
}

/* Enrols and confirms alice at T0; the base32 secret. */
static char *
enrolled(void)
{
	char *secret = NULL;

	ck_assert_int_eq(udb_totp_enroll(fx.db, alice, &secret), UDB_OK);
	ck_assert_int_eq(udb_totp_confirm(fx.db, alice, code_at(secret, T0), T0, 1), UDB_OK);
	return secret;
}

/* One login's check at now, in its own transaction, consuming. */
static bool
check(const char *code, int64_t now)
{
	bool right = true;

	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(udb_totp_check_in_tx(fx.db, alice, code, now, 1, true, &right), UDB_OK);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	return right;
}

static struct udb_totp_state
state(void)
{
	struct udb_totp_state s;

	ck_assert_int_eq(udb_totp_state(fx.db, alice, &s), UDB_OK);
	return s;
}

START_TEST(test_udb_totp_enroll_pending_until_confirmed)
{
	char *secret = NULL;

	ck_assert(!state().enrolled && !state().pending);
	ck_assert_int_eq(udb_totp_enroll(fx.db, alice, &secret), UDB_OK);
	ck_assert_uint_eq(strlen(secret), 32);
	ck_assert(state().pending);
	ck_assert(!state().enrolled);
	/* No factor in force: a login's check has no right code. */
	ck_assert(!check(code_at(secret, T0), T0));
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_udb_totp_confirm_only_with_right_code)
{
	char *secret = NULL;
	char wrong[16];

	ck_assert_int_eq(udb_totp_confirm(fx.db, alice, "123456", T0, 1), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_totp_enroll(fx.db, alice, &secret), UDB_OK);
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code_at(secret, T0)) + 1) % 1000000);
	ck_assert_int_eq(udb_totp_confirm(fx.db, alice, wrong, T0, 1), UDB_AUTH_FAILED);
	ck_assert_int_eq(udb_totp_confirm(fx.db, alice, "12345", T0, 1), UDB_AUTH_FAILED);
	ck_assert(!state().enrolled);
	/* Two steps away is outside the window of one. */
	ck_assert_int_eq(udb_totp_confirm(fx.db, alice, code_at(secret, T0 - 60), T0, 1),
			 UDB_AUTH_FAILED);
	ck_assert_int_eq(udb_totp_confirm(fx.db, alice, code_at(secret, T0), T0, 1), UDB_OK);
	ck_assert(state().enrolled);
	ck_assert(!state().pending);
	ck_assert_int_eq(state().confirmed_at, T0);
	/* The confirming code is used up. */
	ck_assert(!check(code_at(secret, T0), T0));
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_udb_totp_check_in_tx_window_and_replay)
{
	char *secret = enrolled();
	int64_t t = T0 + 300;

	ck_assert(check(code_at(secret, t - 30), t));
	/* Once used, a code never works again, nor any earlier one. */
	ck_assert(!check(code_at(secret, t - 30), t));
	ck_assert(check(code_at(secret, t), t));
	ck_assert(!check(code_at(secret, t), t));
	ck_assert(!check(code_at(secret, t - 30), t + 1));
	ck_assert(check(code_at(secret, t + 30), t));
	ck_assert(!check(code_at(secret, t + 90), t));
	ck_assert(!check(code_at(secret, t + 1000), t + 1000 - 90));
	ck_assert(!check("", t));
	ck_assert(!check("12345a", t));
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_udb_totp_check_in_tx_not_consumed)
{
	char *secret = enrolled();
	bool right = false;

	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(udb_totp_check_in_tx(fx.db, alice, code_at(secret, T0 + 60), T0 + 60, 1,
					      false, &right),
			 UDB_OK);
	ck_assert(right);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	ck_assert(check(code_at(secret, T0 + 60), T0 + 60));
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_udb_totp_recovery_codes_single_use)
{
	char **codes = NULL, *secret = NULL;
	char upper[32];

	ck_assert_int_eq(udb_totp_recovery_codes(fx.db, alice, &codes), UDB_NOT_FOUND);
	secret = enrolled();
	ck_assert_int_eq(udb_totp_recovery_codes(fx.db, alice, &codes), UDB_OK);
	ck_assert_uint_eq(state().recovery_left, UDB_RECOVERY_CODES);
	for (size_t i = 0; i < UDB_RECOVERY_CODES; i++) {
		ck_assert_uint_eq(strlen(codes[i]), UDB_RECOVERY_CODE_LEN);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(codes[i], codes[j]);
	}
	ck_assert(check(codes[3], T0));
	ck_assert(!check(codes[3], T0));
	ck_assert_uint_eq(state().recovery_left, UDB_RECOVERY_CODES - 1);
	/* Typed in capitals and without the dashes. */
	for (size_t i = 0, o = 0; i <= strlen(codes[5]); i++)
		if (codes[5][i] != '-')
			upper[o++] = (char)(codes[5][i] >= 'a' && codes[5][i] <= 'z'
						    ? codes[5][i] - 'a' + 'A'
						    : codes[5][i]);
	ck_assert(check(upper, T0));
	ck_assert_uint_eq(state().recovery_left, UDB_RECOVERY_CODES - 2);
	ck_assert(!check("aaaa-bbbb-cccc", T0));
	udb_totp_codes_free(codes);
	/* New codes replace the old ones. */
	ck_assert_int_eq(udb_totp_recovery_codes(fx.db, alice, &codes), UDB_OK);
	ck_assert_uint_eq(state().recovery_left, UDB_RECOVERY_CODES);
	udb_totp_codes_free(codes);
	udb_secret_free(secret);
}
END_TEST

START_TEST(test_udb_totp_disable_removes_everything)
{
	char *secret = enrolled();
	bool changed = false;

	ck_assert_int_eq(udb_totp_disable(fx.db, alice, &changed), UDB_OK);
	ck_assert(changed);
	ck_assert(!state().enrolled);
	ck_assert(!check(code_at(secret, T0 + 30), T0 + 30));
	ck_assert_int_eq(udb_totp_disable(fx.db, alice, &changed), UDB_OK);
	ck_assert(!changed);
	udb_secret_free(secret);
}
END_TEST

/* Whether the file at path holds the bytes of needle. */
static bool
file_has(const char *path, const unsigned char *needle, size_t n)
{
	static unsigned char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t len;

	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	for (ssize_t i = 0; len > 0 && i + (ssize_t)n <= len; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return true;
	return false;
}

START_TEST(test_udb_totp_secret_only_in_shadow_file)
{
	char *secret = enrolled(), *raw = NULL, path[PATH_MAX * 2];
	size_t raw_len = 0;
	struct dirent *e;
	DIR *d;

	/* A change that rebuilds every image after the enrolment. */
	fx_add_user("bob");
	udb_db_close(fx.db);
	fx.db = NULL;
	ck_assert_int_eq(oath_base32_decode(secret, strlen(secret), &raw, &raw_len), OATH_OK);
	d = opendir(fx.dbdir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fx.dbdir, e->d_name);
		if (strncmp(e->d_name, "shadow.db", 9) == 0)
			continue;
		ck_assert_msg(!file_has(path, (unsigned char *)raw, raw_len), "secret in %s",
			      e->d_name);
	}
	closedir(d);
	ck_assert(file_has(fx_dbfile("shadow.db"), (unsigned char *)raw, raw_len));
	free(raw);
	udb_secret_free(secret);
	fx_reopen(UDB_OPEN_WRITE);
}
END_TEST

START_TEST(test_udb_totp_uri_encodes_label)
{
	char *uri = udb_totp_uri("userdb host", "al&ice", "ABCDEF");

	ck_assert_str_eq(uri, "otpauth://totp/userdb%20host%3Aal%26ice?secret=ABCDEF&issuer="
			      "userdb%20host&algorithm=SHA1&digits=6&period=30");
	udb_secret_free(uri);
}
END_TEST

START_TEST(test_udb_qr_text_half_blocks)
{
	char *qr = udb_qr_text("otpauth://totp/x?secret=ABCDEF");
	size_t lines = 0;

	ck_assert_ptr_nonnull(qr);
	for (const char *p = qr; *p; p++)
		lines += *p == '\n';
	/* Version 2 is 25 modules, plus 4 of quiet zone: 29 rows, 15 lines. */
	ck_assert_uint_eq(lines, 15);
	ck_assert_ptr_nonnull(strstr(qr, "\u2580"));
	ck_assert_ptr_nonnull(strstr(qr, "\u2584"));
	free(qr);
}
END_TEST

static TCase *
totp_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	/* The database fixture plus one user, alice. */
	tcase_add_checked_fixture(tc, setup_alice, fx_teardown);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *
totp_suite(void)
{
	Suite *s = suite_create("totp");
	TCase *tc;

	tc = totp_tcase(s, "udb_totp");
	tcase_add_test(tc, test_udb_totp_enroll_pending_until_confirmed);
	tcase_add_test(tc, test_udb_totp_confirm_only_with_right_code);
	tcase_add_test(tc, test_udb_totp_check_in_tx_window_and_replay);
	tcase_add_test(tc, test_udb_totp_check_in_tx_not_consumed);
	tcase_add_test(tc, test_udb_totp_recovery_codes_single_use);
	tcase_add_test(tc, test_udb_totp_disable_removes_everything);
	tcase_add_test(tc, test_udb_totp_secret_only_in_shadow_file);
	tc = fx_tcase(s, "udb_totp_uri", false);
	tcase_add_test(tc, test_udb_totp_uri_encodes_label);
	tcase_add_test(tc, test_udb_qr_text_half_blocks);
	return s;
}

int
main(void)
{
	return fx_main(totp_suite());
}
