/* Which path of a database directory, or of its ancestors, cannot be
 * trusted, and why, in words. Used by `userdb init` (through db.c) before
 * it changes anything, and by the CLI's messages about a refused database.
 * The rules for one file are config.h's udb_check_trusted_stat(); this adds
 * the walk from / down and the reasons. */
#ifndef UDB_TRUST_H
#define UDB_TRUST_H

#include <stdbool.h>
#include <sys/stat.h>

#include "result.h"

struct udb_trust_problem {
	char path[4096];  /* the path refused */
	char reason[128]; /* e.g. "is a symlink", "is owned by uid 1000" */
};

/* Why st (from lstat) cannot be trusted as a directory (want_dir) or a
 * regular file, in reason; false when it can. Trusted: not a symlink, the
 * right type, owned by root or by the caller (real and effective uid
 * equal), not writable by others, writable by the group only when that
 * group is root's. With strict_group, not group-writable at all. */
bool udb_trust_explain(const struct stat *st, bool want_dir, bool strict_group, char *reason,
		       size_t size);

/* Checks every ancestor of the absolute path dir, from / down, then dir
 * itself if it exists, then the database files in it that exist: each
 * must be trusted as above, except that an ancestor may be world-writable
 * when it has the sticky bit and is owned by root (/tmp: nobody else may
 * rename or remove what it holds), and a database file must have exactly
 * one link (a hard link could make a change to it land on another file).
 * UDB_OK when all are; UDB_UNSAFE with *ret_problem filled in when not;
 * UDB_INVALID for a relative path; UDB_IO when a path cannot be examined
 * (ret_problem names it). Reads only: never creates or changes anything. */
enum udb_result udb_trust_check_dbdir(const char *dir, struct udb_trust_problem *ret_problem);

#endif
