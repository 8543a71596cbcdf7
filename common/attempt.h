/* A login attempt's outcome, decided after the password hash in one write
 * transaction on the shadow file: the lockout check, the failure count and
 * the reset of the count happen together, so that concurrent attempts
 * never lose a count and no attempt that finishes after the lock was
 * taken succeeds, whatever it read before hashing. Called by the PAM
 * module (auth, and the old-password check of a password change) and by
 * the privileged helper userdb-chkpwd. */
#ifndef UDB_ATTEMPT_H
#define UDB_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "db.h"

enum udb_attempt {
	UDB_ATTEMPT_ACCEPTED,   /* right password, account not locked: count reset */
	UDB_ATTEMPT_WRONG,      /* wrong password: counted, not (yet) locked */
	UDB_ATTEMPT_LOCKED_NOW, /* wrong password: counted, and this one locked it */
	UDB_ATTEMPT_LOCKED,     /* locked before this attempt: counted, refused */
};

/* Records the attempt of account->user_id whose password hash verified
 * (right) or not. account is what was read before hashing; the decision is
 * taken on what the write transaction reads: a right password is accepted
 * only if the account is not locked at now and its hash is still the one
 * that was verified (a password changed meanwhile counts as wrong). Any
 * failure to record (busy past the busy timeout, a full disk) is returned
 * and nothing is accepted: the caller must refuse the login. db must be a
 * writer; no transaction is held when the call returns. */
enum udb_result udb_attempt_record(struct udb_db *db, const struct udb_account *account, bool right,
				   int64_t now, unsigned deny, unsigned unlock_time,
				   enum udb_attempt *ret_attempt);

/* udb_attempt_record for a login that also gave a second-factor code
 * (code not NULL): accepted only when the password is right, the account
 * not locked and code right for the user's confirmed second factor
 * (udb_totp_check_in_tx with window), which is decided, and the code used
 * up, in the same write transaction. A user without a confirmed factor has
 * no right code. A wrong code counts like a wrong password. */
enum udb_result udb_attempt_record_code(struct udb_db *db, const struct udb_account *account,
					bool right, const char *code, unsigned window, int64_t now,
					unsigned deny, unsigned unlock_time,
					enum udb_attempt *ret_attempt);

/* A right password decided without the writer of both files, on a
 * UDB_OPEN_SHADOW_ATTEMPT handle, from the shadow file alone (the public
 * file is not opened: the account phase checks it), under the locks every
 * writer takes (image.lock, which every userdb writer takes first, and the
 * shadow file's write lock, waited for as a writer waits; UDB_BUSY past
 * the busy timeout, as a writer would meet): *ret_accepted is true when
 * the account is not locked at now, its hash is still the one that was
 * verified, it has no failure count or lock that a success would reset,
 * the disk has the room a failure would need (a full or read-only disk
 * refuses a right password too, so that guesses cannot go on uncounted
 * there), and, when code is not NULL, code is right for the user's
 * confirmed second factor (udb_totp_check_in_tx with window), which is
 * then used up in the same transaction, the only thing written. Such an
 * attempt is accepted exactly when udb_attempt_record_code would accept
 * it. Otherwise *ret_accepted is false, nothing is written, and the caller
 * records the attempt with udb_attempt_record_code on a writer, which
 * decides it; an error (returned) leaves it false too. No transaction is
 * held on return. */
enum udb_result udb_attempt_accept_unchanged(struct udb_db *db, const struct udb_account *account,
					     const char *code, unsigned window, int64_t now,
					     bool *ret_accepted);

#endif
