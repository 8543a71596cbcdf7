/* Writing keys.img (format in sshkey_image.h) inside the write transaction
 * whose changes it must show, and installing it after the COMMIT. Called
 * by transaction.c only, under its image lock, so keys images are
 * installed in the order their changes commit.
 *
 * When: a transaction that was handed a statement that changes a key, an
 * account's enabled state or validity dates, or an account's or user's
 * existence (sql.h's udb_sql_changes_keys(), marked by udb_stmt()) rebuilds
 * the image from its own snapshot, so a change that takes keys away never
 * commits without its image. The image carries a generation, recorded in
 * sec.meta in the same transaction; a transaction that finds the installed
 * file of another generation (a writer killed between its COMMIT and the
 * rename, a file removed or damaged) rebuilds it too. One that touched
 * none of that costs one small query and one header read.
 *
 * Every row is checked again as it is written (the rules of sshkey.c and
 * validate.c): a row planted in the store with sqlite3 marks its user
 * DAMAGED, and that user's lookup fails closed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db-internal.h"
#include "sshkey.h"
#include "sshkey_image.h"
#include "validate.h"

/* Columns of UDB_Q_SSHKEY_IMAGE_ROWS. */
enum {
	COL_USER,
	COL_ENABLED,
	COL_NOT_BEFORE,
	COL_NOT_AFTER,
	COL_OPTIONS,
	COL_TYPE,
	COL_BLOB,
	COL_COMMENT,
	COL_UNTIL,
};

static int
path_of(struct udb_db *db, bool tmp, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s%s%s", db->dbdir, tmp ? "." : "", UDB_KEYS_IMAGE_FILE,
			 tmp ? ".new" : "");

	return n > 0 && (size_t)n < size ? 0 : -1;
}

static enum udb_result
stored_generation(struct udb_db *db, int64_t *ret_gen)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_SSHKEY_IMAGE_GENERATION, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_int(db, UDB_Q_SSHKEY_IMAGE_GENERATION, ret_gen);
	return r;
}

static enum udb_result
store_generation(struct udb_db *db, int64_t gen)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_IMAGE_SET_GENERATION, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_text(stmt, 1, "keys_image_generation", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, gen);
	return udb_stmt_exec(db, UDB_Q_IMAGE_SET_GENERATION);
}

/* Whether the installed image is of generation gen. */
static bool
installed_is(struct udb_db *db, int64_t gen)
{
	struct udb_keys_header h;
	char path[4096];
	bool current;
	int fd;

	if (path_of(db, false, path, sizeof(path)) < 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false;
	current = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		  memcmp(h.magic, UDB_KEYS_MAGIC, sizeof(h.magic)) == 0 &&
		  h.version == UDB_KEYS_VERSION && h.generation == (uint64_t)gen;
	close(fd);
	return current;
}

/* The file being written: records go out as they are made; the index is
 * kept in memory and written last. */
struct writer {
	FILE *f;
	uint64_t at;
	uint64_t *index;
	size_t n, cap;
	/* the user being collected */
	char *user;
	struct udb_keys_rec rec;
	char *keys; /* its keys: struct udb_keys_key, line, padding */
	size_t keys_len, keys_cap;
};

static enum udb_result
put(struct writer *w, const void *p, size_t len)
{
	static const unsigned char zeros[8];
	size_t padded = (len + 7) & ~(size_t)7;

	if (len && fwrite(p, 1, len, w->f) != len)
		return UDB_IO;
	if (padded > len && fwrite(zeros, 1, padded - len, w->f) != padded - len)
		return UDB_IO;
	w->at += padded;
	return UDB_OK;
}

/* Writes the collected user, if any. */
static enum udb_result
flush_user(struct writer *w)
{
	enum udb_result r;

	if (!w->user)
		return UDB_OK;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		uint64_t *grown = realloc(w->index, cap * sizeof(*grown));

		if (!grown)
			return UDB_NO_MEMORY;
		w->index = grown;
		w->cap = cap;
	}
	w->index[w->n++] = w->at;
	w->rec.name_len = (uint32_t)strlen(w->user);
	r = put(w, &w->rec, sizeof(w->rec));
	if (r == UDB_OK)
		r = put(w, w->user, w->rec.name_len);
	if (r == UDB_OK)
		r = put(w, w->keys, w->keys_len);
	free(w->user);
	w->user = NULL;
	w->keys_len = 0;
	return r;
}

static bool
row_is_valid(const char *options, const char *type, const char *blob, const char *comment)
{
	char fp[UDB_SSHKEY_FP_SIZE];
	const char *why;

	return udb_sshkey_valid_options(options, &why) &&
	       udb_sshkey_check_blob(type, blob, fp, &why) == UDB_OK &&
	       udb_sshkey_valid_comment(comment) && !strchr(blob, ' ');
}

static const char *
col_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return s ? (const char *)s : "";
}

/* Appends one key of the current user: its header, then the line. */
static enum udb_result
add_key(struct writer *w, sqlite3_stmt *stmt)
{
	const char *options = col_text(stmt, COL_OPTIONS), *type = col_text(stmt, COL_TYPE),
		   *blob = col_text(stmt, COL_BLOB), *comment = col_text(stmt, COL_COMMENT);
	size_t len = strlen(options) + strlen(type) + strlen(blob) + strlen(comment) + 3;
	size_t need = sizeof(struct udb_keys_key) + ((len + 8) & ~(size_t)7);
	struct udb_keys_key k = {.until = udb_column_time(stmt, COL_UNTIL)};
	int n;

	if (!row_is_valid(options, type, blob, comment))
		w->rec.flags |= UDB_KEYS_DAMAGED;
	if (w->keys_cap - w->keys_len < need) {
		size_t cap = (w->keys_cap + need) * 2;
		char *grown = realloc(w->keys, cap);

		if (!grown)
			return UDB_NO_MEMORY;
		w->keys = grown;
		w->keys_cap = cap;
	}
	n = snprintf(w->keys + w->keys_len + sizeof(k), need - sizeof(k), "%s%s%s %s%s%s", options,
		     *options ? " " : "", type, blob, *comment ? " " : "", comment);
	if (n < 0 || (size_t)n >= need - sizeof(k))
		return UDB_INTERNAL;
	k.line_len = (uint32_t)n;
	memcpy(w->keys + w->keys_len, &k, sizeof(k));
	memset(w->keys + w->keys_len + sizeof(k) + n, 0, need - sizeof(k) - (size_t)n);
	w->keys_len += sizeof(k) + (((size_t)n + 7) & ~(size_t)7);
	w->rec.n_keys++;
	return UDB_OK;
}

static enum udb_result
add_row(struct writer *w, sqlite3_stmt *stmt)
{
	const char *user = col_text(stmt, COL_USER);
	enum udb_result r;

	if (!w->user || strcmp(w->user, user) != 0) {
		r = flush_user(w);
		if (r != UDB_OK)
			return r;
		w->user = strdup(user);
		if (!w->user)
			return UDB_NO_MEMORY;
		w->rec = (struct udb_keys_rec){
			.flags = sqlite3_column_int(stmt, COL_ENABLED) ? UDB_KEYS_ENABLED : 0,
			.not_before = udb_column_time(stmt, COL_NOT_BEFORE),
			.not_after = udb_column_time(stmt, COL_NOT_AFTER),
		};
		if (!udb_valid_username(user))
			w->rec.flags |= UDB_KEYS_DAMAGED;
	}
	return add_key(w, stmt);
}

/* Header (index_off 0 for now), then every user's record. */
static enum udb_result
write_records(struct udb_db *db, struct writer *w, struct udb_keys_header *h)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = put(w, h, sizeof(*h));
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_SSHKEY_IMAGE_ROWS, &stmt);
	if (r != UDB_OK)
		return r;
	while (r == UDB_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
		r = add_row(w, stmt);
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_SSHKEY_IMAGE_ROWS);
	if (r == UDB_OK)
		r = flush_user(w);
	return r;
}

static enum udb_result
build(struct udb_db *db, const char *tmp, int64_t gen)
{
	struct udb_keys_header h = {.version = UDB_KEYS_VERSION, .generation = (uint64_t)gen};
	struct writer w = {0};
	enum udb_result r;
	int fd;

	memcpy(h.magic, UDB_KEYS_MAGIC, sizeof(h.magic));
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return udb_result_from_errno(errno);
	w.f = fdopen(fd, "w");
	if (!w.f) {
		close(fd);
		return UDB_NO_MEMORY;
	}
	r = fchmod(fd, 0644) < 0 ? UDB_IO : UDB_OK;
	if (r == UDB_OK)
		r = write_records(db, &w, &h);
	if (r == UDB_OK && w.n > UINT32_MAX)
		r = UDB_INTERNAL;
	if (r == UDB_OK) {
		h.n_users = (uint32_t)w.n;
		h.index_off = w.at;
		r = put(&w, w.index, w.n * sizeof(*w.index));
	}
	if (r == UDB_OK) {
		h.size = w.at;
		if (fflush(w.f) != 0 || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		    fsync(fd) < 0)
			r = UDB_IO;
	}
	if (fclose(w.f) != 0 && r == UDB_OK)
		r = UDB_IO;
	free(w.index);
	free(w.user);
	free(w.keys);
	if (r != UDB_OK)
		(void)unlink(tmp);
	return r;
}

enum udb_result
udb_keys_image_prepare(struct udb_db *db, bool *ret_built)
{
	int64_t gen = 0;
	char tmp[4096];
	enum udb_result r;

	*ret_built = false;
	r = stored_generation(db, &gen);
	if (r != UDB_OK || (!db->tx_keys_changed && installed_is(db, gen)))
		return r;
	if (path_of(db, true, tmp, sizeof(tmp)) < 0)
		return UDB_INVALID;
	gen++;
	r = store_generation(db, gen);
	if (r == UDB_OK)
		r = build(db, tmp, gen);
	*ret_built = r == UDB_OK;
	return r;
}

enum udb_result
udb_keys_image_install(struct udb_db *db)
{
	char tmp[4096], dst[4096];

	if (path_of(db, true, tmp, sizeof(tmp)) < 0 || path_of(db, false, dst, sizeof(dst)) < 0)
		return UDB_INVALID;
	return rename(tmp, dst) < 0 ? udb_result_from_errno(errno) : UDB_OK;
}

void
udb_keys_image_discard(struct udb_db *db)
{
	char tmp[4096];

	if (path_of(db, true, tmp, sizeof(tmp)) == 0)
		(void)unlink(tmp);
}
