/* A fleet host's outbox (outbox.h): queueing inside the PAM module's write
 * transactions, and the two short transactions of a push around central's
 * (sync_push.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "outbox.h"

#define DETAIL_MAX 255

void
udb_db_set_outbox(struct udb_db *db, bool on)
{
	if (db)
		db->outbox = on;
}

enum udb_result
udb_outbox_add_in_tx(struct udb_db *db, int64_t user_id, enum udb_outbox_kind kind, int64_t at,
		     const char *detail)
{
	sqlite3_stmt *stmt = NULL;
	char cut[DETAIL_MAX + 1];
	int64_t seq = 0;
	enum udb_result r;

	if (!db->outbox)
		return UDB_OK;
	r = udb_stmt(db, UDB_Q_OUTBOX_NEXT_SEQ, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_int(db, UDB_Q_OUTBOX_NEXT_SEQ, &seq);
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_OUTBOX_ADD, &stmt);
	if (r != UDB_OK)
		return r;
	if (detail) {
		snprintf(cut, sizeof(cut), "%s", detail);
		detail = cut;
	}
	sqlite3_bind_int64(stmt, 1, user_id);
	sqlite3_bind_int(stmt, 2, (int)kind);
	sqlite3_bind_int64(stmt, 3, at);
	if (udb_bind_text(stmt, 4, detail) != SQLITE_OK) {
		udb_stmt_done(db, UDB_Q_OUTBOX_ADD);
		return UDB_NO_MEMORY;
	}
	sqlite3_bind_int64(stmt, 5, seq);
	return udb_stmt_exec(db, UDB_Q_OUTBOX_ADD);
}

/* One statement in a write transaction of its own that publishes no
 * image. */
static enum udb_result
write_tx(struct udb_db *db, enum udb_query first, enum udb_query second)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_db_begin(db);
	if (r != UDB_OK)
		return r;
	udb_db_limit_images(db, UDB_IMAGES_NONE);
	r = udb_stmt(db, first, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_exec(db, first);
	if (r == UDB_OK && second != first)
		r = udb_stmt(db, second, &stmt);
	if (r == UDB_OK && second != first)
		r = udb_stmt_exec(db, second);
	if (r != UDB_OK) {
		udb_db_rollback(db);
		return r;
	}
	return udb_db_commit(db);
}

static enum udb_result
read_stream(struct udb_db *db, char *stream, size_t size)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_META_PAIR, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 1))
		snprintf(stream, size, "%s", (const char *)sqlite3_column_text(stmt, 1));
	else
		r = rc == SQLITE_ROW ? UDB_CORRUPT : udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_META_PAIR);
	return r;
}

static enum udb_result
read_marked(struct udb_db *db, struct udb_outbox_entry **ret_v, size_t *ret_n)
{
	struct udb_outbox_entry *v = NULL, *grown;
	sqlite3_stmt *stmt = NULL;
	size_t n = 0, cap = 0;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_OUTBOX_MARKED, &stmt);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(stmt, 5);

		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			v = grown;
		}
		v[n].user_id = sqlite3_column_int64(stmt, 0);
		v[n].kind = sqlite3_column_int(stmt, 1) ? UDB_OUTBOX_LOGIN : UDB_OUTBOX_FAILURE;
		v[n].seq = sqlite3_column_int64(stmt, 2);
		v[n].count = sqlite3_column_int64(stmt, 3);
		v[n].at = sqlite3_column_int64(stmt, 4);
		snprintf(v[n].detail, sizeof(v[n].detail), "%s", detail ? detail : "");
		n++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, UDB_Q_OUTBOX_MARKED);
	if (r != UDB_OK) {
		free(v);
		return r;
	}
	*ret_v = v;
	*ret_n = n;
	return UDB_OK;
}

enum udb_result
udb_outbox_take(struct udb_db *db, struct udb_outbox_entry **ret_v, size_t *ret_n, char *stream,
		size_t stream_size)
{
	int64_t queued = 0;
	enum udb_result r;

	*ret_v = NULL;
	*ret_n = 0;
	r = read_stream(db, stream, stream_size);
	if (r == UDB_OK)
		r = udb_outbox_count(db, &queued);
	if (r != UDB_OK || queued == 0)
		return r;
	r = write_tx(db, UDB_Q_OUTBOX_MARK, UDB_Q_OUTBOX_MARK);
	if (r == UDB_OK)
		r = read_marked(db, ret_v, ret_n);
	return r;
}

enum udb_result
udb_outbox_done(struct udb_db *db)
{
	return write_tx(db, UDB_Q_OUTBOX_TAKE_OFF, UDB_Q_OUTBOX_DROP_SENT);
}

enum udb_result
udb_outbox_count(struct udb_db *db, int64_t *ret_n)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_OUTBOX_COUNT, &stmt);
	if (r == UDB_OK)
		r = udb_stmt_int(db, UDB_Q_OUTBOX_COUNT, ret_n);
	return r;
}
