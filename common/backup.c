/* `userdb backup` and `userdb restore`: see backup.h for what a backup is
 * and what a restore keeps. Called by cli/backup.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "db-internal.h"

static const char *const schemas[2] = {"pub", "sec"};
static const char *const files[2] = {UDB_PUBLIC_FILE, UDB_SHADOW_FILE};

static enum udb_result
exec(struct udb_db *db, const char *sql)
{
	return udb_sqlite_result(sqlite3_exec(db->sql, sql, NULL, NULL, NULL));
}

static enum udb_result
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum udb_result r = UDB_OK;

	if (fd < 0)
		return udb_result_from_errno(errno);
	if (fsync(fd) != 0)
		r = UDB_IO;
	close(fd);
	return r;
}

/* Copies schema of db's connection, in its open read transaction, into a
 * new file at path (0600). */
static enum udb_result
copy_out(struct udb_db *db, const char *schema, const char *path)
{
	sqlite3 *dest = NULL;
	sqlite3_backup *b;
	enum udb_result r;
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return udb_result_from_errno(errno);
	close(fd);
	rc = sqlite3_open_v2(path, &dest, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		b = sqlite3_backup_init(dest, "main", db->sql, schema);
		if (!b) {
			rc = sqlite3_errcode(dest);
		} else {
			/* One step: the whole file from the one snapshot. */
			rc = sqlite3_backup_step(b, -1);
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
			if (sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_OK)
				rc = sqlite3_errcode(dest);
		}
	}
	/* A backup is a plain file: no -wal or -shm beside it when read. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	r = udb_sqlite_result(rc);
	if (sqlite3_close(dest) != SQLITE_OK && r == UDB_OK)
		r = UDB_IO;
	if (r == UDB_OK)
		r = fsync_path(path);
	return r;
}

enum udb_result
udb_db_backup(struct udb_db *db, const char *dir)
{
	char path[2][4096];
	enum udb_result r;

	if (!udb_db_has_shadow(db) || !udb_db_has_public(db))
		return UDB_PERMISSION;
	for (int i = 0; i < 2; i++)
		if ((size_t)snprintf(path[i], sizeof(path[i]), "%s/%s", dir, files[i]) >=
		    sizeof(path[i]))
			return UDB_INVALID;
	if (mkdir(dir, 0700) != 0)
		return errno == EEXIST ? UDB_EXISTS : udb_result_from_errno(errno);
	/* A change commits the shadow file, then the public file: a reader
	 * can see one without the other. The copy is taken while holding the
	 * writers' lock (transaction.c), so it is of one moment of both;
	 * writers wait for it, readers do not. The read transaction (the
	 * statement reads both files) keeps one snapshot for both copies. */
	r = udb_db_writers_lock(db);
	if (r == UDB_OK) {
		sqlite3_stmt *stmt = NULL;

		r = exec(db, "BEGIN DEFERRED");
		if (r == UDB_OK)
			r = udb_stmt(db, UDB_Q_GENERATIONS, &stmt);
		if (r == UDB_OK) {
			int rc = sqlite3_step(stmt);

			r = rc == SQLITE_ROW ? UDB_OK : udb_sqlite_result(rc);
			udb_stmt_done(db, UDB_Q_GENERATIONS);
		}
		for (int i = 0; i < 2 && r == UDB_OK; i++)
			r = copy_out(db, schemas[i], path[i]);
		if (!sqlite3_get_autocommit(db->sql))
			exec(db, "COMMIT");
		udb_db_writers_unlock(db);
	}
	if (r == UDB_OK)
		r = fsync_path(dir);
	if (r != UDB_OK) {
		for (int i = 0; i < 2; i++)
			unlink(path[i]);
		rmdir(dir);
	}
	return r;
}

/* Meta rows that belong to the live files, not to their contents: which
 * file it is, the pair, the generations (transaction.c). */
#define KEPT_META                                                                                  \
	"('file', 'pair', 'generation', 'image_generation', 'shadow_image_generation', "           \
	"'image_delta_generation', 'shadow_image_delta_generation', 'keys_image_generation')"

/* One statement per table of the backup's schema, for phase 0 (empty the
 * live table) or 1 (fill it from the backup). */
static enum udb_result
restore_table(struct udb_db *db, int i, const char *table, int phase)
{
	char sql[1024];
	const char *s = schemas[i];

	/* The audit trail is the store's history, not part of its state; the
	 * image change tables say what the live images lack, and the restore's
	 * own changes are recorded into them at its commit. */
	if (strcmp(table, "audit") == 0 || strcmp(table, "image_changes") == 0)
		return UDB_OK;
	if (strcmp(table, "id_allocator") == 0) {
		/* Ids are never handed out twice: a mark never goes down. */
		if (phase == 0)
			return UDB_OK;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s.id_allocator SELECT * FROM b%s.id_allocator WHERE true ON "
			 "CONFLICT (kind) DO UPDATE SET high_water = max(high_water, "
			 "excluded.high_water)",
			 s, s);
	} else if (strcmp(table, "meta") == 0) {
		if (phase == 0)
			snprintf(sql, sizeof(sql),
				 "DELETE FROM %s.meta WHERE key NOT IN " KEPT_META, s);
		else
			snprintf(sql, sizeof(sql),
				 "INSERT OR REPLACE INTO %s.meta SELECT * FROM b%s.meta WHERE key "
				 "NOT IN " KEPT_META,
				 s, s);
	} else if (phase == 0) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s.\"%s\"", s, table);
	} else {
		snprintf(sql, sizeof(sql), "INSERT INTO %s.\"%s\" SELECT * FROM b%s.\"%s\"", s,
			 table, s, table);
	}
	return exec(db, sql);
}

/* Every table of the backup's file i, in phase. Names come from the
 * backup's sqlite_master and are quoted; a name with a quote is refused.
 * Parents go in before the tables that refer to them: SQLite's deferred
 * check does not forgive a child row written before its parent. */
static enum udb_result
restore_tables(struct udb_db *db, int i, int phase)
{
	char sql[256];
	sqlite3_stmt *stmt = NULL;
	enum udb_result r = UDB_OK;
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT name FROM b%s.sqlite_master WHERE type = 'table' AND name NOT LIKE "
		 "'sqlite\\_%%' ESCAPE '\\' ORDER BY CASE name WHEN 'roles' THEN 0 WHEN "
		 "'users' THEN 1 WHEN 'accounts' THEN 2 ELSE 3 END, name",
		 schemas[i]);
	rc = sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return udb_sqlite_result(rc);
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(stmt, 0);

		if (!table || strchr(table, '"'))
			r = UDB_CORRUPT;
		else
			r = restore_table(db, i, table, phase);
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	sqlite3_finalize(stmt);
	return r;
}

static enum udb_result
attach_backup(struct udb_db *db, const char *dir)
{
	enum udb_result r = UDB_OK;

	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		char path[4096], sql[64];
		sqlite3_stmt *stmt = NULL;
		int rc;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= sizeof(path))
			return UDB_INVALID;
		snprintf(sql, sizeof(sql), "ATTACH ?1 AS b%s", schemas[i]);
		rc = sqlite3_prepare_v2(db->sql, sql, -1, &stmt, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
			rc = sqlite3_step(stmt);
		}
		sqlite3_finalize(stmt);
		r = rc == SQLITE_DONE || rc == SQLITE_OK ? UDB_OK : udb_sqlite_result(rc);
	}
	return r;
}

static void
detach_backup(struct udb_db *db)
{
	exec(db, "DETACH bpub");
	exec(db, "DETACH bsec");
}

enum udb_result
udb_db_restore(struct udb_db *db, const char *dir)
{
	enum udb_result r;

	r = attach_backup(db, dir);
	if (r == UDB_OK)
		r = udb_db_begin(db);
	if (r != UDB_OK) {
		detach_backup(db);
		return r;
	}
	/* Rows go in table by table: their references are checked at the
	 * commit. Everything is emptied first, so that no ON DELETE CASCADE
	 * removes rows already copied. */
	udb_db_mark_cross_file(db);
	udb_db_mark_keys_changed(db);
	r = exec(db, "PRAGMA defer_foreign_keys = ON");
	for (int phase = 0; phase < 2 && r == UDB_OK; phase++)
		for (int i = 0; i < 2 && r == UDB_OK; i++)
			r = restore_tables(db, i, phase);
	if (r != UDB_OK)
		udb_db_rollback(db);
	else
		r = udb_db_commit(db);
	detach_backup(db);
	return r;
}
