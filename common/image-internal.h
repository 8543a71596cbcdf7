/* Shared by image_build.c, image_delta.c and image_write.c only: the
 * sections of an image being built, each a growing buffer, and the pieces
 * a base and a delta are both made of. Nothing else includes this. */
#ifndef UDB_IMAGE_INTERNAL_H
#define UDB_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "db.h"
#include "image.h"

struct udb_image_buf {
	unsigned char *p;
	size_t len, cap;
	bool failed; /* an allocation failed: the image must not be written */
};

struct udb_image_sections {
	struct udb_image_buf sect[UDB_IMG_S_COUNT];
};

/* The sections of the public or the shadow image, from the open
 * transaction's snapshot. The shadow image's string pool holds hashes:
 * udb_image_sections_free() wipes every buffer before freeing it. */
enum udb_result udb_image_build_public(struct udb_db *db, struct udb_image_sections *ret_im);
enum udb_result udb_image_build_shadow(struct udb_db *db, struct udb_image_sections *ret_im);
void udb_image_sections_free(struct udb_image_sections *im);

/* The deltas over the installed bases (image_delta.c): the entries changed
 * since base was built, as schema/0009-*.sql's tables name them, read
 * from the open transaction's snapshot. */
enum udb_result udb_image_build_public_delta(struct udb_db *db, const struct udb_img_part *base,
					     struct udb_image_sections *ret_im);
enum udb_result udb_image_build_shadow_delta(struct udb_db *db, const struct udb_img_part *base,
					     struct udb_image_sections *ret_im);

/* Appends n bytes (zeros when data is NULL); NULL and b->failed set when
 * memory runs out. */
void *udb_image_buf_add(struct udb_image_buf *b, const void *data, size_t n);
/* Offset of the string s[0..n) in the pool, followed by a NUL. */
uint32_t udb_image_pool_add(struct udb_image_buf *pool, const void *s, size_t n);
/* A hash table over n records: keys[i] is record i's key; its slot leads
 * to refs[i] (NULL: to i). */
enum udb_result udb_image_table_build(struct udb_image_buf *t, const uint32_t *keys,
				      const uint32_t *refs, uint32_t n);
/* The by-name lookup of n users (the hash of user i's name in hashes[i],
 * its record at USERS unit units[i]): NAME_INDEX when the units leave a
 * tag of UDB_IMG_NAME_TAG_MIN_BITS bits or more, else USER_BY_NAME
 * (image.h). */
enum udb_result udb_image_name_index_build(struct udb_image_sections *im, const uint32_t *hashes,
					   const uint32_t *units, uint32_t n);
/* The by-uid lookup of n users (uids[i] in the record at USERS unit
 * units[i]): UID_INDEX when the uids are dense enough that it is at most
 * half the size of the USER_BY_UID table, else that table (image.h). */
enum udb_result udb_image_uid_index_build(struct udb_image_sections *im, const uint32_t *uids,
					  const uint32_t *units, uint32_t n);
/* A user record, with its entry inline, from a row shaped as
 * UDB_Q_IMAGE_USERS's, appended to im's USERS and USER_OFFS; returns the
 * key of its name for the by-name table. */
uint32_t udb_image_user_row(sqlite3_stmt *st, struct udb_image_sections *im);
/* Appends member name[0..len) to the block of role g, being built in im
 * (the block must be the last thing added to the pool). */
void udb_image_block_add(struct udb_image_sections *im, struct udb_img_role *g, const char *name,
			 size_t len);
/* User record idx of im, being built (NULL when memory ran out). */
struct udb_img_user *udb_image_user_rec(struct udb_image_sections *im, uint32_t idx);
/* An account record from a row shaped as UDB_Q_IMAGE_ACCOUNTS's, and the
 * by-name table over every account of im. */
void udb_image_account_row(sqlite3_stmt *st, struct udb_image_buf *pool,
			   struct udb_image_buf *recs);
enum udb_result udb_image_account_table(struct udb_image_sections *im);

#endif
