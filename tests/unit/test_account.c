/* Unit tests of common/account.c: the shadow record, the order of the
 * account status checks, password aging, the failed-login lockout and
 * login tracking. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "account.h"
#include "fixture.h"
#include "user.h"

static struct udb_account *
get_account(const char *name)
{
	struct udb_account *a = NULL;

	ck_assert_int_eq(udb_account_by_name(fx.db, name, &a), UDB_OK);
	return a;
}

static enum udb_account_status
status_of(const char *name, int64_t now)
{
	struct udb_account *a = get_account(name);
	enum udb_account_status st = udb_account_status(a, now);

	udb_account_free(a);
	return st;
}

static bool
locked(const char *name, int64_t now)
{
	struct udb_account *a = get_account(name);
	bool l = udb_account_is_locked(a, now);

	udb_account_free(a);
	return l;
}

static int64_t
add_user_with_password(const char *name)
{
	struct udb_user_spec spec = {.username = name, .password_hash = "$6$rounds=1000$s$h"};
	struct udb_user *u = NULL;
	int64_t id;

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, &u), UDB_OK);
	id = u->id;
	udb_user_free(u);
	return id;
}

/* A healthy account: enabled, a password set at T0, no limits. */
static struct udb_account
healthy(void)
{
	static char hash[] = "$6$x$y";

	return (struct udb_account){
		.password_hash = hash,
		.password_changed_at = T0,
		.min_days = UDB_DAYS_UNSET,
		.max_days = UDB_DAYS_UNSET,
		.warn_days = UDB_DAYS_UNSET,
		.inactive_days = UDB_DAYS_UNSET,
		.is_enabled = true,
	};
}

/* --- reading --- */

START_TEST(test_udb_account_by_name_new_account)
{
	struct udb_account *a;
	int64_t id = add_user_with_password("alice");

	a = get_account("alice");
	ck_assert_str_eq(a->username, "alice");
	ck_assert_int_eq(a->user_id, id);
	ck_assert_str_eq(a->password_hash, "$6$rounds=1000$s$h");
	ck_assert_int_eq(a->password_changed_at, T0);
	ck_assert_int_eq(a->min_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(a->max_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(a->warn_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(a->inactive_days, UDB_DAYS_UNSET);
	ck_assert(!a->must_change);
	ck_assert(a->is_enabled);
	ck_assert_int_eq(a->not_before, 0);
	ck_assert_int_eq(a->not_after, 0);
	ck_assert_int_eq(a->failed_count, 0);
	ck_assert_int_eq(a->locked_until, 0);
	ck_assert_int_eq(a->login_count, 0);
	ck_assert_ptr_null(a->last_login_ip);
	ck_assert_ptr_null(a->current_login_ip);
	ck_assert_int_eq(udb_account_status(a, T0), UDB_ACCOUNT_OK);
	udb_account_free(a);
	udb_account_free(NULL);
	udb_account_list_free(NULL, 0);
}
END_TEST

START_TEST(test_udb_account_by_name_not_found_or_not_allowed)
{
	struct udb_account *a = NULL;

	fx_add_user("alice");
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_name(fx.db, "Alice", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_name(fx.db, "al:ice", &a), UDB_NOT_FOUND);
	ck_assert_ptr_null(a);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_PERMISSION);
	ck_assert_ptr_null(a);
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_account_by_user_id_lookup)
{
	struct udb_account *a = NULL;
	int64_t id = fx_add_user("alice");

	ck_assert_int_eq(udb_account_by_user_id(fx.db, id, &a), UDB_OK);
	ck_assert_int_eq(a->user_id, id);
	ck_assert_ptr_null(a->password_hash);
	udb_account_free(a);
	a = NULL;
	ck_assert_int_eq(udb_account_by_user_id(fx.db, id + 1, &a), UDB_NOT_FOUND);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_account_by_user_id(fx.db, id, &a), UDB_PERMISSION);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_udb_shadow_page_keyset)
{
	struct udb_account **page = NULL;
	int64_t after = 0;
	size_t n = 0;

	fx_add_user("alice");
	add_user_with_password("bob");
	fx_add_user("carol");
	ck_assert_int_eq(udb_shadow_page(fx.db, after, 2, &page, &n), UDB_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(page[0]->username, "alice");
	ck_assert_str_eq(page[1]->username, "bob");
	ck_assert_str_eq(page[1]->password_hash, "$6$rounds=1000$s$h");
	after = page[1]->user_id;
	udb_account_list_free(page, n);
	ck_assert_int_eq(udb_shadow_page(fx.db, after, 2, &page, &n), UDB_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(page[0]->username, "carol");
	after = page[0]->user_id;
	udb_account_list_free(page, n);
	ck_assert_int_eq(udb_shadow_page(fx.db, after, 2, &page, &n), UDB_OK);
	ck_assert_uint_eq(n, 0);
	udb_account_list_free(page, n);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_shadow_page(fx.db, 0, 2, &page, &n), UDB_PERMISSION);
}
END_TEST

/* --- status --- */

START_TEST(test_udb_account_status_order)
{
	struct udb_account a = healthy();

	ck_assert_int_eq(udb_account_status(&a, T0), UDB_ACCOUNT_OK);
	/* Everything wrong at once: disabled is reported first, and so on down
	 * the order the PAM account phase uses. */
	a.must_change = true;
	a.max_days = 1;
	a.inactive_days = 0;
	a.not_after = T0 + 10;
	a.not_before = T0 + 5;
	a.is_enabled = false;
	ck_assert_int_eq(udb_account_status(&a, T0 + 20 * DAY), UDB_ACCOUNT_DISABLED);
	a.is_enabled = true;
	ck_assert_int_eq(udb_account_status(&a, T0), UDB_ACCOUNT_NOT_YET_VALID);
	ck_assert_int_eq(udb_account_status(&a, T0 + 10), UDB_ACCOUNT_EXPIRED);
	a.not_before = 0;
	ck_assert_int_eq(udb_account_status(&a, T0 + 20 * DAY), UDB_ACCOUNT_EXPIRED);
	a.not_after = 0;
	ck_assert_int_eq(udb_account_status(&a, T0 + 20 * DAY), UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	a.must_change = false;
	ck_assert_int_eq(udb_account_status(&a, T0 + 20 * DAY), UDB_ACCOUNT_PASSWORD_EXPIRED);
	a.max_days = UDB_DAYS_UNSET;
	ck_assert_int_eq(udb_account_status(&a, T0 + 20 * DAY), UDB_ACCOUNT_OK);
}
END_TEST

START_TEST(test_udb_account_status_validity_window)
{
	struct udb_account a = healthy();

	a.not_before = T0;
	a.not_after = T0 + DAY;
	ck_assert_int_eq(udb_account_status(&a, T0 - 1), UDB_ACCOUNT_NOT_YET_VALID);
	ck_assert_int_eq(udb_account_status(&a, T0), UDB_ACCOUNT_OK);
	ck_assert_int_eq(udb_account_status(&a, T0 + DAY - 1), UDB_ACCOUNT_OK);
	ck_assert_int_eq(udb_account_status(&a, T0 + DAY), UDB_ACCOUNT_EXPIRED);
}
END_TEST

START_TEST(test_udb_account_status_password_aging)
{
	struct udb_account a = healthy();

	a.max_days = 30;
	ck_assert_int_eq(udb_account_status(&a, T0 + 30 * DAY - 1), UDB_ACCOUNT_OK);
	/* Past max_days: the password must be changed at login... */
	ck_assert_int_eq(udb_account_status(&a, T0 + 30 * DAY), UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	ck_assert_int_eq(udb_account_status(&a, T0 + 400 * DAY), UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	/* ...until inactive_days more have gone by. */
	a.inactive_days = 7;
	ck_assert_int_eq(udb_account_status(&a, T0 + 37 * DAY - 1),
			 UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	ck_assert_int_eq(udb_account_status(&a, T0 + 37 * DAY), UDB_ACCOUNT_PASSWORD_EXPIRED);
	/* Without a password there is nothing to age. */
	a.password_hash = NULL;
	ck_assert_int_eq(udb_account_status(&a, T0 + 37 * DAY), UDB_ACCOUNT_OK);
}
END_TEST

START_TEST(test_udb_account_status_to_string_distinct)
{
	const char *seen[UDB_ACCOUNT_PASSWORD_EXPIRED + 1];

	for (int s = UDB_ACCOUNT_OK; s <= UDB_ACCOUNT_PASSWORD_EXPIRED; s++) {
		seen[s] = udb_account_status_to_string((enum udb_account_status)s);
		ck_assert_ptr_nonnull(seen[s]);
		ck_assert_uint_gt(strlen(seen[s]), 0);
		for (int t = 0; t < s; t++)
			ck_assert_str_ne(seen[s], seen[t]);
	}
}
END_TEST

/* --- changes --- */

START_TEST(test_udb_account_set_enabled_reports_changed)
{
	bool changed = false;

	fx_add_user("alice");
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", false, &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(status_of("alice", T0), UDB_ACCOUNT_DISABLED);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", false, &changed), UDB_OK);
	ck_assert(!changed);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", true, &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(status_of("alice", T0), UDB_ACCOUNT_OK);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "bob", true, &changed), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_account_set_password_clears_must_change)
{
	struct udb_account *a;

	add_user_with_password("alice");
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	ck_assert_int_eq(status_of("alice", T0), UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	ck_assert_int_eq(udb_account_set_password(fx.db, "alice", "$6$new$hash", T0 + DAY), UDB_OK);
	a = get_account("alice");
	ck_assert_str_eq(a->password_hash, "$6$new$hash");
	ck_assert_int_eq(a->password_changed_at, T0 + DAY);
	ck_assert(!a->must_change);
	ck_assert_int_eq(udb_account_status(a, T0 + DAY), UDB_ACCOUNT_OK);
	udb_account_free(a);
	ck_assert_int_eq(udb_account_set_password(fx.db, "bob", "$6$x$y", T0), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_account_set_password_null_removes)
{
	struct udb_account *a;

	add_user_with_password("alice");
	ck_assert_int_eq(udb_account_set_password(fx.db, "alice", NULL, T0 + 5), UDB_OK);
	a = get_account("alice");
	ck_assert_ptr_null(a->password_hash);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_account_set_validity_window)
{
	struct udb_account *a;

	fx_add_user("alice");
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", T0 + DAY, T0 + 2 * DAY), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->not_before, T0 + DAY);
	ck_assert_int_eq(a->not_after, T0 + 2 * DAY);
	udb_account_free(a);
	ck_assert_int_eq(status_of("alice", T0), UDB_ACCOUNT_NOT_YET_VALID);
	ck_assert_int_eq(status_of("alice", T0 + DAY), UDB_ACCOUNT_OK);
	ck_assert_int_eq(status_of("alice", T0 + 2 * DAY), UDB_ACCOUNT_EXPIRED);
	/* An empty window is refused and leaves the old one. */
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", T0 + DAY, T0 + DAY), UDB_INVALID);
	ck_assert_int_eq(status_of("alice", T0 + 2 * DAY), UDB_ACCOUNT_EXPIRED);
	/* 0 lifts a limit ("never"). */
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", 0, 0), UDB_OK);
	ck_assert_int_eq(status_of("alice", T0 + 400 * DAY), UDB_ACCOUNT_OK);
	ck_assert_int_eq(udb_account_set_validity(fx.db, "bob", 0, 0), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_account_set_must_change_flag)
{
	fx_add_user("alice");
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	ck_assert_int_eq(status_of("alice", T0), UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", false), UDB_OK);
	ck_assert_int_eq(status_of("alice", T0), UDB_ACCOUNT_OK);
}
END_TEST

START_TEST(test_udb_account_set_aging_values)
{
	struct udb_account *a;

	add_user_with_password("alice");
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", 1, 90, 7, 14), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->min_days, 1);
	ck_assert_int_eq(a->max_days, 90);
	ck_assert_int_eq(a->warn_days, 7);
	ck_assert_int_eq(a->inactive_days, 14);
	udb_account_free(a);
	ck_assert_int_eq(status_of("alice", T0 + 90 * DAY), UDB_ACCOUNT_PASSWORD_MUST_CHANGE);
	ck_assert_int_eq(status_of("alice", T0 + 104 * DAY), UDB_ACCOUNT_PASSWORD_EXPIRED);
	ck_assert_int_eq(udb_account_set_aging(fx.db, "alice", -1, -1, -1, -1), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->min_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(a->max_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(a->warn_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(a->inactive_days, UDB_DAYS_UNSET);
	ck_assert_int_eq(udb_account_status(a, T0 + 104 * DAY), UDB_ACCOUNT_OK);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_account_upgrade_hash_only_while_unchanged)
{
	int64_t id = add_user_with_password("alice");
	struct udb_account *a;

	ck_assert_int_eq(udb_account_set_must_change(fx.db, "alice", true), UDB_OK);
	ck_assert_int_eq(udb_account_upgrade_hash(fx.db, id, "$6$rounds=1000$s$h", "$y$new$h"),
			 UDB_OK);
	a = get_account("alice");
	ck_assert_str_eq(a->password_hash, "$y$new$h");
	/* A re-hash is not a password change: aging and must-change stay. */
	ck_assert_int_eq(a->password_changed_at, T0);
	ck_assert(a->must_change);
	udb_account_free(a);
	/* The password was changed meanwhile: the stale upgrade is dropped. */
	ck_assert_int_eq(udb_account_set_password(fx.db, "alice", "$6$changed$h", T0 + 5), UDB_OK);
	ck_assert_int_eq(udb_account_upgrade_hash(fx.db, id, "$y$new$h", "$y$stale$h"), UDB_OK);
	a = get_account("alice");
	ck_assert_str_eq(a->password_hash, "$6$changed$h");
	udb_account_free(a);
	ck_assert_int_eq(udb_account_upgrade_hash(fx.db, id, NULL, "$y$x$h"), UDB_INVALID);
	ck_assert_int_eq(udb_account_upgrade_hash(fx.db, id, "$6$changed$h", NULL), UDB_INVALID);
}
END_TEST

/* --- lockout --- */

START_TEST(test_udb_account_record_failure_locks_at_deny)
{
	bool is_locked = true;
	int64_t id = add_user_with_password("alice");
	struct udb_account *a;

	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 3, 600, &is_locked), UDB_OK);
	ck_assert(!is_locked);
	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0 + 1, 3, 600, &is_locked), UDB_OK);
	ck_assert(!is_locked);
	ck_assert(!locked("alice", T0 + 1));
	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0 + 2, 3, 600, &is_locked), UDB_OK);
	ck_assert(is_locked);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 3);
	ck_assert_int_eq(a->last_failed_at, T0 + 2);
	ck_assert_int_eq(a->locked_until, T0 + 602);
	ck_assert(udb_account_is_locked(a, T0 + 601));
	/* The lock lifts by itself after unlock_time. */
	ck_assert(!udb_account_is_locked(a, T0 + 602));
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_account_record_failure_until_unlocked)
{
	bool is_locked = false;
	int64_t id = add_user_with_password("alice");

	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 1, 0, &is_locked), UDB_OK);
	ck_assert(is_locked);
	ck_assert(locked("alice", T0 + 100LL * 365 * DAY));
	ck_assert(locked("alice", INT64_MAX - 1));
	ck_assert_int_eq(udb_account_unlock(fx.db, "alice"), UDB_OK);
	ck_assert(!locked("alice", T0));
}
END_TEST

START_TEST(test_udb_account_record_failure_deny_zero_never_locks)
{
	bool is_locked = true;
	int64_t id = add_user_with_password("alice");
	struct udb_account *a;

	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0 + i, 0, 0, &is_locked),
				 UDB_OK);
	ck_assert(!is_locked);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 10);
	ck_assert(!udb_account_is_locked(a, T0 + 10));
	udb_account_free(a);
	ck_assert_int_eq(udb_account_record_failure(fx.db, id + 100, T0, 3, 0, &is_locked),
			 UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_account_record_success_resets)
{
	int64_t id = add_user_with_password("alice");
	struct udb_account *a;

	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 3, 600, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 3, 600, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_record_success(fx.db, id), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 0);
	ck_assert_int_eq(a->locked_until, 0);
	udb_account_free(a);
	/* Two more failures do not lock: the count started again. */
	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 3, 600, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 3, 600, NULL), UDB_OK);
	ck_assert(!locked("alice", T0));
}
END_TEST

START_TEST(test_udb_account_unlock_clears)
{
	int64_t id = add_user_with_password("alice");
	struct udb_account *a;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(udb_account_record_failure(fx.db, id, T0, 3, 600, NULL), UDB_OK);
	ck_assert(locked("alice", T0));
	ck_assert_int_eq(udb_account_unlock(fx.db, "alice"), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 0);
	ck_assert(!udb_account_is_locked(a, T0));
	udb_account_free(a);
	ck_assert_int_eq(udb_account_unlock(fx.db, "bob"), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_account_record_unknown_failure_counts)
{
	struct udb_account **page = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	/* No account appears for a name that does not exist. */
	ck_assert_int_eq(udb_shadow_page(fx.db, 0, 10, &page, &n), UDB_OK);
	ck_assert_uint_eq(n, 0);
	udb_account_list_free(page, n);
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_PERMISSION);
}
END_TEST

/* --- login tracking --- */

START_TEST(test_udb_account_record_login_shifts)
{
	int64_t id = add_user_with_password("alice");
	struct udb_account *a;

	ck_assert_int_eq(udb_account_record_login(fx.db, id, T0, "192.0.2.1"), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->current_login_at, T0);
	ck_assert_str_eq(a->current_login_ip, "192.0.2.1");
	ck_assert_int_eq(a->last_login_at, 0);
	ck_assert_ptr_null(a->last_login_ip);
	ck_assert_int_eq(a->login_count, 1);
	udb_account_free(a);
	ck_assert_int_eq(udb_account_record_login(fx.db, id, T0 + 60, NULL), UDB_OK);
	a = get_account("alice");
	ck_assert_int_eq(a->last_login_at, T0);
	ck_assert_str_eq(a->last_login_ip, "192.0.2.1");
	ck_assert_int_eq(a->current_login_at, T0 + 60);
	ck_assert_ptr_null(a->current_login_ip);
	ck_assert_int_eq(a->login_count, 2);
	udb_account_free(a);
}
END_TEST

static Suite *
account_suite(void)
{
	Suite *s = suite_create("account");
	TCase *tc;

	tc = fx_tcase(s, "udb_account_by_name", true);
	tcase_add_test(tc, test_udb_account_by_name_new_account);
	tcase_add_test(tc, test_udb_account_by_name_not_found_or_not_allowed);
	tc = fx_tcase(s, "udb_account_by_user_id", true);
	tcase_add_test(tc, test_udb_account_by_user_id_lookup);
	tc = fx_tcase(s, "udb_shadow_page", true);
	tcase_add_test(tc, test_udb_shadow_page_keyset);
	tc = fx_tcase(s, "udb_account_status", false);
	tcase_add_test(tc, test_udb_account_status_order);
	tcase_add_test(tc, test_udb_account_status_validity_window);
	tcase_add_test(tc, test_udb_account_status_password_aging);
	tc = fx_tcase(s, "udb_account_status_to_string", false);
	tcase_add_test(tc, test_udb_account_status_to_string_distinct);
	tc = fx_tcase(s, "udb_account_set_enabled", true);
	tcase_add_test(tc, test_udb_account_set_enabled_reports_changed);
	tc = fx_tcase(s, "udb_account_set_password", true);
	tcase_add_test(tc, test_udb_account_set_password_clears_must_change);
	tcase_add_test(tc, test_udb_account_set_password_null_removes);
	tc = fx_tcase(s, "udb_account_upgrade_hash", true);
	tcase_add_test(tc, test_udb_account_upgrade_hash_only_while_unchanged);
	tc = fx_tcase(s, "udb_account_set_validity", true);
	tcase_add_test(tc, test_udb_account_set_validity_window);
	tc = fx_tcase(s, "udb_account_set_must_change", true);
	tcase_add_test(tc, test_udb_account_set_must_change_flag);
	tc = fx_tcase(s, "udb_account_set_aging", true);
	tcase_add_test(tc, test_udb_account_set_aging_values);
	tc = fx_tcase(s, "udb_account_record_failure", true);
	tcase_add_test(tc, test_udb_account_record_failure_locks_at_deny);
	tcase_add_test(tc, test_udb_account_record_failure_until_unlocked);
	tcase_add_test(tc, test_udb_account_record_failure_deny_zero_never_locks);
	tc = fx_tcase(s, "udb_account_record_success", true);
	tcase_add_test(tc, test_udb_account_record_success_resets);
	tc = fx_tcase(s, "udb_account_unlock", true);
	tcase_add_test(tc, test_udb_account_unlock_clears);
	tc = fx_tcase(s, "udb_account_record_unknown_failure", true);
	tcase_add_test(tc, test_udb_account_record_unknown_failure_counts);
	tc = fx_tcase(s, "udb_account_record_login", true);
	tcase_add_test(tc, test_udb_account_record_login_shifts);
	return s;
}

int
main(void)
{
	return fx_main(account_suite());
}
