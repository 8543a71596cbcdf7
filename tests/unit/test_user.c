/* Unit tests of common/user.c: adding users (id allocation, name and id
 * conflicts, primary roles), lookups, paging, modify and delete. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "email.h"
#include "fixture.h"
#include "group.h"
#include "role.h"
#include "sql.h"
#include "user.h"

static struct udb_user *
get_user(const char *name)
{
	struct udb_user *u = NULL;

	ck_assert_int_eq(udb_user_by_name(fx.db, name, &u), UDB_OK);
	return u;
}

static uint32_t
uid_of(const char *name)
{
	struct udb_user *u = get_user(name);
	uint32_t uid = u->uid;

	udb_user_free(u);
	return uid;
}

static enum udb_result
add(const struct udb_user_spec *spec)
{
	return udb_user_add(fx.db, fx.cfg, spec, false, T0, NULL);
}

static enum udb_result
add_name(const char *name)
{
	struct udb_user_spec spec = {.username = name};

	return add(&spec);
}

static enum udb_result
add_with_uid(const char *name, uint32_t uid)
{
	struct udb_user_spec spec = {.username = name, .has_uid = true, .uid = uid};

	return add(&spec);
}

static enum udb_result
add_role_gid(const char *name, uint32_t gid)
{
	struct udb_role_spec spec = {.name = name, .has_gid = true, .gid = gid};

	return udb_role_add(fx.db, fx.cfg, &spec, false, T0);
}

static size_t
count_users(void)
{
	struct udb_user **users = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_user_page(fx.db, 0, 1000, &users, &n), UDB_OK);
	udb_user_list_free(users, n);
	return n;
}

/* --- udb_user_add --- */

START_TEST(test_udb_user_add_defaults)
{
	struct udb_user_spec spec = {.username = "alice"};
	struct udb_user *u = NULL, *again;
	struct udb_group *g = NULL;

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, &u), UDB_OK);
	ck_assert_str_eq(u->username, "alice");
	ck_assert_uint_eq(u->uid, 10000);
	ck_assert_uint_eq(u->gid, 10000);
	ck_assert_ptr_null(u->primary_role);
	ck_assert_str_eq(u->first_name, "");
	ck_assert_str_eq(u->last_name, "");
	ck_assert_str_eq(u->home, "/home/alice");
	ck_assert_str_eq(u->shell, "/bin/bash");
	ck_assert_int_eq(u->created_at, T0);
	ck_assert_int_eq(u->updated_at, T0);
	again = get_user("alice");
	ck_assert_int_eq(again->id, u->id);
	ck_assert_uint_eq(again->uid, u->uid);
	udb_user_free(again);
	udb_user_free(u);
	/* Debian's convention: a personal group named like the user. */
	ck_assert_int_eq(udb_group_by_name(fx.db, "alice", T0, &g), UDB_OK);
	ck_assert_uint_eq(g->gid, 10000);
	udb_group_free(g);
}
END_TEST

START_TEST(test_udb_user_add_all_fields)
{
	struct udb_user_spec spec = {
		.username = "bob",
		.first_name = "Bob",
		.last_name = "O'Brien; DROP TABLE users;--",
		.home = "/srv/bob",
		.shell = "/bin/zsh",
		.password_hash = "$6$rounds=1000$salt$hash",
		.disabled = true,
	};
	struct udb_account *a = NULL;
	struct udb_user *u;

	ck_assert_int_eq(add(&spec), UDB_OK);
	u = get_user("bob");
	ck_assert_str_eq(u->first_name, "Bob");
	ck_assert_str_eq(u->last_name, "O'Brien; DROP TABLE users;--");
	ck_assert_str_eq(u->home, "/srv/bob");
	ck_assert_str_eq(u->shell, "/bin/zsh");
	udb_user_free(u);
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_OK);
	ck_assert(!a->is_enabled);
	ck_assert_str_eq(a->password_hash, "$6$rounds=1000$salt$hash");
	ck_assert_int_eq(a->password_changed_at, T0);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_user_add_config_defaults)
{
	struct udb_user *u;

	fx_write_config("default_shell = /bin/sh\nhome_base = /export/home\nuid_min = 20000\n"
			"uid_max = 20010\n");
	ck_assert_int_eq(add_name("carol"), UDB_OK);
	u = get_user("carol");
	ck_assert_str_eq(u->home, "/export/home/carol");
	ck_assert_str_eq(u->shell, "/bin/sh");
	ck_assert_uint_eq(u->uid, 20000);
	udb_user_free(u);
}
END_TEST

START_TEST(test_udb_user_add_never_reuses_uid)
{
	ck_assert_int_eq(add_name("a1"), UDB_OK);
	ck_assert_int_eq(add_name("a2"), UDB_OK);
	ck_assert_int_eq(add_name("a3"), UDB_OK);
	ck_assert_uint_eq(uid_of("a3"), 10002);
	/* Neither a gap nor the top id a deleted user leaves is handed out
	 * again: the next user would own the old one's files. */
	ck_assert_int_eq(udb_user_delete(fx.db, "a2"), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "a3"), UDB_OK);
	ck_assert_int_eq(add_name("a4"), UDB_OK);
	ck_assert_uint_eq(uid_of("a4"), 10003);
	/* Unless the admin names it. */
	ck_assert_int_eq(add_with_uid("a5", 10002), UDB_OK);
	ck_assert_uint_eq(uid_of("a5"), 10002);
	ck_assert_int_eq(add_name("a6"), UDB_OK);
	ck_assert_uint_eq(uid_of("a6"), 10004);
	/* A reopened handle (a new `userdb` run) reads the same mark. */
	ck_assert_int_eq(udb_user_delete(fx.db, "a6"), UDB_OK);
	fx_reopen(UDB_OPEN_WRITE);
	ck_assert_int_eq(add_name("a7"), UDB_OK);
	ck_assert_uint_eq(uid_of("a7"), 10005);
}
END_TEST

START_TEST(test_udb_user_add_skips_role_gids)
{
	/* A uid is also the personal group's gid, so it must not be a role's. */
	ck_assert_int_eq(add_role_gid("staff", 10000), UDB_OK);
	ck_assert_int_eq(add_role_gid("ops", 10001), UDB_OK);
	ck_assert_int_eq(add_role_gid("dev", 10003), UDB_OK);
	/* Named gids in the shared range raise the mark uids come from too. */
	ck_assert_int_eq(add_name("alice"), UDB_OK);
	ck_assert_uint_eq(uid_of("alice"), 10004);
	ck_assert_int_eq(add_name("bob"), UDB_OK);
	ck_assert_uint_eq(uid_of("bob"), 10005);
}
END_TEST

START_TEST(test_udb_user_add_explicit_uid)
{
	ck_assert_int_eq(add_with_uid("alice", 1500), UDB_OK);
	ck_assert_uint_eq(uid_of("alice"), 1500);
	ck_assert_int_eq(add_with_uid("bob", 4294967294U), UDB_OK);
	ck_assert_uint_eq(uid_of("bob"), 4294967294U);
	/* Auto allocation is not disturbed by ids outside the range. */
	ck_assert_int_eq(add_name("carol"), UDB_OK);
	ck_assert_uint_eq(uid_of("carol"), 10000);
}
END_TEST

START_TEST(test_udb_user_add_uid_zero_or_minus_one_refused)
{
	ck_assert_int_eq(add_with_uid("toor", 0), UDB_INVALID);
	ck_assert_int_eq(add_with_uid("toor", 4294967295U), UDB_INVALID);
	ck_assert_uint_eq(count_users(), 0);
}
END_TEST

START_TEST(test_udb_user_add_duplicates_refused)
{
	ck_assert_int_eq(add_with_uid("alice", 12000), UDB_OK);
	ck_assert_int_eq(add_name("alice"), UDB_EXISTS);
	ck_assert_int_eq(add_with_uid("bob", 12000), UDB_EXISTS);
	/* A role's gid would clash with bob's personal group. */
	ck_assert_int_eq(add_role_gid("staff", 13000), UDB_OK);
	ck_assert_int_eq(add_with_uid("bob", 13000), UDB_EXISTS);
	/* Users and roles share the group namespace. */
	ck_assert_int_eq(add_name("staff"), UDB_EXISTS);
	ck_assert_uint_eq(count_users(), 1);
}
END_TEST

START_TEST(test_udb_user_add_range_exhausted)
{
	fx_write_config("uid_min = 20000\nuid_max = 20001\n");
	ck_assert_int_eq(add_name("a1"), UDB_OK);
	ck_assert_int_eq(add_name("a2"), UDB_OK);
	ck_assert_int_eq(add_name("a3"), UDB_EXHAUSTED);
	ck_assert_uint_eq(count_users(), 2);
	/* An explicit uid outside the range still works. */
	ck_assert_int_eq(add_with_uid("a3", 30000), UDB_OK);
}
END_TEST

START_TEST(test_udb_user_add_system_names_conflict)
{
	struct udb_user_spec root = {.username = "root"};
	struct udb_user_spec daemon = {.username = "daemon"};
	struct udb_user_spec uid1 = {.username = "evil", .has_uid = true, .uid = 1};
	struct udb_user_spec ok = {.username = "zz-unlikely-user"};

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &root, true, T0, NULL), UDB_CONFLICT);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &daemon, true, T0, NULL), UDB_CONFLICT);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &uid1, true, T0, NULL), UDB_CONFLICT);
	ck_assert_uint_eq(count_users(), 0);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &ok, true, T0, NULL), UDB_OK);
}
END_TEST

START_TEST(test_udb_user_add_skips_system_ids)
{
	struct udb_user_spec spec = {.username = "alice"};

	/* nobody (65534) and nogroup are taken by /etc/passwd and /etc/group. */
	if (!udb_system_has_uid(65534))
		return;
	fx_write_config("uid_min = 65534\nuid_max = 65535\n");
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, true, T0, NULL), UDB_OK);
	ck_assert_uint_eq(uid_of("alice"), 65535);
}
END_TEST

START_TEST(test_udb_user_add_invalid_input_refused)
{
	static const char *const names[] = {
		"",       "Alice",  "+alice",
		"-alice", "al:ice", "al\nice",
		"al ice", "\xff",   "abcdefghijklmnopqrstuvwxyz0123456",
		"a'--",
	};
	struct udb_user_spec spec;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(add_name(names[i]) == UDB_INVALID, "name %zu accepted", i);
	spec = (struct udb_user_spec){.username = "alice", .first_name = "A:B"};
	ck_assert_int_eq(add(&spec), UDB_INVALID);
	spec = (struct udb_user_spec){.username = "alice", .last_name = "Smith, Jr"};
	ck_assert_int_eq(add(&spec), UDB_INVALID);
	spec = (struct udb_user_spec){.username = "alice", .last_name = "\xc3"};
	ck_assert_int_eq(add(&spec), UDB_INVALID);
	spec = (struct udb_user_spec){.username = "alice", .home = "home/alice"};
	ck_assert_int_eq(add(&spec), UDB_INVALID);
	spec = (struct udb_user_spec){.username = "alice", .shell = "/bin/sh:x"};
	ck_assert_int_eq(add(&spec), UDB_INVALID);
	spec = (struct udb_user_spec){.username = "alice", .primary_role = "no role"};
	ck_assert_int_eq(add(&spec), UDB_INVALID);
	ck_assert_uint_eq(count_users(), 0);
}
END_TEST

START_TEST(test_udb_user_add_primary_role)
{
	struct udb_user_spec spec = {.username = "alice", .primary_role = "staff"};
	struct udb_group *g = NULL;
	struct udb_user *u;
	char **roles = NULL;
	size_t n = 0;

	ck_assert_int_eq(add_role_gid("staff", 15000), UDB_OK);
	ck_assert_int_eq(add(&spec), UDB_OK);
	u = get_user("alice");
	ck_assert_uint_eq(u->uid, 15001);
	ck_assert_uint_eq(u->gid, 15000);
	ck_assert_str_eq(u->primary_role, "staff");
	ck_assert_int_eq(udb_user_effective_roles(fx.db, u->id, T0 + 1000 * DAY, &roles, &n),
			 UDB_OK);
	ck_assert_str_eq(fx_join(roles, n), "staff");
	udb_user_free(u);
	/* No personal group: the role is the primary group. */
	ck_assert_int_eq(udb_group_by_name(fx.db, "alice", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_gid(fx.db, 10000, T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "staff", T0, &g), UDB_OK);
	ck_assert_uint_eq(g->n_members, 1);
	ck_assert_str_eq(g->members[0], "alice");
	udb_group_free(g);
}
END_TEST

START_TEST(test_udb_user_add_unknown_primary_role)
{
	struct udb_user_spec spec = {.username = "alice", .primary_role = "ghosts"};

	ck_assert_int_eq(add(&spec), UDB_NOT_FOUND);
	ck_assert_uint_eq(count_users(), 0);
}
END_TEST

START_TEST(test_udb_user_add_read_only_handle)
{
	fx_reopen(UDB_OPEN_READ_BOTH);
	ck_assert_int_eq(add_name("alice"), UDB_PERMISSION);
}
END_TEST

/* --- lookups --- */

START_TEST(test_udb_user_by_name_found_and_not_found)
{
	struct udb_user *u = NULL;

	fx_add_user("alice");
	ck_assert_int_eq(udb_user_by_name(fx.db, "alice", &u), UDB_OK);
	ck_assert_str_eq(u->username, "alice");
	udb_user_free(u);
	u = NULL;
	ck_assert_int_eq(udb_user_by_name(fx.db, "bob", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_name(fx.db, "Alice", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_name(fx.db, "alice' OR '1'='1", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_name(fx.db, "+alice", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_name(fx.db, "", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_name(fx.db, NULL, &u), UDB_NOT_FOUND);
	ck_assert_ptr_null(u);
}
END_TEST

START_TEST(test_udb_user_by_name_public_reader)
{
	struct udb_user *u = NULL;

	fx_add_user("alice");
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_user_by_name(fx.db, "alice", &u), UDB_OK);
	ck_assert_uint_eq(u->uid, 10000);
	udb_user_free(u);
}
END_TEST

START_TEST(test_udb_user_by_uid_found_and_not_found)
{
	struct udb_user *u = NULL;

	fx_add_user("alice");
	fx_add_user("bob");
	ck_assert_int_eq(udb_user_by_uid(fx.db, 10001, &u), UDB_OK);
	ck_assert_str_eq(u->username, "bob");
	udb_user_free(u);
	u = NULL;
	ck_assert_int_eq(udb_user_by_uid(fx.db, 10002, &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_uid(fx.db, 0, &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_uid(fx.db, 4294967295U, &u), UDB_NOT_FOUND);
	ck_assert_ptr_null(u);
}
END_TEST

START_TEST(test_udb_user_by_email_case_insensitive)
{
	struct udb_user *u = NULL;

	fx_add_user("alice");
	fx_add_user("bob");
	ck_assert_int_eq(udb_email_add(fx.db, "bob", "Bob.Smith@Example.com", false, false, T0),
			 UDB_OK);
	ck_assert_int_eq(udb_user_by_email(fx.db, "bob.smith@example.COM", &u), UDB_OK);
	ck_assert_str_eq(u->username, "bob");
	udb_user_free(u);
	u = NULL;
	ck_assert_int_eq(udb_user_by_email(fx.db, "alice@example.com", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_email(fx.db, "not an email", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_email(fx.db, "%@%", &u), UDB_NOT_FOUND);
	ck_assert_ptr_null(u);
	/* Emails are private: not for the public file's readers. */
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_int_eq(udb_user_by_email(fx.db, "bob.smith@example.com", &u), UDB_PERMISSION);
}
END_TEST

/* --- udb_user_page, udb_user_each_in_role --- */

START_TEST(test_udb_user_page_keyset)
{
	static const char *const names[] = {"u1", "u2", "u3", "u4", "u5"};
	struct udb_user **page = NULL;
	int64_t after = 0;
	size_t n = 0, seen = 0;

	for (size_t i = 0; i < 5; i++)
		fx_add_user(names[i]);
	for (int round = 0; round < 4; round++) {
		ck_assert_int_eq(udb_user_page(fx.db, after, 2, &page, &n), UDB_OK);
		ck_assert_uint_eq(n, round < 2 ? 2 : round == 2 ? 1 : 0);
		for (size_t i = 0; i < n; i++) {
			ck_assert_str_eq(page[i]->username, names[seen++]);
			after = page[i]->id;
		}
		udb_user_list_free(page, n);
	}
	ck_assert_uint_eq(seen, 5);
	/* A page of nothing asked is empty. */
	ck_assert_int_eq(udb_user_page(fx.db, 0, 0, &page, &n), UDB_OK);
	ck_assert_uint_eq(n, 0);
	udb_user_list_free(page, n);
}
END_TEST

struct collected {
	char names[8][16];
	size_t n, stop_after;
};

static enum udb_result
collect_user(void *ctx, const struct udb_user *user)
{
	struct collected *col = ctx;

	if (col->stop_after && col->n == col->stop_after)
		return UDB_IO;
	snprintf(col->names[col->n++], sizeof(col->names[0]), "%s", user->username);
	return UDB_OK;
}

START_TEST(test_udb_user_each_in_role_members_in_id_order)
{
	struct collected col = {0};

	fx_add_role("users", NULL, NULL);
	fx_add_role("admin", "users", NULL);
	fx_add_user("alice");
	fx_add_user("bob");
	fx_add_user("carol");
	fx_add_user("dave");
	ck_assert_int_eq(udb_grant(fx.db, "carol", "users", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, 0, T0, NULL), UDB_OK);
	/* Both directly and through admin: listed once. */
	ck_assert_int_eq(udb_grant(fx.db, "alice", "users", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "users", 0, T0 + DAY, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_user_each_in_role(fx.db, "users", T0, collect_user, &col), UDB_OK);
	ck_assert_uint_eq(col.n, 3);
	ck_assert_str_eq(col.names[0], "alice");
	ck_assert_str_eq(col.names[1], "bob");
	ck_assert_str_eq(col.names[2], "carol");
	/* bob's grant has run out a day later. */
	col = (struct collected){0};
	ck_assert_int_eq(udb_user_each_in_role(fx.db, "users", T0 + DAY, collect_user, &col),
			 UDB_OK);
	ck_assert_uint_eq(col.n, 2);
	ck_assert_str_eq(col.names[1], "carol");
	/* The callback's failure ends the walk and is returned. */
	col = (struct collected){.stop_after = 1};
	ck_assert_int_eq(udb_user_each_in_role(fx.db, "users", T0, collect_user, &col), UDB_IO);
	ck_assert_uint_eq(col.n, 1);
	ck_assert_int_eq(udb_user_each_in_role(fx.db, "nobody-role", T0, collect_user, &col),
			 UDB_NOT_FOUND);
}
END_TEST

/* Collects the detail column of EXPLAIN QUERY PLAN, one line per step. */
static int
plan_row(void *arg, int n, char **values, char **names)
{
	char *plan = arg;

	(void)names;
	if (n >= 4 && values[3]) {
		strncat(plan, values[3], 4095 - strlen(plan));
		strncat(plan, "\n", 4095 - strlen(plan));
	}
	return 0;
}

/* A role's membership is built once per statement: its subquery is a
 * LIST SUBQUERY driving rowid lookups in order, not a correlated subquery
 * run per user, and udb_user_each_in_role() steps that one statement to the
 * end. (Paged with `u.id > ?1`, the list was built again for every page:
 * 3-7 s for 100k members, see bench/README.md.) */
START_TEST(test_udb_user_each_in_role_plan_builds_the_list_once)
{
	char sql[4096], plan[4096] = "";
	sqlite3 *s = NULL;

	fx_add_role("users", NULL, NULL);
	ck_assert_int_eq(sqlite3_open_v2(":memory:", &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS pub", fx_dbfile(UDB_PUBLIC_FILE));
	ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", udb_sql_text(UDB_Q_USERS_IN_ROLE));
	ck_assert_msg(sqlite3_exec(s, sql, plan_row, plan, NULL) == SQLITE_OK, "%s",
		      sqlite3_errmsg(s));
	sqlite3_close(s);
	ck_assert_msg(strstr(plan, "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"), "%s", plan);
	ck_assert_msg(strstr(plan, "LIST SUBQUERY"), "%s", plan);
	ck_assert_msg(!strstr(plan, "CORRELATED LIST SUBQUERY"), "%s", plan);
	ck_assert_msg(!strstr(plan, "SCAN u"), "%s", plan);
}
END_TEST

/* --- udb_user_modify --- */

START_TEST(test_udb_user_modify_changes_given_fields)
{
	struct udb_user_spec spec = {
		.username = "alice", .first_name = "Alice", .last_name = "Smith"};
	struct udb_user_changes ch = {.last_name = "Jones", .shell = "/bin/zsh"};
	struct udb_user *u;

	ck_assert_int_eq(add(&spec), UDB_OK);
	ck_assert_int_eq(udb_user_modify(fx.db, "alice", &ch, T0 + 60), UDB_OK);
	u = get_user("alice");
	ck_assert_str_eq(u->first_name, "Alice");
	ck_assert_str_eq(u->last_name, "Jones");
	ck_assert_str_eq(u->home, "/home/alice");
	ck_assert_str_eq(u->shell, "/bin/zsh");
	ck_assert_int_eq(u->created_at, T0);
	ck_assert_int_eq(u->updated_at, T0 + 60);
	udb_user_free(u);
	/* Clearing a name is a change too. */
	ch = (struct udb_user_changes){.first_name = ""};
	ck_assert_int_eq(udb_user_modify(fx.db, "alice", &ch, T0 + 120), UDB_OK);
	u = get_user("alice");
	ck_assert_str_eq(u->first_name, "");
	ck_assert_str_eq(u->last_name, "Jones");
	udb_user_free(u);
}
END_TEST

START_TEST(test_udb_user_modify_invalid_or_unknown)
{
	struct udb_user_changes bad = {.first_name = "Al\nice"};
	struct udb_user_changes home = {.home = "relative"};
	struct udb_user_changes ok = {.first_name = "Bob"};
	struct udb_user *u;

	fx_add_user("alice");
	ck_assert_int_eq(udb_user_modify(fx.db, "alice", &bad, T0), UDB_INVALID);
	ck_assert_int_eq(udb_user_modify(fx.db, "alice", &home, T0), UDB_INVALID);
	ck_assert_int_eq(udb_user_modify(fx.db, "bob", &ok, T0), UDB_NOT_FOUND);
	u = get_user("alice");
	ck_assert_str_eq(u->first_name, "");
	ck_assert_str_eq(u->home, "/home/alice");
	udb_user_free(u);
}
END_TEST

/* --- udb_user_delete --- */

START_TEST(test_udb_user_delete_removes_everything)
{
	struct udb_account *a = NULL;
	struct udb_user *u = NULL;
	struct udb_group *g = NULL;
	uint32_t uid;
	int64_t id;

	fx_add_role("staff", NULL, NULL);
	id = fx_add_user("alice");
	uid = uid_of("alice");
	fx_add_user("bob");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_email_add(fx.db, "alice", "alice@example.com", false, true, T0),
			 UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "alice"), UDB_OK);

	ck_assert_int_eq(udb_user_by_name(fx.db, "alice", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_uid(fx.db, uid, &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_by_email(fx.db, "alice@example.com", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_user_id(fx.db, id, &a), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "alice", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "staff", T0, &g), UDB_OK);
	ck_assert_uint_eq(g->n_members, 0);
	udb_group_free(g);
	/* Name and email are free again; the uid is not handed out again. */
	ck_assert_int_eq(udb_email_add(fx.db, "bob", "ALICE@example.com", false, false, T0),
			 UDB_OK);
	ck_assert_int_eq(add_name("alice"), UDB_OK);
	ck_assert_uint_gt(uid_of("alice"), uid);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_ptr_null(a->password_hash);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_user_delete_unknown)
{
	fx_add_user("alice");
	ck_assert_int_eq(udb_user_delete(fx.db, "bob"), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_delete(fx.db, "al:ice"), UDB_NOT_FOUND);
	ck_assert_uint_eq(count_users(), 1);
}
END_TEST

/* --- id and name allocation --- */

START_TEST(test_udb_id_check_free_rules)
{
	ck_assert_int_eq(add_with_uid("alice", 12000), UDB_OK);
	ck_assert_int_eq(add_role_gid("staff", 12001), UDB_OK);
	ck_assert_int_eq(udb_id_check_free(fx.db, 12000, false), UDB_EXISTS);
	ck_assert_int_eq(udb_id_check_free(fx.db, 12001, false), UDB_EXISTS);
	ck_assert_int_eq(udb_id_check_free(fx.db, 12002, false), UDB_OK);
	ck_assert_int_eq(udb_id_check_free(fx.db, 0, true), UDB_CONFLICT);
	ck_assert_int_eq(udb_id_check_free(fx.db, 0, false), UDB_OK);
}
END_TEST

START_TEST(test_udb_name_check_free_rules)
{
	fx_add_user("alice");
	fx_add_role("Staff", NULL, NULL);
	ck_assert_int_eq(udb_name_check_free(fx.db, "alice", false), UDB_EXISTS);
	ck_assert_int_eq(udb_name_check_free(fx.db, "Staff", false), UDB_EXISTS);
	ck_assert_int_eq(udb_name_check_free(fx.db, "staff", false), UDB_OK);
	ck_assert_int_eq(udb_name_check_free(fx.db, "root", true), UDB_CONFLICT);
	ck_assert_int_eq(udb_name_check_free(fx.db, "root", false), UDB_OK);
}
END_TEST

START_TEST(test_udb_system_has_lookups)
{
	ck_assert(udb_system_has_user("root"));
	ck_assert(udb_system_has_group("root"));
	ck_assert(udb_system_has_uid(0));
	ck_assert(udb_system_has_gid(0));
	ck_assert(!udb_system_has_user("zz-no-such-user"));
	ck_assert(!udb_system_has_group("zz-no-such-group"));
	ck_assert(!udb_system_has_uid(3999999999U));
	ck_assert(!udb_system_has_gid(3999999999U));
	udb_user_free(NULL);
	udb_user_list_free(NULL, 0);
}
END_TEST

static Suite *
user_suite(void)
{
	Suite *s = suite_create("user");
	TCase *tc;

	tc = fx_tcase(s, "udb_user_add", true);
	tcase_add_test(tc, test_udb_user_add_defaults);
	tcase_add_test(tc, test_udb_user_add_all_fields);
	tcase_add_test(tc, test_udb_user_add_config_defaults);
	tcase_add_test(tc, test_udb_user_add_never_reuses_uid);
	tcase_add_test(tc, test_udb_user_add_skips_role_gids);
	tcase_add_test(tc, test_udb_user_add_explicit_uid);
	tcase_add_test(tc, test_udb_user_add_uid_zero_or_minus_one_refused);
	tcase_add_test(tc, test_udb_user_add_duplicates_refused);
	tcase_add_test(tc, test_udb_user_add_range_exhausted);
	tcase_add_test(tc, test_udb_user_add_system_names_conflict);
	tcase_add_test(tc, test_udb_user_add_skips_system_ids);
	tcase_add_test(tc, test_udb_user_add_invalid_input_refused);
	tcase_add_test(tc, test_udb_user_add_primary_role);
	tcase_add_test(tc, test_udb_user_add_unknown_primary_role);
	tcase_add_test(tc, test_udb_user_add_read_only_handle);
	tc = fx_tcase(s, "udb_user_by_name", true);
	tcase_add_test(tc, test_udb_user_by_name_found_and_not_found);
	tcase_add_test(tc, test_udb_user_by_name_public_reader);
	tc = fx_tcase(s, "udb_user_by_uid", true);
	tcase_add_test(tc, test_udb_user_by_uid_found_and_not_found);
	tc = fx_tcase(s, "udb_user_by_email", true);
	tcase_add_test(tc, test_udb_user_by_email_case_insensitive);
	tc = fx_tcase(s, "udb_user_page", true);
	tcase_add_test(tc, test_udb_user_page_keyset);
	tc = fx_tcase(s, "udb_user_each_in_role", true);
	tcase_add_test(tc, test_udb_user_each_in_role_members_in_id_order);
	tcase_add_test(tc, test_udb_user_each_in_role_plan_builds_the_list_once);
	tc = fx_tcase(s, "udb_user_modify", true);
	tcase_add_test(tc, test_udb_user_modify_changes_given_fields);
	tcase_add_test(tc, test_udb_user_modify_invalid_or_unknown);
	tc = fx_tcase(s, "udb_user_delete", true);
	tcase_add_test(tc, test_udb_user_delete_removes_everything);
	tcase_add_test(tc, test_udb_user_delete_unknown);
	tc = fx_tcase(s, "udb_id_check_free", true);
	tcase_add_test(tc, test_udb_id_check_free_rules);
	tc = fx_tcase(s, "udb_name_check_free", true);
	tcase_add_test(tc, test_udb_name_check_free_rules);
	tc = fx_tcase(s, "udb_system_has", false);
	tcase_add_test(tc, test_udb_system_has_lookups);
	return s;
}

int
main(void)
{
	return fx_main(user_suite());
}
