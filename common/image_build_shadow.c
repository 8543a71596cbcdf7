/* Building the shadow image (format in image.h) from the store, inside
 * the write transaction that publishes it: each account's name, hash and
 * the fields a shadow entry is computed from, in user id order, and the
 * table by name. The delta's accounts (image_delta.c) are read with the
 * same row function. Called by image_write.c and image_delta.c only,
 * through image-internal.h. Every statement is in sql.c. */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "image-internal.h"
#include "image.h"

/* ACCOUNT_COLUMNS after the name, as UDB_Q_IMAGE_ACCOUNTS reads them. */
enum image_account_col {
	IA_NAME,
	IA_USER_ID,
	IA_HASH,
	IA_CHANGED,
	IA_MIN,
	IA_MAX,
	IA_WARN,
	IA_INACTIVE,
	IA_MUST_CHANGE,
	IA_ENABLED,
	IA_NOT_BEFORE,
	IA_NOT_AFTER,
	IA_FAILED_COUNT,
	IA_LAST_FAILED,
	IA_LOCKED_UNTIL,
};

static int32_t
column_days(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int(st, i);
}

void
udb_image_account_row(sqlite3_stmt *st, struct udb_image_buf *pool, struct udb_image_buf *recs)
{
	const char *name = (const char *)sqlite3_column_text(st, IA_NAME);
	const char *hash = (const char *)sqlite3_column_text(st, IA_HASH);
	struct udb_img_account a = {0};

	a.name_len = (uint32_t)strlen(name ? name : "");
	a.name_off = udb_image_pool_add(pool, name ? name : "", a.name_len);
	a.hash_off = UDB_IMG_NO_HASH;
	if (hash) {
		a.hash_len = (uint32_t)strlen(hash);
		a.hash_off = udb_image_pool_add(pool, hash, a.hash_len);
	}
	a.password_changed_at = udb_column_time(st, IA_CHANGED);
	a.min_days = column_days(st, IA_MIN);
	a.max_days = column_days(st, IA_MAX);
	a.warn_days = column_days(st, IA_WARN);
	a.inactive_days = column_days(st, IA_INACTIVE);
	a.must_change = sqlite3_column_int(st, IA_MUST_CHANGE) != 0;
	a.is_enabled = sqlite3_column_int(st, IA_ENABLED) != 0;
	a.not_before = udb_column_time(st, IA_NOT_BEFORE);
	a.not_after = udb_column_time(st, IA_NOT_AFTER);
	a.failed_count = sqlite3_column_int(st, IA_FAILED_COUNT);
	a.last_failed_at = udb_column_time(st, IA_LAST_FAILED);
	a.locked_until = udb_column_time(st, IA_LOCKED_UNTIL);
	udb_image_buf_add(recs, &a, sizeof(a));
}

enum udb_result
udb_image_account_table(struct udb_image_sections *im)
{
	struct udb_image_buf *pool = &im->sect[UDB_IMG_S_STRINGS];
	struct udb_image_buf *recs = &im->sect[UDB_IMG_S_USERS];
	uint32_t n = (uint32_t)(recs->len / sizeof(struct udb_img_account));
	uint32_t *keys = malloc((n ? n : 1) * sizeof(*keys));
	enum udb_result r;

	if (!keys)
		return UDB_NO_MEMORY;
	for (uint32_t i = 0; i < n; i++) {
		const struct udb_img_account *a = (const void *)(recs->p + i * sizeof(*a));

		keys[i] = udb_img_hash_name((const char *)pool->p + a->name_off, a->name_len);
	}
	r = udb_image_table_build(&im->sect[UDB_IMG_S_USER_BY_NAME], keys, NULL, n);
	free(keys);
	return r;
}

enum udb_result
udb_image_build_shadow(struct udb_db *db, struct udb_image_sections *ret_im)
{
	struct udb_image_sections im = {0};
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	uint32_t n = 0;
	int rc;

	r = udb_stmt(db, UDB_Q_IMAGE_ACCOUNTS, &st);
	if (r != UDB_OK)
		return r;
	/* In user id order: the ids section is sorted as it is written. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct udb_img_id id = {sqlite3_column_int64(st, IA_USER_ID), n, 0};

		udb_image_account_row(st, &im.sect[UDB_IMG_S_STRINGS], &im.sect[UDB_IMG_S_USERS]);
		udb_image_buf_add(&im.sect[UDB_IMG_S_USER_IDS], &id, sizeof(id));
		n++;
	}
	if (rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_IMAGE_ACCOUNTS);
	for (int s = 0; s < UDB_IMG_S_COUNT && r == UDB_OK; s++)
		if (im.sect[s].failed)
			r = UDB_NO_MEMORY;
	if (r == UDB_OK)
		r = udb_image_account_table(&im);
	if (r != UDB_OK) {
		udb_image_sections_free(&im);
		return r;
	}
	*ret_im = im;
	return UDB_OK;
}
