/* Enumeration (getent passwd / group with no key) through the module's own
 * symbols: every entry once, in order, across pages; NOTFOUND at the end
 * and after; no setXXent needed, setXXent twice harmless; a short buffer
 * does not skip an entry; lookups in between do not disturb it; and no
 * read transaction stays open between calls, so the admin tool's
 * checkpoint is never held back. Run by meson (suite nss). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "module.h"
#include "user.h"

/* More than two of the module's enumeration pages (UDB_NSS_PAGE). */
#define PAGE 1024
#define BULK 2100

static char big[1 << 16];

static void
enum_setup(void)
{
	nfx_setup();
	nfx_bulk_users("u", 10000, BULK, NULL);
}

/* The name of the i-th user in id order. */
static void
user_name(size_t i, char *buf, size_t size)
{
	static const char *const first[] = {"alice", "bob", "carol", "dave", "erin"};

	if (i < 5)
		snprintf(buf, size, "%s", first[i]);
	else
		snprintf(buf, size, "u%07zu", i - 5);
}

static void
expect_next_user(size_t i)
{
	struct passwd pw;
	char name[32];
	int err = 0;
	enum nss_status st;

	st = mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	user_name(i, name, sizeof(name));
	ck_assert_str_eq(pw.pw_name, name);
}

static void
expect_end(void)
{
	struct passwd pw;

	for (int i = 0; i < 3; i++) {
		int err = 0;
		enum nss_status st = mod.getpwent_r(&pw, big, sizeof(big), &err);

		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	}
}

START_TEST(test_passwd_all_in_order_without_setpwent)
{
	for (size_t i = 0; i < 5 + BULK; i++)
		expect_next_user(i);
	expect_end();
	/* setpwent twice, then a full pass again. */
	mod.setpwent(0);
	mod.setpwent(1);
	for (size_t i = 0; i < 5 + BULK; i++)
		expect_next_user(i);
	expect_end();
	mod.endpwent();
	/* After endpwent, enumeration starts over. */
	expect_next_user(0);
	mod.endpwent();
}
END_TEST

/* Enumeration reads its pages through a query of its own: every field must
 * be what a lookup of the same user shows (bob's primary group is a role,
 * so his gid is not his uid; carol has no names). */
START_TEST(test_passwd_entries_match_lookups)
{
	static char lookup_buf[1 << 12];
	struct passwd pw, by_name;
	size_t count = 0;
	int err = 0;
	enum nss_status st;

	while ((st = mod.getpwent_r(&pw, big, sizeof(big), &err)) == NSS_STATUS_SUCCESS) {
		st = mod.getpwnam_r(pw.pw_name, &by_name, lookup_buf, sizeof(lookup_buf), &err);
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
		ck_assert_uint_eq(pw.pw_uid, by_name.pw_uid);
		ck_assert_uint_eq(pw.pw_gid, by_name.pw_gid);
		ck_assert_str_eq(pw.pw_passwd, by_name.pw_passwd);
		ck_assert_str_eq(pw.pw_gecos, by_name.pw_gecos);
		ck_assert_str_eq(pw.pw_dir, by_name.pw_dir);
		ck_assert_str_eq(pw.pw_shell, by_name.pw_shell);
		if (strcmp(pw.pw_name, "bob") == 0) {
			ck_assert_uint_eq(pw.pw_uid, 2002);
			ck_assert_uint_eq(pw.pw_gid, NFX_STAFF_GID);
			ck_assert_str_eq(pw.pw_gecos, "Bob");
		}
		if (strcmp(pw.pw_name, "carol") == 0)
			ck_assert_str_eq(pw.pw_gecos, "");
		count++;
	}
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	ck_assert_uint_eq(count, 5 + BULK);
	mod.endpwent();
}
END_TEST

START_TEST(test_passwd_short_buffer_does_not_skip)
{
	mod.setpwent(0);
	for (size_t i = 0; i < 5 + BULK; i++) {
		/* Every size below the need at the page edges, one elsewhere. */
		size_t sizes = i % PAGE < 2 || i % PAGE > PAGE - 3 ? 25 : 1;

		for (size_t n = 0; n < sizes; n++) {
			struct passwd pw;
			int err = 0;
			enum nss_status st = mod.getpwent_r(&pw, guarded_buffer(n), n, &err);

			ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
		}
		expect_next_user(i);
	}
	expect_end();
	mod.endpwent();
}
END_TEST

START_TEST(test_lookups_do_not_disturb_enumeration)
{
	mod.setpwent(0);
	mod.setgrent(0);
	for (size_t i = 0; i < 5 + BULK; i++) {
		struct passwd pw;
		struct group gr;
		struct spwd sp;
		long start = 1, size = 4;
		gid_t *groups = calloc(4, sizeof(gid_t));
		int err = 0;

		expect_next_user(i);
		mod.getpwnam_r("erin", &pw, big, sizeof(big), &err);
		mod.getpwuid_r(10000 + (uid_t)(BULK - 1 - i % BULK), &pw, big, sizeof(big), &err);
		mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
		mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
		mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
		if (i % 100 == 0)
			mod.getgrent_r(&gr, big, sizeof(big), &err);
		free(groups);
	}
	expect_end();
	mod.endpwent();
	mod.endgrent();
}
END_TEST

START_TEST(test_group_enumeration_roles_then_personal)
{
	static const char *const roles[] = {"staff", "admins", "churn"};
	static const char *const personal[] = {"alice", "carol", "dave", "erin"};
	static const char *const staff[] = {"alice", "bob", NULL};
	struct group gr;
	size_t count = 0;
	int err = 0;
	enum nss_status st;

	for (size_t i = 0; i < 3; i++) {
		/* Too small for the member list: the same role comes again. */
		st = mod.getgrent_r(&gr, big, 8, &err);
		ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
		st = mod.getgrent_r(&gr, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
		ck_assert_str_eq(gr.gr_name, roles[i]);
		if (i == 0)
			ck_assert(members_are(gr.gr_mem, staff));
	}
	/* bob's primary group is a role: he has no personal group. */
	for (size_t i = 0; i < 4; i++) {
		st = mod.getgrent_r(&gr, big, sizeof(big), &err);
		ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
		ck_assert_str_eq(gr.gr_name, personal[i]);
	}
	while ((st = mod.getgrent_r(&gr, big, sizeof(big), &err)) == NSS_STATUS_SUCCESS) {
		char name[32];

		snprintf(name, sizeof(name), "u%07zu", count);
		ck_assert_str_eq(gr.gr_name, name);
		ck_assert_uint_eq(gr.gr_gid, 10000 + count);
		count++;
	}
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	ck_assert_uint_eq(count, BULK);
	st = mod.getgrent_r(&gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	mod.endgrent();
}
END_TEST

/* The admin tool checkpoints after every commit, which needs every reader
 * out of its read transaction; a module that kept a statement open between
 * getpwent calls would leave its WAL growing (and make it wait 5 s). */
START_TEST(test_enumeration_does_not_block_writer)
{
	char wal[256];
	struct stat st;
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	int err = 0, status = 0;
	pid_t pid;

	mod.setpwent(0);
	mod.setgrent(0);
	mod.setspent(0);
	mod.getpwent_r(&pw, big, sizeof(big), &err);
	mod.getgrent_r(&gr, big, sizeof(big), &err);
	mod.getspent_r(&sp, big, sizeof(big), &err);
	udb_db_close(nfx.db);
	nfx.db = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct udb_user_changes ch = {.shell = "/bin/sh"};
		struct udb_db *db = NULL;

		if (udb_db_open(nfx.dbdir, UDB_OPEN_WRITE, &db) != UDB_OK)
			_exit(2);
		udb_db_set_busy_timeout(db, 100);
		_exit(udb_user_modify(db, "u0001500", &ch, udb_now()) == UDB_OK ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	snprintf(wal, sizeof(wal), "%s/public.db-wal", nfx.dbdir);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	/* And the enumeration goes on from the image it started with (one
	 * snapshot per pass); the next pass shows the change, the changed
	 * user after the others (it is in the delta beside the base). */
	for (size_t i = 1; i < 5 + 1500; i++)
		expect_next_user(i);
	mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_str_eq(pw.pw_name, "u0001500");
	ck_assert_str_eq(pw.pw_shell, "/bin/bash");
	mod.setpwent(0);
	for (size_t i = 0; i < 5 + BULK; i++) {
		if (i != 5 + 1500)
			expect_next_user(i);
	}
	mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_str_eq(pw.pw_name, "u0001500");
	ck_assert_str_eq(pw.pw_shell, "/bin/sh");
	expect_end();
	mod.endpwent();
	mod.endgrent();
	mod.endspent();
}
END_TEST

/* Users changed after the base was built, at its start, middle and end:
 * each comes once, from the delta after every other user, and the others
 * keep their order (the walk merges the delta's covered list with the
 * base's records). */
START_TEST(test_changed_users_come_once)
{
	static const char *const names[] = {"alice", "dave", "u0000700", "u0001500", "u0002099"};
	static const size_t changed[] = {0, 3, 5 + 700, 5 + 1500, 5 + BULK - 1};
	const size_t n_changed = sizeof(changed) / sizeof(changed[0]);
	struct passwd pw;
	size_t next = 0, k = 0, seen_changed = 0;
	struct udb_user_changes ch = {.shell = "/bin/sh"};
	char name[32];
	int err = 0;
	enum nss_status st;

	ck_assert_int_eq(udb_db_compact(nfx.db, false, NULL), UDB_OK);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_int_eq(udb_user_modify(nfx.db, names[i], &ch, udb_now()), UDB_OK);
	mod.setpwent(0);
	while ((st = mod.getpwent_r(&pw, big, sizeof(big), &err)) == NSS_STATUS_SUCCESS) {
		if (strcmp(pw.pw_shell, "/bin/sh") == 0) {
			/* The delta's users, after every user of the base. */
			ck_assert_uint_eq(next, 5 + BULK);
			seen_changed++;
			continue;
		}
		while (k < n_changed && changed[k] == next) {
			next++;
			k++;
		}
		user_name(next++, name, sizeof(name));
		ck_assert_str_eq(pw.pw_name, name);
		while (k < n_changed && changed[k] == next) {
			next++;
			k++;
		}
	}
	ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
	ck_assert_uint_eq(seen_changed, n_changed);
	mod.endpwent();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_enum");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("enum");
	tcase_add_checked_fixture(tc, enum_setup, nfx_teardown);
	tcase_add_test(tc, test_passwd_all_in_order_without_setpwent);
	tcase_add_test(tc, test_passwd_entries_match_lookups);
	tcase_add_test(tc, test_passwd_short_buffer_does_not_skip);
	tcase_add_test(tc, test_lookups_do_not_disturb_enumeration);
	tcase_add_test(tc, test_group_enumeration_roles_then_personal);
	tcase_add_test(tc, test_enumeration_does_not_block_writer);
	tcase_add_test(tc, test_changed_users_come_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
