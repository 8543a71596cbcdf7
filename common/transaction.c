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
 * 3. A change that adds, deletes or renames a user
 *    (udb_db_mark_cross_file) moves both files' generation one up in the
 *    transaction; the shadow file's commit comes first, so after (2) it is
 *    exactly one ahead.
 * 4. The next write transaction, at its begin, finds the generations one
 *    apart and repairs: an account without a user goes (a half add), a
 *    user without an account goes (a half delete), a name the public file
 *    does not have goes back to the public file's (a half rename: until
 *    then the user logs in under neither name). Generations apart in
 *    any other way (a file restored from an older backup) make every write
 *    fail with UDB_CORRUPT rather than delete users.
 * 5. A user's name in the shadow file is written unconfirmed and confirmed
 *    by the next write transaction, which knows the add reached the public
 *    file (4 has run); authentication checks an unconfirmed name against
 *    the public file, so a half add never logs in.
 * 6. Each image is a base and a delta beside it (image.h). A transaction
 *    publishes deltas: the entries changed since the bases, rebuilt from
 *    its own snapshot before its COMMIT over the installed bases (11),
 *    into new files beside the installed ones; their generation is
 *    recorded in the shadow file in the same transaction. When the bases
 *    are due (10) it rebuilds the bases instead, records their generation
 *    and records no delta. A failure there (a full disk) rolls the change
 *    back.
 * 7. After the COMMIT the new files are renamed over the installed ones
 *    (new bases first, then the old deltas removed) and the word in
 *    nss.gen is bumped, which tells every mapped reader. A delta's rename
 *    is one atomic step; between a new base and the removal of the old
 *    delta, a reader finds a delta of an older base and ignores it (the
 *    new base has all of it), and one that maps a delta of a newer base
 *    than the base it mapped maps both again. Readers see the state before
 *    or after, whole, never a mix.
 * 8. A writer killed between (6)'s COMMIT and (7) leaves the old files:
 *    NSS answers the state before the change. The next write transaction
 *    finds a base whose generation is not the one recorded (or none) and
 *    rebuilds the bases, or a delta out of step and publishes it again,
 *    whatever that transaction changes.
 * 9. After the install the WAL is checkpointed without waiting, so it
 *    stays empty for the readers of the store (PAM) without ever stalling
 *    a writer behind them.
 * 10. The bases are rebuilt (and the change tables emptied) when a base is
 *    missing or out of step (8), when a change reached beyond its entries
 *    (an inclusion between roles, a role's gid or deletion: a delta does
 *    not follow those), or, in a transaction that may publish both images
 *    (an admin's change, not PAM's), once more than UDB_IMAGE_DELTA_MAX
 *    entries changed since the bases; and by udb_db_compact().
 * 11. What changed is known from SQLite sessions on the transaction
 *    (image_changes.c), started at the outermost begin before (4)'s repair
 *    and recorded into the store's change tables before the COMMIT, in the
 *    same transaction: the tables always match the committed store, and a
 *    delta rebuilt from them after any crash is the whole change since the
 *    bases.
 * 12. With a change hook (db.h; fleet mode's admin mirror), the outermost
 *    begin also starts the hook's own capture (changeset.c: sessions of
 *    its own, filtered to the replicated tables), and the commit, before
 *    (6), hands the changeset to the hook, whose failure rolls everything
 *    back. The hook commits central first: a local COMMIT that fails after
 *    it leaves the mirror behind central, not ahead, and the mirror's next
 *    sync brings the change (the hook records central's revision in the
 *    same local transaction, so it is not recorded either). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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
 * user (a half user add) goes, a user with no account (a half user delete)
 * goes too, neither could log in meanwhile; a name the shadow file has and
 * the public file has not (a half rename) goes back to the public file's. */
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
		r = udb_stmt(db, UDB_Q_REPAIR_NAMES_DROP, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_REPAIR_NAMES_DROP);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_REPAIR_NAMES_ADD, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_REPAIR_NAMES_ADD);
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

/* The generations the store says the images were last published at:
 * [0] the public base, [1] the shadow base, [2] and [3] their deltas (0:
 * none). */
enum { GEN_BASE = 0, GEN_DELTA = 2, GEN_COUNT = 4 };

static enum udb_result
stored_image_generations(struct udb_db *db, int64_t ret_gen[GEN_COUNT])
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_IMAGE_GENERATIONS, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < GEN_COUNT; i++)
			ret_gen[i] = sqlite3_column_int64(stmt, i);
	} else {
		r = udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_IMAGE_GENERATIONS);
	return r;
}

/* An image that is missing, unreadable or of another generation than the
 * store says (a writer killed between its commit and the install, a file
 * removed by hand, an older format) is published again by this
 * transaction: a base by rebuilding the bases (6), a delta by building it
 * again from the store's change tables (11). */
static enum udb_result
check_images(struct udb_db *db)
{
	static const int bases[2] = {UDB_IMG_PUBLIC, UDB_IMG_SHADOW};
	static const int deltas[2] = {UDB_IMG_PUBLIC_DELTA, UDB_IMG_SHADOW_DELTA};
	int64_t stored[GEN_COUNT] = {0};
	enum udb_result r;

	r = stored_image_generations(db, stored);
	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		uint64_t gen = 0;

		if (udb_image_read_generation(db->dbdir, bases[i], &gen) != UDB_OK ||
		    gen != (uint64_t)stored[GEN_BASE + i]) {
			db->tx_images_forced |= UDB_IMAGES_ALL;
			db->tx_rebuild_bases = true;
		}
		if (stored[GEN_DELTA + i] != 0 &&
		    (udb_image_read_generation(db->dbdir, deltas[i], &gen) != UDB_OK ||
		     gen != (uint64_t)stored[GEN_DELTA + i]))
			db->tx_images_forced |= 1u << i;
	}
	return r;
}

static enum udb_result
set_image_generation(struct udb_db *db, const char *key, int64_t value)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_IMAGE_SET_GENERATION, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, value);
	return udb_stmt_exec(db, UDB_Q_IMAGE_SET_GENERATION);
}

/* Whether the bases must be rebuilt rather than a delta published (10):
 * a change that reaches beyond its entries, or more changed entries since
 * the bases than a delta should hold (counted only up to that). */
static enum udb_result
bases_due(struct udb_db *db, bool *ret_due)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_IMAGE_CHANGES_PENDING, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, UDB_IMAGE_DELTA_MAX + 1);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*ret_due = sqlite3_column_int(stmt, 1) != 0 ||
			   (db->tx_images == UDB_IMAGES_ALL &&
			    sqlite3_column_int64(stmt, 0) > UDB_IMAGE_DELTA_MAX);
	else
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_IMAGE_CHANGES_PENDING);
	return r;
}

/* Rebuilds both bases, stamped with generation, and empties the change
 * tables they now include. */
static enum udb_result
build_bases(struct udb_db *db, int64_t generation)
{
	static const char *const keys[GEN_COUNT] = {"image_generation", "shadow_image_generation",
						    "image_delta_generation",
						    "shadow_image_delta_generation"};
	enum udb_result r = UDB_OK;
	sqlite3_stmt *stmt = NULL;

	for (int i = 0; i < GEN_COUNT && r == UDB_OK; i++)
		r = set_image_generation(db, keys[i], i < GEN_DELTA ? generation : 0);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_IMAGE_CHANGES_CLEAR_PUB, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_IMAGE_CHANGES_CLEAR_PUB);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_IMAGE_CHANGES_CLEAR_SEC, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_IMAGE_CHANGES_CLEAR_SEC);
	if (r == UDB_OK)
		r = udb_image_build(db, UDB_IMAGES_ALL, false, (uint64_t)generation, NULL);
	return r;
}

/* Stamps the images about to be published with the next generation, in
 * the transaction, and writes their new files: deltas over the installed
 * bases when it can, else new bases (*ret_which then says both). */
static enum udb_result
build_images(struct udb_db *db, unsigned *ret_which, bool *ret_bases)
{
	static const char *const keys[2] = {"image_delta_generation",
					    "shadow_image_delta_generation"};
	int64_t stored[GEN_COUNT] = {0}, next = 0;
	uint64_t base_gen[2];
	bool due = db->tx_rebuild_bases;
	enum udb_result r;

	r = stored_image_generations(db, stored);
	if (r != UDB_OK)
		return r;
	for (int i = 0; i < GEN_COUNT; i++)
		next = stored[i] > next ? stored[i] : next;
	next++;
	if (!due)
		r = bases_due(db, &due);
	for (int i = 0; i < 2 && r == UDB_OK && !due; i++) {
		base_gen[i] = (uint64_t)stored[GEN_BASE + i];
		if (*ret_which & (1u << i))
			r = set_image_generation(db, keys[i], next);
	}
	if (r == UDB_OK && !due) {
		r = udb_image_build(db, *ret_which, true, (uint64_t)next, base_gen);
		/* No base to build over (removed, damaged): rebuild them. */
		due = r == UDB_NOT_FOUND;
		if (due)
			r = UDB_OK;
	}
	*ret_bases = due;
	if (r == UDB_OK && due) {
		*ret_which = UDB_IMAGES_ALL;
		r = build_bases(db, next);
	}
	return r;
}

/* (12): the captured changes go to the hook, inside the transaction. */
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
	db->tx_rebuild_bases = false;
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
	/* Before the repair, whose deletions the images must follow too. */
	r = udb_image_changes_start(db);
	if (r == UDB_OK)
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
	/* An attempt handle wrote the shadow file alone (attempt.c). */
	for (size_t i = 0; i < (udb_db_has_public(db) ? 2u : 1u); i++) {
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
	bool bases = false;

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
	if (r == UDB_OK)
		r = udb_image_changes_record(db);
	/* A change of nothing an image shows (a role's description) publishes
	 * nothing either, unless an image is out of step. */
	if (r == UDB_OK && !db->tx_marked)
		images = db->tx_images_forced;
	if (r == UDB_OK && images)
		r = build_images(db, &images, &bases);
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
	(void)udb_image_install(db, images, !bases);
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
	udb_image_changes_stop(db);
	if (sqlite3_get_autocommit(db->sql))
		return;
	if (udb_stmt(db, UDB_Q_ROLLBACK, &stmt) == UDB_OK)
		udb_stmt_exec(db, UDB_Q_ROLLBACK);
}

enum udb_result
udb_db_finish(struct udb_db *db, enum udb_result r)
{
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

enum udb_result
udb_db_compact(struct udb_db *db, bool force, size_t *ret_folded)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r = udb_db_begin(db);
	int64_t pending = 0;
	int rc;

	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_IMAGE_CHANGES_PENDING, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, INT64_MAX);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			pending = sqlite3_column_int64(stmt, 0) + sqlite3_column_int(stmt, 1);
		else
			r = udb_sqlite_result(rc);
		udb_stmt_done(db, UDB_Q_IMAGE_CHANGES_PENDING);
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	/* Nothing since the bases, and they are in step: nothing to do,
	 * unless the store was written around common/ (by hand). */
	if (force || pending > 0 || db->tx_rebuild_bases) {
		db->tx_rebuild_bases = true;
		db->tx_images_forced |= UDB_IMAGES_ALL;
	} else {
		db->tx_images = UDB_IMAGES_NONE;
	}
	r = udb_db_commit(db);
	if (r == UDB_OK && ret_folded)
		*ret_folded = (size_t)pending;
	return r;
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
