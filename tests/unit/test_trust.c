/* Unit tests of common/trust.c, and of udb_db_init() using it: a database
 * directory is trusted only when it, every ancestor and every database
 * file in it can be changed by root alone; `userdb init` checks that before
 * it creates, chowns or chmods anything. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "fixture.h"
#include "trust.h"

#define NOBODY 65534

/* A path inside the test's directory. */
static const char *
path_in(const char *name)
{
	return fx_file(name);
}

static struct stat
stat_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st;
}

START_TEST(test_udb_trust_check_dbdir_accepts_fixture_paths)
{
	struct udb_trust_problem p;
	char db[PATH_MAX + 8];

	/* /tmp is world-writable but sticky and root's: accepted. */
	snprintf(db, sizeof(db), "%s/db", fx.dir);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_OK);
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_OK);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_OK);
	ck_assert_int_eq(udb_trust_check_dbdir("relative/db", &p), UDB_INVALID);
}
END_TEST

START_TEST(test_udb_trust_check_dbdir_writable_parent_refused)
{
	const char *parent = path_in("parent");
	struct udb_trust_problem p;
	char db[PATH_MAX + 8];

	ck_assert_int_eq(mkdir(parent, 0755), 0);
	ck_assert_int_eq(chmod(parent, 0777), 0);
	snprintf(db, sizeof(db), "%s/db", parent);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
	ck_assert_str_eq(p.path, parent);
	ck_assert_str_eq(p.reason, "is writable by everyone (mode 0777)");
	/* init changes nothing: no directory is made. */
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNSAFE);
	ck_assert_int_eq(access(db, F_OK), -1);
	ck_assert_uint_eq(stat_of(parent).st_mode & 07777, 0777);
	/* Group-writable by a group other than root's, likewise. */
	if (geteuid() == 0) {
		ck_assert_int_eq(chmod(parent, 0775), 0);
		ck_assert_int_eq(chown(parent, 0, NOBODY), 0);
		ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNSAFE);
		ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
		ck_assert_str_eq(p.reason, "is writable by group 65534 (mode 0775)");
		ck_assert_int_eq(access(db, F_OK), -1);
	}
	/* Sticky and world-writable is refused unless root owns it. */
	ck_assert_int_eq(chmod(parent, 01777), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(parent, NOBODY, 0), 0);
		ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
		ck_assert_int_eq(chown(parent, 0, 0), 0);
		ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_OK);
	}
}
END_TEST

/* The attack of the issue: someone pre-creates the directory with a
 * public.db of their own (or a hard link to a root-only file); init used to
 * chown and chmod them before refusing. */
START_TEST(test_udb_trust_check_dbdir_attacker_dir_refused_unchanged)
{
	const char *db = path_in("db");
	char file[PATH_MAX + 16];
	struct udb_trust_problem p;
	struct stat before_dir, before_file, after;

	if (geteuid() != 0)
		return; /* only root can give a directory away */
	ck_assert_int_eq(mkdir(db, 0755), 0);
	snprintf(file, sizeof(file), "%s/public.db", db);
	fx_write_file(file, "attacker's", 0666);
	ck_assert_int_eq(chown(file, NOBODY, NOBODY), 0);
	ck_assert_int_eq(chown(db, NOBODY, NOBODY), 0);
	before_dir = stat_of(db);
	before_file = stat_of(file);
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNSAFE);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
	ck_assert_str_eq(p.path, db);
	ck_assert_str_eq(p.reason, "is owned by uid 65534, not root");
	after = stat_of(db);
	ck_assert_uint_eq(after.st_uid, before_dir.st_uid);
	ck_assert_uint_eq(after.st_mode, before_dir.st_mode);
	after = stat_of(file);
	ck_assert_uint_eq(after.st_uid, before_file.st_uid);
	ck_assert_uint_eq(after.st_gid, before_file.st_gid);
	ck_assert_uint_eq(after.st_mode, before_file.st_mode);
	snprintf(file, sizeof(file), "%s/shadow.db", db);
	ck_assert_int_eq(access(file, F_OK), -1);
	/* Handed to root, the directory is fine but the file is not. */
	ck_assert_int_eq(chown(db, 0, 0), 0);
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNSAFE);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
	snprintf(file, sizeof(file), "%s/public.db", db);
	ck_assert_str_eq(p.path, file);
	ck_assert_uint_eq(stat_of(file).st_uid, NOBODY);
}
END_TEST

START_TEST(test_udb_trust_check_dbdir_hard_link_refused)
{
	const char *db = path_in("db"), *secret = path_in("secret");
	char file[PATH_MAX + 16];
	struct udb_trust_problem p;

	ck_assert_int_eq(mkdir(db, 0755), 0);
	fx_write_file(secret, "root only\n", 0600);
	snprintf(file, sizeof(file), "%s/shadow.db-shm", db);
	ck_assert_int_eq(link(secret, file), 0);
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNSAFE);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
	ck_assert_str_eq(p.path, file);
	ck_assert_str_eq(p.reason, "has 2 hard links");
	/* Left as it was: init would have made it 0640 or 0644. */
	ck_assert_uint_eq(stat_of(secret).st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_udb_trust_check_dbdir_symlinks_refused)
{
	const char *real = path_in("real"), *link = path_in("link");
	struct udb_trust_problem p;
	char db[PATH_MAX + 8];

	ck_assert_int_eq(mkdir(real, 0755), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	/* The directory itself a symlink: said so, not "not found". */
	ck_assert_int_eq(udb_db_init(link, NULL), UDB_UNSAFE);
	ck_assert_int_eq(udb_trust_check_dbdir(link, &p), UDB_UNSAFE);
	ck_assert_str_eq(p.path, link);
	ck_assert_str_eq(p.reason, "is a symlink");
	/* A symlink among the ancestors. */
	snprintf(db, sizeof(db), "%s/db", link);
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNSAFE);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNSAFE);
	ck_assert_str_eq(p.path, link);
	snprintf(db, sizeof(db), "%s/db", real);
	ck_assert_int_eq(access(db, F_OK), -1);
}
END_TEST

START_TEST(test_udb_trust_check_dbdir_missing_ancestor)
{
	struct udb_trust_problem p;
	char db[PATH_MAX + 16];

	snprintf(db, sizeof(db), "%s/no/db", fx.dir);
	ck_assert_int_eq(udb_trust_check_dbdir(db, &p), UDB_UNAVAILABLE);
	ck_assert_str_eq(p.path, path_in("no"));
	ck_assert_str_eq(p.reason, "does not exist");
	ck_assert_int_eq(udb_db_init(db, NULL), UDB_UNAVAILABLE);
}
END_TEST

static Suite *
trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *tc;

	tc = fx_tcase(s, "udb_trust_check_dbdir", false);
	tcase_add_test(tc, test_udb_trust_check_dbdir_accepts_fixture_paths);
	tcase_add_test(tc, test_udb_trust_check_dbdir_writable_parent_refused);
	tcase_add_test(tc, test_udb_trust_check_dbdir_attacker_dir_refused_unchanged);
	tcase_add_test(tc, test_udb_trust_check_dbdir_hard_link_refused);
	tcase_add_test(tc, test_udb_trust_check_dbdir_symlinks_refused);
	tcase_add_test(tc, test_udb_trust_check_dbdir_missing_ancestor);
	return s;
}

int
main(void)
{
	return fx_main(trust_suite());
}
