/* Unit tests of common/ids.c: uids and role gids come from above a
 * high-water mark, so a freed id is never handed out again unless the
 * admin names it; overlapping and separate ranges; a damaged allocator. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "ids.h"
#include "role.h"
#include "user.h"

static uint32_t
uid_of(const char *name)
{
	struct udb_user *u = NULL;
	uint32_t uid;

	ck_assert_int_eq(udb_user_by_name(fx.db, name, &u), UDB_OK);
	uid = u->uid;
	udb_user_free(u);
	return uid;
}

static uint32_t
gid_of(const char *name)
{
	struct udb_role *role = NULL;
	uint32_t gid;

	ck_assert_int_eq(udb_role_by_name(fx.db, name, &role), UDB_OK);
	gid = role->gid;
	udb_role_free(role);
	return gid;
}

static enum udb_result
add_user(const char *name, uint32_t uid)
{
	struct udb_user_spec spec = {.username = name, .has_uid = uid != 0, .uid = uid};

	return udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL);
}

static enum udb_result
add_role(const char *name, uint32_t gid)
{
	struct udb_role_spec spec = {.name = name, .has_gid = gid != 0, .gid = gid};

	return udb_role_add(fx.db, fx.cfg, &spec, false, T0);
}

static void
marks(uint32_t want_uid, uint32_t want_gid)
{
	uint32_t u = 1, g = 1;

	ck_assert_int_eq(udb_id_marks(fx.db, &u, &g), UDB_OK);
	ck_assert_uint_eq(u, want_uid);
	ck_assert_uint_eq(g, want_gid);
}

/* Runs one write transaction around udb_id_allocate, as user add does. */
static enum udb_result
allocate(enum udb_id_kind kind, uint32_t *ret_id)
{
	enum udb_result r;

	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	r = udb_id_allocate(fx.db, fx.cfg, kind, false, ret_id);
	if (r == UDB_OK)
		ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	else
		udb_db_rollback(fx.db);
	return r;
}

START_TEST(test_udb_id_allocate_fresh_database_starts_at_min)
{
	uint32_t id = 0;

	marks(0, 0);
	ck_assert_int_eq(allocate(UDB_ID_UID, &id), UDB_OK);
	ck_assert_uint_eq(id, 10000);
	marks(10000, 0);
	/* The same pool: the gids step over the uids handed out. */
	ck_assert_int_eq(allocate(UDB_ID_GID, &id), UDB_OK);
	ck_assert_uint_eq(id, 10001);
	marks(10000, 10001);
}
END_TEST

START_TEST(test_udb_id_allocate_role_gid_not_reused)
{
	ck_assert_int_eq(add_role("staff", 0), UDB_OK);
	ck_assert_int_eq(add_role("ops", 0), UDB_OK);
	ck_assert_uint_eq(gid_of("ops"), 10001);
	ck_assert_int_eq(udb_role_delete(fx.db, "ops"), UDB_OK);
	ck_assert_int_eq(udb_role_delete(fx.db, "staff"), UDB_OK);
	ck_assert_int_eq(add_role("dev", 0), UDB_OK);
	ck_assert_uint_eq(gid_of("dev"), 10002);
	/* Nor as a uid: the freed gid would give the new user the old
	 * group's files. */
	ck_assert_int_eq(add_user("alice", 0), UDB_OK);
	ck_assert_uint_eq(uid_of("alice"), 10003);
	ck_assert_int_eq(udb_user_delete(fx.db, "alice"), UDB_OK);
	ck_assert_int_eq(add_role("qa", 0), UDB_OK);
	ck_assert_uint_eq(gid_of("qa"), 10004);
	/* The admin may name a freed id. */
	ck_assert_int_eq(add_role("ops", 10001), UDB_OK);
	ck_assert_uint_eq(gid_of("ops"), 10001);
	marks(10003, 10004);
}
END_TEST

START_TEST(test_udb_id_allocate_exhausted_above_mark)
{
	uint32_t id = 0;

	fx_write_config("uid_min = 10000\nuid_max = 10002\ngid_min = 10000\ngid_max = 10002\n");
	ck_assert_int_eq(add_user("a", 0), UDB_OK);
	ck_assert_int_eq(add_user("b", 0), UDB_OK);
	ck_assert_int_eq(add_user("c", 0), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "a"), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "b"), UDB_OK);
	/* 10000 and 10001 are free but were handed out once. */
	ck_assert_int_eq(allocate(UDB_ID_UID, &id), UDB_EXHAUSTED);
	ck_assert_int_eq(add_user("d", 0), UDB_EXHAUSTED);
	ck_assert_int_eq(add_role("r", 0), UDB_EXHAUSTED);
	ck_assert_int_eq(add_user("d", 10000), UDB_OK);
}
END_TEST

START_TEST(test_udb_id_allocate_named_ids_outside_range_leave_mark)
{
	ck_assert_int_eq(add_user("alice", 1500), UDB_OK);
	ck_assert_int_eq(add_role("big", 4294967294U), UDB_OK);
	marks(0, 0);
	ck_assert_int_eq(add_user("bob", 0), UDB_OK);
	ck_assert_uint_eq(uid_of("bob"), 10000);
	/* A named id inside the range moves the mark past it. */
	ck_assert_int_eq(add_user("carol", 10500), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "carol"), UDB_OK);
	ck_assert_int_eq(add_user("dave", 0), UDB_OK);
	ck_assert_uint_eq(uid_of("dave"), 10501);
}
END_TEST

START_TEST(test_udb_id_allocate_separate_ranges_independent)
{
	fx_write_config("uid_min = 10000\nuid_max = 19999\ngid_min = 20000\ngid_max = 29999\n");
	ck_assert_int_eq(add_role("staff", 0), UDB_OK);
	ck_assert_int_eq(add_role("ops", 25000), UDB_OK);
	ck_assert_int_eq(add_user("alice", 0), UDB_OK);
	ck_assert_uint_eq(gid_of("staff"), 20000);
	ck_assert_uint_eq(uid_of("alice"), 10000);
	ck_assert_int_eq(add_role("dev", 0), UDB_OK);
	ck_assert_uint_eq(gid_of("dev"), 25001);
	marks(10000, 25001);
}
END_TEST

/* uids 10000-29999, gids 20000-39999: the uids step over the part of the
 * overlap that role gids have used, and the other way round. */
START_TEST(test_udb_id_allocate_overlapping_ranges_step_over)
{
	fx_write_config("uid_min = 10000\nuid_max = 29999\ngid_min = 20000\ngid_max = 39999\n");
	ck_assert_int_eq(add_role("r1", 0), UDB_OK);
	ck_assert_int_eq(add_role("r2", 0), UDB_OK);
	ck_assert_int_eq(udb_role_delete(fx.db, "r2"), UDB_OK);
	ck_assert_uint_eq(gid_of("r1"), 20000);
	/* Below the overlap the uids go on from their own mark... */
	ck_assert_int_eq(add_user("alice", 0), UDB_OK);
	ck_assert_uint_eq(uid_of("alice"), 10000);
	ck_assert_int_eq(add_user("carol", 19999), UDB_OK);
	ck_assert_int_eq(add_user("bob", 0), UDB_OK);
	/* ...and skip 20000-20001, which the roles have passed (20001 is
	 * free again, but was r2's). */
	ck_assert_uint_eq(uid_of("bob"), 20002);
	ck_assert_int_eq(udb_user_delete(fx.db, "bob"), UDB_OK);
	/* The roles step over the uids' part of the overlap in turn. */
	ck_assert_int_eq(add_role("r3", 0), UDB_OK);
	ck_assert_uint_eq(gid_of("r3"), 20003);
}
END_TEST

START_TEST(test_udb_id_allocate_skips_ids_in_use)
{
	/* Left below the mark by an older schema (lowest free): the marks
	 * are set by hand here; an id in use is never handed out. */
	ck_assert_int_eq(add_user("alice", 10001), UDB_OK);
	ck_assert_int_eq(add_role("staff", 10002), UDB_OK);
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	udb_db_close(fx.db);
	fx.db = NULL;
	{
		sqlite3 *s = NULL;
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/public.db", fx.dbdir);
		ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
		ck_assert_int_eq(sqlite3_exec(s, "UPDATE id_allocator SET high_water = 10000", NULL,
					      NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(s);
	}
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_user("bob", 0), UDB_OK);
	ck_assert_uint_eq(uid_of("bob"), 10003);
}
END_TEST

START_TEST(test_udb_id_allocate_missing_row_fails_closed)
{
	sqlite3 *s = NULL;
	char path[PATH_MAX + 32];
	uint32_t id = 0;

	udb_db_close(fx.db);
	fx.db = NULL;
	snprintf(path, sizeof(path), "%s/public.db", fx.dbdir);
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	ck_assert_int_eq(
		sqlite3_exec(s, "DELETE FROM id_allocator WHERE kind = 'gid'", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(s);
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(allocate(UDB_ID_UID, &id), UDB_CORRUPT);
	ck_assert_int_eq(add_user("alice", 0), UDB_CORRUPT);
}
END_TEST

static Suite *
ids_suite(void)
{
	Suite *s = suite_create("ids");
	TCase *tc;

	tc = fx_tcase(s, "udb_id_allocate", true);
	tcase_add_test(tc, test_udb_id_allocate_fresh_database_starts_at_min);
	tcase_add_test(tc, test_udb_id_allocate_role_gid_not_reused);
	tcase_add_test(tc, test_udb_id_allocate_exhausted_above_mark);
	tcase_add_test(tc, test_udb_id_allocate_named_ids_outside_range_leave_mark);
	tcase_add_test(tc, test_udb_id_allocate_separate_ranges_independent);
	tcase_add_test(tc, test_udb_id_allocate_overlapping_ranges_step_over);
	tcase_add_test(tc, test_udb_id_allocate_skips_ids_in_use);
	tcase_add_test(tc, test_udb_id_allocate_missing_row_fails_closed);
	return s;
}

int
main(void)
{
	return fx_main(ids_suite());
}
