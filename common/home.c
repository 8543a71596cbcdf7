/* Creating and removing home directories with descriptors only. Called by
 * the CLI (cli/user.c: user add --create-home, user del --remove-home).
 *
 * Why descriptors: the user whose home it is owns everything inside and may
 * still run processes (`user del --force`), so between a check and an
 * action any path inside can become a symlink to /etc. Each directory is
 * opened with O_NOFOLLOW relative to its parent's descriptor and checked
 * with fstat, entries are looked at with fstatat(AT_SYMLINK_NOFOLLOW), and
 * removal is unlinkat on the parent's descriptor, so a swapped entry is at
 * worst removed as the symlink it now is. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

#define COPY_DEPTH_MAX   64
#define REMOVE_DEPTH_MAX 256

static enum udb_result
from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return UDB_NOT_FOUND;
	case EEXIST:
		return UDB_EXISTS;
	case ELOOP:
		return UDB_UNSAFE;
	case EACCES:
	case EPERM:
		return UDB_PERMISSION;
	case ENOMEM:
		return UDB_NO_MEMORY;
	default:
		return UDB_IO;
	}
}

/* Splits an absolute path into its parent (opened, O_NOFOLLOW on the last
 * component only: the admin chose the base) and last component. */
static enum udb_result
open_parent(const char *path, int *ret_fd, const char **ret_name)
{
	const char *slash = strrchr(path, '/');
	char parent[4096];
	int fd;

	if (path[0] != '/' || !slash || !slash[1] || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0 || (size_t)(slash - path) >= sizeof(parent))
		return UDB_INVALID;
	snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return from_errno(errno);
	*ret_fd = fd;
	*ret_name = slash + 1;
	return UDB_OK;
}

static enum udb_result
copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st, uid_t uid, gid_t gid)
{
	enum udb_result r = UDB_OK;
	char buf[65536];
	ssize_t n;
	int in, out;

	in = openat(src_dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (in < 0)
		return from_errno(errno);
	out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		close(in);
		return from_errno(errno);
	}
	while (r == UDB_OK && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 || write(out, buf, (size_t)n) != n)
			r = UDB_IO;
	}
	if (r == UDB_OK && (fchown(out, uid, gid) < 0 || fchmod(out, st->st_mode & 0777) < 0))
		r = UDB_IO;
	close(in);
	close(out);
	return r;
}

static enum udb_result copy_tree(int src, int dst, uid_t uid, gid_t gid, int depth);

static enum udb_result
copy_entry(int src, int dst, const char *name, uid_t uid, gid_t gid, int depth)
{
	char target[4096];
	struct stat st;
	ssize_t n;
	int s, d;
	enum udb_result r;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return from_errno(errno);
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, name, &st, uid, gid);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return from_errno(errno);
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0 ||
		    fchownat(dst, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return from_errno(errno);
		return UDB_OK;
	}
	if (!S_ISDIR(st.st_mode))
		return UDB_OK; /* devices, fifos, sockets: not for a home */
	if (depth >= COPY_DEPTH_MAX)
		return UDB_INVALID;
	if (mkdirat(dst, name, 0700) < 0)
		return from_errno(errno);
	s = openat(src, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	r = s < 0 || d < 0 ? UDB_IO : copy_tree(s, d, uid, gid, depth + 1);
	if (r == UDB_OK && (fchown(d, uid, gid) < 0 || fchmod(d, st.st_mode & 07777) < 0))
		r = UDB_IO;
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	return r;
}

static enum udb_result
copy_tree(int src, int dst, uid_t uid, gid_t gid, int depth)
{
	enum udb_result r = UDB_OK;
	struct dirent *e;
	int fd = dup(src);
	DIR *dir;

	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return UDB_IO;
	}
	while (r == UDB_OK && (e = readdir(dir))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			r = copy_entry(src, dst, e->d_name, uid, gid, depth);
	}
	closedir(dir);
	return r;
}

/* Empties the directory dir (on device dev), then nothing else: the caller
 * removes dir itself. A subdirectory on another device is left, and the
 * result is UDB_IN_USE; the rest is still removed. */
static enum udb_result
empty_tree(int dir, dev_t dev, int depth)
{
	enum udb_result r = UDB_OK, first = UDB_OK;
	struct dirent *e;
	struct stat st;
	int fd = dup(dir);
	DIR *d;

	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return UDB_IO;
	}
	while ((e = readdir(d))) {
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = UDB_OK;
		if (fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errno == ENOENT ? UDB_OK : from_errno(errno);
		} else if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(dir, e->d_name, 0) < 0 && errno != ENOENT)
				r = from_errno(errno);
		} else if (st.st_dev != dev) {
			r = UDB_IN_USE;
		} else if (depth >= REMOVE_DEPTH_MAX) {
			r = UDB_INVALID;
		} else {
			sub = openat(dir, e->d_name,
				     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (sub < 0) {
				r = from_errno(errno);
			} else {
				/* Opened without following: check it is what was seen. */
				r = fstat(sub, &st) == 0 && st.st_dev == dev
					    ? empty_tree(sub, dev, depth + 1)
					    : UDB_IN_USE;
				close(sub);
			}
			if (r == UDB_OK && unlinkat(dir, e->d_name, AT_REMOVEDIR) < 0)
				r = from_errno(errno);
		}
		if (first == UDB_OK)
			first = r;
	}
	closedir(d);
	return first;
}

enum udb_result
udb_home_create(const char *home, const char *skel, uid_t uid, gid_t gid)
{
	int parent = -1, fd = -1, src = -1;
	const char *name;
	enum udb_result r;

	r = open_parent(home, &parent, &name);
	if (r != UDB_OK)
		return r;
	if (mkdirat(parent, name, 0700) < 0) {
		r = from_errno(errno);
		close(parent);
		return r;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0)
		r = UDB_IO;
	if (r == UDB_OK && skel) {
		src = open(skel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (src >= 0)
			r = copy_tree(src, fd, uid, gid, 0);
		else if (errno != ENOENT)
			r = from_errno(errno);
	}
	if (r != UDB_OK && fd >= 0) {
		/* Ours, just made: take it away again. */
		struct stat st;

		if (fstat(fd, &st) == 0 && empty_tree(fd, st.st_dev, 0) == UDB_OK)
			unlinkat(parent, name, AT_REMOVEDIR);
	} else if (r != UDB_OK) {
		unlinkat(parent, name, AT_REMOVEDIR);
	}
	if (src >= 0)
		close(src);
	if (fd >= 0)
		close(fd);
	close(parent);
	return r;
}

/* Whether path is absolute and has no "." or ".." component or "//". */
static bool
plain_path(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const char *p = path; *p; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == '\0')) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
			return false;
	}
	return true;
}

/* The checks of udb_home_check_removable on an open parent; *ret_fd gets
 * the home's descriptor. */
static enum udb_result
open_removable(const char *home, const char *base, uid_t uid, int *ret_parent, int *ret_fd,
	       const char **ret_name, char *reason, size_t size)
{
	size_t n = strlen(base);
	struct stat st;
	enum udb_result r;
	int fd;

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (!plain_path(home) || !plain_path(base) || strncmp(home, base, n) != 0 ||
	    home[n] != '/' || !home[n + 1] || strchr(home + n + 1, '/')) {
		snprintf(reason, size, "is not directly under home_base %.*s", (int)n, base);
		return UDB_UNSAFE;
	}
	r = open_parent(home, ret_parent, ret_name);
	if (r != UDB_OK) {
		snprintf(reason, size, "its parent cannot be opened (%s)", udb_result_to_string(r));
		return r;
	}
	fd = openat(*ret_parent, *ret_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = errno == ELOOP || errno == ENOTDIR ? UDB_UNSAFE : from_errno(errno);
		snprintf(reason, size, "%s",
			 r == UDB_NOT_FOUND ? "does not exist"
			 : r == UDB_UNSAFE  ? "is a symlink or not a directory"
					    : udb_result_to_string(r));
	} else if (fstat(fd, &st) < 0) {
		snprintf(reason, size, "cannot be examined");
		r = UDB_IO;
	} else if (st.st_uid != uid) {
		snprintf(reason, size, "is owned by uid %u, not the user's uid %u",
			 (unsigned)st.st_uid, (unsigned)uid);
		r = UDB_UNSAFE;
	}
	if (r != UDB_OK) {
		if (fd >= 0)
			close(fd);
		close(*ret_parent);
		return r;
	}
	*ret_fd = fd;
	return UDB_OK;
}

enum udb_result
udb_home_check_removable(const char *home, const char *base, uid_t uid, char *reason, size_t size)
{
	int parent = -1, fd = -1;
	const char *name;
	enum udb_result r;

	r = open_removable(home, base, uid, &parent, &fd, &name, reason, size);
	if (r == UDB_OK) {
		close(fd);
		close(parent);
	}
	return r;
}

enum udb_result
udb_home_remove(const char *home, const char *base, uid_t uid)
{
	int parent = -1, fd = -1;
	char reason[128];
	const char *name;
	struct stat st;
	enum udb_result r;

	r = open_removable(home, base, uid, &parent, &fd, &name, reason, sizeof(reason));
	if (r != UDB_OK)
		return r;
	r = fstat(fd, &st) == 0 ? empty_tree(fd, st.st_dev, 0) : UDB_IO;
	close(fd);
	if (r == UDB_OK && unlinkat(parent, name, AT_REMOVEDIR) < 0)
		r = from_errno(errno);
	close(parent);
	return r;
}
