/* Login attempts: the lockout decided after the hash (see attempt.h).
 * Called by the PAM module and userdb-chkpwd.
 *
 * The caller hashes with no lock held and only then calls in here, which
 * takes the write lock (BEGIN IMMEDIATE, through udb_db_begin) for two or
 * three short statements: whoever started the attempt never holds the
 * write lock while a password is being hashed. A right password that has
 * nothing to change but a second-factor code to use up (no count or lock
 * to reset) is decided under the same locks on the authentication's own
 * handle of the shadow file instead (UDB_OPEN_SHADOW_ATTEMPT), which
 * writes at most the used code: most logins then never open the writer of
 * both files. */
#include <string.h>
#include <sys/statvfs.h>

#include "attempt.h"
#include "db-internal.h"
#include "outbox.h"
#include "totp.h"

/* An accepted attempt with no failures to forget writes nothing, so a full
 * disk would not stop it while every wrong guess goes unrecorded: the
 * guessing would be uncounted. Below this much room (what root may still
 * use) in the shadow file's directory, an attempt counts as one that could
 * not be recorded, whatever its password. */
#define ROOM_FOR_RECORD (64 * 1024)

static enum udb_result
room_to_record(const struct udb_db *db)
{
	struct statvfs st;

	if (statvfs(db->dbdir, &st) != 0)
		return UDB_IO;
	/* A read-only mount records no failure either. */
	if (st.f_flag & ST_RDONLY)
		return UDB_IO;
	if ((unsigned long long)st.f_bfree * st.f_frsize < ROOM_FOR_RECORD)
		return UDB_IO;
	return UDB_OK;
}

/* Columns of UDB_Q_ATTEMPT_STATE. */
enum { STATE_LOCKED_UNTIL, STATE_HASH, STATE_TO_RESET };

/* Whether the account is locked at now, whether its hash is still hash
 * and (ret_to_reset, may be NULL) whether a success has a count or a lock
 * to reset: inside the write transaction, or as one read of its own. */
static enum udb_result
read_state(struct udb_db *db, int64_t user_id, int64_t now, const char *hash, bool *ret_locked,
	   bool *ret_same_hash, bool *ret_to_reset)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_ATTEMPT_STATE, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		int64_t until = udb_column_time(stmt, STATE_LOCKED_UNTIL);
		const char *now_hash = (const char *)sqlite3_column_text(stmt, STATE_HASH);

		*ret_locked = until != 0 && now < until;
		*ret_same_hash = hash && now_hash && strcmp(hash, now_hash) == 0;
		if (ret_to_reset)
			*ret_to_reset = sqlite3_column_int(stmt, STATE_TO_RESET) != 0;
	} else {
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_ATTEMPT_STATE);
	return r;
}

/* Inside the write transaction: one more failure, locking at the deny-th. */
static enum udb_result
count_failure_in_tx(struct udb_db *db, int64_t user_id, int64_t now, unsigned deny,
		    unsigned unlock_time, bool *ret_locked)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_ACCOUNT_FAILURE, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, deny);
	if (unlock_time)
		sqlite3_bind_int64(stmt, 4, now + unlock_time);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		int64_t until = udb_column_time(stmt, 1);

		*ret_locked = until != 0 && now < until;
		rc = sqlite3_step(stmt);
	} else if (rc == SQLITE_DONE) {
		r = UDB_NOT_FOUND;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_ACCOUNT_FAILURE);
	return r;
}

enum udb_result
udb_attempt_record(struct udb_db *db, const struct udb_account *account, bool right, int64_t now,
		   unsigned deny, unsigned unlock_time, enum udb_attempt *ret_attempt)
{
	return udb_attempt_record_code(db, account, right, NULL, 0, now, deny, unlock_time,
				       ret_attempt);
}

enum udb_result
udb_attempt_record_code(struct udb_db *db, const struct udb_account *account, bool right,
			const char *code, unsigned window, int64_t now, unsigned deny,
			unsigned unlock_time, enum udb_attempt *ret_attempt)
{
	sqlite3_stmt *stmt = NULL;
	bool was_locked = false, same_hash = false, now_locked = false, code_right = true;
	enum udb_attempt attempt = UDB_ATTEMPT_WRONG;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	/* What NSS shows changes only when this attempt starts a lock (the
	 * shadow entry's "!"): no image is rebuilt for the rest. */
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = read_state(db, account->user_id, now, account->password_hash, &was_locked, &same_hash,
		       NULL);
	/* The code is checked whatever the password was, and used up only
	 * by an attempt that is accepted. */
	right = right && !was_locked && same_hash;
	if (r == UDB_OK && code)
		r = udb_totp_check_in_tx(db, account->user_id, code, now, window, right,
					 &code_right);
	if (r == UDB_OK && right && code_right)
		r = room_to_record(db);
	if (r == UDB_OK && right && code_right) {
		/* Writes only when there are failures to forget, so that most
		 * logins commit a transaction that changed nothing (no fsync). */
		attempt = UDB_ATTEMPT_ACCEPTED;
		r = udb_stmt(db, UDB_Q_ACCOUNT_SUCCESS, &stmt);
		if (r == UDB_OK) {
			sqlite3_bind_int64(stmt, 1, account->user_id);
			r = udb_stmt_exec(db, UDB_Q_ACCOUNT_SUCCESS);
		}
	} else if (r == UDB_OK) {
		r = count_failure_in_tx(db, account->user_id, now, deny, unlock_time, &now_locked);
		/* A fleet host reports it to central (outbox.h): same
		 * transaction, so no extra write to the disk. */
		if (r == UDB_OK)
			r = udb_outbox_add_in_tx(db, account->user_id, UDB_OUTBOX_FAILURE, now,
						 NULL);
		if (r == UDB_OK && !was_locked && now_locked)
			udb_db_limit_images(db, UDB_IMAGE_SHADOW);
		attempt = was_locked   ? UDB_ATTEMPT_LOCKED
			  : now_locked ? UDB_ATTEMPT_LOCKED_NOW
				       : UDB_ATTEMPT_WRONG;
	}
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	r = udb_db_commit(db);
	if (r == UDB_OK)
		*ret_attempt = attempt;
	return r;
}

/* Ends the attempt handle's transaction: COMMIT when a code was used up
 * in it, else ROLLBACK (nothing was written). */
static enum udb_result
end_attempt_tx(struct udb_db *db, bool commit)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_query q = commit ? UDB_Q_COMMIT : UDB_Q_ROLLBACK;
	enum udb_result r;

	r = udb_stmt(db, q, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, q);
	if (r != UDB_OK && !sqlite3_get_autocommit(db->sql) &&
	    udb_stmt(db, UDB_Q_ROLLBACK, &stmt) == UDB_OK)
		udb_stmt_exec(db, UDB_Q_ROLLBACK);
	return commit ? r : UDB_OK;
}

enum udb_result
udb_attempt_accept_unchanged(struct udb_db *db, const struct udb_account *account, const char *code,
			     unsigned window, int64_t now, bool *ret_accepted)
{
	bool locked = true, same_hash = false, to_reset = true, code_right = true, accept;
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	*ret_accepted = false;
	if (db->mode != UDB_OPEN_SHADOW_ATTEMPT || !sqlite3_get_autocommit(db->sql))
		return UDB_INTERNAL;
	/* The decision needs the shadow file alone: the public file is not
	 * opened here (a damaged one fails the account phase, which opens
	 * both files, and NSS). The writers' locks, as a writer's transaction
	 * would take them (and wait for them): image.lock (every userdb
	 * writer's first), then the shadow file's write lock. While another
	 * writer holds one past the busy timeout, a failure could not be
	 * counted, so no success is given either. The state is read under
	 * them, after the hash: a lock committed while the password was being
	 * hashed is seen here. Only a code is written, used up as the writer
	 * would use it. */
	r = UDB_OK;
	if (code)
		r = udb_db_exec_sql(db, "PRAGMA sec.synchronous = FULL");
	if (r == UDB_OK)
		r = udb_db_writers_lock(db);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_BEGIN_WRITE, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, UDB_Q_BEGIN_WRITE);
	if (r != UDB_OK) {
		udb_db_writers_unlock(db);
		return r;
	}
	r = read_state(db, account->user_id, now, account->password_hash, &locked, &same_hash,
		       &to_reset);
	accept = r == UDB_OK && !locked && same_hash && !to_reset;
	if (accept) {
		r = room_to_record(db);
		accept = r == UDB_OK;
	}
	/* A wrong code is left to the writer, which counts it. */
	if (accept && code) {
		r = udb_totp_check_in_tx(db, account->user_id, code, now, window, true,
					 &code_right);
		accept = r == UDB_OK && code_right;
	}
	if (end_attempt_tx(db, accept && code) != UDB_OK)
		accept = false;
	udb_db_writers_unlock(db);
	/* Keep the WAL empty, as after every commit (transaction.c). */
	if (accept && code)
		udb_db_checkpoint(db);
	*ret_accepted = accept;
	return r;
}
