/* Unit tests of common/email.c: adding, removing, confirming and choosing
 * the primary address, case-insensitive uniqueness across users. */
#include <stdio.h>
#include <string.h>

#include "email.h"
#include "fixture.h"
#include "user.h"

/* "addr[*][+]" entries in list order: * primary, + confirmed. */
static const char *
emails_of(const char *user)
{
	static char out[1024];
	struct udb_email *v = NULL;
	size_t n = 0, len = 0;

	ck_assert_int_eq(udb_email_list(fx.db, user, &v, &n), UDB_OK);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s%s%s", i ? " " : "",
					v[i].address, v[i].is_primary ? "*" : "",
					v[i].confirmed_at ? "+" : "");
	udb_email_list_free(v, n);
	return out;
}

static enum udb_result
add(const char *user, const char *address, bool primary, bool confirmed)
{
	return udb_email_add(fx.db, user, address, primary, confirmed, T0);
}

static void
setup_users(void)
{
	fx_setup();
	fx_add_user("alice");
	fx_add_user("bob");
}

/* --- udb_email_add --- */

START_TEST(test_udb_email_add_first_is_primary)
{
	ck_assert_int_eq(add("alice", "alice@example.com", false, false), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "alice@example.com*");
	ck_assert_int_eq(add("alice", "a.work@example.org", false, true), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "alice@example.com* a.work@example.org+");
	ck_assert_str_eq(emails_of("bob"), "");
}
END_TEST

START_TEST(test_udb_email_add_primary_moves)
{
	ck_assert_int_eq(add("alice", "one@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("alice", "two@example.com", true, false), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "two@example.com* one@example.com");
	ck_assert_int_eq(add("alice", "three@example.com", true, false), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "three@example.com* one@example.com two@example.com");
}
END_TEST

START_TEST(test_udb_email_add_duplicate_case_insensitive)
{
	ck_assert_int_eq(add("alice", "Alice@Example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("alice", "alice@example.com", false, false), UDB_EXISTS);
	/* Nobody else may claim it either (it finds the account). */
	ck_assert_int_eq(add("bob", "ALICE@EXAMPLE.COM", true, true), UDB_EXISTS);
	ck_assert_str_eq(emails_of("alice"), "Alice@Example.com*");
	ck_assert_str_eq(emails_of("bob"), "");
}
END_TEST

START_TEST(test_udb_email_add_failed_primary_keeps_old)
{
	ck_assert_int_eq(add("alice", "one@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("bob", "bob@example.com", false, false), UDB_OK);
	/* A refused --primary add must not leave alice without a primary. */
	ck_assert_int_eq(add("alice", "bob@example.com", true, false), UDB_EXISTS);
	ck_assert_str_eq(emails_of("alice"), "one@example.com*");
}
END_TEST

START_TEST(test_udb_email_add_invalid_or_unknown)
{
	static const char *const bad[] = {
		"",
		"alice",
		"alice@",
		"@example.com",
		"a@b@c",
		"al ice@example.com",
		"alice@example.com\n",
		"ali\xc3\xa9@example.com",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(add("alice", bad[i], false, false) == UDB_INVALID,
			      "address %zu accepted", i);
	ck_assert_int_eq(add("ghost", "ghost@example.com", false, false), UDB_NOT_FOUND);
	ck_assert_str_eq(emails_of("alice"), "");
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(add("alice", "alice@example.com", false, false), UDB_PERMISSION);
}
END_TEST

/* --- udb_email_delete --- */

START_TEST(test_udb_email_delete_removes)
{
	struct udb_user *u = NULL;

	ck_assert_int_eq(add("alice", "one@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("alice", "two@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_email_delete(fx.db, "alice", "TWO@example.com"), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "one@example.com*");
	ck_assert_int_eq(udb_user_by_email(fx.db, "two@example.com", &u), UDB_NOT_FOUND);
	/* Removing the primary leaves none primary. */
	ck_assert_int_eq(add("alice", "three@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_email_delete(fx.db, "alice", "one@example.com"), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "three@example.com");
	ck_assert_int_eq(udb_email_delete(fx.db, "alice", "one@example.com"), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_email_delete(fx.db, "alice", "bad address"), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_email_delete(fx.db, "ghost", "three@example.com"), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_email_delete_other_users_address)
{
	ck_assert_int_eq(add("bob", "bob@example.com", false, true), UDB_OK);
	ck_assert_int_eq(udb_email_delete(fx.db, "alice", "bob@example.com"), UDB_NOT_FOUND);
	ck_assert_str_eq(emails_of("bob"), "bob@example.com*+");
}
END_TEST

/* --- udb_email_confirm --- */

START_TEST(test_udb_email_confirm_reports_changed)
{
	struct udb_email *v = NULL;
	bool changed = false;
	size_t n = 0;

	ck_assert_int_eq(add("alice", "alice@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_email_confirm(fx.db, "alice", "ALICE@example.com", T0 + 60, &changed),
			 UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(udb_email_confirm(fx.db, "alice", "alice@example.com", T0 + 120, &changed),
			 UDB_OK);
	ck_assert(!changed);
	ck_assert_int_eq(udb_email_list(fx.db, "alice", &v, &n), UDB_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].confirmed_at, T0 + 60);
	ck_assert_int_eq(v[0].created_at, T0);
	udb_email_list_free(v, n);
	ck_assert_int_eq(udb_email_confirm(fx.db, "alice", "other@example.com", T0, &changed),
			 UDB_NOT_FOUND);
	ck_assert_int_eq(udb_email_confirm(fx.db, "ghost", "alice@example.com", T0, &changed),
			 UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_email_confirm_other_users_address)
{
	bool has = true;
	int64_t bob_id;
	struct udb_user *bob = NULL;

	ck_assert_int_eq(add("bob", "bob@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_email_confirm(fx.db, "alice", "bob@example.com", T0, NULL),
			 UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_name(fx.db, "bob", &bob), UDB_OK);
	bob_id = bob->id;
	udb_user_free(bob);
	ck_assert_int_eq(udb_user_has_confirmed_email(fx.db, bob_id, &has), UDB_OK);
	ck_assert(!has);
}
END_TEST

/* --- udb_email_make_primary --- */

START_TEST(test_udb_email_make_primary_moves)
{
	ck_assert_int_eq(add("alice", "one@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("alice", "two@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_email_make_primary(fx.db, "alice", "Two@Example.com"), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "two@example.com* one@example.com");
	ck_assert_int_eq(udb_email_make_primary(fx.db, "alice", "two@example.com"), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "two@example.com* one@example.com");
}
END_TEST

START_TEST(test_udb_email_make_primary_unknown_keeps_old)
{
	ck_assert_int_eq(add("alice", "one@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("bob", "bob@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_email_make_primary(fx.db, "alice", "nope@example.com"), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_email_make_primary(fx.db, "alice", "bob@example.com"), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_email_make_primary(fx.db, "alice", "not valid"), UDB_NOT_FOUND);
	ck_assert_str_eq(emails_of("alice"), "one@example.com*");
	ck_assert_str_eq(emails_of("bob"), "bob@example.com*");
}
END_TEST

/* --- udb_email_list --- */

START_TEST(test_udb_email_list_order_and_access)
{
	struct udb_email *v = NULL;
	size_t n = 0;

	ck_assert_int_eq(add("alice", "b@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("alice", "c@example.com", false, false), UDB_OK);
	ck_assert_int_eq(add("alice", "a@example.com", false, false), UDB_OK);
	ck_assert_str_eq(emails_of("alice"), "b@example.com* a@example.com c@example.com");
	ck_assert_int_eq(udb_email_list(fx.db, "ghost", &v, &n), UDB_NOT_FOUND);
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert_str_eq(emails_of("alice"), "b@example.com* a@example.com c@example.com");
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_email_list(fx.db, "alice", &v, &n), UDB_PERMISSION);
	udb_email_list_free(NULL, 0);
}
END_TEST

/* --- udb_user_has_confirmed_email --- */

START_TEST(test_udb_user_has_confirmed_email_flag)
{
	struct udb_user *u = NULL;
	bool has = true;
	int64_t id;

	ck_assert_int_eq(udb_user_by_name(fx.db, "alice", &u), UDB_OK);
	id = u->id;
	udb_user_free(u);
	ck_assert_int_eq(udb_user_has_confirmed_email(fx.db, id, &has), UDB_OK);
	ck_assert(!has);
	ck_assert_int_eq(add("alice", "one@example.com", false, false), UDB_OK);
	ck_assert_int_eq(udb_user_has_confirmed_email(fx.db, id, &has), UDB_OK);
	ck_assert(!has);
	ck_assert_int_eq(add("alice", "two@example.com", false, true), UDB_OK);
	ck_assert_int_eq(udb_user_has_confirmed_email(fx.db, id, &has), UDB_OK);
	ck_assert(has);
	ck_assert_int_eq(udb_email_delete(fx.db, "alice", "two@example.com"), UDB_OK);
	ck_assert_int_eq(udb_user_has_confirmed_email(fx.db, id, &has), UDB_OK);
	ck_assert(!has);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_user_has_confirmed_email(fx.db, id, &has), UDB_PERMISSION);
}
END_TEST

static TCase *
email_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	/* The database fixture plus two users, alice and bob. */
	tcase_add_checked_fixture(tc, setup_users, fx_teardown);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *
email_suite(void)
{
	Suite *s = suite_create("email");
	TCase *tc;

	tc = email_tcase(s, "udb_email_add");
	tcase_add_test(tc, test_udb_email_add_first_is_primary);
	tcase_add_test(tc, test_udb_email_add_primary_moves);
	tcase_add_test(tc, test_udb_email_add_duplicate_case_insensitive);
	tcase_add_test(tc, test_udb_email_add_failed_primary_keeps_old);
	tcase_add_test(tc, test_udb_email_add_invalid_or_unknown);
	tc = email_tcase(s, "udb_email_delete");
	tcase_add_test(tc, test_udb_email_delete_removes);
	tcase_add_test(tc, test_udb_email_delete_other_users_address);
	tc = email_tcase(s, "udb_email_confirm");
	tcase_add_test(tc, test_udb_email_confirm_reports_changed);
	tcase_add_test(tc, test_udb_email_confirm_other_users_address);
	tc = email_tcase(s, "udb_email_make_primary");
	tcase_add_test(tc, test_udb_email_make_primary_moves);
	tcase_add_test(tc, test_udb_email_make_primary_unknown_keeps_old);
	tc = email_tcase(s, "udb_email_list");
	tcase_add_test(tc, test_udb_email_list_order_and_access);
	tc = email_tcase(s, "udb_user_has_confirmed_email");
	tcase_add_test(tc, test_udb_user_has_confirmed_email_flag);
	return s;
}

int
main(void)
{
	return fx_main(email_suite());
}
