/* keys.img: every user's SSH keys, compiled for `userdb ssh-authorized-keys`
 * (sshd's AuthorizedKeysCommand, run as `nobody`), which must neither open
 * the store (root's) nor wait for it. Written by the write transaction
 * that changes a key or an account's enabled state, validity dates or
 * existence (sshkey_image.c, called by transaction.c), renamed into place
 * after the commit; world-readable, since keys are public. The reader
 * (sshkey_image_read.c) is pure over the mapped bytes and trusts none of
 * them: a damaged file is UDB_CORRUPT, never a read out of bounds.
 *
 * Layout (integers little-endian as the host writes them, records 8-byte
 * aligned, read with memcpy):
 *   header: magic, version, user count, the generation the store recorded
 *     for it (sec.meta keys_image_generation), file size, index offset;
 *   index: one uint64 record offset per user, in byte order of the names;
 *   record: struct udb_keys_rec, the name, then n_keys times struct
 *     udb_keys_key followed by the line sshd is given (options, type,
 *     blob, comment, blank-separated), each padded to 8.
 * What a lookup serves is decided at lookup time: nothing unless the
 * account is enabled and inside its validity dates, and only keys whose
 * `until` is still ahead. Disabled users are left out by the writer (the
 * file is world-readable and must not say who is disabled); the reader
 * checks the flag all the same. The validity dates of a user with keys
 * are in it, as they must be for the lookup to decide without the store. */
#ifndef UDB_SSHKEY_IMAGE_H
#define UDB_SSHKEY_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct udb_db;

#define UDB_KEYS_IMAGE_FILE "keys.img"
#define UDB_KEYS_MAGIC      "UDBKEYS\n"
#define UDB_KEYS_VERSION    1u

struct udb_keys_header {
	char magic[8];
	uint32_t version;
	uint32_t n_users;
	uint64_t generation;
	uint64_t reserved;
	uint64_t size;
	uint64_t index_off;
};

#define UDB_KEYS_ENABLED 1u
/* The writer found a row that breaks the key rules (planted in the store
 * with sqlite3): the user's lookup fails closed instead of serving it. */
#define UDB_KEYS_DAMAGED 2u

struct udb_keys_rec {
	uint32_t name_len;
	uint32_t n_keys;
	uint32_t flags;
	uint32_t pad;
	int64_t not_before, not_after; /* the account's validity; 0: unbounded */
};

struct udb_keys_key {
	int64_t until; /* 0: never */
	uint32_t line_len;
	uint32_t pad;
};

struct udb_keys_img {
	const unsigned char *base;
	size_t size;
	uint32_t n_users;
	uint64_t index_off;
};

/* Checks the header of len bytes at base (which must stay mapped). */
enum udb_result udb_keys_img_open(const void *base, size_t len, struct udb_keys_img *ret_img);

/* Calls fn once per key of user served at time now, in the order they were
 * added, after checking the user's whole record: UDB_NOT_FOUND for a user
 * without keys, UDB_OK (perhaps with no call) otherwise, UDB_CORRUPT for a
 * damaged record (then fn was not called). */
enum udb_result udb_keys_img_lookup(const struct udb_keys_img *img, const char *user, int64_t now,
				    void (*fn)(const char *line, size_t len, void *data),
				    void *data);

/* Maps dbdir/keys.img read-only: UDB_UNAVAILABLE when it is missing,
 * UDB_PERMISSION, UDB_UNSAFE when it is not a regular file owned by root
 * (or this process's user) and writable by no one else. Unmap with
 * udb_keys_image_unmap(). */
enum udb_result udb_keys_image_map(const char *dbdir, const void **ret_base, size_t *ret_len);
void udb_keys_image_unmap(const void *base, size_t len);

/* The whole lookup of `ssh-authorized-keys`: maps dbdir/keys.img, checks
 * it, calls fn for each key of user served at now (udb_keys_img_lookup())
 * and unmaps it. UDB_NOT_FOUND for a user without keys; the map's and the
 * lookup's failures otherwise. */
enum udb_result udb_keys_image_serve(const char *dbdir, const char *user, int64_t now,
				     void (*fn)(const char *line, size_t len, void *data),
				     void *data);

/* The writer, called by transaction.c inside the outermost write
 * transaction, before its COMMIT: when the transaction changed what the
 * image shows, or the installed keys.img is not of the generation the
 * store recorded (or there is none), records the next generation and
 * builds the new file beside the installed one from the transaction's
 * snapshot, and sets *ret_built. After the
 * COMMIT, install renames it into place; after a rollback, discard removes
 * it. */
enum udb_result udb_keys_image_prepare(struct udb_db *db, bool *ret_built);
enum udb_result udb_keys_image_install(struct udb_db *db);
void udb_keys_image_discard(struct udb_db *db);

#endif
