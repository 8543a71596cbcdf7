/* shadow entries through the module's own symbols, as pam_unix, `passwd -S`
 * and `chage -l` read them: the hash, the aging fields, a disabled or not
 * yet valid account shown as expired, every buffer size, and enumeration.
 * Run by meson (suite nss) by a user that can read the shadow file (root,
 * or the owner of the test database). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "fixture.h"
#include "module.h"

#define DAY 86400

static char big[1 << 16];

static void
getsp(const char *name, struct spwd *sp)
{
	int err = 0;
	enum nss_status st;

	st = mod.getspnam_r(name, sp, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(sp->sp_namp, name);
}

START_TEST(test_getspnam_hash_and_aging)
{
	struct spwd sp;

	getsp("alice", &sp);
	ck_assert_str_eq(sp.sp_pwdp, NFX_HASH);
	ck_assert_int_eq(sp.sp_lstchg, nfx.now / DAY);
	ck_assert_int_eq(sp.sp_min, 1);
	ck_assert_int_eq(sp.sp_max, 90);
	ck_assert_int_eq(sp.sp_warn, 7);
	ck_assert_int_eq(sp.sp_inact, 14);
	ck_assert_int_eq(sp.sp_expire, -1);
}
END_TEST

START_TEST(test_getspnam_no_password_locked)
{
	struct spwd sp;

	/* No hash: "!" so that nothing, pam_unix's nullok included, lets a
	 * password through; no change date and no aging: empty fields. */
	getsp("bob", &sp);
	ck_assert_str_eq(sp.sp_pwdp, "!");
	ck_assert_int_eq(sp.sp_lstchg, -1);
	ck_assert_int_eq(sp.sp_min, -1);
	ck_assert_int_eq(sp.sp_max, -1);
	ck_assert_int_eq(sp.sp_warn, -1);
	ck_assert_int_eq(sp.sp_inact, -1);
	ck_assert_int_eq(sp.sp_expire, -1);
}
END_TEST

START_TEST(test_getspnam_disabled_is_expired)
{
	struct spwd sp;

	getsp("carol", &sp);
	ck_assert_str_eq(sp.sp_pwdp, "!" NFX_HASH);
	ck_assert_int_eq(sp.sp_expire, 1);
}
END_TEST

/* Locked after failed logins: "!" in front of the hash, so pam_unix and
 * unix_chkpwd refuse it and `passwd -S` says L, until the lock ends. */
START_TEST(test_getspnam_locked_after_failed_logins)
{
	struct udb_account *a = NULL;
	struct spwd sp;
	bool locked = false;

	ck_assert_int_eq(udb_account_by_name(nfx.db, "alice", &a), UDB_OK);
	ck_assert_int_eq(udb_account_record_failure(nfx.db, a->user_id, udb_now(), 1, 0, &locked),
			 UDB_OK);
	ck_assert(locked);
	getsp("alice", &sp);
	ck_assert_str_eq(sp.sp_pwdp, "!" NFX_HASH);
	ck_assert_int_eq(udb_account_unlock(nfx.db, "alice"), UDB_OK);
	getsp("alice", &sp);
	ck_assert_str_eq(sp.sp_pwdp, NFX_HASH);
	/* A lock that has ended shows the hash again. */
	ck_assert_int_eq(
		udb_account_record_failure(nfx.db, a->user_id, udb_now() - 10, 1, 5, &locked),
		UDB_OK);
	getsp("alice", &sp);
	ck_assert_str_eq(sp.sp_pwdp, NFX_HASH);
	udb_account_free(a);
}
END_TEST

START_TEST(test_getspnam_must_change)
{
	struct spwd sp;

	getsp("erin", &sp);
	ck_assert_int_eq(sp.sp_lstchg, 0);
}
END_TEST

START_TEST(test_getspnam_validity)
{
	struct spwd sp;
	int64_t until = nfx.now + 10 * DAY + 3600;

	ck_assert_int_eq(udb_account_set_validity(nfx.db, "dave", 0, until), UDB_OK);
	getsp("dave", &sp);
	ck_assert_int_eq(sp.sp_expire, until / DAY);
	/* Not valid yet: expired as far as shadow can say. */
	ck_assert_int_eq(udb_account_set_validity(nfx.db, "dave", nfx.now + DAY, 0), UDB_OK);
	getsp("dave", &sp);
	ck_assert_int_eq(sp.sp_expire, 1);
	/* Re-enabled with no dates: no expiry. */
	ck_assert_int_eq(udb_account_set_validity(nfx.db, "dave", 0, 0), UDB_OK);
	getsp("dave", &sp);
	ck_assert_int_eq(sp.sp_expire, -1);
}
END_TEST

START_TEST(test_getspnam_missing)
{
	struct spwd sp;
	int err = 0;
	enum nss_status st;

	st = mod.getspnam_r("zoe", &sp, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
}
END_TEST

START_TEST(test_shadow_every_buffer_size)
{
	static const char *const names[] = {"alice", "bob", "carol"};

	for (size_t i = 0; i < 3; i++) {
		struct spwd sp;
		size_t need = strlen(names[i]) + 1;
		int err = 0;
		enum nss_status st;

		getsp(names[i], &sp);
		need += strlen(sp.sp_pwdp) + 1;
		for (size_t n = 0; n < need; n++) {
			err = 0;
			st = mod.getspnam_r(names[i], &sp, guarded_buffer(n), n, &err);
			ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
		}
		st = mod.getspnam_r(names[i], &sp, guarded_buffer(need), need, &err);
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
		ck_assert_str_eq(sp.sp_namp, names[i]);
	}
}
END_TEST

START_TEST(test_shadow_enumeration)
{
	static const char *const order[] = {"alice", "bob", "carol", "dave", "erin"};
	struct spwd sp;
	int err = 0;
	enum nss_status st;

	mod.setspent(0);
	for (size_t i = 0; i < 5; i++) {
		/* A short buffer first: the same entry must come next. */
		st = mod.getspent_r(&sp, big, 3, &err);
		ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
		st = mod.getspent_r(&sp, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
		ck_assert_str_eq(sp.sp_namp, order[i]);
	}
	for (int i = 0; i < 3; i++) {
		err = 0;
		st = mod.getspent_r(&sp, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	}
	mod.endspent();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_shadow");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("shadow");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_getspnam_hash_and_aging);
	tcase_add_test(tc, test_getspnam_no_password_locked);
	tcase_add_test(tc, test_getspnam_disabled_is_expired);
	tcase_add_test(tc, test_getspnam_locked_after_failed_logins);
	tcase_add_test(tc, test_getspnam_must_change);
	tcase_add_test(tc, test_getspnam_validity);
	tcase_add_test(tc, test_getspnam_missing);
	tcase_add_test(tc, test_shadow_every_buffer_size);
	tcase_add_test(tc, test_shadow_enumeration);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
