/* Shared between the files of common/ only: the handle's layout, the
 * statement cache and the SQLite result mapping. Nothing outside common/
 * includes this. */
#ifndef UDB_DB_INTERNAL_H
#define UDB_DB_INTERNAL_H

#include <sqlite3.h>
#include <sys/types.h>

#include "db.h"
#include "sql.h"

/* Two SQLite sessions, one per file, capture a transaction's changes for
 * the change hook (changeset.c); each has a filter context. */
#define UDB_CHANGE_SESSIONS 2
struct sqlite3_session;
struct udb_change_filter {
	struct udb_db *db;
	const char *schema;
};

struct udb_db {
	sqlite3 *sql;
	enum udb_open_mode mode;
	sqlite3_stmt *stmts[UDB_Q_COUNT];
	char *dbdir;
	char *pub_path;
	char *sec_path;
	dev_t pub_dev, sec_dev;
	ino_t pub_ino, sec_ino;
	unsigned tx_depth;
	bool tx_failed;
	bool tx_cross_file;
	int busy_ms;                 /* the busy timeout in force, restored after a checkpoint */
	bool transient;              /* opened by udb_db_open_transient() */
	unsigned tx_images;          /* images the open transaction may change */
	unsigned tx_images_forced;   /* images found out of step at its begin */
	int image_lock_fd;           /* held from the outermost begin to the install */
	struct udb_change_hook hook; /* udb_db_set_change_hook(); send NULL: none */
	struct sqlite3_session *sessions[UDB_CHANGE_SESSIONS]; /* open while capturing */
	struct udb_change_filter filters[UDB_CHANGE_SESSIONS];
	bool tx_keys_changed;  /* keys.img must be rebuilt (sql.h's udb_sql_changes_keys) */
	bool tx_rebuild_bases; /* a base is missing or stale: no delta over it */
	/* image_changes.c's own pair, open from the outermost begin on */
	struct sqlite3_session *image_sessions[UDB_CHANGE_SESSIONS];
	bool tx_marked; /* the transaction changed something an image shows */
	bool outbox;    /* queue PAM's events for central (outbox.h) */
};

/* Returns the prepared statement for q, ready to bind. The caller must call
 * udb_stmt_done() on every path once finished with it. */
enum udb_result udb_stmt(struct udb_db *db, enum udb_query q, sqlite3_stmt **ret_stmt);
void udb_stmt_done(struct udb_db *db, enum udb_query q);

/* Steps a statement that returns no rows (or whose rows are ignored). */
enum udb_result udb_stmt_exec(struct udb_db *db, enum udb_query q);

enum udb_result udb_sqlite_result(int rc);
/* Runs a statement taking two ids (or an id and text, when text is not
 * NULL) and reports whether a row changed (role.c, grant.c). */
enum udb_result udb_stmt_exec_pair(struct udb_db *db, enum udb_query q, int64_t a, int64_t b,
				   const char *text, bool *ret_changed);

/* Steps a bound statement and collects column 0 of every row as strings;
 * finishes the statement. */
enum udb_result udb_stmt_collect_text(struct udb_db *db, enum udb_query q, char ***ret_v,
				      size_t *ret_n);
/* Steps a bound statement expecting one row and returns column 0 as an
 * integer; finishes the statement. UDB_NOT_FOUND without a row. */
enum udb_result udb_stmt_int(struct udb_db *db, enum udb_query q, int64_t *ret_value);

/* The plan SQLite chooses for statement q on this handle: the detail column
 * of EXPLAIN QUERY PLAN ("SEARCH u USING INDEX ...", "SCAN accounts"), one
 * step per line, malloc'd; "" for a statement without one (BEGIN, PRAGMA).
 * For the plan audit of the write path (tests/unit/test_sql.c). */
enum udb_result udb_stmt_plan(struct udb_db *db, enum udb_query q, char **ret_plan);

/* Binds text, or NULL when s is NULL. */
int udb_bind_text(sqlite3_stmt *stmt, int index, const char *s);
/* Binds an optional time: 0 is stored as NULL. */
int udb_bind_time(sqlite3_stmt *stmt, int index, int64_t t);
/* Reads an optional time: NULL reads as 0. */
int64_t udb_column_time(sqlite3_stmt *stmt, int index);
/* strdup of a text column ("" for NULL); NULL on allocation failure. */
char *udb_column_strdup(sqlite3_stmt *stmt, int index);

/* Rewrites a user's ready-made passwd entry (schema 2's pub.passwd_entries)
 * from its users row, inside the caller's transaction; after every change
 * to the row (user.c, rename.c). */
enum udb_result udb_user_refresh_passwd_entry(struct udb_db *db, int64_t id);

/* Holds off every writer (they all take the image lock first, see
 * transaction.c) without a transaction of its own, for a copy of both
 * files of one moment (backup.c), and for a login attempt that decides
 * under the writers' locks without writing (attempt.c). Not while a
 * transaction is open. */
enum udb_result udb_db_writers_lock(struct udb_db *db);
void udb_db_writers_unlock(struct udb_db *db);

/* Opening and checking the files (db.c), shared with db_init.c, which
 * creates and upgrades them. open_raw opens without looking at the schema
 * (init needs that); open_checked also checks both files' versions against
 * this build's and their pair id. check_versions with allow_old accepts an
 * older schema and reports it in ret_version. */
enum udb_result udb_db_open_raw(const char *dbdir, enum udb_open_mode mode, bool transient,
				struct udb_db **ret_db);
enum udb_result udb_db_open_checked(const char *dbdir, enum udb_open_mode mode, bool transient,
				    struct udb_db **ret_db);
enum udb_result udb_db_check_versions(struct udb_db *db, bool allow_old, unsigned *ret_version);
enum udb_result udb_db_check_pair(struct udb_db *db);
enum udb_result udb_db_read_user_version(struct udb_db *db, const char *schema,
					 unsigned *ret_version);
enum udb_result udb_db_exec_sql(struct udb_db *db, const char *sql);
/* errno of a failed file operation as a result (db.c). */
enum udb_result udb_result_from_errno(int e);
/* Empties both WALs if no reader is in the way, without waiting
 * (transaction.c); called after every commit and by udb_db_init. */
void udb_db_checkpoint(struct udb_db *db);

/* How many entries changed since the bases a delta may hold before a write
 * rebuilds the bases instead (transaction.c, invariant 10). */
#define UDB_IMAGE_DELTA_MAX 4096

/* The image writer (image_write.c), called by the transaction code only.
 * build writes the new files of the images in which beside the old ones,
 * from the open transaction's snapshot, stamped with generation: the bases
 * whole, or (delta) the deltas over the installed bases, whose generations
 * base_generation[0] (public) and [1] (shadow) must be; UDB_NOT_FOUND
 * when such a base is not installed. install renames them into place
 * after the commit (new bases remove the deltas) and bumps nss.gen;
 * discard removes what build wrote (after a rollback). */
enum udb_result udb_image_build(struct udb_db *db, unsigned which, bool delta, uint64_t generation,
				const uint64_t base_generation[2]);
enum udb_result udb_image_install(struct udb_db *db, unsigned which, bool delta);
void udb_image_discard(struct udb_db *db, unsigned which);
/* The generation in the header of an installed image or delta; UDB_NOT_FOUND
 * when there is none, UDB_CORRUPT when it is not a readable image. kind is
 * an enum udb_img_kind. */
enum udb_result udb_image_read_generation(const char *dbdir, int kind, uint64_t *ret_generation);

/* What a write transaction changes in what the images show
 * (image_changes.c), called by transaction.c: start at the outermost begin,
 * record into the change tables before the COMMIT (ends the capture), stop
 * on a rollback. */
enum udb_result udb_image_changes_start(struct udb_db *db);
enum udb_result udb_image_changes_record(struct udb_db *db);
void udb_image_changes_stop(struct udb_db *db);

/* The change hook's capture (changeset.c), called by transaction.c: start
 * at the outermost begin (a no-op without a hook), take the changeset
 * (sqlite3_free it; size 0 when nothing captured changed) before the
 * COMMIT, stop on a rollback. take and stop end the capture. */
enum udb_result udb_changes_start(struct udb_db *db);
enum udb_result udb_changes_take(struct udb_db *db, void **ret_changeset, int *ret_size);
void udb_changes_stop(struct udb_db *db);

#endif
