/* Roles (shown as groups), their permissions and inclusions, and grants of
 * roles to users, possibly limited in time. Effective roles count included
 * roles and unexpired grants only. Called by the CLI, the PAM module (role
 * and permission checks) and, through group.h, the NSS module. */
#ifndef UDB_ROLE_H
#define UDB_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"

struct udb_role {
	int64_t id;
	char *name;
	uint32_t gid;
	char *description;
	int64_t created_at;
};

struct udb_grant {
	char *role;
	int64_t not_before; /* 0: none */
	int64_t not_after;  /* 0: none */
	int64_t granted_at;
};

void udb_role_free(struct udb_role *role);
void udb_role_list_free(struct udb_role **roles, size_t n);
void udb_grant_list_free(struct udb_grant *grants, size_t n);
void udb_strv_free(char **v, size_t n);

enum udb_result udb_role_by_name(struct udb_db *db, const char *name, struct udb_role **ret_role);
enum udb_result udb_role_by_gid(struct udb_db *db, uint32_t gid, struct udb_role **ret_role);
enum udb_result udb_role_list(struct udb_db *db, struct udb_role ***ret_roles, size_t *ret_n);
/* Sorted names of the role's own permissions / of the roles it includes. */
enum udb_result udb_role_permissions(struct udb_db *db, const struct udb_role *role,
				     char ***ret_permissions, size_t *ret_n);
enum udb_result udb_role_includes(struct udb_db *db, const struct udb_role *role, char ***ret_names,
				  size_t *ret_n);

struct udb_role_spec {
	const char *name;
	bool has_gid;
	uint32_t gid;
	const char *description; /* NULL: "" */
	const char *const *permissions;
	size_t n_permissions;
	const char *const *includes; /* roles this one includes */
	size_t n_includes;
};

/* Creates a role (gid: from above the high-water mark, ids.h, unless
 * given; a given one raises the mark), its permissions and inclusions, in one transaction. */
enum udb_result udb_role_add(struct udb_db *db, const struct udb_config *cfg,
			     const struct udb_role_spec *spec, bool check_system, int64_t now);
/* Finds the role, or creates it with no permissions (Flask-Security's
 * find_or_create_role). *ret_created says which. */
enum udb_result udb_role_find_or_create(struct udb_db *db, const struct udb_config *cfg,
					const char *name, bool check_system, int64_t now,
					struct udb_role **ret_role, bool *ret_created);
/* Refused with UDB_IN_USE while the role is some user's primary group. */
enum udb_result udb_role_delete(struct udb_db *db, const char *name);
enum udb_result udb_role_set_description(struct udb_db *db, const char *name,
					 const char *description);
enum udb_result udb_role_permission_add(struct udb_db *db, const char *name, const char *permission,
					bool *ret_changed);
enum udb_result udb_role_permission_remove(struct udb_db *db, const char *name,
					   const char *permission, bool *ret_changed);
/* role includes included: members of role become effective members of
 * included. UDB_CYCLE when included already (transitively) includes role. */
enum udb_result udb_role_include(struct udb_db *db, const char *role, const char *included,
				 bool *ret_changed);
enum udb_result udb_role_exclude(struct udb_db *db, const char *role, const char *included,
				 bool *ret_changed);

/* Grants role to user, valid from not_before (0: now) until not_after (0:
 * for ever). Granting again replaces the dates. *ret_changed (may be NULL)
 * is false when the same grant already existed. */
enum udb_result udb_grant(struct udb_db *db, const char *user, const char *role, int64_t not_before,
			  int64_t not_after, int64_t now, bool *ret_changed);
/* *ret_changed is false when there was no such grant. Revoking a user's
 * primary role is UDB_IN_USE. */
enum udb_result udb_revoke(struct udb_db *db, const char *user, const char *role,
			   bool *ret_changed);
/* The user's direct grants, expired ones included, sorted by role name. */
enum udb_result udb_user_grants(struct udb_db *db, int64_t user_id, struct udb_grant **ret_grants,
				size_t *ret_n);
/* Sorted names of the roles the user effectively has at time now: unexpired
 * grants plus every role they include, transitively. */
enum udb_result udb_user_effective_roles(struct udb_db *db, int64_t user_id, int64_t now,
					 char ***ret_names, size_t *ret_n);
/* Fleet mode: the sorted names of the roles allowed on host (the local copy
 * of this host's rows of central's userdb.host_roles). */
enum udb_result udb_host_roles(struct udb_db *db, const char *host, char ***ret_names,
			       size_t *ret_n);
/* Whether one of the user's effective roles at now is allowed on host. */
enum udb_result udb_user_allowed_on_host(struct udb_db *db, int64_t user_id, const char *host,
					 int64_t now, bool *ret_allowed);
/* Sorted permissions of those roles. */
enum udb_result udb_user_effective_permissions(struct udb_db *db, int64_t user_id, int64_t now,
					       char ***ret_permissions, size_t *ret_n);

#endif
