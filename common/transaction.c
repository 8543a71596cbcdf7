/* Write transactions over both files, and the images they publish. Called
 * by every change in common/ through db.h (udb_db_begin, udb_db_commit,
 * udb_db_rollback, udb_db_limit_images, udb_db_mark_cross_file).
 *
 * The commit protocol. A change is one SQLite transaction on one
 * connection that has the shadow file as main and the public file
 * attached; what NSS serves is published as images (image_write.c). These
 * hold whatever a writer is killed at, and the rest of this file keeps
 * them:
 *
 * 1. Writers take image.lock (root's, 0600) before BEGIN IMMEDIATE and
 *    keep it until their images are installed, so images are installed in
 *    the order their changes commit. No other user can open the file.
 * 2. SQLite commits main first: the shadow file, then the public file. A
 *    writer killed between the two leaves at most one user present in one
 *    file only.
 * 3. A change that adds or deletes a user (udb_db_mark_cross_file) moves
 *    both files' generation one up in the transaction; the shadow file's
 *    commit comes first, so after (2) it is exactly one ahead.
 * 4. The next write transaction, at its begin, finds the generations one
 *    apart and repairs: an account without a user goes (a half add), a
 *    user without an account goes (a half delete). Generations apart in
 *    any other way (a file restored from an older backup) make every write
 *    fail with UDB_CORRUPT rather than delete users.
 * 5. A user's name in the shadow file is written unconfirmed and confirmed
 *    by the next write transaction, which knows the add reached the public
 *    file (4 has run); authentication checks an unconfirmed name against
 *    the public file, so a half add never logs in.
 * 6. The images are built from the transaction's own snapshot before its
 *    COMMIT, into new files beside the installed ones, and their
 *    generation is recorded in the shadow file in the same transaction. A
 *    failure there (a full disk) rolls the change back.
 * 7. After the COMMIT the new files are renamed over the installed ones
 *    and the word in nss.gen is bumped, which tells every mapped reader.
 *    Readers see the old image or the new one, whole, never a mix.
 * 8. A writer killed between (6)'s COMMIT and (7) leaves the old images:
 *    NSS answers the state before the change. The next write transaction
 *    finds an image whose generation is not the one recorded (or no image)
 *    and rebuilds it, whatever that transaction changes.
 * 9. After the install the WAL is checkpointed without waiting, so it
 *    stays empty for the readers of the store (PAM) without ever stalling
 *    a writer behind them.
 * 10. With a change hook (db.h; fleet mode's admin mirror), the outermost
 *    begin starts capturing the changes (changeset.c), and the commit,
 *    before (6), hands them to the hook, whose failure rolls everything
 *    back. The hook commits central first: a local COMMIT that fails after
 *    it leaves the mirror behind central, not ahead, and the mirror's next
 *    sync brings the change (the hook records central's revision in the
 *    same local transaction, so it is not recorded either). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "db-internal.h"
#include "image.h"
#include "sshkey_image.h"

static enum udb_result
read_generations(struct udb_db *db, int64_t *ret_pub, int64_t *ret_sec)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_GENERATIONS, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_pub = sqlite3_column_int64(stmt, 0);
		*ret_sec = sqlite3_column_int64(stmt, 1);
	} else {
		r = udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_GENERATIONS);
	return r;
}

static enum udb_result
set_generations(struct udb_db *db, int64_t generation)
{
	static const enum udb_query q[] = {UDB_Q_SET_GENERATION_SEC, UDB_Q_SET_GENERATION_PUB};
	enum udb_result r = UDB_OK;

	for (size_t i = 0; i < 2 && r == UDB_OK; i++) {
		sqlite3_stmt *stmt;

		r = udb_stmt(db, q[i], &stmt);
		if (r != UDB_OK)
			break;
		sqlite3_bind_int64(stmt, 1, generation);
		r = udb_stmt_exec(db, q[i]);
	}
	return r;
}

/* Names added since the last write transaction whose users the public file
 * has: their add finished (see schema/0002-*.sql). Cheap when there are
 * none (a partial index). */
static enum udb_result
confirm_account_names(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_CONFIRM_ACCOUNT_NAMES, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_CONFIRM_ACCOUNT_NAMES);
	return r;
}

/* A writer killed between the two commits of a cross-file change leaves the
 * generations different. Undo what that can leave behind: an account with no
 * user (a half user add) goes, and a user with no account (a half user
 * delete) goes too; neither could log in meanwhile. */
static enum udb_result
repair_if_needed(struct udb_db *db)
{
	int64_t pub = 0, sec = 0;
	enum udb_result r;
	sqlite3_stmt *stmt = NULL;

	r = read_generations(db, &pub, &sec);
	if (r != UDB_OK)
		return r;
	if (pub == sec)
		return confirm_account_names(db);
	/* The shadow file commits first, so a crash leaves it exactly one
	 * generation ahead. Anything else (say, a shadow file restored from an
	 * older backup) is not ours to "repair": deleting users would be wrong. */
	if (sec != pub + 1)
		return UDB_CORRUPT;
	r = udb_stmt(db, UDB_Q_REPAIR_ORPHAN_ACCOUNTS, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_REPAIR_ORPHAN_ACCOUNTS);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_REPAIR_ORPHAN_USERS, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_REPAIR_ORPHAN_USERS);
	if (r == UDB_OK)
		r = set_generations(db, sec);
	if (r == UDB_OK)
		r = confirm_account_names(db);
	return r;
}

/* Writers publish images in the order they commit: the lock file is held
 * from the outermost begin until the images are installed, so a writer
 * that commits later never has its images replaced by an earlier one's.
 * The file is the writer's own (0600): no other user can open, let alone
 * lock, it. Waits up to the busy timeout, like SQLite's own lock. */
static void
image_unlock(struct udb_db *db)
{
	if (db->image_lock_fd >= 0)
		close(db->image_lock_fd);
	db->image_lock_fd = -1;
}

static enum udb_result
image_lock(struct udb_db *db)
{
	char path[4096];
	int waited = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", db->dbdir, UDB_IMAGE_LOCK_FILE) >=
	    sizeof(path))
		return UDB_INVALID;
	db->image_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (db->image_lock_fd < 0)
		return udb_result_from_errno(errno);
	while (flock(db->image_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= db->busy_ms) {
			image_unlock(db);
			return errno == EWOULDBLOCK ? UDB_BUSY : UDB_IO;
		}
		usleep(1000);
		waited++;
	}
	return UDB_OK;
}

enum udb_result
udb_db_writers_lock(struct udb_db *db)
{
	if (db->tx_depth > 0 || db->image_lock_fd >= 0)
		return UDB_INTERNAL;
	return image_lock(db);
}

void
udb_db_writers_unlock(struct udb_db *db)
{
	if (db->tx_depth == 0)
		image_unlock(db);
}

/* The generations the store says the images were last published at. */
static enum udb_result
stored_image_generations(struct udb_db *db, int64_t ret_gen[2])
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_IMAGE_GENERATIONS, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		ret_gen[0] = sqlite3_column_int64(stmt, 0);
		ret_gen[1] = sqlite3_column_int64(stmt, 1);
	} else {
		r = udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_IMAGE_GENERATIONS);
	return r;
}

/* An image that is missing, unreadable or of another generation than the
 * store says (a writer killed between its commit and the install, a file
 * removed by hand, an older format) is rebuilt by this transaction. */
static enum udb_result
check_images(struct udb_db *db)
{
	static const int kinds[2] = {UDB_IMG_PUBLIC, UDB_IMG_SHADOW};
	int64_t stored[2] = {0, 0};
	enum udb_result r;

	r = stored_image_generations(db, stored);
	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		uint64_t gen = 0;

		if (udb_image_read_generation(db->dbdir, kinds[i], &gen) != UDB_OK ||
		    gen != (uint64_t)stored[i])
			db->tx_images_forced |= 1u << i;
	}
	return r;
}

/* Stamps the images about to be rebuilt with the next generation, in the
 * transaction, and writes their new files. */
static enum udb_result
build_images(struct udb_db *db, unsigned which)
{
	static const char *const keys[2] = {"image_generation", "shadow_image_generation"};
	int64_t stored[2] = {0, 0}, next;
	enum udb_result r;

	r = stored_image_generations(db, stored);
	if (r != UDB_OK)
		return r;
	next = (stored[0] > stored[1] ? stored[0] : stored[1]) + 1;
	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		sqlite3_stmt *stmt = NULL;

		if (!(which & (1u << i)))
			continue;
		r = udb_stmt(db, UDB_Q_IMAGE_SET_GENERATION, &stmt);
		if (r != UDB_OK)
			break;
		sqlite3_bind_text(stmt, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, next);
		r = udb_stmt_exec(db, UDB_Q_IMAGE_SET_GENERATION);
	}
	if (r == UDB_OK)
		r = udb_image_build(db, which, (uint64_t)next);
	return r;
}

/* (10): the captured changes go to the hook, inside the transaction. */
static enum udb_result
send_changes(struct udb_db *db)
{
	void *changeset = NULL;
	enum udb_result r;
	int size = 0;

	r = udb_changes_take(db, &changeset, &size);
	if (r == UDB_OK)
		r = db->hook.send(db, changeset, size, db->hook.ctx);
	sqlite3_free(changeset);
	return r;
}

enum udb_result
udb_db_begin(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	if (db->mode != UDB_OPEN_WRITE)
		return UDB_PERMISSION;
	if (db->tx_depth++ > 0)
		return UDB_OK;
	db->tx_failed = false;
	db->tx_cross_file = false;
	db->tx_keys_changed = false;
	db->tx_images = UDB_IMAGES_ALL;
	db->tx_images_forced = UDB_IMAGES_NONE;
	r = image_lock(db);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_BEGIN_WRITE, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_BEGIN_WRITE);
	if (r != UDB_OK) {
		image_unlock(db);
		db->tx_depth = 0;
		return r;
	}
	r = repair_if_needed(db);
	if (r == UDB_OK)
		r = check_images(db);
	if (r == UDB_OK)
		r = udb_changes_start(db);
	if (r != UDB_OK)
		udb_db_rollback(db);
	return r;
}

void
udb_db_limit_images(struct udb_db *db, unsigned which)
{
	if (db->tx_depth == 1)
		db->tx_images = which & UDB_IMAGES_ALL;
}

void
udb_db_checkpoint(struct udb_db *db)
{
	static const char *const schemas[] = {"sec", "pub"};

	/* Keep the WAL empty: readers without write access to -shm must scan
	 * the whole WAL on every transaction. Without waiting, though: a
	 * TRUNCATE checkpoint holds the writer lock while its busy handler
	 * waits for readers to leave the WAL, so under steady lookups it
	 * would stall every other writer (PAM counting a failed login) for
	 * the whole busy timeout. PASSIVE copies what it can and never waits;
	 * TRUNCATE then empties the WAL only if no reader is in the way, and
	 * otherwise the next commit tries again. */
	sqlite3_busy_timeout(db->sql, 0);
	for (size_t i = 0; i < 2; i++) {
		sqlite3_wal_checkpoint_v2(db->sql, schemas[i], SQLITE_CHECKPOINT_PASSIVE, NULL,
					  NULL);
		sqlite3_wal_checkpoint_v2(db->sql, schemas[i], SQLITE_CHECKPOINT_TRUNCATE, NULL,
					  NULL);
	}
	sqlite3_busy_timeout(db->sql, db->busy_ms);
}

enum udb_result
udb_db_commit(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r = UDB_OK;
	int64_t pub = 0, sec = 0;
	unsigned images;
	bool keys = false;

	if (db->tx_depth == 0)
		return UDB_INTERNAL;
	if (--db->tx_depth > 0)
		return UDB_OK;
	if (db->tx_failed) {
		/* Depth is 0 now; rollback only acts on the outermost level. */
		db->tx_depth = 1;
		udb_db_rollback(db);
		return UDB_INTERNAL;
	}
	images = db->tx_images | db->tx_images_forced;
	if (db->hook.send)
		r = send_changes(db);
	if (r == UDB_OK && db->tx_cross_file) {
		r = read_generations(db, &pub, &sec);
		if (r == UDB_OK)
			r = set_generations(db, pub + 1);
	}
	if (r == UDB_OK && images)
		r = build_images(db, images);
	/* keys.img (sshkey_image.c) is rebuilt when the keys or the account
	 * state they depend on changed, whatever images this change limited
	 * itself to. */
	if (r == UDB_OK)
		r = udb_keys_image_prepare(db, &keys);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_COMMIT, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_COMMIT);
	if (r != UDB_OK) {
		udb_image_discard(db, images);
		if (keys)
			udb_keys_image_discard(db);
		db->tx_depth = 1;
		udb_db_rollback(db);
		return r;
	}
	/* Committed: a failure to install leaves the images one change
	 * behind until the next write, which finds them out of step and
	 * rebuilds them; the change itself stands. */
	(void)udb_image_install(db, images);
	if (keys)
		(void)udb_keys_image_install(db);
	image_unlock(db);
	udb_db_checkpoint(db);
	return UDB_OK;
}

void
udb_db_rollback(struct udb_db *db)
{
	sqlite3_stmt *stmt = NULL;

	if (db->tx_depth == 0)
		return;
	if (--db->tx_depth > 0) {
		db->tx_failed = true;
		return;
	}
	image_unlock(db);
	udb_changes_stop(db);
	if (sqlite3_get_autocommit(db->sql))
		return;
	if (udb_stmt(db, UDB_Q_ROLLBACK, &stmt) == UDB_OK)
		udb_stmt_exec(db, UDB_Q_ROLLBACK);
}

void
udb_db_mark_cross_file(struct udb_db *db)
{
	db->tx_cross_file = true;
}

void
udb_db_mark_keys_changed(struct udb_db *db)
{
	db->tx_keys_changed = true;
}
