/* Importing accounts from the system's files (passwd, shadow, group,
 * gshadow, under / or a copy's root): reading them into a plan
 * (import.c), checking the plan against the database and the other name
 * service sources, and carrying it out inside the caller's transaction
 * (import_apply.c). Called by the CLI's `userdb import --from-system`. */
#ifndef UDB_IMPORT_H
#define UDB_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "result.h"

struct udb_import_user {
	char *name;
	uint32_t uid, gid;
	char *first_name, *last_name; /* the GECOS's first field, split at its first space */
	char *home, *shell;
	char *hash;         /* NULL: no password; wiped on free */
	bool disabled;      /* the hash was locked with `!` (passwd -l) */
	int64_t changed_at; /* 0: no change date (empty sp_lstchg) */
	bool must_change;   /* sp_lstchg 0 */
	int min_days, max_days, warn_days, inactive_days; /* UDB_DAYS_UNSET: empty */
	int64_t not_after;                                /* sp_expire as a time; 0: none */
	const char *primary_role; /* a role's name in the plan; NULL: personal group */
};

struct udb_import_role {
	char *name;
	uint32_t gid;
	char **members; /* imported users, in the group file's order */
	size_t n_members;
};

struct udb_import_plan {
	struct udb_import_user *users;
	size_t n_users;
	struct udb_import_role *roles;
	size_t n_roles;
	/* Each a sentence: problems refuse the import; notes say what stays
	 * in the files. */
	char **problems;
	size_t n_problems;
	char **notes;
	size_t n_notes;
	/* import.c's own: users sorted by name, uid and gid while it reads
	 * the groups (NULL afterwards). */
	struct udb_import_user **by_name, **by_uid, **by_gid;
};

/* Reads root's etc/passwd, etc/shadow, etc/group and, if present,
 * etc/gshadow (root NULL: "/") and plans the import of every account with
 * a uid in min_uid..max_uid, with the groups they belong to whose gid is
 * in cfg's gid range. What cannot be imported as it is becomes a problem
 * in the plan, not a failure. UDB_IO / UDB_PERMISSION when a file cannot
 * be read; *ret_path then names it (static storage). */
enum udb_result udb_import_read(const char *root, const struct udb_config *cfg, uint32_t min_uid,
				uint32_t max_uid, struct udb_import_plan **ret_plan,
				const char **ret_path);

/* Adds to plan's problems every clash with the database (names, ids) and
 * with the other name service sources (a name or id they give to another
 * account), and every id outside cfg's ranges. */
enum udb_result udb_import_check(struct udb_db *db, const struct udb_config *cfg,
				 struct udb_import_plan *plan);

/* Creates the plan's roles, users (hash, change time, aging, validity,
 * enabled) and grants. Must run inside the caller's transaction, after
 * udb_import_check() found no problem: on failure the caller rolls back. */
enum udb_result udb_import_apply_in_tx(struct udb_db *db, const struct udb_config *cfg,
				       const struct udb_import_plan *plan, int64_t now);

void udb_import_plan_free(struct udb_import_plan *plan);

#endif
