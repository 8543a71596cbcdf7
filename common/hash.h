/* Password hashing through libxcrypt: new hashes with the configured method
 * and cost (default: libxcrypt's preferred, yescrypt), verification of any
 * method libxcrypt knows (so imported hashes keep working), the dummy hash
 * that gives unknown users the cost of a wrong password, and secret
 * wiping. Called by the PAM module and the CLI. */
#ifndef UDB_HASH_H
#define UDB_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "result.h"

/* Longest password accepted; longer ones never verify (after the same
 * hashing work as a wrong one) and cannot be set. libxcrypt refuses a
 * passphrase of CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more. */
#define UDB_PASSWORD_MAX 511

/* Longest password bcrypt uses: it ignores every byte past the 72nd. */
#define UDB_PASSWORD_MAX_BCRYPT 72

/* The longest password a new hash of cfg's method takes in full:
 * UDB_PASSWORD_MAX_BCRYPT for bcrypt, UDB_PASSWORD_MAX otherwise. */
size_t udb_hash_password_max(const struct udb_config *cfg);
/* A new hash of password with cfg's method and cost. UDB_INVALID for a
 * password longer than udb_hash_password_max(cfg): bcrypt would silently
 * cut it, so that any password sharing its first 72 bytes would match. */
enum udb_result udb_hash_password(const struct udb_config *cfg, const char *password,
				  char **ret_hash);
/* UDB_OK when password matches hash. A NULL, empty, `*…` or `!…` hash, or
 * an over-long password, never verifies but still costs one hash of the
 * configured method, like a wrong password does. */
enum udb_result udb_hash_verify(const struct udb_config *cfg, const char *password,
				const char *hash);
/* udb_hash_verify that takes as long for an outdated hash (another method
 * or cost, udb_hash_is_outdated) as for a current one, so the time of a
 * wrong password does not tell an imported account from an unknown name:
 * a hash of password in the configured method is made on a second thread
 * while the outdated one is verified. When the password is right, that
 * hash is *ret_new_hash (the caller frees it with udb_secret_free) to
 * replace the outdated one, except on a fleet host (cfg->host), whose
 * hashes are central's; otherwise *ret_new_hash is NULL. An outdated
 * hash that is slower than the configured method is not sped up. */
enum udb_result udb_hash_verify_timed(const struct udb_config *cfg, const char *password,
				      const char *hash, char **ret_new_hash);
/* Spends the time of verifying a password against a hash of the configured
 * method and cost, for a user that does not exist. */
void udb_hash_burn(const struct udb_config *cfg, const char *password);
/* True when hash is not of the configured method and cost, or libxcrypt
 * calls it legacy or too cheap: it should be replaced at the next login. */
bool udb_hash_is_outdated(const struct udb_config *cfg, const char *hash);

/* UDB_OK when cfg's hash_method and hash_cost make a valid setting;
 * UDB_INVALID when the method cannot take the cost (yescrypt 1000, bcrypt
 * 99, sha512's default method with cost 5000 ...), which would make every
 * new hash, and the dummy hash that gives unknown users a wrong password's
 * cost, fail at login time. udb_config_load() does not check this, so that
 * the NSS module never loads libcrypt; the CLI and the PAM module call this
 * right after loading the configuration and refuse it in the same way. */
enum udb_result udb_config_check_hash(const struct udb_config *cfg);

/* UDB_OK when hash may be stored as a user's password hash as it is (an
 * imported hash, `--password-hash-stdin`): `$method$...$hash` with a
 * method libxcrypt knows and has enabled (crypt_checksalt) and a non-empty
 * hash part in crypt's base-64 alphabet, so not `*`, `!` or empty, no `:`
 * and no control character (it becomes a field of a shadow entry), shorter
 * than CRYPT_OUTPUT_SIZE. DES and BSDi hashes (no leading `$`) are refused.
 * UDB_INVALID otherwise. */
enum udb_result udb_hash_check_stored(const char *hash);

/* Whether a and b are the same string, comparing the whole of both in a
 * time that depends only on their lengths. */
bool udb_equal_constant_time(const char *a, const char *b);

/* A hash of a random single-use token (a recovery code, totp.c), cheap on
 * purpose: the token's own entropy is what resists guessing. The caller
 * frees *ret_hash. */
enum udb_result udb_hash_token(const char *token, char **ret_hash);
/* Whether token is the one hash was made from by udb_hash_token. */
bool udb_hash_token_matches(const char *token, const char *hash);

/* explicit_bzero, then free. NULL is a no-op. */
void udb_secret_free(char *secret);

#endif
