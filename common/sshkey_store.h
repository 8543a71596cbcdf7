/* A user's SSH public keys in the store: add, delete, list. Keys live in
 * the public file (table pub.ssh_keys, schema/0004-*.sql); what sshd is
 * served comes from keys.img (sshkey_image.h), which the same transaction
 * rebuilds. Called by the CLI. */
#ifndef UDB_SSHKEY_STORE_H
#define UDB_SSHKEY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "sshkey.h"

/* One stored key. */
struct udb_sshkey_row {
	char *type;
	char *fingerprint;
	char *options;
	char *comment;
	char *blob;
	int64_t added_at;
	int64_t until; /* 0: never */
};

void udb_sshkey_rows_free(struct udb_sshkey_row *rows, size_t n);

/* Adds the n parsed keys to user in one transaction, all or none, each
 * with comment (NULL: the key line's own) and until (0: never), added at
 * now. UDB_NOT_FOUND (no such user), UDB_EXISTS with *ret_failed set to
 * the index of a key the user already has (or that comes twice in keys),
 * UDB_INVALID for a comment or until the rules refuse. */
enum udb_result udb_sshkey_add(struct udb_db *db, const char *user, const struct udb_sshkey *keys,
			       size_t n, const char *comment, int64_t until, int64_t now,
			       size_t *ret_failed);
/* UDB_NOT_FOUND when the user does not exist or has no key with that
 * fingerprint (udb_user_by_name() tells which). */
enum udb_result udb_sshkey_delete(struct udb_db *db, const char *user, const char *fingerprint);
/* In the order they were added. */
enum udb_result udb_sshkey_list(struct udb_db *db, const char *user,
				struct udb_sshkey_row **ret_rows, size_t *ret_n);

#endif
