/* Unit tests of common/db.c: creating and opening the two files, the checks
 * that refuse an unsafe, foreign or damaged database, transactions across
 * both files and the repair after a writer died between the two commits. */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "account.h"
#include "fixture.h"
#include "rename.h"
#include "role.h"
#include "sql.h"
#include "user.h"

#define NOBODY 65534

static const char *const db_files[] = {
	UDB_PUBLIC_FILE, UDB_PUBLIC_FILE "-wal", UDB_PUBLIC_FILE "-shm",
	UDB_SHADOW_FILE, UDB_SHADOW_FILE "-wal", UDB_SHADOW_FILE "-shm",
};

static gid_t
shadow_gid(void)
{
	struct group *g = getgrnam("shadow");

	return g ? g->gr_gid : 0;
}

/* Runs SQL on one file with a connection of its own, the way a damaged or
 * foreign file would be made by hand, keeping -wal and -shm in place. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *s = NULL;
	int persist = 1;

	ck_assert_int_eq(sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_file_control(s, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	ck_assert_msg(sqlite3_exec(s, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(s));
	sqlite3_close(s);
}

static void
close_fixture_db(void)
{
	udb_db_close(fx.db);
	fx.db = NULL;
}

static enum udb_result
try_open(enum udb_open_mode mode)
{
	struct udb_db *db = NULL;
	enum udb_result r;

	r = udb_db_open(fx.dbdir, mode, &db);
	ck_assert(r == UDB_OK ? db != NULL : db == NULL);
	udb_db_close(db);
	return r;
}

static bool
user_exists(struct udb_db *db, const char *name)
{
	struct udb_user *u = NULL;
	enum udb_result r = udb_user_by_name(db, name, &u);

	ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
	udb_user_free(u);
	return r == UDB_OK;
}

static bool
role_exists(struct udb_db *db, const char *name)
{
	struct udb_role *role = NULL;
	enum udb_result r = udb_role_by_name(db, name, &role);

	ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
	udb_role_free(role);
	return r == UDB_OK;
}

static enum udb_result
add_role(struct udb_db *db, const char *name)
{
	struct udb_role_spec spec = {.name = name};

	return udb_role_add(db, fx.cfg, &spec, false, T0);
}

/* --- udb_db_init --- */

START_TEST(test_udb_db_init_creates_files_with_modes)
{
	struct stat st;

	ck_assert_int_eq(stat(fx.dbdir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	for (size_t i = 0; i < sizeof(db_files) / sizeof(db_files[0]); i++) {
		bool shadow = strncmp(db_files[i], UDB_SHADOW_FILE, strlen(UDB_SHADOW_FILE)) == 0;

		ck_assert_msg(lstat(fx_dbfile(db_files[i]), &st) == 0, "%s missing", db_files[i]);
		ck_assert_msg(S_ISREG(st.st_mode), "%s is not a regular file", db_files[i]);
		ck_assert_msg((st.st_mode & 07777) == 0600u, "%s has mode %o", db_files[i],
			      st.st_mode & 07777);
		if (geteuid() == 0) {
			ck_assert_uint_eq(st.st_uid, 0);
			ck_assert_msg(st.st_gid == (shadow ? shadow_gid() : 0), "%s has group %u",
				      db_files[i], (unsigned)st.st_gid);
		}
	}
}
END_TEST

START_TEST(test_udb_db_init_under_strict_umask)
{
	mode_t old = umask(077);
	unsigned version = 99;
	struct stat st;

	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	umask(old);
	ck_assert_uint_eq(version, 0);
	/* Unprivileged NSS readers must get through the directory (to the
	 * images) whatever root's umask was; the store stays root's alone. */
	ck_assert_int_eq(stat(fx.dbdir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	ck_assert_int_eq(stat(fx_dbfile(UDB_PUBLIC_FILE "-shm"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(fx_dbfile(UDB_SHADOW_FILE "-wal"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_udb_db_init_twice_keeps_data)
{
	unsigned version = 99;

	fx_add_user("alice");
	close_fixture_db();
	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	ck_assert_uint_ge(udb_db_schema_version(), 1);
	ck_assert_uint_eq(version, udb_db_schema_version());
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(user_exists(fx.db, "alice"));
}
END_TEST

START_TEST(test_udb_db_init_restores_modes)
{
	struct stat st;

	close_fixture_db();
	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0644), 0);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_PUBLIC_FILE "-shm"), 0644), 0);
	ck_assert_int_eq(udb_db_init(fx.dbdir, NULL), UDB_OK);
	ck_assert_int_eq(stat(fx_dbfile(UDB_SHADOW_FILE), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(fx_dbfile(UDB_PUBLIC_FILE "-shm"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_udb_db_init_refuses_garbage_file)
{
	static const char garbage[] = "this is not an SQLite database, keep it as it is\n";
	size_t size = 0;
	char *after;

	ck_assert_int_eq(mkdir(fx.dbdir, 0755), 0);
	fx_write_file(fx_dbfile(UDB_PUBLIC_FILE), garbage, 0644);
	ck_assert_int_eq(udb_db_init(fx.dbdir, NULL), UDB_CORRUPT);
	after = fx_read_file(fx_dbfile(UDB_PUBLIC_FILE), &size);
	ck_assert_str_eq(after, garbage);
	free(after);
}
END_TEST

START_TEST(test_udb_db_init_refuses_newer_schema)
{
	char sql[64];

	close_fixture_db();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", udb_db_schema_version() + 1);
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), sql);
	raw_exec(fx_dbfile(UDB_SHADOW_FILE), sql);
	ck_assert_int_eq(udb_db_init(fx.dbdir, NULL), UDB_SCHEMA);
}
END_TEST

/* An upgrade cut short between the two files' commits leaves the shadow
 * file one version ahead; init runs the last migration again, whose ADD
 * COLUMN statements (schema 10) find their columns there and are skipped. */
START_TEST(test_udb_db_init_resumes_an_upgrade_cut_short)
{
	unsigned version = 0;
	char sql[64];

	close_fixture_db();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", udb_db_schema_version() - 1);
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), sql);
	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	ck_assert_uint_eq(version, udb_db_schema_version() - 1);
	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	ck_assert_uint_eq(version, udb_db_schema_version());
}
END_TEST

static enum udb_result
append_entry(const struct udb_passwd_entry *e, void *userdata)
{
	char *text = userdata;
	const char *p = e->strings;

	/* name:x:gecos:home:shell, the ids left out. */
	for (int i = 0; i < 5; i++) {
		strcat(text, p);
		strcat(text, i < 4 ? ":" : " ");
		p += strlen(p) + 1;
	}
	return UDB_OK;
}

/* Every ready-made passwd entry, in id order, as one line of text. */
static const char *
entries_text(struct udb_db *db)
{
	static char text[4096];
	size_t n = 0;

	text[0] = '\0';
	ck_assert_int_eq(udb_passwd_entry_page(db, 0, 100, append_entry, text, &n), UDB_OK);
	return text;
}

START_TEST(test_udb_db_passwd_entries_follow_users)
{
	char text[256];
	struct udb_user_changes ch = {.first_name = "Alice", .last_name = "Liddell"};

	fx_add_user("alice");
	fx_add_user("bob");
	ck_assert_str_eq(entries_text(fx.db), "alice:x::/home/alice:/bin/bash "
					      "bob:x::/home/bob:/bin/bash ");
	ck_assert_int_eq(udb_user_modify(fx.db, "alice", &ch, T0), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "bob"), UDB_OK);
	ck_assert_str_eq(entries_text(fx.db), "alice:x:Alice Liddell:/home/alice:/bin/bash ");
	ch = (struct udb_user_changes){.last_name = "", .shell = "/bin/sh"};
	ck_assert_int_eq(udb_user_modify(fx.db, "alice", &ch, T0), UDB_OK);
	ck_assert_str_eq(entries_text(fx.db), "alice:x:Alice:/home/alice:/bin/sh ");
	text[0] = '\0';
	ck_assert_int_eq(udb_passwd_entry_by_uid(fx.db, 10000, append_entry, text), UDB_OK);
	ck_assert_str_eq(text, "alice:x:Alice:/home/alice:/bin/sh ");
	ck_assert_int_eq(udb_passwd_entry_by_uid(fx.db, 10001, append_entry, text), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_db_passwd_entry_damaged_is_corrupt)
{
	char text[64] = "";
	size_t n = 0;

	fx_add_user("alice");
	close_fixture_db();
	/* Four strings instead of five: a reader must not look past it. */
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE),
		 "UPDATE passwd_entries SET entry = CAST('alice' || x'00' || 'x' || x'00' || "
		 "'' || x'00' || '/home/alice' || x'00' AS BLOB)");
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_passwd_entry_page(fx.db, 0, 10, append_entry, text, &n), UDB_CORRUPT);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(udb_passwd_entry_by_uid(fx.db, 10000, append_entry, text), UDB_CORRUPT);
	ck_assert_str_eq(text, "");
	close_fixture_db();
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "UPDATE passwd_entries SET entry = x'6162'");
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_passwd_entry_page(fx.db, 0, 10, append_entry, text, &n), UDB_CORRUPT);
}
END_TEST

START_TEST(test_udb_db_init_upgrades_schema_1)
{
	struct udb_account *a = NULL;
	unsigned version = 0;

	fx_add_user("alice");
	fx_add_user("bob");
	close_fixture_db();
	/* Take the database back to schema 1: no name in the shadow file, no
	 * covering index in the public one. */
	raw_exec(fx_dbfile(UDB_SHADOW_FILE), "DROP TABLE account_names; PRAGMA user_version = 1");
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "DROP INDEX users_passwd_by_name; DROP TABLE "
					     "passwd_entries; PRAGMA user_version = 1");
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_SCHEMA);
	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	ck_assert_uint_eq(version, 1);
	/* The names were copied: the shadow file alone finds both accounts. */
	fx_reopen(UDB_OPEN_SHADOW_ONLY);
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_OK);
	ck_assert_str_eq(a->username, "bob");
	udb_account_free(a);
	a = NULL;
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	udb_account_free(a);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert(user_exists(fx.db, "alice"));
	/* Both users got their ready-made passwd entries. */
	ck_assert_str_eq(entries_text(fx.db), "alice:x::/home/alice:/bin/bash "
					      "bob:x::/home/bob:/bin/bash ");
}
END_TEST

static enum udb_result
count_view(const struct udb_user_view *view, void *userdata)
{
	(void)view;
	(*(int *)userdata)++;
	return UDB_OK;
}

/* Schema 3's high-water marks start from the largest ids an upgraded
 * database has: ids freed before the upgrade cannot be known any more, but
 * nothing at or below the top is handed out again. */
START_TEST(test_udb_db_init_upgrades_schema_2_id_marks)
{
	struct udb_role_spec spec = {.name = "ops", .has_gid = true, .gid = 10007};
	unsigned version = 0;
	struct udb_user *u = NULL;

	fx_add_user("alice");
	fx_add_user("bob");
	fx_add_user("carol");
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &spec, false, T0), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "carol"), UDB_OK);
	close_fixture_db();
	raw_exec(fx_dbfile(UDB_SHADOW_FILE), "PRAGMA user_version = 2");
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "DROP TABLE id_allocator; PRAGMA user_version = 2");
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_SCHEMA);
	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	ck_assert_uint_eq(version, 2);
	fx_reopen(UDB_OPEN_WRITE);
	/* Above bob (10001) and the role (10007): carol's 10002 was freed
	 * before the upgrade and is below the top, so it is skipped too. */
	fx_add_user("dave");
	ck_assert_int_eq(udb_user_by_name(fx.db, "dave", &u), UDB_OK);
	ck_assert_uint_eq(u->uid, 10008);
	udb_user_free(u);
}
END_TEST

START_TEST(test_udb_db_init_finishes_upgrade_cut_short)
{
	struct udb_user *u = NULL;
	unsigned version = 0;
	int seen = 0;

	fx_add_user("alice");
	close_fixture_db();
	/* The upgrade from schema 1 committed the shadow file, then died
	 * before the public file's commit. */
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE),
		 "DROP INDEX users_passwd_by_name; PRAGMA user_version = 1");
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_SCHEMA);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_CORRUPT);
	ck_assert_int_eq(udb_db_init(fx.dbdir, &version), UDB_OK);
	ck_assert_uint_eq(version, 1);
	fx_reopen(UDB_OPEN_WRITE);
	fx_add_user("bob");
	ck_assert_int_eq(udb_user_by_name(fx.db, "alice", &u), UDB_OK);
	udb_user_free(u);
	/* getpwnam's statement reads the index the public file just got. */
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_user_view_by_name(fx.db, "alice", count_view, &seen), UDB_OK);
	ck_assert_int_eq(seen, 1);
	/* Any other difference is not an upgrade cut short. */
	close_fixture_db();
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "PRAGMA user_version = 0");
	ck_assert_int_eq(udb_db_init(fx.dbdir, NULL), UDB_CORRUPT);
}
END_TEST

START_TEST(test_udb_db_init_refuses_mixed_pair)
{
	char other[PATH_MAX + 16];

	close_fixture_db();
	snprintf(other, sizeof(other), "%s/other", fx.dir);
	ck_assert_int_eq(udb_db_init(other, NULL), UDB_OK);
	strcat(other, "/" UDB_SHADOW_FILE);
	fx_copy_file(other, fx_dbfile(UDB_SHADOW_FILE));
	ck_assert_int_eq(udb_db_init(fx.dbdir, NULL), UDB_CORRUPT);
}
END_TEST

/* --- udb_db_open --- */

START_TEST(test_udb_db_open_missing_database_unavailable)
{
	struct udb_db *db = NULL;
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/nowhere", fx.dir);
	ck_assert_int_eq(udb_db_open(path, UDB_OPEN_PUBLIC, &db), UDB_UNAVAILABLE);
	ck_assert_int_eq(udb_db_open(path, UDB_OPEN_WRITE, &db), UDB_UNAVAILABLE);
	/* A file where the directory should be. */
	fx_write_file(path, "", 0644);
	ck_assert_int_eq(udb_db_open(path, UDB_OPEN_PUBLIC, &db), UDB_UNAVAILABLE);
	ck_assert_ptr_null(db);

	close_fixture_db();
	ck_assert_int_eq(unlink(fx_dbfile(UDB_SHADOW_FILE)), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_UNAVAILABLE);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_UNAVAILABLE);
	/* getent passwd needs only the public file. */
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_OK);
	ck_assert_int_eq(unlink(fx_dbfile(UDB_PUBLIC_FILE)), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNAVAILABLE);
}
END_TEST

START_TEST(test_udb_db_open_garbage_corrupt)
{
	close_fixture_db();
	fx_write_file(fx_dbfile(UDB_PUBLIC_FILE), "not a database at all, but long enough\n", 0644);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_CORRUPT);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_CORRUPT);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_CORRUPT);
}
END_TEST

START_TEST(test_udb_db_open_empty_file_corrupt)
{
	close_fixture_db();
	fx_write_file(fx_dbfile(UDB_PUBLIC_FILE), "", 0644);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_CORRUPT);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_CORRUPT);
	fx_write_file(fx_dbfile(UDB_SHADOW_FILE), "", 0640);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_CORRUPT);
}
END_TEST

START_TEST(test_udb_db_open_foreign_sqlite_file_corrupt)
{
	close_fixture_db();
	ck_assert_int_eq(unlink(fx_dbfile(UDB_PUBLIC_FILE)), 0);
	fx_write_file(fx_dbfile(UDB_PUBLIC_FILE), "", 0644);
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "CREATE TABLE users (name TEXT); PRAGMA "
					     "user_version = 1");
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_CORRUPT);
}
END_TEST

START_TEST(test_udb_db_open_mixed_pair_corrupt)
{
	char other[PATH_MAX + 16];

	fx_add_user("alice");
	close_fixture_db();
	snprintf(other, sizeof(other), "%s/other", fx.dir);
	ck_assert_int_eq(udb_db_init(other, NULL), UDB_OK);
	strcat(other, "/" UDB_SHADOW_FILE);
	/* Another database's shadow file, e.g. restored from the wrong backup:
	 * its accounts would be matched to the wrong users. */
	fx_copy_file(other, fx_dbfile(UDB_SHADOW_FILE));
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_CORRUPT);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_CORRUPT);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_open_symlink_unsafe)
{
	char real[PATH_MAX + 16];

	close_fixture_db();
	snprintf(real, sizeof(real), "%s/real.db", fx.dir);
	ck_assert_int_eq(rename(fx_dbfile(UDB_PUBLIC_FILE), real), 0);
	ck_assert_int_eq(symlink(real, fx_dbfile(UDB_PUBLIC_FILE)), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_UNSAFE);
	ck_assert_int_eq(unlink(fx_dbfile(UDB_PUBLIC_FILE)), 0);
	ck_assert_int_eq(rename(real, fx_dbfile(UDB_PUBLIC_FILE)), 0);

	snprintf(real, sizeof(real), "%s/real-shadow.db", fx.dir);
	ck_assert_int_eq(rename(fx_dbfile(UDB_SHADOW_FILE), real), 0);
	ck_assert_int_eq(symlink(real, fx_dbfile(UDB_SHADOW_FILE)), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_UNSAFE);
}
END_TEST

START_TEST(test_udb_db_open_writable_file_unsafe)
{
	close_fixture_db();
	ck_assert_int_eq(chmod(fx_dbfile(UDB_PUBLIC_FILE), 0646), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_PUBLIC_FILE), 0644), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_OK);

	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0662), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_UNSAFE);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0640), 0);

	/* Group-writable by a group that is not root's. */
	ck_assert_int_eq(chown(fx_dbfile(UDB_PUBLIC_FILE), geteuid(), NOBODY), 0);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_PUBLIC_FILE), 0664), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
}
END_TEST

START_TEST(test_udb_db_open_foreign_owner_unsafe)
{
	if (geteuid() != 0)
		return; /* only root can give a file away */
	close_fixture_db();
	ck_assert_int_eq(chown(fx_dbfile(UDB_SHADOW_FILE), NOBODY, shadow_gid()), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_UNSAFE);
	ck_assert_int_eq(chown(fx_dbfile(UDB_SHADOW_FILE), 0, shadow_gid()), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_OK);
	ck_assert_int_eq(chown(fx.dbdir, NOBODY, 0), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
}
END_TEST

START_TEST(test_udb_db_open_writable_directory_unsafe)
{
	close_fixture_db();
	ck_assert_int_eq(chmod(fx.dbdir, 0757), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx.dbdir, 01777), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx.dbdir, 0755), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_open_fifo_unsafe)
{
	close_fixture_db();
	ck_assert_int_eq(unlink(fx_dbfile(UDB_PUBLIC_FILE)), 0);
	ck_assert_int_eq(mkfifo(fx_dbfile(UDB_PUBLIC_FILE), 0644), 0);
	/* Must not hang waiting for a writer on the FIFO. */
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_UNSAFE);
}
END_TEST

START_TEST(test_udb_db_open_newer_schema_refused)
{
	char sql[64];

	close_fixture_db();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", udb_db_schema_version() + 1);
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), sql);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_SCHEMA);
	raw_exec(fx_dbfile(UDB_SHADOW_FILE), sql);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_SCHEMA);
	ck_assert_int_eq(try_open(UDB_OPEN_WRITE), UDB_SCHEMA);
}
END_TEST

START_TEST(test_udb_db_open_version_mismatch_corrupt)
{
	char sql[64];

	close_fixture_db();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %u", udb_db_schema_version() + 1);
	raw_exec(fx_dbfile(UDB_SHADOW_FILE), sql);
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_CORRUPT);
	ck_assert_int_eq(try_open(UDB_OPEN_PUBLIC), UDB_OK);
}
END_TEST

static int
lookup_as_public_reader(void)
{
	struct udb_db *db = NULL;
	struct udb_user *u = NULL;
	enum udb_result r;

	r = udb_db_open(fx.dbdir, UDB_OPEN_PUBLIC, &db);
	if (r == UDB_OK)
		r = udb_user_by_name(db, "alice", &u);
	udb_user_free(u);
	udb_db_close(db);
	return (int)r;
}

static int
lookup_as_shadow_reader(void)
{
	struct udb_db *db = NULL;
	struct udb_account *a = NULL;
	enum udb_result r;

	r = udb_db_open(fx.dbdir, UDB_OPEN_READ_BOTH, &db);
	if (r == UDB_OK)
		r = udb_account_by_name(db, "alice", &a);
	udb_account_free(a);
	udb_db_close(db);
	return (int)r;
}

static int
begin_as_writer(void)
{
	struct udb_db *db = NULL;
	enum udb_result r;

	r = udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &db);
	if (r == UDB_OK)
		r = add_role(db, "intruders");
	udb_db_close(db);
	return (int)r;
}

START_TEST(test_udb_db_open_unprivileged_reader)
{
	if (geteuid() != 0)
		return; /* needs root to switch to nobody */
	fx_add_user("alice");
	close_fixture_db();
	/* The store is root's alone: NSS reads the images. */
	ck_assert_int_eq(fx_run_as(NOBODY, NOBODY, lookup_as_public_reader), UDB_PERMISSION);
	ck_assert_int_eq(fx_run_as(NOBODY, NOBODY, lookup_as_shadow_reader), UDB_PERMISSION);
	ck_assert_int_eq(fx_run_as(NOBODY, NOBODY, begin_as_writer), UDB_PERMISSION);
	/* After more writes (and their checkpoints) still. */
	fx_reopen(UDB_OPEN_WRITE);
	fx_add_user("bob");
	close_fixture_db();
	ck_assert_int_eq(fx_run_as(NOBODY, NOBODY, lookup_as_public_reader), UDB_PERMISSION);
	ck_assert_int_eq(lookup_as_public_reader(), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_open_shadow_group_refused)
{
	if (geteuid() != 0 || shadow_gid() == 0)
		return; /* needs root and a shadow group */
	fx_add_user("alice");
	close_fixture_db();
	/* Group shadow reads nss-shadow.img, never the store. */
	ck_assert_int_eq(fx_run_as(NOBODY, shadow_gid(), lookup_as_shadow_reader), UDB_PERMISSION);
	ck_assert_int_eq(fx_run_as(NOBODY, shadow_gid(), begin_as_writer), UDB_PERMISSION);
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(!role_exists(fx.db, "intruders"));
}
END_TEST

START_TEST(test_udb_db_open_reader_after_writer_killed_before_checkpoint)
{
	sqlite3 *snapshot = NULL;
	struct stat st;
	pid_t pid;
	int status, off = 1;

	close_fixture_db();
	/* A reader in the middle of a lookup holds an old snapshot, so the
	 * writer's checkpoint cannot empty the public WAL... */
	ck_assert_int_eq(
		sqlite3_open_v2(fx_dbfile(UDB_PUBLIC_FILE), &snapshot, SQLITE_OPEN_READONLY, NULL),
		SQLITE_OK);
	sqlite3_db_config(snapshot, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &off);
	ck_assert_int_eq(
		sqlite3_exec(snapshot, "BEGIN; SELECT count(*) FROM users", NULL, NULL, NULL),
		SQLITE_OK);
	/* ...and the writer dies right after its commit. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct udb_db *db = NULL;
		struct udb_user_spec spec = {.username = "alice"};

		if (udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &db) != UDB_OK)
			_exit(1);
		/* The checkpoint waits this long for the reader, then gives up. */
		udb_db_set_busy_timeout(db, 50);
		if (udb_user_add(db, fx.cfg, &spec, false, T0, NULL) != UDB_OK)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status), "the writer could not commit beside a reader");
	sqlite3_exec(snapshot, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(snapshot);
	ck_assert_int_eq(stat(fx_dbfile(UDB_PUBLIC_FILE "-wal"), &st), 0);
	ck_assert_int_gt(st.st_size, 0); /* the commit is only in the WAL */
	/* A reader sees the committed user. */
	ck_assert_int_eq(lookup_as_public_reader(), UDB_OK);
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(user_exists(fx.db, "alice"));
	fx_reopen(UDB_OPEN_WRITE);
	fx_add_user("bob");
	close_fixture_db();
	ck_assert_int_eq(lookup_as_public_reader(), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_open_credentials_reads_shadow_file_alone)
{
	struct udb_account *a = NULL;

	fx_add_user("alice");
	/* The next write confirms that the public file has alice. */
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	close_fixture_db();
	/* The public file is not opened for a confirmed name: content it does
	 * not show in its header does not matter. */
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "DROP TABLE user_roles");
	ck_assert_int_eq(try_open(UDB_OPEN_READ_BOTH), UDB_OK);
	fx_reopen(UDB_OPEN_SHADOW_ONLY);
	ck_assert(udb_db_has_shadow(fx.db));
	ck_assert(!udb_db_has_public(fx.db));
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_str_eq(a->username, "alice");
	udb_account_free(a);
	a = NULL;
	ck_assert_int_eq(udb_account_by_name(fx.db, "nosuchuser", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_name(fx.db, "bad:name", &a), UDB_NOT_FOUND);
	ck_assert(udb_db_is_current(fx.db));
	close_fixture_db();
	/* The shadow file itself is checked like in every other mode, and the
	 * public file's safety and header without opening it. */
	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0666), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_SHADOW_ONLY), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0640), 0);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_PUBLIC_FILE), 0666), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_SHADOW_ONLY), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_PUBLIC_FILE), 0644), 0);
	ck_assert_int_eq(truncate(fx_dbfile(UDB_PUBLIC_FILE), 4096 + 1000), 0);
	ck_assert_int_eq(try_open(UDB_OPEN_SHADOW_ONLY), UDB_CORRUPT);
}
END_TEST

/* udb_account_for_login on db gives name's user id, name and hash as
 * udb_account_by_name does (want: what both return). */
static void
check_for_login(struct udb_db *db, const char *name, enum udb_result want)
{
	struct udb_account *full = NULL, *login = NULL;

	ck_assert_int_eq(udb_account_by_name(db, name, &full), want);
	ck_assert_int_eq(udb_account_for_login(db, name, &login), want);
	if (want != UDB_OK)
		return;
	ck_assert_int_eq(login->user_id, full->user_id);
	ck_assert_str_eq(login->username, name);
	if (full->password_hash)
		ck_assert_str_eq(login->password_hash, full->password_hash);
	else
		ck_assert_ptr_null(login->password_hash);
	udb_account_free(full);
	udb_account_free(login);
}

START_TEST(test_udb_db_open_credentials_unconfirmed_name)
{
	struct udb_account *a = NULL;
	struct udb_db *cred = NULL;

	/* bob's add reached the shadow file only (the writer died between the
	 * two commits): his name is unconfirmed and the public file, which
	 * does not have him, decides. */
	fx_add_user("alice");
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	fx_add_user("bob");
	close_fixture_db();
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE),
		 "DELETE FROM users WHERE username = 'bob'; UPDATE meta "
		 "SET value = value - 1 WHERE key = 'generation'");
	raw_exec(fx_dbfile(UDB_SHADOW_FILE),
		 "UPDATE accounts SET password_hash = '$6$salt$hash' WHERE user_id = "
		 "(SELECT user_id FROM account_names WHERE username = 'alice')");
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_SHADOW_ONLY, &cred), UDB_OK);
	ck_assert_int_eq(udb_account_by_name(cred, "bob", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_name(cred, "alice", &a), UDB_OK);
	udb_account_free(a);
	a = NULL;
	udb_db_close(cred);
	/* What authentication reads, the same way. */
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_SHADOW_ONLY, &cred), UDB_OK);
	check_for_login(cred, "bob", UDB_NOT_FOUND);
	check_for_login(cred, "alice", UDB_OK);
	ck_assert_int_eq(udb_account_for_login(cred, "alice", &a), UDB_OK);
	ck_assert_str_eq(a->password_hash, "$6$salt$hash");
	udb_account_free(a);
	a = NULL;
	check_for_login(cred, "nosuchuser", UDB_NOT_FOUND);
	udb_db_close(cred);
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_READ_BOTH, &cred), UDB_OK);
	check_for_login(cred, "bob", UDB_NOT_FOUND);
	check_for_login(cred, "alice", UDB_OK);
	udb_db_close(cred);
	/* The next write removes bob's half-added account; carol's add then
	 * finishes: unconfirmed until the write after, found through the
	 * public file meanwhile. */
	fx_reopen(UDB_OPEN_WRITE);
	fx_add_user("carol");
	close_fixture_db();
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_SHADOW_ONLY, &cred), UDB_OK);
	ck_assert_int_eq(udb_account_by_name(cred, "carol", &a), UDB_OK);
	ck_assert_str_eq(a->username, "carol");
	udb_account_free(a);
	a = NULL;
	check_for_login(cred, "carol", UDB_OK);
	udb_db_close(cred);
	/* The next write confirms carol: the public file is not needed any
	 * more, even a broken one. */
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_OK);
	close_fixture_db();
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE), "DROP TABLE user_roles");
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_SHADOW_ONLY, &cred), UDB_OK);
	ck_assert_int_eq(udb_account_by_name(cred, "carol", &a), UDB_OK);
	udb_account_free(a);
	udb_db_close(cred);
}
END_TEST

/* Whether some process holds a POSIX lock on bytes [start, start + len) of
 * path, seen from a child (F_GETLK does not report the caller's own locks). */
static bool
locked_for_others(const char *path, off_t start, off_t len)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct flock lk = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fcntl(fd, F_GETLK, &lk) != 0)
			_exit(2);
		_exit(lk.l_type != F_UNLCK);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) < 2);
	return WEXITSTATUS(status) == 1;
}

/* Opening a handle must not drop the locks another connection of the same
 * process holds: closing any descriptor of a file releases them all, so
 * the open checks the files without opening them (an earlier version did,
 * and a reader lost its shared lock on public.db and its hold on public.db's
 * -shm, which the next process to open the file would then have truncated
 * under the reader's map). */
START_TEST(test_udb_db_open_keeps_other_connections_locks)
{
	static const enum udb_open_mode modes[] = {UDB_OPEN_PUBLIC, UDB_OPEN_READ_BOTH,
						   UDB_OPEN_SHADOW_ONLY, UDB_OPEN_WRITE};
	struct udb_db *reader = NULL, *other = NULL;

	fx_add_user("alice");
	close_fixture_db();
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_PUBLIC, &reader), UDB_OK);
	ck_assert(user_exists(reader, "alice"));
	/* SQLite's shared lock on the database file (its SHARED range) and
	 * its hold on the -shm file (the byte at 128). */
	ck_assert(locked_for_others(fx_dbfile(UDB_PUBLIC_FILE), 0x40000002, 510));
	ck_assert(locked_for_others(fx_dbfile(UDB_PUBLIC_FILE "-shm"), 128, 1));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (int transient = 0; transient < 2; transient++) {
			if (transient && modes[i] == UDB_OPEN_WRITE)
				continue;
			ck_assert_int_eq(transient
						 ? udb_db_open_transient(fx.dbdir, modes[i], &other)
						 : udb_db_open(fx.dbdir, modes[i], &other),
					 UDB_OK);
			udb_db_close(other);
			ck_assert_msg(
				locked_for_others(fx_dbfile(UDB_PUBLIC_FILE), 0x40000002, 510),
				"mode %zu transient %d dropped the reader's lock", i, transient);
			ck_assert_msg(locked_for_others(fx_dbfile(UDB_PUBLIC_FILE "-shm"), 128, 1),
				      "mode %zu transient %d dropped the reader's -shm hold", i,
				      transient);
		}
	}
	ck_assert(user_exists(reader, "alice"));
	udb_db_close(reader);
}
END_TEST

/* --- udb_db_open_transient --- */

/* A writer in another process, started before the caller opens anything
 * (a child forked later would inherit the parent's SQLite state). It adds
 * name once the caller writes a byte to *ret_go, and exits. */
static pid_t
start_writer_process(const char *name, int *ret_go)
{
	int fds[2];
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct udb_db *db = NULL;
		struct udb_user_spec spec = {.username = name};
		char c;

		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(3);
		if (udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &db) != UDB_OK ||
		    udb_user_add(db, fx.cfg, &spec, false, T0, NULL) != UDB_OK)
			_exit(1);
		udb_db_close(db);
		_exit(0);
	}
	close(fds[0]);
	*ret_go = fds[1];
	return pid;
}

static int
finish_writer_process(pid_t pid, int go)
{
	int status;

	ck_assert_int_eq(write(go, "x", 1), 1);
	close(go);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_udb_db_open_transient_reads_and_sees_commits)
{
	struct udb_db *transient = NULL;
	struct udb_account *a = NULL;
	pid_t writer;
	int go;

	fx_add_user("alice");
	close_fixture_db();
	writer = start_writer_process("bob", &go);
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_READ_BOTH, &transient), UDB_OK);
	ck_assert(udb_db_is_transient(transient));
	ck_assert_int_eq(udb_account_by_name(transient, "alice", &a), UDB_OK);
	ck_assert_str_eq(a->username, "alice");
	udb_account_free(a);
	/* Another process commits: the transient handle's next statement sees it. */
	ck_assert_int_eq(finish_writer_process(writer, go), 0);
	ck_assert(user_exists(transient, "bob"));
	udb_db_close(transient);
}
END_TEST

START_TEST(test_udb_db_open_transient_then_writer_in_same_process)
{
	struct udb_db *transient = NULL;

	fx_add_user("alice");
	close_fixture_db();
	/* The transient handle is the first of this process on both files: once it
	 * is closed, a writer of the same process must get a writable index
	 * (SQLite shares one per file and process). */
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_READ_BOTH, &transient), UDB_OK);
	ck_assert(user_exists(transient, "alice"));
	udb_db_close(transient);
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	ck_assert(role_exists(fx.db, "staff"));
}
END_TEST

START_TEST(test_udb_db_open_transient_beside_open_writer)
{
	struct udb_db *transient = NULL;

	/* fx.db, a writer of this process, stays open: the transient handle shares
	 * its index, and the writer keeps writing. */
	fx_add_user("alice");
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_READ_BOTH, &transient), UDB_OK);
	ck_assert(user_exists(transient, "alice"));
	fx_add_user("bob");
	ck_assert(user_exists(transient, "bob"));
	udb_db_close(transient);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_open_transient_refuses_write_mode)
{
	struct udb_db *db = NULL;

	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_WRITE, &db), UDB_INTERNAL);
	ck_assert_ptr_null(db);
}
END_TEST

START_TEST(test_udb_db_open_transient_checks_like_open)
{
	struct udb_db *db = NULL;

	close_fixture_db();
	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0666), 0);
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_READ_BOTH, &db), UDB_UNSAFE);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_SHADOW_FILE), 0640), 0);
	raw_exec(fx_dbfile(UDB_SHADOW_FILE), "UPDATE meta SET value = 'other' WHERE key = 'pair'");
	ck_assert_int_eq(udb_db_open_transient(fx.dbdir, UDB_OPEN_READ_BOTH, &db), UDB_CORRUPT);
	ck_assert_ptr_null(db);
}
END_TEST

static int
transient_lookup_as_reader(void)
{
	struct udb_db *db = NULL;
	struct udb_user *u = NULL;
	enum udb_result r;

	r = udb_db_open_transient(fx.dbdir, UDB_OPEN_PUBLIC, &db);
	if (r == UDB_OK)
		r = udb_user_by_name(db, "alice", &u);
	udb_user_free(u);
	udb_db_close(db);
	return (int)r;
}

START_TEST(test_udb_db_open_transient_unprivileged_reader)
{
	if (geteuid() != 0)
		return; /* needs root to switch to nobody */
	fx_add_user("alice");
	close_fixture_db();
	ck_assert_int_eq(fx_run_as(NOBODY, NOBODY, transient_lookup_as_reader), UDB_PERMISSION);
}
END_TEST

/* --- udb_db_begin --- */

/* The statement every write transaction starts with reads the unconfirmed
 * names and each one's user by key, never every user: its plan scans
 * nothing but the partial index of unconfirmed names. */
START_TEST(test_udb_db_begin_confirms_names_without_reading_all_users)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char sql[1024];

	ck_assert_int_eq(sqlite3_open_v2(fx_dbfile("shadow.db"), &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS pub", fx_dbfile("public.db"));
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_db_config(db, SQLITE_DBCONFIG_MAINDBNAME, "sec");
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		 udb_sql_text(UDB_Q_CONFIRM_ACCOUNT_NAMES));
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *step = (const char *)sqlite3_column_text(st, 3);

		ck_assert_msg(!strstr(step, "users") || strstr(step, "PRIMARY KEY"),
			      "reads users: %s", step);
		ck_assert_msg(!strstr(step, "SCAN") || strstr(step, "account_names_unconfirmed"),
			      "scans: %s", step);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_udb_db_begin_read_only_handle_refused)
{
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_PERMISSION);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_PERMISSION);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_PERMISSION);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_INTERNAL);
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert(!role_exists(fx.db, "staff"));
}
END_TEST

START_TEST(test_udb_db_begin_busy_while_other_writer)
{
	struct udb_db *other = NULL;

	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &other), UDB_OK);
	udb_db_set_busy_timeout(other, 20);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(udb_db_begin(other), UDB_BUSY);
	ck_assert_int_eq(add_role(other, "staff"), UDB_BUSY);
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_OK);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	/* The failed attempts left nothing behind: the next one works. */
	ck_assert_int_eq(add_role(other, "staff"), UDB_OK);
	ck_assert(role_exists(fx.db, "staff"));
	ck_assert(role_exists(other, "ops"));
	udb_db_close(other);
}
END_TEST

START_TEST(test_udb_db_begin_after_killed_writer)
{
	pid_t pid;
	int status;

	close_fixture_db();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct udb_db *db = NULL;
		struct udb_user_spec spec = {.username = "mallory"};

		if (udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &db) != UDB_OK ||
		    udb_db_begin(db) != UDB_OK ||
		    udb_user_add(db, fx.cfg, &spec, false, T0, NULL) != UDB_OK)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(!user_exists(fx.db, "mallory"));
	fx_reopen(UDB_OPEN_WRITE);
	udb_db_set_busy_timeout(fx.db, 1000);
	fx_add_user("mallory");
	ck_assert(user_exists(fx.db, "mallory"));
}
END_TEST

/* Leaves the database as a writer killed between the shadow file's commit
 * and the public file's would: the shadow file has the change, the public
 * file has it not. change runs on the fixture's write handle. */
static void
simulate_crash_between_commits(void (*change)(void))
{
	char snapshot[PATH_MAX + 16];

	snprintf(snapshot, sizeof(snapshot), "%s/public.snapshot", fx.dir);
	close_fixture_db();
	fx_write_file(snapshot, "", 0600);
	fx_copy_file(fx_dbfile(UDB_PUBLIC_FILE), snapshot);
	fx_reopen(UDB_OPEN_WRITE);
	change();
	close_fixture_db();
	fx_copy_file(snapshot, fx_dbfile(UDB_PUBLIC_FILE));
}

static void
add_alice_disabled(void)
{
	struct udb_user_spec spec = {
		.username = "alice", .disabled = true, .password_hash = "$6$rounds=1000$salt$x"};

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL), UDB_OK);
}

static void
delete_bob(void)
{
	ck_assert_int_eq(udb_user_delete(fx.db, "bob"), UDB_OK);
}

START_TEST(test_udb_db_begin_repairs_half_added_user)
{
	struct udb_user_spec spec = {.username = "alice"};
	struct udb_account **list = NULL, *a = NULL;
	size_t n = 0;

	fx_add_user("carol");
	simulate_crash_between_commits(add_alice_disabled);

	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(!user_exists(fx.db, "alice"));
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_shadow_page(fx.db, 0, 10, &list, &n), UDB_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0]->username, "carol");
	udb_account_list_free(list, n);

	/* The next write repairs: adding alice again works and gets a fresh
	 * account, not the half-added one's (disabled, with a password). */
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert(a->is_enabled);
	ck_assert_ptr_null(a->password_hash);
	udb_account_free(a);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_begin_finishes_half_deleted_user)
{
	struct udb_account *a = NULL;
	struct udb_user *u = NULL;
	struct udb_account **list = NULL;
	char **roles = NULL;
	size_t n = 0;
	int64_t bob;

	fx_add_role("staff", NULL, NULL);
	bob = fx_add_user("bob");
	fx_add_user("carol");
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, 0, T0, NULL), UDB_OK);
	simulate_crash_between_commits(delete_bob);

	/* In between, bob is still a passwd entry but cannot log in. */
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(user_exists(fx.db, "bob"));
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_user_id(fx.db, bob, &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_shadow_page(fx.db, 0, 10, &list, &n), UDB_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0]->username, "carol");
	udb_account_list_free(list, n);

	/* Any write transaction finishes the delete, grants included. */
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_OK);
	ck_assert_int_eq(udb_user_by_name(fx.db, "bob", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_effective_roles(fx.db, bob, T0, &roles, &n), UDB_OK);
	ck_assert_uint_eq(n, 0);
	udb_strv_free(roles, n);
	ck_assert(user_exists(fx.db, "carol"));
	fx_add_user("bob");
}
END_TEST

static void
rename_bob(void)
{
	ck_assert_int_eq(udb_user_rename(fx.db, "bob", "robert", T0), UDB_OK);
}

/* The shadow file took the new name, the public file kept the old one. */
START_TEST(test_udb_db_begin_repairs_half_renamed_user)
{
	struct udb_account *a = NULL;

	fx_add_user("bob");
	fx_add_user("carol");
	simulate_crash_between_commits(rename_bob);

	/* In between, NSS and the public file still say bob; a login as
	 * robert through the shadow file alone (PAM's handle) is refused. */
	fx_reopen(UDB_OPEN_SHADOW_ONLY);
	ck_assert_int_eq(udb_account_by_name(fx.db, "robert", &a), UDB_NOT_FOUND);

	/* Any write puts the shadow file's name back: bob logs in as bob. */
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_OK);
	fx_reopen(UDB_OPEN_SHADOW_ONLY);
	ck_assert_int_eq(udb_account_by_name(fx.db, "robert", &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_OK);
	ck_assert_str_eq(a->username, "bob");
	udb_account_free(a);
	a = NULL;

	/* And a rename that completes still works, under the new name. */
	fx_reopen(UDB_OPEN_WRITE);
	rename_bob();
	fx_reopen(UDB_OPEN_SHADOW_ONLY);
	ck_assert_int_eq(udb_account_by_name(fx.db, "robert", &a), UDB_OK);
	udb_account_free(a);
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_NOT_FOUND);
}
END_TEST

/* A shadow file restored from an older backup leaves the public file ahead:
 * that is not a crash, and "repairing" it would delete every user added
 * since the backup. Writes refuse instead; readers go on working. */
START_TEST(test_udb_db_begin_refuses_restored_shadow_file)
{
	char snapshot[PATH_MAX + 16];

	fx_add_user("carol");
	snprintf(snapshot, sizeof(snapshot), "%s/shadow.snapshot", fx.dir);
	close_fixture_db();
	fx_write_file(snapshot, "", 0600);
	fx_copy_file(fx_dbfile(UDB_SHADOW_FILE), snapshot);
	fx_reopen(UDB_OPEN_WRITE);
	fx_add_user("dave");
	close_fixture_db();
	fx_copy_file(snapshot, fx_dbfile(UDB_SHADOW_FILE));

	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_CORRUPT);
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert(user_exists(fx.db, "dave"));
	ck_assert(user_exists(fx.db, "carol"));
}
END_TEST

/* --- udb_db_commit and udb_db_rollback --- */

START_TEST(test_udb_db_commit_nested_writes_once)
{
	struct udb_db *reader = NULL;

	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_READ_BOTH, &reader), UDB_OK);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_OK);
	/* The inner commits wrote nothing yet: another process sees neither. */
	ck_assert(!role_exists(reader, "staff"));
	ck_assert(role_exists(fx.db, "staff"));
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	ck_assert(role_exists(reader, "staff"));
	ck_assert(role_exists(reader, "ops"));
	udb_db_close(reader);
}
END_TEST

START_TEST(test_udb_db_commit_fails_after_inner_rollback)
{
	struct udb_db *reader = NULL;

	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_READ_BOTH, &reader), UDB_OK);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_EXISTS);
	ck_assert_int_ne(udb_db_commit(fx.db), UDB_OK);
	/* Nothing of the transaction was written, for anyone... */
	ck_assert(!role_exists(reader, "staff"));
	ck_assert(!role_exists(fx.db, "staff"));
	/* ...and the handle is not stuck in it: the next change works and
	 * other writers are not locked out. */
	ck_assert_int_eq(add_role(fx.db, "ops"), UDB_OK);
	ck_assert(role_exists(reader, "ops"));
	udb_db_close(reader);
}
END_TEST

START_TEST(test_udb_db_commit_without_begin)
{
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_INTERNAL);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
}
END_TEST

START_TEST(test_udb_db_commit_visible_to_open_reader)
{
	struct udb_db *reader = NULL;

	/* NSS keeps its handle open: the next lookup must see the change. */
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_READ_BOTH, &reader), UDB_OK);
	ck_assert(!user_exists(reader, "alice"));
	fx_add_user("alice");
	ck_assert(user_exists(reader, "alice"));
	ck_assert_int_eq(udb_user_delete(fx.db, "alice"), UDB_OK);
	ck_assert(!user_exists(reader, "alice"));
	ck_assert(udb_db_is_current(reader));
	udb_db_close(reader);
}
END_TEST

START_TEST(test_udb_db_rollback_discards)
{
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	udb_db_rollback(fx.db);
	ck_assert(!role_exists(fx.db, "staff"));
	/* Without a transaction it does nothing. */
	udb_db_rollback(fx.db);
	ck_assert_int_eq(add_role(fx.db, "staff"), UDB_OK);
	ck_assert(role_exists(fx.db, "staff"));
}
END_TEST

/* --- udb_db_is_current and udb_db_has_shadow --- */

START_TEST(test_udb_db_is_current_false_after_replace)
{
	char copy[PATH_MAX + 16];

	ck_assert(udb_db_is_current(fx.db));
	fx_add_user("alice");
	ck_assert(udb_db_is_current(fx.db));

	snprintf(copy, sizeof(copy), "%s/new.db", fx.dbdir);
	fx_write_file(copy, "", 0644);
	fx_copy_file(fx_dbfile(UDB_PUBLIC_FILE), copy);
	ck_assert_int_eq(rename(copy, fx_dbfile(UDB_PUBLIC_FILE)), 0);
	ck_assert(!udb_db_is_current(fx.db));
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(udb_db_is_current(fx.db));

	fx_write_file(copy, "", 0640);
	fx_copy_file(fx_dbfile(UDB_SHADOW_FILE), copy);
	ck_assert_int_eq(rename(copy, fx_dbfile(UDB_SHADOW_FILE)), 0);
	ck_assert(!udb_db_is_current(fx.db));
	/* A public-only handle does not care about the shadow file. */
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert(udb_db_is_current(fx.db));
	ck_assert_int_eq(unlink(fx_dbfile(UDB_PUBLIC_FILE)), 0);
	ck_assert(!udb_db_is_current(fx.db));
}
END_TEST

START_TEST(test_udb_db_has_shadow_by_mode)
{
	ck_assert(udb_db_has_shadow(fx.db));
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert(udb_db_has_shadow(fx.db));
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert(!udb_db_has_shadow(fx.db));
	udb_db_close(NULL);
}
END_TEST

START_TEST(test_udb_db_data_version_changes_after_commit)
{
	struct udb_db *reader = NULL;
	int64_t v1 = 0, v2 = 0, v3 = 0;

	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_READ_BOTH, &reader), UDB_OK);
	ck_assert_int_eq(udb_db_data_version(reader, &v1), UDB_OK);
	ck_assert_int_eq(udb_db_data_version(reader, &v2), UDB_OK);
	ck_assert_int_eq(v1, v2);
	fx_add_user("alice");
	ck_assert_int_eq(udb_db_data_version(reader, &v3), UDB_OK);
	ck_assert_int_ne(v3, v1);
	ck_assert(user_exists(reader, "alice"));
	udb_db_close(reader);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;

	tc = fx_tcase(s, "udb_db_init", true);
	tcase_add_test(tc, test_udb_db_init_creates_files_with_modes);
	tcase_add_test(tc, test_udb_db_init_twice_keeps_data);
	tcase_add_test(tc, test_udb_db_init_restores_modes);
	tcase_add_test(tc, test_udb_db_init_refuses_newer_schema);
	tcase_add_test(tc, test_udb_db_init_resumes_an_upgrade_cut_short);
	tcase_add_test(tc, test_udb_db_init_refuses_mixed_pair);
	tcase_add_test(tc, test_udb_db_init_upgrades_schema_1);
	tcase_add_test(tc, test_udb_db_passwd_entries_follow_users);
	tcase_add_test(tc, test_udb_db_passwd_entry_damaged_is_corrupt);
	tcase_add_test(tc, test_udb_db_init_finishes_upgrade_cut_short);
	tcase_add_test(tc, test_udb_db_init_upgrades_schema_2_id_marks);
	tc = fx_tcase(s, "udb_db_init_fresh", false);
	tcase_add_test(tc, test_udb_db_init_under_strict_umask);
	tcase_add_test(tc, test_udb_db_init_refuses_garbage_file);
	tc = fx_tcase(s, "udb_db_open", true);
	tcase_add_test(tc, test_udb_db_open_missing_database_unavailable);
	tcase_add_test(tc, test_udb_db_open_garbage_corrupt);
	tcase_add_test(tc, test_udb_db_open_empty_file_corrupt);
	tcase_add_test(tc, test_udb_db_open_foreign_sqlite_file_corrupt);
	tcase_add_test(tc, test_udb_db_open_mixed_pair_corrupt);
	tcase_add_test(tc, test_udb_db_open_symlink_unsafe);
	tcase_add_test(tc, test_udb_db_open_writable_file_unsafe);
	tcase_add_test(tc, test_udb_db_open_foreign_owner_unsafe);
	tcase_add_test(tc, test_udb_db_open_writable_directory_unsafe);
	tcase_add_test(tc, test_udb_db_open_fifo_unsafe);
	tcase_add_test(tc, test_udb_db_open_newer_schema_refused);
	tcase_add_test(tc, test_udb_db_open_version_mismatch_corrupt);
	tcase_add_test(tc, test_udb_db_open_unprivileged_reader);
	tcase_add_test(tc, test_udb_db_open_shadow_group_refused);
	tcase_add_test(tc, test_udb_db_open_reader_after_writer_killed_before_checkpoint);
	tcase_add_test(tc, test_udb_db_open_credentials_reads_shadow_file_alone);
	tcase_add_test(tc, test_udb_db_open_credentials_unconfirmed_name);
	tcase_add_test(tc, test_udb_db_open_keeps_other_connections_locks);
	tc = fx_tcase(s, "udb_db_open_transient", true);
	tcase_add_test(tc, test_udb_db_open_transient_reads_and_sees_commits);
	tcase_add_test(tc, test_udb_db_open_transient_then_writer_in_same_process);
	tcase_add_test(tc, test_udb_db_open_transient_beside_open_writer);
	tcase_add_test(tc, test_udb_db_open_transient_refuses_write_mode);
	tcase_add_test(tc, test_udb_db_open_transient_checks_like_open);
	tcase_add_test(tc, test_udb_db_open_transient_unprivileged_reader);
	tc = fx_tcase(s, "udb_db_begin", true);
	tcase_add_test(tc, test_udb_db_begin_read_only_handle_refused);
	tcase_add_test(tc, test_udb_db_begin_confirms_names_without_reading_all_users);
	tcase_add_test(tc, test_udb_db_begin_busy_while_other_writer);
	tcase_add_test(tc, test_udb_db_begin_after_killed_writer);
	tcase_add_test(tc, test_udb_db_begin_repairs_half_added_user);
	tcase_add_test(tc, test_udb_db_begin_finishes_half_deleted_user);
	tcase_add_test(tc, test_udb_db_begin_repairs_half_renamed_user);
	tcase_add_test(tc, test_udb_db_begin_refuses_restored_shadow_file);
	tc = fx_tcase(s, "udb_db_commit", true);
	tcase_add_test(tc, test_udb_db_commit_nested_writes_once);
	tcase_add_test(tc, test_udb_db_commit_fails_after_inner_rollback);
	tcase_add_test(tc, test_udb_db_commit_without_begin);
	tcase_add_test(tc, test_udb_db_commit_visible_to_open_reader);
	tc = fx_tcase(s, "udb_db_rollback", true);
	tcase_add_test(tc, test_udb_db_rollback_discards);
	tc = fx_tcase(s, "udb_db_is_current", true);
	tcase_add_test(tc, test_udb_db_is_current_false_after_replace);
	tc = fx_tcase(s, "udb_db_data_version", true);
	tcase_add_test(tc, test_udb_db_data_version_changes_after_commit);
	tc = fx_tcase(s, "udb_db_has_shadow", true);
	tcase_add_test(tc, test_udb_db_has_shadow_by_mode);
	return s;
}

int
main(void)
{
	return fx_main(db_suite());
}
