/* Home directories: `user add --create-home` copies a skeleton like
 * `useradd -m`, `user del --remove-home` removes one. Called by the CLI
 * only. Every step works on directory descriptors (openat, O_NOFOLLOW), so
 * a symlink planted anywhere in the tree is never followed. */
#ifndef UDB_HOME_H
#define UDB_HOME_H

#include <sys/types.h>

#include "result.h"

/* Creates home (an absolute path whose parent exists) with mode 0700,
 * owned by uid:gid, and copies skel into it (skel NULL or missing: an
 * empty home): regular files with their modes, directories and symlinks,
 * owned by uid:gid; nothing else. UDB_EXISTS when home already exists (it
 * is never adopted), UDB_NOT_FOUND when its parent does not exist. On a
 * failure part-way, what was created is removed again. */
enum udb_result udb_home_create(const char *home, const char *skel, uid_t uid, gid_t gid);

/* Whether home may be removed for uid: its parent is exactly base (both
 * absolute, no "." or ".." components), and it is a real directory (not a
 * symlink) owned by uid. UDB_UNSAFE when not, with a reason in the buffer
 * (e.g. "is not directly under /home"); UDB_NOT_FOUND when it does not
 * exist. Reads only. */
enum udb_result udb_home_check_removable(const char *home, const char *base, uid_t uid,
					 char *reason, size_t size);

/* Checks as above, then removes home and everything in it without
 * following symlinks and without descending into another filesystem (a
 * mount inside is left, and the result is UDB_IN_USE). */
enum udb_result udb_home_remove(const char *home, const char *base, uid_t uid);

#endif
