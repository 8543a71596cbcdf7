/* Unit tests of common/role.c: roles with permissions and inclusions (cycles
 * refused), find-or-create, delete, and grants with their time limits and
 * the effective roles and permissions they give. */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "role.h"
#include "user.h"

static struct udb_role *
get_role(const char *name)
{
	struct udb_role *role = NULL;

	ck_assert_int_eq(udb_role_by_name(fx.db, name, &role), UDB_OK);
	return role;
}

static bool
role_exists(const char *name)
{
	struct udb_role *role = NULL;
	enum udb_result r = udb_role_by_name(fx.db, name, &role);

	udb_role_free(role);
	return r == UDB_OK;
}

static enum udb_result
add_spec(const struct udb_role_spec *spec)
{
	return udb_role_add(fx.db, fx.cfg, spec, false, T0);
}

static enum udb_result
add_gid(const char *name, uint32_t gid)
{
	struct udb_role_spec spec = {.name = name, .has_gid = true, .gid = gid};

	return add_spec(&spec);
}

static const char *
effective_roles(int64_t user, int64_t now)
{
	char **v = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_user_effective_roles(fx.db, user, now, &v, &n), UDB_OK);
	return fx_join(v, n);
}

static const char *
effective_permissions(int64_t user, int64_t now)
{
	char **v = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_user_effective_permissions(fx.db, user, now, &v, &n), UDB_OK);
	return fx_join(v, n);
}

static const char *
permissions_of(const char *name)
{
	struct udb_role *role = get_role(name);
	char **v = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_role_permissions(fx.db, role, &v, &n), UDB_OK);
	udb_role_free(role);
	return fx_join(v, n);
}

static const char *
includes_of(const char *name)
{
	struct udb_role *role = get_role(name);
	char **v = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_role_includes(fx.db, role, &v, &n), UDB_OK);
	udb_role_free(role);
	return fx_join(v, n);
}

static size_t
count_roles(void)
{
	struct udb_role **roles = NULL;
	size_t n = 0;

	ck_assert_int_eq(udb_role_list(fx.db, &roles, &n), UDB_OK);
	udb_role_list_free(roles, n);
	return n;
}

/* The seed's hierarchy: admin ⊇ moderator ⊇ user. */
static void
add_hierarchy(void)
{
	fx_add_role("user", NULL, "ssh:login");
	fx_add_role("moderator", "user", "forum:moderate");
	fx_add_role("admin", "moderator", "sudo:all,forum:moderate");
}

/* --- udb_role_add --- */

START_TEST(test_udb_role_add_with_permissions_and_includes)
{
	static const char *const perms[] = {"ssh:login", "web:read", "ssh:login"};
	static const char *const incs[] = {"base"};
	struct udb_role_spec spec = {
		.name = "staff",
		.description = "Everyone on the payroll",
		.permissions = perms,
		.n_permissions = 3,
		.includes = incs,
		.n_includes = 1,
	};
	struct udb_role *role;

	fx_add_role("base", NULL, NULL);
	ck_assert_int_eq(add_spec(&spec), UDB_OK);
	role = get_role("staff");
	ck_assert_str_eq(role->name, "staff");
	ck_assert_str_eq(role->description, "Everyone on the payroll");
	ck_assert_uint_eq(role->gid, 10001);
	ck_assert_int_eq(role->created_at, T0);
	udb_role_free(role);
	ck_assert_str_eq(permissions_of("staff"), "ssh:login,web:read");
	ck_assert_str_eq(includes_of("staff"), "base");
	ck_assert_str_eq(includes_of("base"), "");
}
END_TEST

START_TEST(test_udb_role_add_gid_allocation)
{
	struct udb_role *role;

	fx_add_user("alice"); /* uid and personal gid 10000 */
	fx_add_role("a", NULL, NULL);
	ck_assert_int_eq(add_gid("b", 10002), UDB_OK);
	fx_add_role("c", NULL, NULL);
	role = get_role("a");
	ck_assert_uint_eq(role->gid, 10001);
	udb_role_free(role);
	role = get_role("c");
	ck_assert_uint_eq(role->gid, 10003);
	udb_role_free(role);
}
END_TEST

START_TEST(test_udb_role_add_duplicates_refused)
{
	ck_assert_int_eq(add_gid("staff", 20000), UDB_OK);
	ck_assert_int_eq(add_gid("staff", 20001), UDB_EXISTS);
	ck_assert_int_eq(add_gid("ops", 20000), UDB_EXISTS);
	/* A user's personal group has the gid of its uid. */
	fx_add_user("alice");
	ck_assert_int_eq(add_gid("ops", 20001), UDB_EXISTS);
	ck_assert_int_eq(add_gid("alice", 20002), UDB_EXISTS);
	/* Role names are case-sensitive. */
	ck_assert_int_eq(add_gid("Staff", 20003), UDB_OK);
	ck_assert_uint_eq(count_roles(), 2);
}
END_TEST

START_TEST(test_udb_role_add_system_groups_conflict)
{
	struct udb_role_spec daemon = {.name = "daemon"};
	struct udb_role_spec gid0 = {.name = "wheel2", .has_gid = true, .gid = 1};

	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &daemon, true, T0), UDB_CONFLICT);
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &gid0, true, T0), UDB_CONFLICT);
	ck_assert_uint_eq(count_roles(), 0);
}
END_TEST

START_TEST(test_udb_role_add_invalid_refused)
{
	static const char *const bad_perm[] = {"ssh login"};
	static const char *const unknown_inc[] = {"ghosts"};
	static const char *const bad_inc[] = {"no such"};
	struct udb_role_spec spec;

	spec = (struct udb_role_spec){.name = "1st"};
	ck_assert_int_eq(add_spec(&spec), UDB_INVALID);
	spec = (struct udb_role_spec){.name = "a:b"};
	ck_assert_int_eq(add_spec(&spec), UDB_INVALID);
	spec = (struct udb_role_spec){.name = "staff", .has_gid = true, .gid = 0};
	ck_assert_int_eq(add_spec(&spec), UDB_INVALID);
	spec = (struct udb_role_spec){.name = "staff", .description = "a\nb"};
	ck_assert_int_eq(add_spec(&spec), UDB_INVALID);
	spec = (struct udb_role_spec){.name = "staff", .permissions = bad_perm, .n_permissions = 1};
	ck_assert_int_eq(add_spec(&spec), UDB_INVALID);
	/* An unknown included role: nothing of the new role is left behind. */
	spec = (struct udb_role_spec){.name = "staff", .includes = unknown_inc, .n_includes = 1};
	ck_assert_int_eq(add_spec(&spec), UDB_NOT_FOUND);
	spec = (struct udb_role_spec){.name = "staff", .includes = bad_inc, .n_includes = 1};
	ck_assert_int_eq(add_spec(&spec), UDB_NOT_FOUND);
	ck_assert_uint_eq(count_roles(), 0);
}
END_TEST

START_TEST(test_udb_role_add_self_include_refused)
{
	static const char *const self[] = {"staff"};
	struct udb_role_spec spec = {.name = "staff", .includes = self, .n_includes = 1};

	ck_assert_int_eq(add_spec(&spec), UDB_CYCLE);
	ck_assert(!role_exists("staff"));
}
END_TEST

START_TEST(test_udb_role_add_gid_range_exhausted)
{
	fx_write_config("gid_min = 30000\ngid_max = 30000\n");
	fx_add_role("one", NULL, NULL);
	ck_assert_int_eq(add_spec(&(struct udb_role_spec){.name = "two"}), UDB_EXHAUSTED);
}
END_TEST

/* --- lookups --- */

START_TEST(test_udb_role_by_name_case_sensitive)
{
	struct udb_role *role = NULL;

	fx_add_role("Admin", NULL, NULL);
	ck_assert_int_eq(udb_role_by_name(fx.db, "admin", &role), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_role_by_name(fx.db, "ADMIN", &role), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_role_by_name(fx.db, "Admin' OR 1=1 --", &role), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_role_by_name(fx.db, NULL, &role), UDB_NOT_FOUND);
	ck_assert_ptr_null(role);
	ck_assert_int_eq(udb_role_by_name(fx.db, "Admin", &role), UDB_OK);
	udb_role_free(role);
}
END_TEST

START_TEST(test_udb_role_by_gid_found_and_not_found)
{
	struct udb_role *role = NULL;

	ck_assert_int_eq(add_gid("staff", 20000), UDB_OK);
	ck_assert_int_eq(udb_role_by_gid(fx.db, 20000, &role), UDB_OK);
	ck_assert_str_eq(role->name, "staff");
	udb_role_free(role);
	role = NULL;
	ck_assert_int_eq(udb_role_by_gid(fx.db, 20001, &role), UDB_NOT_FOUND);
	ck_assert_ptr_null(role);
}
END_TEST

START_TEST(test_udb_role_list_sorted)
{
	struct udb_role **roles = NULL;
	size_t n = 0;

	fx_add_role("zeta", NULL, NULL);
	fx_add_role("alpha", NULL, NULL);
	fx_add_role("mid", NULL, NULL);
	ck_assert_int_eq(udb_role_list(fx.db, &roles, &n), UDB_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(roles[0]->name, "alpha");
	ck_assert_str_eq(roles[1]->name, "mid");
	ck_assert_str_eq(roles[2]->name, "zeta");
	udb_role_list_free(roles, n);
	udb_role_list_free(NULL, 0);
	udb_role_free(NULL);
}
END_TEST

/* --- udb_role_find_or_create --- */

START_TEST(test_udb_role_find_or_create_once)
{
	struct udb_role *first = NULL, *second = NULL;
	bool created = false;

	ck_assert_int_eq(
		udb_role_find_or_create(fx.db, fx.cfg, "staff", false, T0, &first, &created),
		UDB_OK);
	ck_assert(created);
	ck_assert_str_eq(first->name, "staff");
	ck_assert_int_eq(
		udb_role_find_or_create(fx.db, fx.cfg, "staff", false, T0, &second, &created),
		UDB_OK);
	ck_assert(!created);
	ck_assert_int_eq(second->id, first->id);
	ck_assert_uint_eq(second->gid, first->gid);
	udb_role_free(first);
	udb_role_free(second);
	ck_assert_uint_eq(count_roles(), 1);
	ck_assert_str_eq(permissions_of("staff"), "");
	second = NULL;
	ck_assert_int_eq(
		udb_role_find_or_create(fx.db, fx.cfg, "bad name", false, T0, &second, &created),
		UDB_INVALID);
	ck_assert_ptr_null(second);
}
END_TEST

/* --- udb_role_delete --- */

START_TEST(test_udb_role_delete_removes_grants)
{
	int64_t alice;

	fx_add_role("staff", NULL, "ssh:login");
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_role_delete(fx.db, "staff"), UDB_OK);
	ck_assert(!role_exists("staff"));
	ck_assert_str_eq(effective_roles(alice, T0), "");
	ck_assert_str_eq(effective_permissions(alice, T0), "");
	/* A new role of the same name starts empty. */
	fx_add_role("staff", NULL, NULL);
	ck_assert_str_eq(effective_roles(alice, T0), "");
	ck_assert_int_eq(udb_role_delete(fx.db, "ghosts"), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_role_delete_primary_group_in_use)
{
	struct udb_user_spec spec = {.username = "alice", .primary_role = "staff"};

	fx_add_role("staff", NULL, NULL);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_role_delete(fx.db, "staff"), UDB_IN_USE);
	ck_assert(role_exists("staff"));
	ck_assert_int_eq(udb_user_delete(fx.db, "alice"), UDB_OK);
	ck_assert_int_eq(udb_role_delete(fx.db, "staff"), UDB_OK);
}
END_TEST

START_TEST(test_udb_role_delete_middle_of_chain)
{
	int64_t alice;

	add_hierarchy();
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, 0, T0, NULL), UDB_OK);
	ck_assert_str_eq(effective_roles(alice, T0), "admin,moderator,user");
	/* Without moderator, admin no longer reaches user. */
	ck_assert_int_eq(udb_role_delete(fx.db, "moderator"), UDB_OK);
	ck_assert_str_eq(effective_roles(alice, T0), "admin");
	ck_assert_str_eq(effective_permissions(alice, T0), "forum:moderate,sudo:all");
}
END_TEST

/* --- udb_role_set_description --- */

START_TEST(test_udb_role_set_description_changes)
{
	struct udb_role *role;

	fx_add_role("staff", NULL, NULL);
	ck_assert_int_eq(udb_role_set_description(fx.db, "staff", "Payroll \xe2\x82\xac"), UDB_OK);
	role = get_role("staff");
	ck_assert_str_eq(role->description, "Payroll \xe2\x82\xac");
	udb_role_free(role);
	ck_assert_int_eq(udb_role_set_description(fx.db, "staff", "bad\x1b[0m"), UDB_INVALID);
	ck_assert_int_eq(udb_role_set_description(fx.db, "ghosts", "x"), UDB_NOT_FOUND);
	role = get_role("staff");
	ck_assert_str_eq(role->description, "Payroll \xe2\x82\xac");
	udb_role_free(role);
}
END_TEST

/* --- permissions --- */

START_TEST(test_udb_role_permission_add_reports_changed)
{
	bool changed = false;

	fx_add_role("staff", NULL, NULL);
	ck_assert_int_eq(udb_role_permission_add(fx.db, "staff", "ssh:login", &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(udb_role_permission_add(fx.db, "staff", "ssh:login", &changed), UDB_OK);
	ck_assert(!changed);
	ck_assert_int_eq(udb_role_permission_add(fx.db, "staff", "a:b", NULL), UDB_OK);
	ck_assert_int_eq(udb_role_permission_add(fx.db, "staff", "no spaces", &changed),
			 UDB_INVALID);
	ck_assert_int_eq(udb_role_permission_add(fx.db, "ghosts", "x", &changed), UDB_NOT_FOUND);
	ck_assert_str_eq(permissions_of("staff"), "a:b,ssh:login");
}
END_TEST

START_TEST(test_udb_role_permission_remove_reports_changed)
{
	bool changed = true;

	fx_add_role("staff", NULL, "ssh:login,web:read");
	ck_assert_int_eq(udb_role_permission_remove(fx.db, "staff", "ssh:login", &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(udb_role_permission_remove(fx.db, "staff", "ssh:login", &changed), UDB_OK);
	ck_assert(!changed);
	ck_assert_str_eq(permissions_of("staff"), "web:read");
}
END_TEST

/* --- inclusions --- */

START_TEST(test_udb_role_include_updates_effective_roles)
{
	bool changed = false;
	int64_t alice;

	fx_add_role("user", NULL, "ssh:login");
	fx_add_role("admin", NULL, "sudo:all");
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, 0, T0, NULL), UDB_OK);
	ck_assert_str_eq(effective_roles(alice, T0), "admin");
	ck_assert_int_eq(udb_role_include(fx.db, "admin", "user", &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_str_eq(effective_roles(alice, T0), "admin,user");
	ck_assert_str_eq(effective_permissions(alice, T0), "ssh:login,sudo:all");
	ck_assert_int_eq(udb_role_include(fx.db, "admin", "user", &changed), UDB_OK);
	ck_assert(!changed);
	ck_assert_int_eq(udb_role_include(fx.db, "admin", "ghosts", &changed), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_role_include(fx.db, "ghosts", "user", &changed), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_role_include_cycles_refused)
{
	bool changed = true;

	add_hierarchy();
	ck_assert_int_eq(udb_role_include(fx.db, "admin", "admin", &changed), UDB_CYCLE);
	ck_assert_int_eq(udb_role_include(fx.db, "user", "moderator", &changed), UDB_CYCLE);
	ck_assert_int_eq(udb_role_include(fx.db, "user", "admin", &changed), UDB_CYCLE);
	ck_assert_str_eq(includes_of("user"), "");
	/* A diamond is not a cycle. */
	ck_assert_int_eq(udb_role_include(fx.db, "admin", "user", &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_str_eq(includes_of("admin"), "moderator,user");
}
END_TEST

START_TEST(test_udb_role_exclude_updates_effective_roles)
{
	bool changed = false;
	int64_t alice;

	add_hierarchy();
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, 0, T0, NULL), UDB_OK);
	ck_assert_str_eq(effective_permissions(alice, T0), "forum:moderate,ssh:login,sudo:all");
	ck_assert_int_eq(udb_role_exclude(fx.db, "moderator", "user", &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_str_eq(effective_roles(alice, T0), "admin,moderator");
	ck_assert_str_eq(effective_permissions(alice, T0), "forum:moderate,sudo:all");
	ck_assert_int_eq(udb_role_exclude(fx.db, "moderator", "user", &changed), UDB_OK);
	ck_assert(!changed);
	/* Now user may include moderator without a cycle. */
	ck_assert_int_eq(udb_role_include(fx.db, "user", "moderator", &changed), UDB_OK);
}
END_TEST

/* --- grants --- */

START_TEST(test_udb_grant_reports_changed)
{
	bool changed = false;

	fx_add_role("staff", NULL, NULL);
	fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0, &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0 + 5, &changed), UDB_OK);
	ck_assert(!changed);
	/* The same role with other dates replaces the grant. */
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, T0 + DAY, T0, &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, T0 + DAY, T0, &changed), UDB_OK);
	ck_assert(!changed);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0, &changed), UDB_OK);
	ck_assert(changed);
}
END_TEST

START_TEST(test_udb_grant_time_limits)
{
	int64_t alice;

	fx_add_role("past", NULL, NULL);
	fx_add_role("future", NULL, NULL);
	fx_add_role("window", NULL, NULL);
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "past", 0, T0 - 1, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "future", T0 + DAY, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "window", T0 + 10, T0 + 20, T0, NULL), UDB_OK);
	ck_assert_str_eq(effective_roles(alice, T0), "");
	ck_assert_str_eq(effective_roles(alice, T0 - 2), "past");
	ck_assert_str_eq(effective_roles(alice, T0 + 9), "");
	ck_assert_str_eq(effective_roles(alice, T0 + 10), "window");
	ck_assert_str_eq(effective_roles(alice, T0 + 19), "window");
	/* not_after is the first second without the role. */
	ck_assert_str_eq(effective_roles(alice, T0 + 20), "");
	ck_assert_str_eq(effective_roles(alice, T0 + DAY), "future");
}
END_TEST

START_TEST(test_udb_grant_invalid_or_unknown)
{
	struct udb_user_spec spec = {.username = "bob", .primary_role = "staff"};
	bool changed = true;

	fx_add_role("staff", NULL, NULL);
	fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", T0 + 10, T0 + 10, T0, &changed),
			 UDB_INVALID);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", T0 + 10, T0 + 5, T0, &changed),
			 UDB_INVALID);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, -5, T0, &changed), UDB_INVALID);
	ck_assert_int_eq(udb_grant(fx.db, "ghost", "staff", 0, 0, T0, &changed), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "ghosts", 0, 0, T0, &changed), UDB_NOT_FOUND);
	/* A primary role cannot be made to expire. */
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, T0 + DAY, T0, &changed), UDB_IN_USE);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, 0, T0, &changed), UDB_OK);
	ck_assert(!changed);
}
END_TEST

START_TEST(test_udb_revoke_reports_changed)
{
	struct udb_user_spec spec = {.username = "bob", .primary_role = "staff"};
	bool changed = false;
	int64_t alice;

	fx_add_role("staff", NULL, NULL);
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_revoke(fx.db, "alice", "staff", &changed), UDB_OK);
	ck_assert(changed);
	ck_assert_str_eq(effective_roles(alice, T0), "");
	ck_assert_int_eq(udb_revoke(fx.db, "alice", "staff", &changed), UDB_OK);
	ck_assert(!changed);
	ck_assert_int_eq(udb_revoke(fx.db, "alice", "ghosts", &changed), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_revoke(fx.db, "ghost", "staff", &changed), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_revoke(fx.db, "bob", "staff", &changed), UDB_IN_USE);
}
END_TEST

START_TEST(test_udb_user_grants_lists_expired_too)
{
	struct udb_grant *grants = NULL;
	size_t n = 0;
	int64_t alice;

	fx_add_role("zeta", NULL, NULL);
	fx_add_role("alpha", NULL, NULL);
	alice = fx_add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "zeta", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "alpha", T0 - 20, T0 - 10, T0 + 1, NULL),
			 UDB_OK);
	ck_assert_int_eq(udb_user_grants(fx.db, alice, &grants, &n), UDB_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(grants[0].role, "alpha");
	ck_assert_int_eq(grants[0].not_before, T0 - 20);
	ck_assert_int_eq(grants[0].not_after, T0 - 10);
	ck_assert_int_eq(grants[0].granted_at, T0 + 1);
	ck_assert_str_eq(grants[1].role, "zeta");
	ck_assert_int_eq(grants[1].not_before, 0);
	ck_assert_int_eq(grants[1].not_after, 0);
	udb_grant_list_free(grants, n);
	udb_grant_list_free(NULL, 0);
}
END_TEST

START_TEST(test_udb_user_effective_roles_through_inclusion)
{
	int64_t alice, bob;

	add_hierarchy();
	alice = fx_add_user("alice");
	bob = fx_add_user("bob");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, T0 + DAY, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "moderator", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "user", 0, 0, T0, NULL), UDB_OK);
	ck_assert_str_eq(effective_roles(alice, T0), "admin,moderator,user");
	ck_assert_str_eq(effective_roles(bob, T0), "moderator,user");
	/* When the grant of admin runs out, what it included goes too. */
	ck_assert_str_eq(effective_roles(alice, T0 + DAY), "");
	ck_assert_str_eq(effective_roles(12345, T0), "");
}
END_TEST

START_TEST(test_udb_user_effective_permissions_through_inclusion)
{
	int64_t alice, bob;

	add_hierarchy();
	alice = fx_add_user("alice");
	bob = fx_add_user("bob");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admin", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "user", T0 + 60, 0, T0, NULL), UDB_OK);
	/* Distinct and sorted, although two roles give forum:moderate. */
	ck_assert_str_eq(effective_permissions(alice, T0), "forum:moderate,ssh:login,sudo:all");
	ck_assert_str_eq(effective_permissions(bob, T0), "");
	ck_assert_str_eq(effective_permissions(bob, T0 + 60), "ssh:login");
}
END_TEST

static Suite *
role_suite(void)
{
	Suite *s = suite_create("role");
	TCase *tc;

	tc = fx_tcase(s, "udb_role_add", true);
	tcase_add_test(tc, test_udb_role_add_with_permissions_and_includes);
	tcase_add_test(tc, test_udb_role_add_gid_allocation);
	tcase_add_test(tc, test_udb_role_add_duplicates_refused);
	tcase_add_test(tc, test_udb_role_add_system_groups_conflict);
	tcase_add_test(tc, test_udb_role_add_invalid_refused);
	tcase_add_test(tc, test_udb_role_add_self_include_refused);
	tcase_add_test(tc, test_udb_role_add_gid_range_exhausted);
	tc = fx_tcase(s, "udb_role_by_name", true);
	tcase_add_test(tc, test_udb_role_by_name_case_sensitive);
	tc = fx_tcase(s, "udb_role_by_gid", true);
	tcase_add_test(tc, test_udb_role_by_gid_found_and_not_found);
	tc = fx_tcase(s, "udb_role_list", true);
	tcase_add_test(tc, test_udb_role_list_sorted);
	tc = fx_tcase(s, "udb_role_find_or_create", true);
	tcase_add_test(tc, test_udb_role_find_or_create_once);
	tc = fx_tcase(s, "udb_role_delete", true);
	tcase_add_test(tc, test_udb_role_delete_removes_grants);
	tcase_add_test(tc, test_udb_role_delete_primary_group_in_use);
	tcase_add_test(tc, test_udb_role_delete_middle_of_chain);
	tc = fx_tcase(s, "udb_role_set_description", true);
	tcase_add_test(tc, test_udb_role_set_description_changes);
	tc = fx_tcase(s, "udb_role_permission_add", true);
	tcase_add_test(tc, test_udb_role_permission_add_reports_changed);
	tc = fx_tcase(s, "udb_role_permission_remove", true);
	tcase_add_test(tc, test_udb_role_permission_remove_reports_changed);
	tc = fx_tcase(s, "udb_role_include", true);
	tcase_add_test(tc, test_udb_role_include_updates_effective_roles);
	tcase_add_test(tc, test_udb_role_include_cycles_refused);
	tc = fx_tcase(s, "udb_role_exclude", true);
	tcase_add_test(tc, test_udb_role_exclude_updates_effective_roles);
	tc = fx_tcase(s, "udb_grant", true);
	tcase_add_test(tc, test_udb_grant_reports_changed);
	tcase_add_test(tc, test_udb_grant_time_limits);
	tcase_add_test(tc, test_udb_grant_invalid_or_unknown);
	tc = fx_tcase(s, "udb_revoke", true);
	tcase_add_test(tc, test_udb_revoke_reports_changed);
	tc = fx_tcase(s, "udb_user_grants", true);
	tcase_add_test(tc, test_udb_user_grants_lists_expired_too);
	tc = fx_tcase(s, "udb_user_effective_roles", true);
	tcase_add_test(tc, test_udb_user_effective_roles_through_inclusion);
	tc = fx_tcase(s, "udb_user_effective_permissions", true);
	tcase_add_test(tc, test_udb_user_effective_permissions_through_inclusion);
	return s;
}

int
main(void)
{
	return fx_main(role_suite());
}
