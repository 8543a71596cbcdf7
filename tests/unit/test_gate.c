/* Unit tests of common/gate.c (the account phase's verdict, shared by
 * pam_userdb and `userdb explain`) and common/pam_args.c (the module
 * argument rules). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "email.h"
#include "fixture.h"
#include "gate.h"
#include "role.h"

static int64_t alice;
static char alice_name[] = "alice", alice_hash[] = "$6$x$y";

static void
setup_roles(void)
{
	fx_setup();
	fx_add_role("user", NULL, "ssh:login");
	fx_add_role("admin", "user", "sudo:all");
	fx_add_role("ops", NULL, NULL);
	alice = fx_add_user("alice");
}

/* An enabled account of alice with a password changed at T0. */
static struct udb_account
account(void)
{
	return (struct udb_account){.user_id = alice,
				    .username = alice_name,
				    .password_hash = alice_hash,
				    .password_changed_at = T0,
				    .min_days = UDB_DAYS_UNSET,
				    .max_days = UDB_DAYS_UNSET,
				    .warn_days = UDB_DAYS_UNSET,
				    .inactive_days = UDB_DAYS_UNSET,
				    .is_enabled = true};
}

/* The verdict for args given as one space-separated module line. */
static struct udb_gate_verdict
verdict(const struct udb_account *a, const char *line, int64_t now)
{
	static char buf[512];
	struct udb_pam_args args = {0};
	struct udb_gate_verdict v;
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		ck_assert_int_eq(udb_pam_arg_parse(t, &args), UDB_OK);
	ck_assert_int_eq(udb_gate_account(fx.db, &args, a, now, &v), UDB_OK);
	return v;
}

START_TEST(test_udb_gate_account_state_first)
{
	struct udb_account a = account();
	struct udb_gate_verdict v;

	ck_assert_int_eq(verdict(&a, "", T0).reason, UDB_GATE_OK);
	a.is_enabled = false;
	/* Disabled wins over a missing role: the state is checked first. */
	v = verdict(&a, "roles_required=admin", T0);
	ck_assert_int_eq(v.reason, UDB_GATE_DISABLED);
	ck_assert_ptr_null(v.argument);
	a = account();
	a.not_before = T0 + 1;
	ck_assert_int_eq(verdict(&a, "", T0).reason, UDB_GATE_NOT_YET_VALID);
	a = account();
	a.not_after = T0;
	ck_assert_int_eq(verdict(&a, "", T0).reason, UDB_GATE_EXPIRED);
}
END_TEST

START_TEST(test_udb_gate_account_password_aging)
{
	struct udb_account a = account();

	a.max_days = 1;
	a.inactive_days = 3;
	ck_assert_int_eq(verdict(&a, "", T0 + 2 * DAY).reason, UDB_GATE_MUST_CHANGE);
	ck_assert_int_eq(verdict(&a, "", T0 + 5 * DAY).reason, UDB_GATE_PASSWORD_EXPIRED);
	/* A change that is due does not let a missing role through. */
	ck_assert_int_eq(verdict(&a, "roles_required=admin", T0 + 2 * DAY).reason,
			 UDB_GATE_MISSING);
	ck_assert(udb_gate_allows(UDB_GATE_MUST_CHANGE));
	ck_assert(!udb_gate_allows(UDB_GATE_PASSWORD_EXPIRED));
}
END_TEST

START_TEST(test_udb_gate_account_roles)
{
	struct udb_account a = account();
	struct udb_gate_verdict v;

	v = verdict(&a, "roles_required=user,admin", T0);
	ck_assert_int_eq(v.reason, UDB_GATE_MISSING);
	ck_assert_str_eq(v.argument, "roles_required");
	ck_assert_str_eq(v.list, "user,admin");
	ck_assert_str_eq(v.missing, "user");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, T0 + DAY, T0, NULL), UDB_OK);
	/* user comes through admin's inclusion. */
	ck_assert_int_eq(verdict(&a, "roles_required=user,admin", T0).reason, UDB_GATE_OK);
	/* The grant expires at T0 + DAY. */
	v = verdict(&a, "roles_required=user,admin", T0 + DAY);
	ck_assert_int_eq(v.reason, UDB_GATE_MISSING);
	ck_assert_str_eq(v.missing, "user");
	ck_assert_int_eq(verdict(&a, "roles_accepted=ops,admin", T0).reason, UDB_GATE_OK);
	v = verdict(&a, "roles_accepted=ops", T0);
	ck_assert_int_eq(v.reason, UDB_GATE_NONE_ACCEPTED);
	ck_assert_str_eq(v.argument, "roles_accepted");
	/* Case-sensitive: Admin is not admin. */
	ck_assert_int_eq(verdict(&a, "roles_required=Admin", T0).reason, UDB_GATE_MISSING);
}
END_TEST

START_TEST(test_udb_gate_account_permissions_and_email)
{
	struct udb_account a = account();
	struct udb_gate_verdict v;

	ck_assert_int_eq(udb_grant(fx.db, "alice", "user", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(verdict(&a, "permissions_required=ssh:login", T0).reason, UDB_GATE_OK);
	v = verdict(&a, "permissions_required=ssh:login,sudo:all", T0);
	ck_assert_int_eq(v.reason, UDB_GATE_MISSING);
	ck_assert_str_eq(v.argument, "permissions_required");
	ck_assert_str_eq(v.missing, "sudo:all");
	ck_assert_int_eq(verdict(&a, "permissions_accepted=sudo:all,ssh:login", T0).reason,
			 UDB_GATE_OK);
	ck_assert_int_eq(verdict(&a, "permissions_accepted=sudo:all", T0).reason,
			 UDB_GATE_NONE_ACCEPTED);
	ck_assert_int_eq(verdict(&a, "require_confirmed_email", T0).reason,
			 UDB_GATE_NO_CONFIRMED_EMAIL);
	ck_assert_int_eq(udb_email_add(fx.db, "alice", "a@example.com", false, true, T0), UDB_OK);
	ck_assert_int_eq(verdict(&a, "require_confirmed_email", T0).reason, UDB_GATE_OK);
}
END_TEST

START_TEST(test_udb_pam_arg_parse_kinds)
{
	struct udb_pam_args a = {0};
	const char *cursor;
	char item[16];

	ck_assert_int_eq(udb_pam_arg_parse("deny=3", &a), UDB_OK);
	ck_assert(a.has_deny);
	ck_assert_uint_eq(a.deny, 3);
	ck_assert_int_eq(udb_pam_arg_parse("use_authtok", &a), UDB_OK);
	ck_assert_int_eq(udb_pam_arg_parse("deny=x", &a), UDB_INVALID);
	ck_assert_int_eq(udb_pam_arg_parse("conf=relative", &a), UDB_INVALID);
	ck_assert_int_eq(udb_pam_arg_parse("roles_required=a,,b", &a), UDB_INVALID);
	ck_assert_int_eq(udb_pam_arg_parse("roles_required=", &a), UDB_INVALID);
	ck_assert_int_eq(udb_pam_arg_parse("permissions_accepted=p:x,q", &a), UDB_OK);
	ck_assert_str_eq(a.permissions_accepted, "p:x,q");
	ck_assert_int_eq(udb_pam_arg_parse("db=/etc/x", &a), UDB_NOT_FOUND);
	cursor = a.permissions_accepted;
	ck_assert(udb_pam_list_next(&cursor, item, sizeof(item)));
	ck_assert_str_eq(item, "p:x");
	ck_assert(udb_pam_list_next(&cursor, item, sizeof(item)));
	ck_assert_str_eq(item, "q");
	ck_assert(!udb_pam_list_next(&cursor, item, sizeof(item)));
}
END_TEST

static Suite *
gate_suite(void)
{
	Suite *s = suite_create("gate");
	TCase *tc;

	tc = tcase_create("udb_gate_account");
	/* The database fixture, roles user < admin and ops, user alice. */
	tcase_add_checked_fixture(tc, setup_roles, fx_teardown);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_udb_gate_account_state_first);
	tcase_add_test(tc, test_udb_gate_account_password_aging);
	tcase_add_test(tc, test_udb_gate_account_roles);
	tcase_add_test(tc, test_udb_gate_account_permissions_and_email);
	tc = fx_tcase(s, "udb_pam_arg_parse", false);
	tcase_add_test(tc, test_udb_pam_arg_parse_kinds);
	return s;
}

int
main(void)
{
	return fx_main(gate_suite());
}
