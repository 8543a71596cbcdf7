/* New uids and role gids, from above a high-water mark that never goes
 * down (schema/0003-*.sql explains the table). Called by user.c and role.c
 * inside their write transaction; the CLI and tests only through them. */
#ifndef UDB_IDS_H
#define UDB_IDS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "result.h"

enum udb_id_kind {
	UDB_ID_UID, /* a user's uid, and its personal group's gid */
	UDB_ID_GID, /* a role's gid */
};

/* The lowest id of kind's configured range that is above both marks where
 * they cover that range, free in the database and, with check_system, in
 * every other NSS source. It raises kind's mark to it.
 * UDB_EXHAUSTED when the range has nothing left above the mark, even if
 * lower ids have been freed: those come back only when the admin names
 * them. Must run inside a write transaction. */
enum udb_result udb_id_allocate(struct udb_db *db, const struct udb_config *cfg,
				enum udb_id_kind kind, bool check_system, uint32_t *ret_id);

/* Records that id is in use as kind (allocated, or named by the admin):
 * kind's mark is raised to id if lower and id is in kind's range; an id
 * only in the other kind's range raises that mark instead. Either way the
 * id is never allocated again after it is freed. Must run inside a write
 * transaction. */
enum udb_result udb_id_note_used(struct udb_db *db, const struct udb_config *cfg,
				 enum udb_id_kind kind, uint32_t id);

/* The two marks as stored (for `userdb` output and tests). */
enum udb_result udb_id_marks(struct udb_db *db, uint32_t *ret_uid_mark, uint32_t *ret_gid_mark);

#endif
