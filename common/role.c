/* Roles, permissions and inclusions (with their materialised closure).
 * Called by the CLI and the PAM module through role.h, and by user.c (a
 * user's primary role); grants of roles to users are in grant.c. */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "ids.h"
#include "role.h"
#include "user.h"
#include "validate.h"

void
udb_role_free(struct udb_role *role)
{
	if (!role)
		return;
	free(role->name);
	free(role->description);
	free(role);
}

void
udb_role_list_free(struct udb_role **roles, size_t n)
{
	if (!roles)
		return;
	for (size_t i = 0; i < n; i++)
		udb_role_free(roles[i]);
	free(roles);
}

void
udb_grant_list_free(struct udb_grant *grants, size_t n)
{
	if (!grants)
		return;
	for (size_t i = 0; i < n; i++)
		free(grants[i].role);
	free(grants);
}

void
udb_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static enum udb_result
role_from_row(sqlite3_stmt *stmt, struct udb_role **ret_role)
{
	struct udb_role *role = calloc(1, sizeof(*role));

	if (!role)
		return UDB_NO_MEMORY;
	role->id = sqlite3_column_int64(stmt, 0);
	role->name = udb_column_strdup(stmt, 1);
	role->gid = (uint32_t)sqlite3_column_int64(stmt, 2);
	role->description = udb_column_strdup(stmt, 3);
	role->created_at = sqlite3_column_int64(stmt, 4);
	if (!role->name || !role->description) {
		udb_role_free(role);
		return UDB_NO_MEMORY;
	}
	*ret_role = role;
	return UDB_OK;
}

static enum udb_result
role_query_one(struct udb_db *db, enum udb_query q, struct udb_role **ret_role)
{
	enum udb_result r;
	int rc;

	rc = sqlite3_step(db->stmts[q]);
	if (rc == SQLITE_ROW)
		r = role_from_row(db->stmts[q], ret_role);
	else
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	return r;
}

enum udb_result
udb_role_by_name(struct udb_db *db, const char *name, struct udb_role **ret_role)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (!udb_valid_rolename(name))
		return UDB_NOT_FOUND;
	r = udb_stmt(db, UDB_Q_ROLE_BY_NAME, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, name);
	return role_query_one(db, UDB_Q_ROLE_BY_NAME, ret_role);
}

enum udb_result
udb_role_by_gid(struct udb_db *db, uint32_t gid, struct udb_role **ret_role)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_ROLE_BY_GID, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, gid);
	return role_query_one(db, UDB_Q_ROLE_BY_GID, ret_role);
}

enum udb_result
udb_role_list(struct udb_db *db, struct udb_role ***ret_roles, size_t *ret_n)
{
	struct udb_role **roles = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	size_t n = 0, cap = 0;
	int rc;

	r = udb_stmt(db, UDB_Q_ROLE_LIST, &stmt);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			struct udb_role **grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(roles, cap * sizeof(*roles));
			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			roles = grown;
		}
		r = role_from_row(stmt, &roles[n]);
		if (r != UDB_OK)
			break;
		n++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_ROLE_LIST);
	if (r != UDB_OK) {
		udb_role_list_free(roles, n);
		return r;
	}
	*ret_roles = roles;
	*ret_n = n;
	return UDB_OK;
}

static enum udb_result
role_strings(struct udb_db *db, enum udb_query q, int64_t id, char ***ret_v, size_t *ret_n)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, q, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	return udb_stmt_collect_text(db, q, ret_v, ret_n);
}

enum udb_result
udb_role_permissions(struct udb_db *db, const struct udb_role *role, char ***ret_permissions,
		     size_t *ret_n)
{
	return role_strings(db, UDB_Q_ROLE_PERMISSIONS, role->id, ret_permissions, ret_n);
}

enum udb_result
udb_role_includes(struct udb_db *db, const struct udb_role *role, char ***ret_names, size_t *ret_n)
{
	return role_strings(db, UDB_Q_ROLE_INCLUDES, role->id, ret_names, ret_n);
}

static enum udb_result
rebuild_closure(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_ROLE_CLOSURE_CLEAR, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_ROLE_CLOSURE_CLEAR);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_ROLE_CLOSURE_BUILD, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_ROLE_CLOSURE_BUILD);
	return r;
}

/* Adds role ⊇ included inside the caller's transaction. */
static enum udb_result
include_locked(struct udb_db *db, const struct udb_role *role, const struct udb_role *included,
	       bool *ret_changed)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int64_t cycle = 0;

	if (role->id == included->id)
		return UDB_CYCLE;
	/* A cycle when members of `included` already reach `role`. */
	r = udb_stmt(db, UDB_Q_ROLE_CLOSURE_HAS, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, role->id);
	sqlite3_bind_int64(stmt, 2, included->id);
	r = udb_stmt_int(db, UDB_Q_ROLE_CLOSURE_HAS, &cycle);
	if (r != UDB_OK)
		return r;
	if (cycle)
		return UDB_CYCLE;
	r = udb_stmt_exec_pair(db, UDB_Q_ROLE_INCLUDE_ADD, role->id, included->id, NULL,
			       ret_changed);
	if (r == UDB_OK)
		r = rebuild_closure(db);
	return r;
}

static enum udb_result
add_role_locked(struct udb_db *db, const struct udb_config *cfg, const struct udb_role_spec *spec,
		bool check_system, int64_t now, struct udb_role **ret_role)
{
	struct udb_role *role = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	uint32_t gid;

	r = udb_name_check_free(db, spec->name, check_system);
	if (r != UDB_OK)
		return r;
	if (spec->has_gid) {
		gid = spec->gid;
		r = udb_id_check_free(db, gid, check_system);
		if (r == UDB_OK)
			r = udb_id_note_used(db, cfg, UDB_ID_GID, gid);
	} else {
		r = udb_id_allocate(db, cfg, UDB_ID_GID, check_system, &gid);
	}
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_ROLE_INSERT, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, spec->name);
	sqlite3_bind_int64(stmt, 2, gid);
	udb_bind_text(stmt, 3, spec->description ? spec->description : "");
	sqlite3_bind_int64(stmt, 4, now);
	r = udb_stmt_exec(db, UDB_Q_ROLE_INSERT);
	if (r == UDB_OK)
		r = rebuild_closure(db);
	if (r == UDB_OK)
		r = udb_role_by_name(db, spec->name, &role);
	for (size_t i = 0; r == UDB_OK && i < spec->n_permissions; i++)
		r = udb_stmt_exec_pair(db, UDB_Q_ROLE_PERMISSION_ADD, role->id, 0,
				       spec->permissions[i], NULL);
	for (size_t i = 0; r == UDB_OK && i < spec->n_includes; i++) {
		struct udb_role *included = NULL;

		r = udb_role_by_name(db, spec->includes[i], &included);
		if (r == UDB_OK)
			r = include_locked(db, role, included, NULL);
		udb_role_free(included);
	}
	if (r != UDB_OK || !ret_role) {
		udb_role_free(role);
		return r;
	}
	*ret_role = role;
	return UDB_OK;
}

static enum udb_result
validate_role_spec(const struct udb_role_spec *spec)
{
	if (!udb_valid_rolename(spec->name))
		return UDB_INVALID;
	if (spec->description && !udb_valid_text(spec->description))
		return UDB_INVALID;
	if (spec->has_gid && spec->gid == 0)
		return UDB_INVALID;
	for (size_t i = 0; i < spec->n_permissions; i++)
		if (!udb_valid_permission(spec->permissions[i]))
			return UDB_INVALID;
	for (size_t i = 0; i < spec->n_includes; i++)
		if (!udb_valid_rolename(spec->includes[i]))
			return UDB_NOT_FOUND;
	return UDB_OK;
}

enum udb_result
udb_role_add(struct udb_db *db, const struct udb_config *cfg, const struct udb_role_spec *spec,
	     bool check_system, int64_t now)
{
	enum udb_result r;

	r = validate_role_spec(spec);
	if (r != UDB_OK)
		return r;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = add_role_locked(db, cfg, spec, check_system, now, NULL);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

enum udb_result
udb_role_find_or_create(struct udb_db *db, const struct udb_config *cfg, const char *name,
			bool check_system, int64_t now, struct udb_role **ret_role,
			bool *ret_created)
{
	struct udb_role_spec spec = {.name = name};
	enum udb_result r;

	if (!udb_valid_rolename(name))
		return UDB_INVALID;
	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_role_by_name(db, name, ret_role);
	*ret_created = false;
	if (r == UDB_NOT_FOUND) {
		r = add_role_locked(db, cfg, &spec, check_system, now, ret_role);
		*ret_created = r == UDB_OK;
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	r = udb_db_commit(db);
	if (r != UDB_OK) {
		udb_role_free(*ret_role);
		*ret_role = NULL;
	}
	return r;
}

/* Looks the role up inside a fresh transaction; on success the caller owns
 * both the role and the transaction. */
static enum udb_result
begin_with_role(struct udb_db *db, const char *name, struct udb_role **ret_role)
{
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_role_by_name(db, name, ret_role);
	if (r != UDB_OK)
		udb_db_rollback(db);
	return r;
}

enum udb_result
udb_role_delete(struct udb_db *db, const char *name)
{
	struct udb_role *role = NULL;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int64_t users = 0;

	r = begin_with_role(db, name, &role);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_ROLE_PRIMARY_USERS, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, role->id);
		r = udb_stmt_int(db, UDB_Q_ROLE_PRIMARY_USERS, &users);
	}
	if (r == UDB_OK && users > 0)
		r = UDB_IN_USE;
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_ROLE_DELETE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, role->id);
		r = udb_stmt_exec(db, UDB_Q_ROLE_DELETE);
	}
	/* The cascade drops the role's own closure rows, but not the paths
	 * that ran through it (admin ⊇ deleted ⊇ user): rebuild. */
	if (r == UDB_OK)
		r = rebuild_closure(db);
	udb_role_free(role);
	return udb_db_finish(db, r);
}

enum udb_result
udb_role_set_description(struct udb_db *db, const char *name, const char *description)
{
	struct udb_role *role = NULL;
	enum udb_result r;

	if (!udb_valid_text(description))
		return UDB_INVALID;
	r = begin_with_role(db, name, &role);
	if (r != UDB_OK)
		return r;
	r = udb_stmt_exec_pair(db, UDB_Q_ROLE_UPDATE_DESCRIPTION, role->id, 0, description, NULL);
	udb_role_free(role);
	return udb_db_finish(db, r);
}

static enum udb_result
permission_change(struct udb_db *db, enum udb_query q, const char *name, const char *permission,
		  bool *ret_changed)
{
	struct udb_role *role = NULL;
	enum udb_result r;

	if (!udb_valid_permission(permission))
		return UDB_INVALID;
	r = begin_with_role(db, name, &role);
	if (r != UDB_OK)
		return r;
	r = udb_stmt_exec_pair(db, q, role->id, 0, permission, ret_changed);
	udb_role_free(role);
	return udb_db_finish(db, r);
}

enum udb_result
udb_role_permission_add(struct udb_db *db, const char *name, const char *permission,
			bool *ret_changed)
{
	return permission_change(db, UDB_Q_ROLE_PERMISSION_ADD, name, permission, ret_changed);
}

enum udb_result
udb_role_permission_remove(struct udb_db *db, const char *name, const char *permission,
			   bool *ret_changed)
{
	return permission_change(db, UDB_Q_ROLE_PERMISSION_DEL, name, permission, ret_changed);
}

static enum udb_result
include_change(struct udb_db *db, const char *name, const char *included_name, bool add,
	       bool *ret_changed)
{
	struct udb_role *role = NULL, *included = NULL;
	enum udb_result r;

	r = begin_with_role(db, name, &role);
	if (r != UDB_OK)
		return r;
	r = udb_role_by_name(db, included_name, &included);
	if (r == UDB_OK && add)
		r = include_locked(db, role, included, ret_changed);
	else if (r == UDB_OK) {
		r = udb_stmt_exec_pair(db, UDB_Q_ROLE_INCLUDE_DEL, role->id, included->id, NULL,
				       ret_changed);
		if (r == UDB_OK)
			r = rebuild_closure(db);
	}
	udb_role_free(role);
	udb_role_free(included);
	return udb_db_finish(db, r);
}

enum udb_result
udb_role_include(struct udb_db *db, const char *role, const char *included, bool *ret_changed)
{
	return include_change(db, role, included, true, ret_changed);
}

enum udb_result
udb_role_exclude(struct udb_db *db, const char *role, const char *included, bool *ret_changed)
{
	return include_change(db, role, included, false, ret_changed);
}
