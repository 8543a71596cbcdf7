/* Unit tests of common/gate.c (the account phase's verdict, shared by
 * pam_userdb and `userdb explain`) and common/pam_args.c (the module
 * argument rules). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "email.h"
#include "fixture.h"
#include "gate.h"
#include "replica.h"
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

/* The verdict for args given as one space-separated module line, on fleet
 * host host (NULL: not a fleet host). */
static struct udb_gate_verdict
verdict_on(const struct udb_account *a, const char *line, const char *host, int64_t now)
{
	static char buf[512];
	struct udb_pam_args args = {0};
	struct udb_gate_verdict v;
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		ck_assert_int_eq(udb_pam_arg_parse(t, &args), UDB_OK);
	ck_assert_int_eq(udb_gate_account(fx.db, &args, host, a, now, &v), UDB_OK);
	return v;
}

static struct udb_gate_verdict
verdict(const struct udb_account *a, const char *line, int64_t now)
{
	return verdict_on(a, line, NULL, now);
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

/* Allows role on host as `userdb sync` does: through the apply engine. */
static void
allow_on_host(const char *host, const char *role, bool allow)
{
	struct udb_replica_apply *ap = NULL;
	struct udb_role *r = NULL;
	char id[24];
	const char *row[2] = {host, id};

	ck_assert_int_eq(udb_role_by_name(fx.db, role, &r), UDB_OK);
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	udb_role_free(r);
	ck_assert_int_eq(udb_replica_apply_begin(fx.db, false, &ap), UDB_OK);
	if (allow)
		ck_assert_int_eq(udb_replica_apply_row(ap, UDB_REPLICA_HOST_ROLES, row), UDB_OK);
	else
		ck_assert_int_eq(udb_replica_apply_tombstone(ap, UDB_REPLICA_HOST_ROLES, row),
				 UDB_OK);
	ck_assert_int_eq(udb_replica_apply_commit(ap, 1, T0), UDB_OK);
}

START_TEST(test_udb_gate_account_host_roles)
{
	struct udb_account a = account();
	struct udb_gate_verdict v;
	char **names = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, T0 + DAY, T0, NULL), UDB_OK);
	/* Not a fleet host: no host gate. */
	ck_assert_int_eq(verdict(&a, "", T0).reason, UDB_GATE_OK);
	/* A host with no allowed role lets nobody in, with or without
	 * roles_required=. */
	v = verdict_on(&a, "", "web1", T0);
	ck_assert_int_eq(v.reason, UDB_GATE_HOST_NOT_ALLOWED);
	ck_assert_str_eq(v.host, "web1");
	ck_assert_int_eq(verdict_on(&a, "roles_required=admin", "web1", T0).reason,
			 UDB_GATE_HOST_NOT_ALLOWED);
	/* user is allowed on web1 and alice has it through admin. */
	allow_on_host("web1", "user", true);
	allow_on_host("db1", "ops", true);
	ck_assert_int_eq(udb_host_roles(fx.db, "web1", &names, &n), UDB_OK);
	ck_assert_str_eq(fx_join(names, n), "user");
	ck_assert_int_eq(verdict_on(&a, "", "web1", T0).reason, UDB_GATE_OK);
	/* The host's other gates still apply after it. */
	ck_assert_int_eq(verdict_on(&a, "roles_required=ops", "web1", T0).reason, UDB_GATE_MISSING);
	/* Another host's rows do not count. */
	ck_assert_int_eq(verdict_on(&a, "", "db1", T0).reason, UDB_GATE_HOST_NOT_ALLOWED);
	/* An expired grant does not count. */
	ck_assert_int_eq(verdict_on(&a, "", "web1", T0 + DAY).reason, UDB_GATE_HOST_NOT_ALLOWED);
	/* The account state still comes first. */
	a.is_enabled = false;
	ck_assert_int_eq(verdict_on(&a, "", "web1", T0).reason, UDB_GATE_DISABLED);
	a.is_enabled = true;
	/* A deny that reaches the host refuses at once. */
	allow_on_host("web1", "user", false);
	ck_assert_int_eq(verdict_on(&a, "", "web1", T0).reason, UDB_GATE_HOST_NOT_ALLOWED);
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
	tcase_add_test(tc, test_udb_gate_account_host_roles);
	tc = fx_tcase(s, "udb_pam_arg_parse", false);
	tcase_add_test(tc, test_udb_pam_arg_parse_kinds);
	return s;
}

int
main(void)
{
	return fx_main(gate_suite());
}
