/* Unit tests of common/import.c and common/import_apply.c: reading a copy
 * of passwd, shadow, group and gshadow into a plan (names, hash, aging,
 * personal groups, roles, memberships, problems and notes), checking it
 * against the database, and applying it in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "account.h"
#include "fixture.h"
#include "import.h"
#include "role.h"
#include "user.h"

#define H6                                                                                         \
	"$6$abcdefghijklmnop$J/"                                                                   \
	"AWykHqo2Tx5UtavGnFc3ytI33la50JpzLTarSWVhkIXK6wOjNwwZjsrIw2UgmrER2EKrSHCeQyAINEEXAk1/"

/* Writes root/etc/{passwd,shadow,group,gshadow} (gshadow NULL: none). */
static const char *
make_root(const char *passwd, const char *shadow, const char *group, const char *gshadow)
{
	char path[PATH_MAX + 32];
	const char *root = fx_file("root");

	mkdir(root, 0755);
	snprintf(path, sizeof(path), "%s/etc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	fx_write_file(path, passwd, 0644);
	snprintf(path, sizeof(path), "%s/etc/shadow", root);
	fx_write_file(path, shadow, 0600);
	snprintf(path, sizeof(path), "%s/etc/group", root);
	fx_write_file(path, group, 0644);
	if (gshadow) {
		snprintf(path, sizeof(path), "%s/etc/gshadow", root);
		fx_write_file(path, gshadow, 0600);
	}
	return root;
}

static struct udb_import_plan *
read_plan(const char *root)
{
	struct udb_import_plan *plan = NULL;
	const char *path = NULL;

	ck_assert_int_eq(udb_import_read(root, fx.cfg, 10000, 59999, &plan, &path), UDB_OK);
	return plan;
}

static bool
has_text(char **v, size_t n, const char *part)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(v[i], part))
			return true;
	return false;
}

static const char *const passwd = "root:x:0:0:root:/root:/bin/bash\n"
				  "alice:x:10001:10001:Alice Liddell,Room 1:/home/alice:/bin/bash\n"
				  "bob:x:10002:10100:Bob:/home/bob:/bin/sh\n"
				  "old:x:1000:1000::/home/old:/bin/sh\n";
static const char *const shadow = "alice:" H6 ":19500:0:99999:7:::\n"
				  "bob:!" H6 ":0:1:90:7:30:21000:\n"
				  "old:*:19000::::::\n";
static const char *const group = "sudo:x:27:alice\n"
				 "alice:x:10001:\n"
				 "dev:x:10100:alice\n"
				 "idle:x:10200:\n";
static const char *const gshadow = "dev:!::alice,bob\n";

/* --- udb_import_read --- */

START_TEST(test_udb_import_read_maps_accounts)
{
	struct udb_import_plan *plan = read_plan(make_root(passwd, shadow, group, gshadow));
	const struct udb_import_user *a, *b;

	ck_assert_uint_eq(plan->n_users, 2);
	ck_assert_uint_eq(plan->n_problems, 0);
	a = &plan->users[0];
	b = &plan->users[1];
	ck_assert_str_eq(a->name, "alice");
	ck_assert_str_eq(a->first_name, "Alice");
	ck_assert_str_eq(a->last_name, "Liddell");
	ck_assert_str_eq(a->hash, H6);
	ck_assert_int_eq(a->changed_at, 19500 * DAY);
	ck_assert_int_eq(a->max_days, 99999);
	ck_assert_int_eq(a->inactive_days, UDB_DAYS_UNSET);
	ck_assert_ptr_null(a->primary_role);
	ck_assert(!a->disabled && !a->must_change);
	ck_assert_str_eq(b->primary_role, "dev");
	ck_assert(b->disabled && b->must_change);
	ck_assert_str_eq(b->hash, H6);
	ck_assert_int_eq(b->not_after, 21000 * DAY);
	ck_assert_int_eq(b->inactive_days, 30);
	/* dev, with gshadow's members joined; idle has no imported member. */
	ck_assert_uint_eq(plan->n_roles, 1);
	ck_assert_str_eq(plan->roles[0].name, "dev");
	ck_assert_str_eq(fx_join(plan->roles[0].members, plan->roles[0].n_members), "alice,bob");
	plan->roles[0].members = NULL; /* fx_join freed them */
	plan->roles[0].n_members = 0;
	ck_assert(has_text(plan->notes, plan->n_notes, "alice stays a member of group sudo"));
	ck_assert(has_text(plan->notes, plan->n_notes, "GECOS fields after the name"));
	ck_assert(has_text(plan->notes, plan->n_notes, "bob: the password is locked"));
	udb_import_plan_free(plan);
}
END_TEST

START_TEST(test_udb_import_read_problems)
{
	struct udb_import_plan *plan;

	plan = read_plan(make_root("alice:x:10001:10001::/home/alice:/bin/sh\n"
				   "bob:x:10002:10300::/home/bob:/bin/sh\n"
				   "carol:x:10003:10003::/home/carol:/bin/sh\n"
				   "carol2:x:10003:10003::/home/c:/bin/sh\n"
				   "dave:x:10004:10004::/home/dave:/bin/sh\n",
				   "alice:$nosuch$x$abc:1::::::\ndave:" H6 ":1:::::0:\n",
				   "alice:x:10400:\nops:x:10100:bob,mallory\n"
				   "carol:x:10003:bob\n",
				   NULL));
	ck_assert(has_text(plan->problems, plan->n_problems, "alice: the password hash is not"));
	ck_assert(has_text(plan->problems, plan->n_problems,
			   "group alice: the personal group of "
			   "user alice has gid 10400"));
	ck_assert(has_text(plan->problems, plan->n_problems,
			   "group ops: member mallory is not among the imported users"));
	ck_assert(has_text(plan->problems, plan->n_problems, "users carol and carol2"));
	ck_assert(has_text(plan->problems, plan->n_problems,
			   "the personal group of user carol has another member, bob"));
	ck_assert(has_text(plan->problems, plan->n_problems, "user bob: the primary gid 10300"));
	ck_assert(has_text(plan->problems, plan->n_problems, "dave: account expiry day 0"));
	udb_import_plan_free(plan);
}
END_TEST

START_TEST(test_udb_import_read_missing_file)
{
	struct udb_import_plan *plan = NULL;
	const char *path = NULL;

	ck_assert_int_eq(udb_import_read(fx_file("nosuch"), fx.cfg, 1, 2, &plan, &path), UDB_IO);
	ck_assert_ptr_null(plan);
	ck_assert_ptr_nonnull(strstr(path, "nosuch/etc/passwd"));
}
END_TEST

/* --- udb_import_check, udb_import_apply_in_tx --- */

START_TEST(test_udb_import_apply_creates_everything)
{
	struct udb_import_plan *plan = read_plan(make_root(passwd, shadow, group, gshadow));
	struct udb_account *acc = NULL;
	struct udb_user *user = NULL;
	struct udb_role *role = NULL;
	bool changed = true;

	ck_assert_int_eq(udb_import_check(fx.db, fx.cfg, plan), UDB_OK);
	ck_assert_uint_eq(plan->n_problems, 0);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(udb_import_apply_in_tx(fx.db, fx.cfg, plan, T0), UDB_OK);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	ck_assert_int_eq(udb_user_by_name(fx.db, "bob", &user), UDB_OK);
	ck_assert_uint_eq(user->uid, 10002);
	ck_assert_uint_eq(user->gid, 10100);
	ck_assert_str_eq(user->primary_role, "dev");
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &acc), UDB_OK);
	ck_assert_str_eq(acc->password_hash, H6);
	ck_assert(!acc->is_enabled && acc->must_change);
	ck_assert_int_eq(acc->not_after, 21000 * DAY);
	ck_assert_int_eq(acc->min_days, 1);
	udb_account_free(acc);
	acc = NULL;
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &acc), UDB_OK);
	ck_assert_int_eq(acc->password_changed_at, 19500 * DAY);
	ck_assert(acc->is_enabled && !acc->must_change);
	ck_assert_int_eq(udb_role_by_name(fx.db, "dev", &role), UDB_OK);
	ck_assert_uint_eq(role->gid, 10100);
	/* alice's membership is a grant already there. */
	ck_assert_int_eq(udb_grant(fx.db, "alice", "dev", 0, 0, T0, &changed), UDB_OK);
	ck_assert(!changed);
	udb_role_free(role);
	udb_account_free(acc);
	udb_user_free(user);
	udb_import_plan_free(plan);

	/* A second time, everything clashes. */
	plan = read_plan(fx_file("root"));
	ck_assert_int_eq(udb_import_check(fx.db, fx.cfg, plan), UDB_OK);
	ck_assert_uint_eq(plan->n_problems, 3);
	ck_assert(has_text(plan->problems, plan->n_problems, "user alice: the name is already"));
	ck_assert(has_text(plan->problems, plan->n_problems, "group dev: the name is already"));
	ck_assert_int_eq(udb_import_apply_in_tx(fx.db, fx.cfg, plan, T0), UDB_CONFLICT);
	udb_import_plan_free(plan);
}
END_TEST

START_TEST(test_udb_import_check_ranges)
{
	struct udb_import_plan *plan = NULL;
	const char *path = NULL;

	make_root(passwd, shadow, group, gshadow);
	ck_assert_int_eq(udb_import_read(fx_file("root"), fx.cfg, 1000, 1000, &plan, &path),
			 UDB_OK);
	ck_assert_uint_eq(plan->n_users, 1);
	ck_assert_int_eq(udb_import_check(fx.db, fx.cfg, plan), UDB_OK);
	ck_assert(has_text(plan->problems, plan->n_problems, "uid 1000 is outside uid_min"));
	udb_import_plan_free(plan);
}
END_TEST

static Suite *
import_suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc;

	tc = fx_tcase(s, "udb_import_read", true);
	tcase_add_test(tc, test_udb_import_read_maps_accounts);
	tcase_add_test(tc, test_udb_import_read_problems);
	tcase_add_test(tc, test_udb_import_read_missing_file);
	tc = fx_tcase(s, "udb_import_apply_in_tx", true);
	tcase_add_test(tc, test_udb_import_apply_creates_everything);
	tc = fx_tcase(s, "udb_import_check", true);
	tcase_add_test(tc, test_udb_import_check_ranges);
	return s;
}

int
main(void)
{
	return fx_main(import_suite());
}
