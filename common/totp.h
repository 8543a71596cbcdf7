/* The second factor: TOTP (RFC 6238, through liboath) and single-use
 * recovery codes, stored in the shadow file's second_factors table
 * (schema/0004-second-factor.sql). Called by the admin tool (`userdb totp
 * …`) and by the PAM module (the code after the password, self-enrolment
 * at login), whose check runs inside the login attempt's write
 * transaction (attempt.c).
 *
 * Secrets leave this file only as the base32 text of a new enrolment (for
 * the otpauth:// URI the user scans), which the caller wipes with
 * udb_secret_free(); every other copy is wiped here before it is freed. */
#ifndef UDB_TOTP_H
#define UDB_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "result.h"

#define UDB_TOTP_STEP         30 /* seconds per code, as every authenticator app */
#define UDB_TOTP_DIGITS       6
#define UDB_TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommendation for SHA-1 */
#define UDB_TOTP_WINDOW       1  /* steps accepted either side of now by default */
#define UDB_TOTP_WINDOW_MAX   10
#define UDB_RECOVERY_CODES    10
/* A recovery code as printed: three groups of four base32 letters and
 * digits (60 bits), `abcd-efgh-ijkl`; typed with or without the dashes,
 * in either case. */
#define UDB_RECOVERY_CODE_LEN 14

/* What `totp status` shows and what the PAM module decides on. */
struct udb_totp_state {
	bool enrolled;          /* a confirmed secret is in force */
	bool pending;           /* an enrolment waits for its first right code */
	int64_t confirmed_at;   /* 0 when not enrolled */
	unsigned recovery_left; /* unused recovery codes */
	unsigned recovery_total;
};

/* The user's state; a user without a row is all zero (UDB_OK). Needs the
 * shadow file. */
enum udb_result udb_totp_state(struct udb_db *db, int64_t user_id, struct udb_totp_state *ret);

/* Makes a new random pending secret for user_id (replacing an earlier
 * pending one; a confirmed secret stays in force until the new one is
 * confirmed) and returns it as base32 text in *ret_base32 (the caller
 * wipes it with udb_secret_free). Its own write transaction, or the
 * caller's. */
enum udb_result udb_totp_enroll(struct udb_db *db, int64_t user_id, char **ret_base32);

/* Puts the pending secret in force when code is its code for a step
 * within window of now (the step is then used up). UDB_NOT_FOUND when
 * there is no pending secret, UDB_AUTH_FAILED for a wrong code (nothing
 * changes). Its own write transaction, or the caller's. */
enum udb_result udb_totp_confirm(struct udb_db *db, int64_t user_id, const char *code, int64_t now,
				 unsigned window);

/* Removes the user's second factor, pending secret and recovery codes;
 * *ret_changed is false when there was none. */
enum udb_result udb_totp_disable(struct udb_db *db, int64_t user_id, bool *ret_changed);

/* Makes UDB_RECOVERY_CODES new codes (the old ones stop working), stores
 * their hashes and returns the codes in *ret_codes, an array of
 * UDB_RECOVERY_CODES strings (udb_totp_codes_free). UDB_NOT_FOUND when the
 * user has no confirmed second factor. */
enum udb_result udb_totp_recovery_codes(struct udb_db *db, int64_t user_id, char ***ret_codes);
void udb_totp_codes_free(char **codes);

/* Inside the caller's write transaction (attempt.c): whether code is right
 * for user_id's confirmed secret, either a TOTP code for a step within
 * window of now that is later than the last step used, or one of the
 * unused recovery codes. Every step of the window is computed and compared
 * whatever matches, so the time does not tell which was near. When
 * consume and the code is right, its use is recorded (the step becomes the
 * last used, the recovery code is spent) in the same transaction, so two
 * concurrent logins cannot both use it. A user with no confirmed secret
 * has no right code. */
enum udb_result udb_totp_check_in_tx(struct udb_db *db, int64_t user_id, const char *code,
				     int64_t now, unsigned window, bool consume, bool *ret_right);

/* The otpauth:// URI an authenticator app scans (Google's Key Uri Format):
 * label `issuer:user`, percent-encoded, and the parameters secret, issuer,
 * algorithm SHA1, digits 6, period 30. It carries the secret: the caller
 * frees it with udb_secret_free. NULL when out of memory. */
char *udb_totp_uri(const char *issuer, const char *user, const char *secret_base32);

/* text as a QR code drawn with UTF-8 half blocks (two modules per
 * character cell, dark on a light quiet zone of two modules), lines ended
 * by '\n', through libqrencode; NULL when it cannot be encoded or out of
 * memory (qr.c). For the URI, it carries the secret: udb_secret_free. */
char *udb_qr_text(const char *text);

#endif
