/* Groups as the NSS module shows them: every role (members = effective
 * members at the time of the lookup) and every user's personal group (no
 * listed members). Also the gids of a user's effective roles, for
 * initgroups. Called by the NSS module and the CLI. */
#ifndef UDB_GROUP_H
#define UDB_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct udb_group {
	char *name;
	uint32_t gid;
	char **members;
	size_t n_members;
};

void udb_group_free(struct udb_group *group);
void udb_group_list_free(struct udb_group **groups, size_t n);

/* A role of that exact name (case-sensitive), else a personal group. */
enum udb_result udb_group_by_name(struct udb_db *db, const char *name, int64_t now,
				  struct udb_group **ret_group);
enum udb_result udb_group_by_gid(struct udb_db *db, uint32_t gid, int64_t now,
				 struct udb_group **ret_group);

/* Enumeration: roles by id, then personal groups by user id. Start with a
 * zeroed cursor; a page with *ret_n == 0 is the end. */
struct udb_group_cursor {
	int phase;
	int64_t after_id;
};
enum udb_result udb_group_page(struct udb_db *db, struct udb_group_cursor *cursor, size_t max,
			       int64_t now, struct udb_group ***ret_groups, size_t *ret_n);

/* gids of the roles user effectively has at time now (no particular order,
 * no duplicates; the primary gid only if it is also such a role). */
enum udb_result udb_user_effective_gids(struct udb_db *db, const char *user, int64_t now,
					uint32_t **ret_gids, size_t *ret_n);

#endif
