/* The database handle: the public file (schema `pub`) and, when allowed, the
 * shadow file (schema `sec`) on one SQLite connection. Opening checks that
 * neither file is a symlink or writable by anyone but root, and that both
 * belong to the same userdb database. Used by every part of userdb.
 *
 * Journal mode is WAL with persistent, pre-created -wal and -shm files, so
 * an unprivileged reader needs no write access anywhere, a killed writer
 * never blocks or confuses readers, and readers never block writers. Writers
 * checkpoint after every commit so the WAL stays empty.
 *
 * A handle is not thread-safe: the caller serialises access to it. */
#ifndef UDB_DB_H
#define UDB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "result.h"

#define UDB_PUBLIC_FILE "public.db"
#define UDB_SHADOW_FILE "shadow.db"

enum udb_open_mode {
	UDB_OPEN_PUBLIC,    /* read-only, public file only: any user */
	UDB_OPEN_READ_BOTH, /* read-only, both files: root and group shadow */
	UDB_OPEN_WRITE,     /* read-write, both files: root (or the owner) */
	/* read-only, the shadow file alone: accounts by name and nothing that
	 * needs the public file (an authentication); root and group shadow */
	UDB_OPEN_SHADOW_ONLY,
	/* the shadow file alone like UDB_OPEN_SHADOW_ONLY, opened read-write
	 * so that a login attempt can take the write lock to decide a right
	 * password that changes nothing (udb_attempt_accept_unchanged); it
	 * never writes, and udb_db_begin refuses it (a change needs the
	 * public file too). Never transient. root (or the files' owner);
	 * UDB_PERMISSION when the file opens read-only. */
	UDB_OPEN_SHADOW_ATTEMPT,
};

struct udb_db;

enum udb_result udb_db_open(const char *dbdir, enum udb_open_mode mode, struct udb_db **ret_db);

/* The same for a read-only handle that serves a few statements (a PAM
 * transaction, a process's first NSS lookups): cheaper to open when no other
 * process has the database open, since it leaves SQLite's shared-memory index
 * alone, and dearer per transaction (no page cache kept between them, no
 * mmap). mode must not be UDB_OPEN_WRITE. */
enum udb_result udb_db_open_transient(const char *dbdir, enum udb_open_mode mode,
				      struct udb_db **ret_db);
bool udb_db_is_transient(const struct udb_db *db);
void udb_db_close(struct udb_db *db);

/* Creates dbdir and both files (0600, root's and the shadow file in group
 * shadow when run as root: the store is private to root), or brings an
 * existing database up to the current schema. *ret_old_version is the
 * schema version found (0 for a new database). First, before it changes
 * anything, dbdir's ancestors, dbdir if it exists and the database files in
 * it are checked (trust.h): UDB_UNSAFE, or UDB_UNAVAILABLE for a missing
 * ancestor, and udb_trust_check_dbdir() says which path and why. */
enum udb_result udb_db_init(const char *dbdir, unsigned *ret_old_version);

/* The schema version this build writes. */
unsigned udb_db_schema_version(void);

/* False when a file was replaced (other inode, or now a symlink) since the
 * handle was opened, or no longer passes the trust check (owner, mode): the
 * caller should close and reopen. Changes made through SQLite are seen
 * without reopening. */
bool udb_db_is_current(struct udb_db *db);

bool udb_db_has_shadow(const struct udb_db *db);
/* False for a UDB_OPEN_SHADOW_ONLY or UDB_OPEN_SHADOW_ATTEMPT handle, which
 * has the shadow file only. */
bool udb_db_has_public(const struct udb_db *db);

/* Maps the public file into memory (up to SQLite's limit, 2 GiB) for a read-only handle
 * that will serve many lookups, when this process may write the -shm file;
 * a no-op otherwise. Pages are then read without a copy: at a million users
 * the lookups that miss SQLite's cache cost a quarter. Not done at open, so
 * that a process making a handful of lookups does not pay for it. */
void udb_db_enable_mmap(struct udb_db *db);

/* The generations of the public image's base and delta (0: no delta) that
 * the store recorded when it last published them (a handle with the shadow
 * file). Every change to what the image shows records new ones in its own
 * transaction, so an image mapped at exactly these generations shows the
 * store as this read saw it; any other (a writer killed between its
 * commit and the install, a file replaced) may be staler. Used by the PAM
 * module to trust the image's answer to whose name it is. */
enum udb_result udb_db_public_image_generations(struct udb_db *db, uint64_t *ret_base,
						uint64_t *ret_delta);

/* The database directory the handle was opened in. */
const char *udb_db_dir(const struct udb_db *db);

/* SQLite's data_version of the public file on this handle: it differs from
 * the value of an earlier call whenever another connection committed to the
 * public file in between. It may also change without a commit (a reader
 * that cannot write the -shm file sees a new value every time), so it only
 * ever proves that nothing changed. Used by the NSS module to serve glibc's
 * retry with a larger buffer from the result it just computed. */
enum udb_result udb_db_data_version(struct udb_db *db, int64_t *ret_version);

/* A read transaction on a read-only handle, so that the statements of one
 * lookup see one snapshot and pay SQLite's per-transaction locking once
 * instead of once per statement. Every udb_db_read_begin() that returns
 * UDB_OK needs its udb_db_read_end() before the caller returns; it is never
 * kept open between lookups (it would hold back the writers' checkpoints).
 * Used by the NSS module. */
enum udb_result udb_db_read_begin(struct udb_db *db);
void udb_db_read_end(struct udb_db *db);

/* Milliseconds to wait for a writer's lock before UDB_BUSY. */
void udb_db_set_busy_timeout(struct udb_db *db, int ms);

/* Transactions. Every change in common/ runs inside one; calls nest, and only
 * the outermost commit writes. The shadow file commits first, then the
 * public file. A writer killed between the two leaves at most a user that is
 * in one file only; such a user cannot log in and is not shown as a shadow
 * entry, and the next write transaction repairs it (rolls the half-done
 * user add back, finishes the half-done user delete). Files whose
 * generations differ in any other way (one restored from an older backup)
 * make every write fail with UDB_CORRUPT rather than guess. */
enum udb_result udb_db_begin(struct udb_db *db);
enum udb_result udb_db_commit(struct udb_db *db);
void udb_db_rollback(struct udb_db *db);
/* Ends the open transaction by the outcome of the work done in it: commits
 * when r is UDB_OK, else rolls back and returns r. */
enum udb_result udb_db_finish(struct udb_db *db, enum udb_result r);
/* Marks the open transaction as changing rows in both files for one user
 * (user add / delete), so the commit records it for the repair above. */
void udb_db_mark_cross_file(struct udb_db *db);
/* The open transaction changed what `userdb ssh-authorized-keys` serves
 * without a statement sql.h's udb_sql_changes_keys() knows (a changeset
 * applied, a bulk load): its commit rebuilds keys.img. */
void udb_db_mark_keys_changed(struct udb_db *db);

/* The compiled images NSS answers from (image.h). By default the
 * outermost commit of a write transaction rebuilds both from what it
 * commits and installs them after the commit. A transaction that knows it
 * changes less says so right after its udb_db_begin(): which is the set of
 * images it may change (UDB_IMAGES_NONE for a login record or a failure
 * count that starts no lock). Only the outermost transaction's own call
 * counts; an image found out of step with the store (a writer killed
 * between its commit and the install) is rebuilt regardless. */
/* The change hook (fleet mode's admin mirror, fleet-design.md). While a hook
 * is set, every outermost write transaction records what it changes in the
 * tables captures() accepts (schema "pub" or "sec", the table's name) and,
 * before its COMMIT, passes the changeset (SQLite's format; size 0 when none
 * of them changed) to send(), still inside the transaction, so send may
 * write local rows of its own (they are not captured while it runs). A send
 * that fails rolls the whole transaction back and the commit returns its
 * result: nothing changed locally. udb_db_set_change_hook(db, NULL) removes
 * the hook; it is set between transactions only. */
struct udb_change_hook {
	bool (*captures)(const char *schema, const char *table, void *ctx);
	enum udb_result (*send)(struct udb_db *db, const void *changeset, int size, void *ctx);
	void *ctx;
};
void udb_db_set_change_hook(struct udb_db *db, const struct udb_change_hook *hook);

enum udb_image_set {
	UDB_IMAGES_NONE = 0,
	UDB_IMAGE_PUBLIC = 1,
	UDB_IMAGE_SHADOW = 2,
	UDB_IMAGES_ALL = 3,
};
void udb_db_limit_images(struct udb_db *db, unsigned which);

/* Rebuilds both images' bases from the store in a write transaction of its
 * own, so that the deltas beside them go (`userdb compact`, run from a
 * timer). Unless force, does nothing when nothing changed since the bases
 * and they are in step; *ret_folded (may be NULL) is how many changed
 * entries the new bases took in. force also takes in rows written into the
 * store around common/ (with sqlite3), which no delta shows. */
enum udb_result udb_db_compact(struct udb_db *db, bool force, size_t *ret_folded);

#endif
