/* The trust walk over a database directory and its ancestors, with the
 * reason for a refusal in words. Called by db.c's udb_db_init() before it
 * changes anything, and by the CLI to say which path it refused and why.
 *
 * Why the ancestors: whoever can write to a parent of the database
 * directory can rename the directory away and put another in its place (an
 * older copy in which a disabled user is still enabled), and whoever owns a
 * pre-created directory can plant files or hard links that `userdb init`
 * would then chown and chmod. Every path from / down must therefore be
 * changeable only by root (or, for unprivileged test setups, the caller). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "trust.h"

bool
udb_trust_explain(const struct stat *st, bool want_dir, bool strict_group, char *reason,
		  size_t size)
{
	uid_t uid = getuid();

	if (S_ISLNK(st->st_mode))
		snprintf(reason, size, "is a symlink");
	else if (want_dir && !S_ISDIR(st->st_mode))
		snprintf(reason, size, "is not a directory");
	else if (!want_dir && !S_ISREG(st->st_mode))
		snprintf(reason, size, "is not a regular file");
	else if (st->st_uid != 0 && (st->st_uid != uid || uid != geteuid()))
		snprintf(reason, size, "is owned by uid %u, not root%s", (unsigned)st->st_uid,
			 uid == 0 ? "" : " or the caller");
	else if (st->st_mode & S_IWOTH)
		snprintf(reason, size, "is writable by everyone (mode %04o)",
			 (unsigned)(st->st_mode & 07777));
	else if ((st->st_mode & S_IWGRP) && (strict_group || st->st_gid != 0))
		snprintf(reason, size, "is writable by group %u (mode %04o)", (unsigned)st->st_gid,
			 (unsigned)(st->st_mode & 07777));
	else
		return false;
	return true;
}

/* One ancestor (path[0..len)): trusted, or sticky, world-writable and
 * root's. Missing ancestors are UDB_UNAVAILABLE: init cannot create them. */
static enum udb_result
check_ancestor(const char *path, size_t len, struct udb_trust_problem *p)
{
	struct stat st;

	snprintf(p->path, sizeof(p->path), "%.*s", (int)(len ? len : 1), path);
	if (lstat(p->path, &st) < 0) {
		snprintf(p->reason, sizeof(p->reason), "%s",
			 errno == ENOENT ? "does not exist" : strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? UDB_UNAVAILABLE : UDB_IO;
	}
	if (S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & S_ISVTX) &&
	    (st.st_mode & S_IWOTH))
		return UDB_OK;
	if (udb_trust_explain(&st, true, false, p->reason, sizeof(p->reason)))
		return UDB_UNSAFE;
	return UDB_OK;
}

static enum udb_result
check_files(const char *dir, struct udb_trust_problem *p)
{
	static const char *const names[] = {
		UDB_PUBLIC_FILE,        UDB_SHADOW_FILE,        UDB_PUBLIC_FILE "-wal",
		UDB_SHADOW_FILE "-wal", UDB_PUBLIC_FILE "-shm", UDB_SHADOW_FILE "-shm",
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n = snprintf(p->path, sizeof(p->path), "%s/%s", dir, names[i]);

		if (n < 0 || (size_t)n >= sizeof(p->path))
			return UDB_INVALID;
		if (lstat(p->path, &st) < 0) {
			if (errno == ENOENT)
				continue;
			snprintf(p->reason, sizeof(p->reason), "%s", strerror(errno));
			return UDB_IO;
		}
		if (udb_trust_explain(&st, false, false, p->reason, sizeof(p->reason)))
			return UDB_UNSAFE;
		if (st.st_nlink != 1) {
			snprintf(p->reason, sizeof(p->reason), "has %lu hard links",
				 (unsigned long)st.st_nlink);
			return UDB_UNSAFE;
		}
	}
	return UDB_OK;
}

enum udb_result
udb_trust_check_dbdir(const char *dir, struct udb_trust_problem *p)
{
	char clean[sizeof(p->path)];
	size_t len = strlen(dir);
	enum udb_result r;
	struct stat st;

	p->path[0] = p->reason[0] = '\0';
	if (dir[0] != '/' || len >= sizeof(p->path))
		return UDB_INVALID;
	while (len > 1 && dir[len - 1] == '/')
		len--;
	/* Every proper ancestor, from / down: each '/' ends one. */
	for (size_t i = 0; i < len; i++) {
		if (dir[i] != '/' || (i > 0 && dir[i - 1] == '/'))
			continue;
		r = check_ancestor(dir, i, p);
		if (r != UDB_OK)
			return r;
	}
	snprintf(clean, sizeof(clean), "%.*s", (int)len, dir);
	snprintf(p->path, sizeof(p->path), "%s", clean);
	if (lstat(clean, &st) < 0) {
		if (errno == ENOENT)
			return UDB_OK;
		snprintf(p->reason, sizeof(p->reason), "%s", strerror(errno));
		return UDB_IO;
	}
	if (udb_trust_explain(&st, true, false, p->reason, sizeof(p->reason)))
		return UDB_UNSAFE;
	return check_files(clean, p);
}
