/* passwd and group lookups through the module's own symbols: the answers a
 * user sees, every buffer size from 0 to the exact need, names that cannot
 * exist, and entries that do not. Run by meson (suite nss). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "module.h"

static char big[1 << 16];

/* --- what getent shows --------------------------------------------------- */

START_TEST(test_getpwnam_fields)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st;

	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(pw.pw_name, "alice");
	ck_assert_str_eq(pw.pw_passwd, "x");
	ck_assert_uint_eq(pw.pw_uid, 2001);
	ck_assert_uint_eq(pw.pw_gid, 2001);
	ck_assert_str_eq(pw.pw_gecos, "Alice Liddell");
	ck_assert_str_eq(pw.pw_dir, "/home/alice");
	ck_assert_str_eq(pw.pw_shell, "/bin/bash");
}
END_TEST

START_TEST(test_getpwuid_primary_role_and_gecos)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st;

	/* bob's primary group is the role staff, and he has no last name. */
	st = mod.getpwuid_r(2002, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(pw.pw_name, "bob");
	ck_assert_uint_eq(pw.pw_gid, NFX_STAFF_GID);
	ck_assert_str_eq(pw.pw_gecos, "Bob");
	/* carol has no names at all: an empty GECOS, not " ". */
	st = mod.getpwuid_r(2003, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(pw.pw_gecos, "");
}
END_TEST

START_TEST(test_getgrnam_effective_members)
{
	static const char *const staff[] = {"alice", "bob", NULL};
	static const char *const admins[] = {"alice", NULL};
	static const char *const none[] = {NULL};
	struct group gr;
	int err = 0;
	enum nss_status st;

	/* alice through admins ⊇ staff, bob directly (primary role); dave's
	 * grant expired, erin's has not started. */
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(gr.gr_name, "staff");
	ck_assert_str_eq(gr.gr_passwd, "x");
	ck_assert_uint_eq(gr.gr_gid, NFX_STAFF_GID);
	ck_assert_msg(members_are(gr.gr_mem, staff), "staff members");
	st = mod.getgrnam_r("admins", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_msg(members_are(gr.gr_mem, admins), "admins members");
	st = mod.getgrnam_r("churn", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_msg(members_are(gr.gr_mem, none), "churn has no members");
}
END_TEST

START_TEST(test_personal_groups)
{
	static const char *const none[] = {NULL};
	struct group gr;
	int err = 0;
	enum nss_status st;

	st = mod.getgrnam_r("alice", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_uint_eq(gr.gr_gid, 2001);
	ck_assert_msg(members_are(gr.gr_mem, none), "a personal group lists no members");
	st = mod.getgrgid_r(2001, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(gr.gr_name, "alice");
	st = mod.getgrgid_r(NFX_ADMINS_GID, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(gr.gr_name, "admins");
	/* bob's primary group is a role: he has no personal group. */
	st = mod.getgrnam_r("bob", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	st = mod.getgrgid_r(2002, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
}
END_TEST

START_TEST(test_missing_entries_notfound)
{
	struct passwd pw;
	struct group gr;
	int err = 0;
	enum nss_status st;

	st = mod.getpwnam_r("zoe", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	err = 0;
	st = mod.getpwuid_r(9999, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	err = 0;
	st = mod.getpwuid_r((uid_t)-1, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	err = 0;
	st = mod.getgrnam_r("Wheel", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	err = 0;
	st = mod.getgrgid_r(9999, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	/* Role names are case-sensitive. */
	err = 0;
	st = mod.getgrnam_r("Staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
}
END_TEST

/* --- invalid names never reach the database ------------------------------ */

static const char *invalid_names[] = {
	"", ":", "ali:ce", "ali\nce", "+alice", "-alice", "alice\xff", "a b", "alice/..", NULL,
};

START_TEST(test_invalid_names_notfound_without_database)
{
	char *long_name = malloc(10001);
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	char away[256];
	int err = 0;
	enum nss_status st;

	/* With the database gone, a valid name is UNAVAIL: so NOTFOUND for
	 * an invalid one proves no database was consulted. */
	snprintf(away, sizeof(away), "%s/away", nfx.dir);
	ck_assert_int_eq(rename(nfx.dbdir, away), 0);
	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_UNAVAIL, ENOENT);
	memset(long_name, 'a', 10000);
	long_name[10000] = '\0';
	invalid_names[sizeof(invalid_names) / sizeof(invalid_names[0]) - 1] = long_name;
	for (size_t i = 0; i < sizeof(invalid_names) / sizeof(invalid_names[0]); i++) {
		const char *n = invalid_names[i];

		err = 0;
		st = mod.getpwnam_r(n, &pw, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
		err = 0;
		st = mod.getgrnam_r(n, &gr, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
		err = 0;
		st = mod.getspnam_r(n, &sp, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
		err = 0;
		st = mod.initgroups_dyn(n, 100, &start, &size, &groups, -1, &err);
		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	}
	err = 0;
	st = mod.getpwnam_r(NULL, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	ck_assert_int_eq(rename(away, nfx.dbdir), 0);
	free(groups);
	free(long_name);
}
END_TEST

/* --- every buffer size --------------------------------------------------- */

static size_t
passwd_size(const struct passwd *pw)
{
	return strlen(pw->pw_name) + strlen(pw->pw_passwd) + strlen(pw->pw_gecos) +
	       strlen(pw->pw_dir) + strlen(pw->pw_shell) + 5;
}

static void
check_passwd_sizes(const char *name, uid_t uid)
{
	struct passwd pw, ref;
	size_t need;
	int err = 0;
	enum nss_status st;

	st = mod.getpwnam_r(name, &ref, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	need = passwd_size(&ref);
	for (size_t n = 0; n < need; n++) {
		err = 0;
		st = mod.getpwnam_r(name, &pw, guarded_buffer(n), n, &err);
		ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
		err = 0;
		st = mod.getpwuid_r(uid, &pw, guarded_buffer(n), n, &err);
		ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	}
	st = mod.getpwnam_r(name, &pw, guarded_buffer(need), need, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(pw.pw_gecos, ref.pw_gecos);
	ck_assert_str_eq(pw.pw_shell, ref.pw_shell);
	st = mod.getpwuid_r(uid, &pw, guarded_buffer(need), need, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(pw.pw_name, name);
}

START_TEST(test_passwd_every_buffer_size)
{
	check_passwd_sizes("alice", 2001);
	check_passwd_sizes("carol", 2003);
}
END_TEST

/* The group's bytes beyond the alignment padding of gr_mem. */
static size_t
group_size(const struct group *gr)
{
	size_t n = 0, strings = strlen(gr->gr_name) + strlen(gr->gr_passwd) + 2;

	for (; gr->gr_mem[n]; n++)
		strings += strlen(gr->gr_mem[n]) + 1;
	return (n + 1) * sizeof(char *) + strings;
}

static void
check_group_sizes(const char *name)
{
	struct group gr, ref;
	size_t need;
	int err = 0;
	enum nss_status st;

	st = mod.getgrnam_r(name, &ref, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	need = group_size(&ref);
	/* Every size up to the need plus the worst padding, at every
	 * alignment the end-of-buffer guard gives: success exactly from the
	 * padding gr_mem needs at that address plus the record on. */
	for (size_t n = 0; n <= need + sizeof(char *); n++) {
		char *buf = guarded_buffer(n);
		size_t pad = (sizeof(char *) - (uintptr_t)buf % sizeof(char *)) % sizeof(char *);

		err = 0;
		st = mod.getgrnam_r(name, &gr, buf, n, &err);
		if (n < pad + need) {
			ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
			continue;
		}
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
		ck_assert_uint_eq((uintptr_t)gr.gr_mem % sizeof(char *), 0);
		ck_assert_uint_eq(group_size(&gr), need);
		ck_assert_str_eq(gr.gr_name, name);
		st = mod.getgrgid_r(gr.gr_gid, &gr, buf, n, &err);
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	}
}

START_TEST(test_group_every_buffer_size)
{
	check_group_sizes("staff");
	check_group_sizes("alice");
	check_group_sizes("churn");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_lookup");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("answers");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_getpwnam_fields);
	tcase_add_test(tc, test_getpwuid_primary_role_and_gecos);
	tcase_add_test(tc, test_getgrnam_effective_members);
	tcase_add_test(tc, test_personal_groups);
	tcase_add_test(tc, test_missing_entries_notfound);
	tcase_add_test(tc, test_invalid_names_notfound_without_database);
	suite_add_tcase(s, tc);
	tc = tcase_create("buffers");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_passwd_every_buffer_size);
	tcase_add_test(tc, test_group_every_buffer_size);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
