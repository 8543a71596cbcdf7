/* Opening and checking the two database files. Called by every part of
 * userdb through db.h; creating and upgrading them is db_init.c's job,
 * statements are in stmt.c, write transactions and the commit protocol in
 * transaction.c, the images in image_write.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db-internal.h"
#include "schema.h"
#include "trust.h"

#define READER_BUSY_MS 200
#define WRITER_BUSY_MS 5000
#define READER_MMAP    0x7fff0000LL /* SQLite's own limit, 2 GiB */

unsigned
udb_db_schema_version(void)
{
	return udb_migration_count;
}

void
udb_db_close(struct udb_db *db)
{
	if (!db)
		return;
	udb_changes_stop(db);
	udb_image_changes_stop(db);
	for (int i = 0; i < UDB_Q_COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_close(db->sql);
	if (db->image_lock_fd >= 0)
		close(db->image_lock_fd);
	free(db->dbdir);
	free(db->pub_path);
	free(db->sec_path);
	free(db);
}

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

enum udb_result
udb_result_from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return UDB_UNAVAILABLE;
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

/* Opens the database directory and checks it may be trusted. */
static enum udb_result
check_dir(const char *path)
{
	enum udb_result r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_DIRECTORY);
	if (fd < 0)
		return udb_result_from_errno(errno);
	r = udb_check_trusted_fd(fd, 1);
	close(fd);
	return r;
}

/* Checks a database file without opening it: closing any descriptor of a
 * file drops every POSIX lock this process holds on it, SQLite's included,
 * and another connection of this process (the NSS module's, beside the PAM
 * module's) may have it open and locked. Not a symlink, trusted, readable
 * by the caller (EACCES is UDB_PERMISSION), and, with whole_pages, of a
 * size SQLite could have left: a nonzero number of 512-byte units (SQLite
 * writes and truncates whole pages, so a concurrent commit never fails
 * this). The last is what a credentials handle checks of the public file,
 * which it does not open: emptied, or cut in the middle of a page. */
static enum udb_result
check_db_file(const char *path, bool whole_pages, dev_t *ret_dev, ino_t *ret_ino)
{
	struct stat st;
	enum udb_result r;

	if (lstat(path, &st) < 0)
		return udb_result_from_errno(errno);
	if (S_ISLNK(st.st_mode))
		return UDB_UNSAFE;
	r = udb_check_trusted_stat(&st, 0);
	if (r == UDB_OK && faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) < 0)
		r = udb_result_from_errno(errno);
	if (r == UDB_OK && whole_pages && (st.st_size <= 0 || st.st_size % 512 != 0))
		r = UDB_CORRUPT;
	if (r == UDB_OK) {
		*ret_dev = st.st_dev;
		*ret_ino = st.st_ino;
	}
	return r;
}

enum udb_result
udb_db_exec_sql(struct udb_db *db, const char *sql)
{
	return udb_sqlite_result(sqlite3_exec(db->sql, sql, NULL, NULL, NULL));
}

static enum udb_result
attach(struct udb_db *db, const char *path, const char *schema)
{
	sqlite3_stmt *stmt = NULL;
	char sql[32];
	int rc;

	snprintf(sql, sizeof(sql), "ATTACH ?1 AS %s", schema);
	rc = sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? UDB_OK : udb_sqlite_result(rc);
}

enum udb_result
udb_db_read_user_version(struct udb_db *db, const char *schema, unsigned *ret_version)
{
	sqlite3_stmt *stmt = NULL;
	char sql[40];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA %s.user_version", schema);
	rc = sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*ret_version = (unsigned)sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? UDB_OK : udb_sqlite_result(rc);
}

/* Both files must carry the same pair id, written by `userdb init`: a public
 * file from one database and a shadow file from another are refused. */
enum udb_result
udb_db_check_pair(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_META_PAIR, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		r = udb_sqlite_result(rc);
	else if (sqlite3_column_type(stmt, 0) == SQLITE_NULL ||
		 sqlite3_column_type(stmt, 1) == SQLITE_NULL ||
		 strcmp((const char *)sqlite3_column_text(stmt, 0),
			(const char *)sqlite3_column_text(stmt, 1)) != 0)
		r = UDB_CORRUPT;
	udb_stmt_done(db, UDB_Q_META_PAIR);
	/* The META_PAIR statement is not needed again; drop it so a reader keeps
	 * no statement on a table it does not use. */
	sqlite3_finalize(db->stmts[UDB_Q_META_PAIR]);
	db->stmts[UDB_Q_META_PAIR] = NULL;
	return r == UDB_INTERNAL ? UDB_CORRUPT : r;
}

enum udb_result
udb_db_check_versions(struct udb_db *db, bool allow_old, unsigned *ret_version)
{
	unsigned pub = 0, sec = 0;
	enum udb_result r;

	if (udb_db_has_public(db))
		r = udb_db_read_user_version(db, "pub", &pub);
	else
		r = UDB_OK;
	if (r == UDB_OK && db->mode != UDB_OPEN_PUBLIC)
		r = udb_db_read_user_version(db, "sec", &sec);
	if (r != UDB_OK)
		return r;
	if (db->mode == UDB_OPEN_PUBLIC)
		sec = pub;
	else if (!udb_db_has_public(db))
		pub = sec;
	if (pub != sec)
		return UDB_CORRUPT;
	if (ret_version)
		*ret_version = pub;
	if (pub > udb_migration_count || (!allow_old && pub != udb_migration_count))
		return pub == 0 ? UDB_CORRUPT : UDB_SCHEMA;
	return UDB_OK;
}

/* Whether SQLite will open path's -shm file for writing (it tries O_RDWR
 * first and falls back to a read-only, "unreliable" shared memory). */
static bool
shm_writable(const char *path)
{
	char shm[4096];

	if ((size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm))
		return false;
	return faccessat(AT_FDCWD, shm, W_OK, AT_EACCESS) == 0;
}

/* "file:PATH?readonly_shm=1", PATH percent-encoded: a reader that opens its
 * files this way never sets up SQLite's shared-memory index itself. When no
 * other process has the file open, SQLite would otherwise truncate and
 * rebuild the -shm file at every open (a third of a short-lived process's
 * cost); with the index left alone it reads the WAL directly, which writers
 * keep empty (they checkpoint after every commit). When another process has
 * it open, the handle reads that index read-only, as every unprivileged
 * reader does. The price is paid per transaction (SQLite cannot trust its
 * page cache between them), so this suits handles that serve a few
 * statements. Nothing here opens the -shm file itself: closing a descriptor
 * of it would drop the locks this process's other connections hold. */
static char *
transient_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *suffix = "?readonly_shm=1";
	size_t n = strlen(path);
	char *uri, *p;

	if (n > 4096)
		return NULL;
	uri = malloc(sizeof("file:") - 1 + 3 * n + strlen(suffix) + 1);
	if (!uri)
		return NULL;
	p = stpcpy(uri, "file:");
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("/._-", *c)) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 0xf];
		}
	}
	strcpy(p, suffix);
	return uri;
}

/* The connection's settings: which file is main, SQLite features the store
 * never uses switched off, the busy timeout; a writer keeps -wal and -shm. */
static void
configure(struct udb_db *db, bool sec_main, bool write)
{
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_MAINDBNAME, sec_main ? "sec" : "pub");
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	if (!write)
		sqlite3_db_config(db->sql, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	db->busy_ms = write ? WRITER_BUSY_MS : READER_BUSY_MS;
	sqlite3_busy_timeout(db->sql, db->busy_ms);
	if (write) {
		int persist = 1;

		/* Keep -wal and -shm on disk when the last writer closes, from the
		 * very start (even a failed attach below closes the connection):
		 * readers without write access cannot create them. */
		sqlite3_file_control(db->sql, "sec", SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
}

/* Fills db's paths from dbdir and checks the directory and the files the
 * handle opens. A handle that does not open the public file still refuses
 * one that is unsafe or visibly broken, like every other handle (and
 * is_current() watches it). */
static enum udb_result
check_paths(struct udb_db *db, const char *dbdir, bool has_pub, bool has_sec)
{
	enum udb_result r;

	db->dbdir = strdup(dbdir);
	db->pub_path = path_join(dbdir, UDB_PUBLIC_FILE);
	db->sec_path = path_join(dbdir, UDB_SHADOW_FILE);
	if (!db->dbdir || !db->pub_path || !db->sec_path)
		return UDB_NO_MEMORY;
	r = check_dir(dbdir);
	if (r == UDB_OK)
		r = check_db_file(db->pub_path, !has_pub, &db->pub_dev, &db->pub_ino);
	if (r == UDB_OK && has_sec)
		r = check_db_file(db->sec_path, false, &db->sec_dev, &db->sec_ino);
	return r;
}

/* Opens the connection without checking the schema (init needs that). */
enum udb_result
udb_db_open_raw(const char *dbdir, enum udb_open_mode mode, bool transient, struct udb_db **ret_db)
{
	struct udb_db *db;
	enum udb_result r;
	char *pub_name = NULL, *sec_name = NULL;
	int flags, rc;
	/* The attempt handle opens its one file read-write (write below is
	 * SQLite's open mode, and the -wal and -shm kept as a writer's). */
	bool write = mode == UDB_OPEN_WRITE || mode == UDB_OPEN_SHADOW_ATTEMPT;
	bool has_pub = mode != UDB_OPEN_SHADOW_ONLY && mode != UDB_OPEN_SHADOW_ATTEMPT;
	bool has_sec = mode != UDB_OPEN_PUBLIC;
	/* The writer opens the shadow file as main and attaches the public one:
	 * SQLite commits main first, so a user add reaches the shadow file
	 * before the public one and a user delete leaves the shadow file first. */
	bool sec_main = write || !has_pub;

	if (transient && write)
		return UDB_INTERNAL;

	db = calloc(1, sizeof(*db));
	if (!db)
		return UDB_NO_MEMORY;
	db->mode = mode;
	db->image_lock_fd = -1;
	r = check_paths(db, dbdir, has_pub, has_sec);
	if (r != UDB_OK)
		goto out;

	db->transient = transient;
	pub_name = transient && has_pub ? transient_uri(db->pub_path) : strdup(db->pub_path);
	sec_name = transient && has_sec ? transient_uri(db->sec_path) : strdup(db->sec_path);
	if (!pub_name || !sec_name) {
		r = UDB_NO_MEMORY;
		goto out;
	}
	flags = (write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX |
		SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_PRIVATECACHE |
		(transient || mode == UDB_OPEN_SHADOW_ATTEMPT ? SQLITE_OPEN_URI : 0);
	rc = sqlite3_open_v2(sec_main ? sec_name : pub_name, &db->sql, flags, NULL);
	if (rc != SQLITE_OK) {
		r = db->sql ? udb_sqlite_result(sqlite3_extended_errcode(db->sql)) : UDB_NO_MEMORY;
		goto out;
	}
	configure(db, sec_main, write);

	if (mode == UDB_OPEN_WRITE)
		r = attach(db, pub_name, "pub");
	else if (mode == UDB_OPEN_READ_BOTH)
		r = attach(db, sec_name, "sec");
	else if (mode == UDB_OPEN_SHADOW_ATTEMPT && sqlite3_db_readonly(db->sql, "sec") != 0)
		r = UDB_PERMISSION; /* SQLite fell back to read-only */
	if (r != UDB_OK)
		goto out;
	if (mode == UDB_OPEN_WRITE) {
		int persist = 1;

		sqlite3_file_control(db->sql, "pub", SQLITE_FCNTL_PERSIST_WAL, &persist);
		r = udb_db_exec_sql(db, "PRAGMA foreign_keys = ON; PRAGMA sec.synchronous = FULL; "
					"PRAGMA pub.synchronous = FULL");
	}
out:
	free(pub_name);
	free(sec_name);
	if (r != UDB_OK) {
		udb_db_close(db);
		return r;
	}
	*ret_db = db;
	return UDB_OK;
}

enum udb_result
udb_db_open_checked(const char *dbdir, enum udb_open_mode mode, bool transient,
		    struct udb_db **ret_db)
{
	struct udb_db *db = NULL;
	enum udb_result r;

	r = udb_db_open_raw(dbdir, mode, transient, &db);
	if (r == UDB_OK)
		r = udb_db_check_versions(db, false, NULL);
	/* A credentials handle has only the shadow file: like a public one,
	 * which has only the other, it trusts the file it reads. */
	if (r == UDB_OK && (mode == UDB_OPEN_READ_BOTH || mode == UDB_OPEN_WRITE))
		r = udb_db_check_pair(db);
	if (r != UDB_OK) {
		udb_db_close(db);
		return r;
	}
	*ret_db = db;
	return UDB_OK;
}

enum udb_result
udb_db_open(const char *dbdir, enum udb_open_mode mode, struct udb_db **ret_db)
{
	return udb_db_open_checked(dbdir, mode, false, ret_db);
}

enum udb_result
udb_db_open_transient(const char *dbdir, enum udb_open_mode mode, struct udb_db **ret_db)
{
	enum udb_result r = udb_db_open_checked(dbdir, mode, true, ret_db);

	/* A writer killed in its commit leaves a WAL whose index must be
	 * rebuilt before anyone reads it, which a handle that leaves the
	 * shared-memory index alone cannot do. Until the NSS module stopped
	 * opening the store, some long-lived process usually had the index up
	 * to date; now the transient handle falls back to an ordinary one, which
	 * rebuilds it when this process may write the -shm file (root). */
	if (mode != UDB_OPEN_WRITE && (r == UDB_INTERNAL || r == UDB_BUSY || r == UDB_IO))
		r = udb_db_open_checked(dbdir, mode, false, ret_db);
	return r;
}

bool
udb_db_is_transient(const struct udb_db *db)
{
	return db->transient;
}

/* Whether path is still the file (dev, ino) that was opened and still
 * passes the trust check of udb_check_trusted_stat(). lstat: a path turned
 * into a symlink, even to the same file, counts as replaced; a file that
 * became writable by others or changed owner is no longer current either,
 * so that a long-running process reopens it and refuses it like a new one
 * would, instead of reading what anyone may now write. */
static bool
file_is_current(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_ino == ino && st.st_dev == dev &&
	       udb_check_trusted_stat(&st, 0) == UDB_OK;
}

bool
udb_db_is_current(struct udb_db *db)
{
	if (!file_is_current(db->pub_path, db->pub_dev, db->pub_ino))
		return false;
	return db->mode == UDB_OPEN_PUBLIC ||
	       file_is_current(db->sec_path, db->sec_dev, db->sec_ino);
}

bool
udb_db_has_shadow(const struct udb_db *db)
{
	return db->mode != UDB_OPEN_PUBLIC;
}

void
udb_db_enable_mmap(struct udb_db *db)
{
	char sql[64];

	/* Only a reader that can write the -shm file keeps its view of the
	 * database across transactions. One that cannot (any unprivileged
	 * process) makes SQLite treat every transaction as "changed" and unmap
	 * and remap the whole file each time: 4x slower per lookup at 1M users
	 * than reading pages into the cache. */
	if (db->mode != UDB_OPEN_PUBLIC && db->mode != UDB_OPEN_READ_BOTH)
		return;
	if (db->transient || !sqlite3_get_autocommit(db->sql) || !shm_writable(db->pub_path))
		return;
	snprintf(sql, sizeof(sql), "PRAGMA pub.mmap_size = %lld", READER_MMAP);
	/* Without the map, pages are read into SQLite's cache: slower at a
	 * million users, never wrong. */
	(void)udb_db_exec_sql(db, sql);
}

enum udb_result
udb_db_public_image_generations(struct udb_db *db, uint64_t *ret_base, uint64_t *ret_delta)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	if (!udb_db_has_shadow(db))
		return UDB_PERMISSION;
	/* A generation not recorded yet is 0, as a NULL column read. */
	*ret_base = 0;
	*ret_delta = 0;
	r = udb_stmt(db, UDB_Q_PUBLIC_IMAGE_GENERATIONS, &stmt);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(stmt, 0);
		uint64_t value = (uint64_t)sqlite3_column_int64(stmt, 1);

		if (key && strcmp(key, "image_generation") == 0)
			*ret_base = value;
		else if (key && strcmp(key, "image_delta_generation") == 0)
			*ret_delta = value;
	}
	if (rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_PUBLIC_IMAGE_GENERATIONS);
	return r;
}

const char *
udb_db_dir(const struct udb_db *db)
{
	return db->dbdir;
}

bool
udb_db_has_public(const struct udb_db *db)
{
	return db->mode != UDB_OPEN_SHADOW_ONLY && db->mode != UDB_OPEN_SHADOW_ATTEMPT;
}

enum udb_result
udb_db_data_version(struct udb_db *db, int64_t *ret_version)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_DATA_VERSION, &stmt);
	if (r != UDB_OK)
		return r;
	return udb_stmt_int(db, UDB_Q_DATA_VERSION, ret_version);
}

enum udb_result
udb_db_read_begin(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (db->mode == UDB_OPEN_WRITE || !sqlite3_get_autocommit(db->sql))
		return UDB_INTERNAL;
	r = udb_stmt(db, UDB_Q_BEGIN_READ, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_BEGIN_READ);
	return r;
}

void
udb_db_read_end(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_get_autocommit(db->sql))
		return;
	if (udb_stmt(db, UDB_Q_COMMIT, &stmt) == UDB_OK &&
	    udb_stmt_exec(db, UDB_Q_COMMIT) == UDB_OK)
		return;
	if (udb_stmt(db, UDB_Q_ROLLBACK, &stmt) == UDB_OK)
		udb_stmt_exec(db, UDB_Q_ROLLBACK);
}

void
udb_db_set_busy_timeout(struct udb_db *db, int ms)
{
	db->busy_ms = ms;
	sqlite3_busy_timeout(db->sql, ms);
}
