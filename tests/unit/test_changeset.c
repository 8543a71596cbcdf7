/* Unit tests of common/changeset.c and the change hook of transaction.c:
 * what a write transaction hands the hook, and that a hook's failure leaves
 * nothing changed. */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "role.h"
#include "user.h"

/* What the hook saw: one "op table" line per change, and how often it ran. */
struct seen {
	char ops[4096];
	int calls;
	enum udb_result answer; /* what send returns */
};

static bool
captures(const char *schema, const char *table, void *ctx)
{
	(void)ctx;
	(void)schema;
	return strcmp(table, "meta") != 0 && strcmp(table, "passwd_entries") != 0;
}

static enum udb_result
send(struct udb_db *db, const void *changeset, int size, void *ctx)
{
	struct seen *s = ctx;
	sqlite3_changeset_iter *it = NULL;

	(void)db;
	s->calls++;
	s->ops[0] = '\0';
	ck_assert_int_eq(sqlite3changeset_start(&it, size, (void *)(uintptr_t)changeset),
			 SQLITE_OK);
	while (sqlite3changeset_next(it) == SQLITE_ROW) {
		const char *table = NULL;
		int ncol = 0, op = 0, indirect = 0;
		size_t n = strlen(s->ops);

		ck_assert_int_eq(sqlite3changeset_op(it, &table, &ncol, &op, &indirect), SQLITE_OK);
		snprintf(s->ops + n, sizeof(s->ops) - n, "%s %s\n",
			 op == SQLITE_INSERT   ? "insert"
			 : op == SQLITE_UPDATE ? "update"
					       : "delete",
			 table);
	}
	ck_assert_int_eq(sqlite3changeset_finalize(it), SQLITE_OK);
	return s->answer;
}

static void
set_hook(struct seen *s)
{
	struct udb_change_hook hook = {.captures = captures, .send = send, .ctx = s};

	udb_db_set_change_hook(fx.db, &hook);
}

static bool
has_op(const struct seen *s, const char *line)
{
	char want[128];

	snprintf(want, sizeof(want), "%s\n", line);
	return strstr(s->ops, want) != NULL;
}

static bool
user_exists(const char *name)
{
	struct udb_user *u = NULL;
	enum udb_result r = udb_user_by_name(fx.db, name, &u);

	udb_user_free(u);
	return r == UDB_OK;
}

START_TEST(test_udb_db_set_change_hook_user_add_rows)
{
	struct seen s = {.answer = UDB_OK};

	set_hook(&s);
	fx_add_user("alice");
	ck_assert_int_eq(s.calls, 1);
	ck_assert_msg(has_op(&s, "insert users"), "%s", s.ops);
	ck_assert_msg(has_op(&s, "insert accounts"), "%s", s.ops);
	ck_assert_msg(has_op(&s, "insert account_names"), "%s", s.ops);
	ck_assert_msg(has_op(&s, "update id_allocator"), "%s", s.ops);
	/* Local bookkeeping is left out by the filter. */
	ck_assert_msg(!strstr(s.ops, "meta") && !strstr(s.ops, "passwd_entries"), "%s", s.ops);
	ck_assert(user_exists("alice"));
}
END_TEST

START_TEST(test_udb_db_set_change_hook_cascade_captured)
{
	struct seen s = {.answer = UDB_OK};

	fx_add_role("staff", NULL, "ssh:login");
	fx_add_user("bob");
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, 0, T0, NULL), UDB_OK);
	set_hook(&s);
	ck_assert_int_eq(udb_user_delete(fx.db, "bob"), UDB_OK);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_msg(has_op(&s, "delete users"), "%s", s.ops);
	ck_assert_msg(has_op(&s, "delete accounts"), "%s", s.ops);
	/* The grant goes by ON DELETE CASCADE, and central must hear of it. */
	ck_assert_msg(has_op(&s, "delete user_roles"), "%s", s.ops);
}
END_TEST

START_TEST(test_udb_db_set_change_hook_failure_changes_nothing)
{
	struct seen s = {.answer = UDB_UNAVAILABLE};
	struct udb_user_spec spec = {.username = "carol"};
	struct udb_user *u = NULL;

	set_hook(&s);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, &u), UDB_UNAVAILABLE);
	udb_user_free(u);
	ck_assert_int_eq(s.calls, 1);
	udb_db_set_change_hook(fx.db, NULL);
	ck_assert(!user_exists("carol"));
	/* The uid is not used up either: the allocator row rolled back too. */
	fx_add_user("carol");
	ck_assert_int_eq(udb_user_by_name(fx.db, "carol", &u), UDB_OK);
	ck_assert_uint_eq(u->uid, fx.cfg->uid_min);
	udb_user_free(u);
}
END_TEST

START_TEST(test_udb_db_set_change_hook_removed)
{
	struct seen s = {.answer = UDB_UNAVAILABLE};

	set_hook(&s);
	udb_db_set_change_hook(fx.db, NULL);
	fx_add_user("dave");
	ck_assert_int_eq(s.calls, 0);
}
END_TEST

START_TEST(test_udb_db_set_change_hook_nested_once)
{
	struct seen s = {.answer = UDB_OK};

	set_hook(&s);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	fx_add_user("erin");
	fx_add_role("ops", NULL, NULL);
	ck_assert_int_eq(s.calls, 0);
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_msg(has_op(&s, "insert users") && has_op(&s, "insert roles"), "%s", s.ops);
}
END_TEST

START_TEST(test_udb_db_set_change_hook_rollback_sends_nothing)
{
	struct seen s = {.answer = UDB_OK};

	set_hook(&s);
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	fx_add_user("frank");
	udb_db_rollback(fx.db);
	ck_assert_int_eq(s.calls, 0);
	/* The next transaction captures its own changes only. */
	fx_add_role("dev", NULL, NULL);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_msg(!has_op(&s, "insert users") && has_op(&s, "insert roles"), "%s", s.ops);
}
END_TEST

static Suite *
changeset_suite(void)
{
	Suite *s = suite_create("changeset");
	TCase *tc = fx_tcase(s, "udb_db_set_change_hook", true);

	tcase_add_test(tc, test_udb_db_set_change_hook_user_add_rows);
	tcase_add_test(tc, test_udb_db_set_change_hook_cascade_captured);
	tcase_add_test(tc, test_udb_db_set_change_hook_failure_changes_nothing);
	tcase_add_test(tc, test_udb_db_set_change_hook_removed);
	tcase_add_test(tc, test_udb_db_set_change_hook_nested_once);
	tcase_add_test(tc, test_udb_db_set_change_hook_rollback_sends_nothing);
	return s;
}

int
main(void)
{
	return fx_main(changeset_suite());
}
