/* Rows the tool would never write, planted with SQLite directly (as anyone
 * who can write the files, or a damaged file, would leave them): a uid-0
 * user, a newline in a GECOS, a passwd entry blob cut short, ids below the
 * configured ranges, a role with gid 0, a hash with `:`. None of them may be
 * served: every lookup that reaches one answers UNAVAIL with EIO (glibc
 * moves on to the next source, and nothing is taken as "no such entry"),
 * and the entries next to them still come out. Run by meson (suite nss),
 * also under valgrind (meson test --setup valgrind). */
#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "module.h"

static char big[1 << 16];

/* Runs sql on the database's file (public.db or shadow.db) with SQLite
 * itself, outside the core, then lets the core publish the images: lookups
 * read the images, whose bases the next compaction rebuilds from the store
 * (a write through the core publishes only what it saw change). */
static void
plant(const char *file, const char *sql)
{
	char path[256];
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", nfx.dbdir, file);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "planting '%s': %s", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	sqlite3_close(db);
	ck_assert_int_eq(udb_db_compact(nfx.db, true, NULL), UDB_OK);
}

/* A user row and its passwd entry, both as the attacker wants them. */
static void
plant_user(long id, const char *name, unsigned uid, unsigned gid, const char *first)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO users (id, username, uid, gid, first_name, home, shell, created_at, "
		 "updated_at) VALUES (%ld, '%s', %u, %u, %s, '/root', '/bin/bash', 0, 0);"
		 "INSERT INTO passwd_entries (uid, id, gid, entry) VALUES (%u, %ld, %u, "
		 "CAST('%s' || x'00' || 'x' || x'00' || %s || x'00' || '/root' || x'00' || "
		 "'/bin/bash' || x'00' AS BLOB));",
		 id, name, uid, gid, first, uid, id, gid, name, first);
	plant("public.db", sql);
}

static void
assert_pwnam(const char *name, enum nss_status want, int want_errno)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st = mod.getpwnam_r(name, &pw, big, sizeof(big), &err);

	ck_assert_msg(st == want && (want == NSS_STATUS_SUCCESS || err == want_errno),
		      "getpwnam %s: %s errno %d, want %s", name, status_name(st), err,
		      status_name(want));
}

static void
assert_pwuid(uid_t uid, enum nss_status want, int want_errno)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st = mod.getpwuid_r(uid, &pw, big, sizeof(big), &err);

	ck_assert_msg(st == want && (want == NSS_STATUS_SUCCESS || err == want_errno),
		      "getpwuid %u: %s errno %d, want %s", (unsigned)uid, status_name(st), err,
		      status_name(want));
}

/* Enumerates passwd until the module stops; returns the final status and
 * whether name came out. */
static enum nss_status
enumerate_passwd(const char *name, int *ret_seen, int *ret_errno)
{
	struct passwd pw;
	enum nss_status st;
	int err = 0;

	*ret_seen = 0;
	mod.setpwent(0);
	while ((st = mod.getpwent_r(&pw, big, sizeof(big), &err)) == NSS_STATUS_SUCCESS)
		if (strcmp(pw.pw_name, name) == 0)
			*ret_seen = 1;
	mod.endpwent();
	*ret_errno = err;
	return st;
}

START_TEST(test_uid0_user_not_served)
{
	int seen, err;

	plant_user(900, "mallory", 0, 0, "'Mallory'");
	assert_pwnam("mallory", NSS_STATUS_UNAVAIL, EIO);
	assert_pwuid(0, NSS_STATUS_UNAVAIL, EIO);
	ck_assert_int_eq(enumerate_passwd("mallory", &seen, &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, EIO);
	ck_assert_int_eq(seen, 0);
	/* The good rows are still served by key. */
	assert_pwnam("alice", NSS_STATUS_SUCCESS, 0);
	assert_pwuid(2001, NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_newline_in_gecos_not_served)
{
	int seen, err;

	/* "Eve\nroot::0:0::/root:/bin/bash" would be a second passwd line. */
	plant_user(901, "eve", 2100, 2100, "'Eve' || char(10) || 'root::0:0::/root:/bin/bash'");
	assert_pwnam("eve", NSS_STATUS_UNAVAIL, EIO);
	assert_pwuid(2100, NSS_STATUS_UNAVAIL, EIO);
	ck_assert_int_eq(enumerate_passwd("eve", &seen, &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(seen, 0);
}
END_TEST

START_TEST(test_uid_below_range_not_served)
{
	/* 999: a system account's uid, below uid_min = 1000. */
	plant_user(902, "sysimp", 999, 999, "''");
	assert_pwnam("sysimp", NSS_STATUS_UNAVAIL, EIO);
	assert_pwuid(999, NSS_STATUS_UNAVAIL, EIO);
}
END_TEST

START_TEST(test_damaged_entry_blob_not_served)
{
	/* Five NULs, the last byte one of them, but an empty second string:
	 * the old packer assumed "x" there and pointed pw_shell one byte past
	 * the entry, i.e. past the caller's buffer when it was exactly that
	 * size. */
	static const char *const blobs[] = {
		"x'610000000000'",           /* a \0 \0 \0 \0 \0 */
		"x'6100780000002f00'",       /* a \0 x \0 \0 \0 / \0: shell not absolute */
		"x'6100780000'",             /* four strings */
		"x'61007800002f61002f62'",   /* the shell not terminated */
		"x'61007900002f61002f6200'", /* "y" where "x" belongs */
	};

	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		char sql[256];
		struct passwd pw;
		int err = 0;
		enum nss_status st;
		char *buf;

		snprintf(sql, sizeof(sql), "UPDATE passwd_entries SET entry = %s WHERE uid = 2001",
			 blobs[i]);
		plant("public.db", sql);
		/* A buffer of exactly the entry's length, ending at a page
		 * nobody may read: a pointer past it is caught below. */
		for (size_t len = 0; len <= 16; len++) {
			buf = guarded_buffer(len);
			err = 0;
			st = mod.getpwuid_r(2001, &pw, buf, len, &err);
			ck_assert_msg(st == NSS_STATUS_UNAVAIL ||
					      (st == NSS_STATUS_TRYAGAIN && err == ERANGE),
				      "blob %zu, %zu bytes: %s errno %d", i, len, status_name(st),
				      err);
			if (st == NSS_STATUS_UNAVAIL)
				ck_assert_int_eq(err, EIO);
		}
		assert_pwuid(2001, NSS_STATUS_UNAVAIL, EIO);
	}
	/* getpwnam reads the same entry in the image: it fails closed too,
	 * and the entries next to it still come out. */
	assert_pwnam("alice", NSS_STATUS_UNAVAIL, EIO);
	assert_pwnam("bob", NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_role_gid0_not_served)
{
	struct group gr;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	int err = 0;
	enum nss_status st;

	ck_assert_ptr_nonnull(groups);
	plant("public.db",
	      "INSERT INTO roles (id, name, gid, created_at) VALUES (900, 'wheel0', 0, "
	      "0); INSERT INTO user_roles (user_id, role_id, granted_at) SELECT id, 900, "
	      "0 FROM users WHERE username = 'alice';"
	      "INSERT INTO role_closure (role_id, member_role_id) VALUES (900, 900);");
	st = mod.getgrnam_r("wheel0", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_UNAVAIL, EIO);
	err = 0;
	st = mod.getgrgid_r(0, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_UNAVAIL, EIO);
	/* alice must not get gid 0 into her process's groups. */
	err = 0;
	groups[0] = 2001;
	st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, NSS_STATUS_UNAVAIL, EIO);
	for (long i = 0; i < start; i++)
		ck_assert_uint_ne(groups[i], 0);
	free(groups);
	/* A role of valid gid is still served. */
	err = 0;
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_bad_member_name_not_served)
{
	struct group gr;
	int err = 0;
	enum nss_status st;

	/* A user whose name carries a newline, granted admins. */
	plant("public.db", "UPDATE users SET username = 'dave' || char(10) || 'root' "
			   "WHERE username = 'dave'; INSERT INTO user_roles (user_id, role_id, "
			   "granted_at) SELECT u.id, r.id, 0 FROM users u, roles r WHERE u.uid = "
			   "2004 AND r.name = 'admins';");
	st = mod.getgrnam_r("admins", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_UNAVAIL, EIO);
}
END_TEST

START_TEST(test_bad_hash_not_served)
{
	struct spwd sp;
	int err = 0;
	enum nss_status st;

	/* A `:` in the hash would shift every later field of the line. */
	plant("shadow.db", "UPDATE accounts SET password_hash = '$6$x$y:0:0' WHERE user_id = "
			   "(SELECT user_id FROM account_names WHERE username = 'alice')");
	st = mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_UNAVAIL, EIO);
	err = 0;
	st = mod.getspnam_r("carol", &sp, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_planted");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("passwd");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_uid0_user_not_served);
	tcase_add_test(tc, test_newline_in_gecos_not_served);
	tcase_add_test(tc, test_uid_below_range_not_served);
	tcase_add_test(tc, test_damaged_entry_blob_not_served);
	suite_add_tcase(s, tc);
	tc = tcase_create("group and shadow");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_role_gid0_not_served);
	tcase_add_test(tc, test_bad_member_name_not_served);
	tcase_add_test(tc, test_bad_hash_not_served);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
