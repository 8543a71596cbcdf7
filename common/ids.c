/* Id allocation by high-water mark: a uid or role gid, once handed out or
 * named, is never handed out again (schema/0003-*.sql). Called by user.c
 * (user add) and role.c (role add) inside their write transaction.
 *
 * Each kind has its range in the configuration and its mark in
 * pub.id_allocator. The ranges may overlap (by default they are the same
 * pool, because a personal group's gid is its uid), so an allocation also
 * steps over the part of the other kind's range that the other mark has
 * already passed: a freed role gid never comes back as a uid, nor a freed
 * uid as a role gid. */
#include <sqlite3.h>

#include "db-internal.h"
#include "ids.h"
#include "user.h"

enum id_mark_column {
	COL_UID_MARK,
	COL_GID_MARK,
};

/* One kind's range and mark. */
struct id_pool {
	int64_t min, max, mark;
};

enum udb_result
udb_id_marks(struct udb_db *db, uint32_t *ret_uid_mark, uint32_t *ret_gid_mark)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_ID_MARKS, &stmt);
	if (r != UDB_OK)
		return r;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		r = rc == SQLITE_DONE ? UDB_INTERNAL : udb_sqlite_result(rc);
	/* The migration creates both rows: a missing one is damage, and
	 * guessing a mark could hand out a used id. */
	else if (sqlite3_column_type(stmt, COL_UID_MARK) != SQLITE_INTEGER ||
		 sqlite3_column_type(stmt, COL_GID_MARK) != SQLITE_INTEGER)
		r = UDB_CORRUPT;
	else {
		*ret_uid_mark = (uint32_t)sqlite3_column_int64(stmt, COL_UID_MARK);
		*ret_gid_mark = (uint32_t)sqlite3_column_int64(stmt, COL_GID_MARK);
	}
	udb_stmt_done(db, UDB_Q_ID_MARKS);
	return r;
}

static enum udb_result
raise_mark(struct udb_db *db, const char *kind, uint32_t id)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_ID_MARK_RAISE, &stmt);
	if (r != UDB_OK)
		return r;
	udb_bind_text(stmt, 1, kind);
	sqlite3_bind_int64(stmt, 2, id);
	return udb_stmt_exec(db, UDB_Q_ID_MARK_RAISE);
}

enum udb_result
udb_id_note_used(struct udb_db *db, const struct udb_config *cfg, enum udb_id_kind kind,
		 uint32_t id)
{
	bool in_uids = id >= cfg->uid_min && id <= cfg->uid_max;
	bool in_gids = id >= cfg->gid_min && id <= cfg->gid_max;

	/* Where the ranges overlap, the other kind's allocations step over
	 * what this mark has passed (see udb_id_allocate), so only an id that
	 * is in the other range alone must move the other mark. */
	if (kind == UDB_ID_UID ? in_uids : in_gids)
		return raise_mark(db, kind == UDB_ID_UID ? "uid" : "gid", id);
	if (kind == UDB_ID_UID ? in_gids : in_uids)
		return raise_mark(db, kind == UDB_ID_UID ? "gid" : "uid", id);
	return UDB_OK;
}

/* The lowest id >= start and <= max that the database does not use;
 * UDB_EXHAUSTED when there is none. */
static enum udb_result
next_free(struct udb_db *db, int64_t start, int64_t max, int64_t *ret_id)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	r = udb_stmt(db, UDB_Q_NEXT_FREE_ID, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, start);
	sqlite3_bind_int64(stmt, 2, max);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		r = udb_sqlite_result(rc);
	else if (sqlite3_column_type(stmt, 0) == SQLITE_NULL)
		r = UDB_EXHAUSTED;
	else
		*ret_id = sqlite3_column_int64(stmt, 0);
	udb_stmt_done(db, UDB_Q_NEXT_FREE_ID);
	return r;
}

/* Searches self's range above its mark, stepping over [skip_lo, skip_hi]:
 * the part of it the other kind's mark has passed (empty when skip_lo >
 * skip_hi). */
static enum udb_result
search(struct udb_db *db, const struct id_pool *self, int64_t skip_lo, int64_t skip_hi,
       bool check_system, uint32_t *ret_id)
{
	int64_t start = self->mark + 1 > self->min ? self->mark + 1 : self->min;

	for (;;) {
		enum udb_result r;
		int64_t candidate = 0;

		if (start >= skip_lo && start <= skip_hi)
			start = skip_hi + 1;
		if (start > self->max)
			return UDB_EXHAUSTED;
		r = next_free(db, start, self->max, &candidate);
		if (r != UDB_OK)
			return r;
		if (candidate >= skip_lo && candidate <= skip_hi) {
			start = skip_hi + 1;
			continue;
		}
		r = udb_id_check_free(db, (uint32_t)candidate, check_system);
		if (r == UDB_OK) {
			*ret_id = (uint32_t)candidate;
			return UDB_OK;
		}
		if (r != UDB_EXISTS && r != UDB_CONFLICT)
			return r;
		start = candidate + 1;
	}
}

enum udb_result
udb_id_allocate(struct udb_db *db, const struct udb_config *cfg, enum udb_id_kind kind,
		bool check_system, uint32_t *ret_id)
{
	struct id_pool uids = {cfg->uid_min, cfg->uid_max, 0};
	struct id_pool gids = {cfg->gid_min, cfg->gid_max, 0};
	const struct id_pool *self, *other;
	uint32_t uid_mark = 0, gid_mark = 0;
	int64_t skip_lo, skip_hi;
	enum udb_result r;
	uint32_t id = 0;

	r = udb_id_marks(db, &uid_mark, &gid_mark);
	if (r != UDB_OK)
		return r;
	uids.mark = uid_mark;
	gids.mark = gid_mark;
	self = kind == UDB_ID_UID ? &uids : &gids;
	other = kind == UDB_ID_UID ? &gids : &uids;
	/* The other kind has handed out (or been given) ids up to its mark
	 * within its range: where that overlaps ours, step over it. */
	skip_lo = other->min > self->min ? other->min : self->min;
	skip_hi = other->mark < self->max ? other->mark : self->max;
	if (other->mark < other->min)
		skip_hi = skip_lo - 1;
	r = search(db, self, skip_lo, skip_hi, check_system, &id);
	if (r == UDB_OK)
		r = udb_id_note_used(db, cfg, kind, id);
	if (r == UDB_OK)
		*ret_id = id;
	return r;
}
