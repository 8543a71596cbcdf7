/* usermod -l/-u/-g and groupmod -n/-g for userdb: a user's or a role's new
 * name or id, and a user's primary role. Called by cli/user.c and
 * cli/role.c, each inside a write transaction of its own or the caller's.
 * The caller checks that a new name or id is free (udb_name_check_free,
 * udb_id_check_free); these re-check in the database (UDB_EXISTS) and keep
 * the id high-water marks (ids.h) so an id is never handed out again. */
#ifndef UDB_RENAME_H
#define UDB_RENAME_H

#include <stdint.h>

#include "config.h"
#include "db.h"
#include "result.h"

/* The user's new name (passwd entry, personal group, the shadow file's
 * name for authentication). Grants, emails and the account stay. */
enum udb_result udb_user_rename(struct udb_db *db, const char *name, const char *new_name,
				int64_t now);
/* The user's new uid; a personal group's gid moves with it. */
enum udb_result udb_user_renumber(struct udb_db *db, const struct udb_config *cfg, const char *name,
				  uint32_t uid, int64_t now);
/* The user's primary group becomes role (NULL: the personal group again);
 * a role is also granted without expiry, as by `user add --primary-role`. */
enum udb_result udb_user_set_primary_role(struct udb_db *db, const char *name, const char *role,
					  int64_t now);
enum udb_result udb_role_rename(struct udb_db *db, const char *name, const char *new_name);
/* The role's new gid; users whose primary role it is get it too. */
enum udb_result udb_role_renumber(struct udb_db *db, const struct udb_config *cfg, const char *name,
				  uint32_t gid);

#endif
