/* Unit tests of common/group.c: roles and personal groups as NSS shows
 * them, effective members, enumeration and a user's group list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "group.h"
#include "role.h"
#include "user.h"

static enum udb_result
add_role_gid(const char *name, uint32_t gid, const char *include)
{
	const char *const incs[] = {include};
	struct udb_role_spec spec = {.name = name, .has_gid = true, .gid = gid};

	if (include) {
		spec.includes = incs;
		spec.n_includes = 1;
	}
	return udb_role_add(fx.db, fx.cfg, &spec, false, T0);
}

/* Members sorted and joined with commas. */
static const char *
members(const struct udb_group *g)
{
	char **v = calloc(g->n_members + 1, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < g->n_members; i++) {
		v[i] = strdup(g->members[i]);
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	}
	return fx_join(v, g->n_members);
}

static const char *
members_of(const char *name, int64_t now)
{
	struct udb_group *g = NULL;
	const char *s;

	ck_assert_int_eq(udb_group_by_name(fx.db, name, now, &g), UDB_OK);
	s = members(g);
	udb_group_free(g);
	return s;
}

static void
grant(const char *user, const char *role, int64_t not_before, int64_t not_after)
{
	ck_assert_int_eq(udb_grant(fx.db, user, role, not_before, not_after, T0, NULL), UDB_OK);
}

/* admin (20001) ⊇ staff (20000); alice: staff, bob: admin, carol: staff
 * until T0 + DAY, dave: nothing, erin: primary group staff, frank: admin
 * from T0 + DAY. Users get uids 10000 (alice) to 10005 (frank). */
static void
add_org(void)
{
	struct udb_user_spec erin = {.username = "erin", .primary_role = "staff"};

	/* Separate ranges, so the role gids named below leave the uids'
	 * high-water mark alone. */
	fx_write_config("uid_max = 19999\ngid_min = 20000\ngid_max = 29999\n");
	ck_assert_int_eq(add_role_gid("staff", 20000, NULL), UDB_OK);
	ck_assert_int_eq(add_role_gid("admin", 20001, "staff"), UDB_OK);
	fx_add_user("alice");
	fx_add_user("bob");
	fx_add_user("carol");
	fx_add_user("dave");
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &erin, false, T0, NULL), UDB_OK);
	fx_add_user("frank");
	grant("alice", "staff", 0, 0);
	grant("bob", "admin", 0, 0);
	grant("carol", "staff", 0, T0 + DAY);
	grant("frank", "admin", T0 + DAY, 0);
}

/* --- udb_group_by_name --- */

START_TEST(test_udb_group_by_name_role_effective_members)
{
	struct udb_group *g = NULL;

	add_org();
	ck_assert_int_eq(udb_group_by_name(fx.db, "staff", T0, &g), UDB_OK);
	ck_assert_str_eq(g->name, "staff");
	ck_assert_uint_eq(g->gid, 20000);
	ck_assert_str_eq(members(g), "alice,bob,carol,erin");
	udb_group_free(g);
	ck_assert_str_eq(members_of("admin", T0), "bob");
	/* A day later carol's grant has run out and frank's has begun. */
	ck_assert_str_eq(members_of("staff", T0 + DAY), "alice,bob,erin,frank");
	ck_assert_str_eq(members_of("admin", T0 + DAY), "bob,frank");
}
END_TEST

/* A member through two routes (a grant of staff and one of admin, which
 * includes staff) is listed once; a role nothing includes lists its own
 * grants. */
START_TEST(test_udb_group_by_name_member_by_two_routes_listed_once)
{
	add_org();
	grant("alice", "admin", 0, 0);
	ck_assert_str_eq(members_of("staff", T0), "alice,bob,carol,erin");
	ck_assert_str_eq(members_of("admin", T0), "alice,bob");
	/* The direct grant ends; the route through admin remains. */
	ck_assert_int_eq(udb_revoke(fx.db, "alice", "staff", NULL), UDB_OK);
	ck_assert_str_eq(members_of("staff", T0), "alice,bob,carol,erin");
}
END_TEST

START_TEST(test_udb_group_by_name_personal_group)
{
	struct udb_group *g = NULL;

	add_org();
	ck_assert_int_eq(udb_group_by_name(fx.db, "dave", T0, &g), UDB_OK);
	ck_assert_str_eq(g->name, "dave");
	ck_assert_uint_eq(g->gid, 10003);
	ck_assert_uint_eq(g->n_members, 0);
	udb_group_free(g);
	g = NULL;
	/* erin's primary group is staff: she has no personal group. */
	ck_assert_int_eq(udb_group_by_name(fx.db, "erin", T0, &g), UDB_NOT_FOUND);
	ck_assert_ptr_null(g);
}
END_TEST

START_TEST(test_udb_group_by_name_not_found)
{
	struct udb_group *g = NULL;

	add_org();
	ck_assert_int_eq(udb_group_by_name(fx.db, "Staff", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "nobody-here", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "+staff", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, "staff:x:0:", T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_name(fx.db, NULL, T0, &g), UDB_NOT_FOUND);
	ck_assert_ptr_null(g);
}
END_TEST

START_TEST(test_udb_group_by_name_public_reader)
{
	add_org();
	fx_reopen(UDB_OPEN_PUBLIC);
	ck_assert_str_eq(members_of("staff", T0), "alice,bob,carol,erin");
	ck_assert_str_eq(members_of("alice", T0), "");
}
END_TEST

/* --- udb_group_by_gid --- */

START_TEST(test_udb_group_by_gid_role_and_personal)
{
	struct udb_group *g = NULL;

	add_org();
	ck_assert_int_eq(udb_group_by_gid(fx.db, 20001, T0, &g), UDB_OK);
	ck_assert_str_eq(g->name, "admin");
	ck_assert_str_eq(members(g), "bob");
	udb_group_free(g);
	ck_assert_int_eq(udb_group_by_gid(fx.db, 10000, T0, &g), UDB_OK);
	ck_assert_str_eq(g->name, "alice");
	ck_assert_uint_eq(g->n_members, 0);
	udb_group_free(g);
	g = NULL;
	/* erin's uid is 10004, but her gid is staff's: no group 10004. */
	ck_assert_int_eq(udb_group_by_gid(fx.db, 10004, T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_gid(fx.db, 0, T0, &g), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_group_by_gid(fx.db, 4294967295U, T0, &g), UDB_NOT_FOUND);
	ck_assert_ptr_null(g);
}
END_TEST

/* --- udb_group_page --- */

/* Enumerates every group with pages of size max; returns "name=gid/members"
 * entries joined with spaces. */
static const char *
enumerate(size_t max)
{
	static char out[4096];
	struct udb_group_cursor cursor = {0};
	size_t len = 0, empty = 0;

	out[0] = '\0';
	while (empty < 2) {
		struct udb_group **page = NULL;
		size_t n = 0;

		ck_assert_int_eq(udb_group_page(fx.db, &cursor, max, T0, &page, &n), UDB_OK);
		ck_assert_uint_le(n, max);
		if (n == 0)
			empty++; /* the end stays the end */
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s=%u/%s",
						len ? " " : "", page[i]->name,
						(unsigned)page[i]->gid, members(page[i]));
		udb_group_list_free(page, n);
	}
	return out;
}

START_TEST(test_udb_group_page_roles_then_personal_groups)
{
	static const char expected[] = "staff=20000/alice,bob,carol,erin admin=20001/bob "
				       "alice=10000/ bob=10001/ carol=10002/ dave=10003/ "
				       "frank=10005/";

	add_org();
	ck_assert_str_eq(enumerate(1), expected);
	ck_assert_str_eq(enumerate(2), expected);
	ck_assert_str_eq(enumerate(100), expected);
}
END_TEST

START_TEST(test_udb_group_page_empty_database)
{
	ck_assert_str_eq(enumerate(10), "");
	udb_group_free(NULL);
	udb_group_list_free(NULL, 0);
}
END_TEST

/* --- udb_user_effective_gids --- */

static const char *
gids_of(const char *user, int64_t now)
{
	static char out[256];
	uint32_t *gids = NULL;
	size_t n = 0, len = 0;

	ck_assert_int_eq(udb_user_effective_gids(fx.db, user, now, &gids, &n), UDB_OK);
	/* No order is promised: sort for the comparison. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && gids[j - 1] > gids[j]; j--) {
			uint32_t t = gids[j];

			gids[j] = gids[j - 1];
			gids[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%u", i ? "," : "",
					(unsigned)gids[i]);
	free(gids);
	return out;
}

START_TEST(test_udb_user_effective_gids_through_inclusion)
{
	uint32_t *gids = NULL;
	size_t n = 0;

	add_org();
	ck_assert_str_eq(gids_of("bob", T0), "20000,20001");
	ck_assert_str_eq(gids_of("alice", T0), "20000");
	ck_assert_str_eq(gids_of("carol", T0), "20000");
	ck_assert_str_eq(gids_of("carol", T0 + DAY), "");
	ck_assert_str_eq(gids_of("dave", T0), "");
	ck_assert_str_eq(gids_of("erin", T0), "20000");
	ck_assert_str_eq(gids_of("frank", T0), "");
	ck_assert_str_eq(gids_of("frank", T0 + DAY), "20000,20001");
	ck_assert_str_eq(gids_of("nobody-here", T0), "");
	ck_assert_int_eq(udb_user_effective_gids(fx.db, "Bad Name", T0, &gids, &n), UDB_NOT_FOUND);
}
END_TEST

static Suite *
group_suite(void)
{
	Suite *s = suite_create("group");
	TCase *tc;

	tc = fx_tcase(s, "udb_group_by_name", true);
	tcase_add_test(tc, test_udb_group_by_name_role_effective_members);
	tcase_add_test(tc, test_udb_group_by_name_member_by_two_routes_listed_once);
	tcase_add_test(tc, test_udb_group_by_name_personal_group);
	tcase_add_test(tc, test_udb_group_by_name_not_found);
	tcase_add_test(tc, test_udb_group_by_name_public_reader);
	tc = fx_tcase(s, "udb_group_by_gid", true);
	tcase_add_test(tc, test_udb_group_by_gid_role_and_personal);
	tc = fx_tcase(s, "udb_group_page", true);
	tcase_add_test(tc, test_udb_group_page_roles_then_personal_groups);
	tcase_add_test(tc, test_udb_group_page_empty_database);
	tc = fx_tcase(s, "udb_user_effective_gids", true);
	tcase_add_test(tc, test_udb_user_effective_gids_through_inclusion);
	return s;
}

int
main(void)
{
	return fx_main(group_suite());
}
