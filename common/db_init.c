/* Creating a database and upgrading its schema: `userdb init` (through
 * db.h's udb_db_init()), the only caller. It creates or repairs the files'
 * owners and modes, runs the embedded migrations (schema/, schema.h) in one
 * write transaction over both files, resumes an upgrade cut short between
 * the two files' commits, and publishes the images of what it left. Opening
 * and checking the files is db.c's job. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db-internal.h"
#include "schema.h"
#include "trust.h"

/* Creates path with mode if it does not exist, and makes an existing one
 * carry the mode and group given (group -1: leave it). */
static enum udb_result
ensure_file(const char *path, mode_t mode, gid_t group)
{
	enum udb_result r = UDB_OK;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
	if (fd < 0)
		return udb_result_from_errno(errno);
	if (geteuid() == 0 && fchown(fd, 0, group) < 0)
		r = UDB_IO;
	if (r == UDB_OK && fchmod(fd, mode) < 0)
		r = UDB_IO;
	close(fd);
	return r;
}

/* Creates or repairs the six files of dbdir: all root's and 0600, the
 * shadow file's in group shadow, which gives nss-shadow.img its group
 * (image_write.c) and no access to the store. The store is private to root
 * (README "Decisions"): anyone who can open a -shm file can hold a read
 * lock on its write-lock byte and make every write wait; NSS reads the
 * images, other PAM callers go through userdb-chkpwd. SQLite gives a -wal,
 * -shm or journal it creates the owner and mode of its database file. A
 * non-root caller (tests) keeps its own files. It opens and closes them,
 * which would drop the locks of any SQLite connection of this process to
 * them: udb_db_init() calls it only while it has none open. */
static enum udb_result
ensure_files(const char *dbdir)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	struct group *shadow_group = NULL;
	gid_t shadow_gid = (gid_t)-1;
	enum udb_result r = UDB_OK;

	/* getgrnam is fine here: only `userdb init` reaches this code, never
	 * the NSS module. */
	if (geteuid() == 0) {
		shadow_group = getgrnam("shadow");
		shadow_gid = shadow_group ? shadow_group->gr_gid : 0;
	}
	for (size_t i = 0; i < 3 && r == UDB_OK; i++) {
		char pub[4096], sec[4096];

		snprintf(pub, sizeof(pub), "%s/%s%s", dbdir, UDB_PUBLIC_FILE, suffixes[i]);
		snprintf(sec, sizeof(sec), "%s/%s%s", dbdir, UDB_SHADOW_FILE, suffixes[i]);
		r = ensure_file(pub, 0600, geteuid() == 0 ? 0 : (gid_t)-1);
		if (r == UDB_OK)
			r = ensure_file(sec, 0600, shadow_gid);
	}
	return r;
}

static enum udb_result
random_hex(char *buf, size_t bytes)
{
	unsigned char raw[32];

	if (bytes > sizeof(raw) || getrandom(raw, bytes, 0) != (ssize_t)bytes)
		return UDB_IO;
	for (size_t i = 0; i < bytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	return UDB_OK;
}

/* After udb_db_check_versions() found the files at different versions: an upgrade
 * cut short between the shadow file's commit and the public file's leaves
 * the shadow file ahead (by every migration that upgrade applied).
 * Migrations from schema 2 on can run twice (see schema/0002-*.sql), so the
 * upgrade resumes from the public file's version when that is 1 or more. A
 * brand-new database (both 0) stays 0; anything else is corrupt. */
static enum udb_result
upgrade_cut_short(struct udb_db *db, unsigned *ret_version)
{
	unsigned pub = 0, sec = 0;
	enum udb_result r;

	r = udb_db_read_user_version(db, "pub", &pub);
	if (r == UDB_OK)
		r = udb_db_read_user_version(db, "sec", &sec);
	if (r != UDB_OK)
		return r;
	if (pub == sec && pub == 0)
		*ret_version = 0;
	else if (pub >= 1 && sec > pub && sec <= udb_migration_count)
		*ret_version = pub;
	else
		return UDB_CORRUPT;
	return UDB_OK;
}

/* Runs one migration statement by statement. A migration cut short
 * between the two files' commits runs again (schema/0002-*.sql): an ALTER
 * TABLE .. ADD COLUMN, which SQLite cannot make conditional, is skipped
 * when the column is there already. */
static enum udb_result
exec_migration(struct udb_db *db, const char *sql)
{
	const char *next = sql;
	int rc = SQLITE_OK;

	while (rc == SQLITE_OK && next && *next) {
		const char *start = next;
		sqlite3_stmt *stmt = NULL;

		rc = sqlite3_prepare_v2(db->sql, start, -1, &stmt, &next);
		if (rc == SQLITE_ERROR &&
		    strstr(sqlite3_errmsg(db->sql), "duplicate column name")) {
			/* The statement (which has no ';' inside) is skipped. */
			const char *end = strchr(start, ';');

			rc = SQLITE_OK;
			next = end ? end + 1 : NULL;
			continue;
		}
		if (rc != SQLITE_OK || !stmt)
			break;
		do
			rc = sqlite3_step(stmt);
		while (rc == SQLITE_ROW);
		sqlite3_finalize(stmt);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	return udb_sqlite_result(rc);
}

static enum udb_result
apply_migrations(struct udb_db *db, unsigned from)
{
	enum udb_result r = UDB_OK;
	char sql[256];

	for (unsigned v = from; v < udb_migration_count && r == UDB_OK; v++) {
		r = exec_migration(db, udb_migrations[v]);
		if (r == UDB_OK) {
			snprintf(sql, sizeof(sql),
				 "PRAGMA pub.user_version = %u; PRAGMA sec.user_version = %u",
				 v + 1, v + 1);
			r = udb_db_exec_sql(db, sql);
		}
	}
	if (r == UDB_OK && from == 0) {
		char pair[33];

		r = random_hex(pair, 16);
		if (r == UDB_OK) {
			snprintf(sql, sizeof(sql),
				 "INSERT INTO pub.meta VALUES ('pair', '%s'), ('generation', 0), "
				 "('file', 'public'); INSERT INTO sec.meta VALUES ('pair', '%s'), "
				 "('generation', 0), ('file', 'shadow')",
				 pair, pair);
			r = udb_db_exec_sql(db, sql);
		}
	}
	return r;
}

/* Rebuilds both images from the store: an empty write transaction, whose
 * commit writes them. */
static enum udb_result
publish_images(const char *dbdir)
{
	struct udb_db *db = NULL;
	enum udb_result r;

	r = udb_db_open_checked(dbdir, UDB_OPEN_WRITE, false, &db);
	if (r == UDB_OK)
		r = udb_db_begin(db);
	if (r == UDB_OK)
		r = udb_db_commit(db);
	udb_db_close(db);
	return r;
}

enum udb_result
udb_db_init(const char *dbdir, unsigned *ret_old_version)
{
	struct udb_db *db = NULL;
	enum udb_result r;
	unsigned version = 0;
	struct udb_trust_problem problem;

	/* Before anything is created or chowned: an untrusted ancestor, a
	 * pre-created directory or planted files would otherwise be adopted
	 * (trust.c says why). */
	r = udb_trust_check_dbdir(dbdir, &problem);
	if (r != UDB_OK)
		return r;
	if (mkdir(dbdir, 0755) == 0) {
		/* mkdir applies root's umask; unprivileged NSS readers need 0755. */
		if (chmod(dbdir, 0755) < 0)
			return udb_result_from_errno(errno);
	} else if (errno != EEXIST) {
		return udb_result_from_errno(errno);
	}
	r = ensure_files(dbdir);
	if (r == UDB_OK)
		r = udb_db_open_raw(dbdir, UDB_OPEN_WRITE, false, &db);
	if (r == UDB_OK)
		r = udb_db_exec_sql(db,
				    "PRAGMA sec.journal_mode = WAL; PRAGMA pub.journal_mode = WAL");
	if (r == UDB_OK)
		r = udb_db_exec_sql(db, "BEGIN IMMEDIATE");
	if (r == UDB_OK) {
		r = udb_db_check_versions(db, true, &version);
		if (r == UDB_CORRUPT && version == 0)
			r = upgrade_cut_short(db, &version);
		if (r == UDB_OK)
			r = apply_migrations(db, version);
		if (r == UDB_OK && version > 0)
			r = udb_db_check_pair(db);
		r = udb_db_exec_sql(db, r == UDB_OK ? "COMMIT" : "ROLLBACK") == UDB_OK ? r : UDB_IO;
	}
	if (r == UDB_OK)
		udb_db_checkpoint(db);
	udb_db_close(db);
	/* SQLite may have created -wal and -shm with the caller's umask; make
	 * sure they exist with the files' modes so unprivileged readers work. */
	if (r == UDB_OK)
		r = ensure_files(dbdir);
	if (r == UDB_OK)
		r = publish_images(dbdir);
	if (r == UDB_OK && ret_old_version)
		*ret_old_version = version;
	return r;
}
