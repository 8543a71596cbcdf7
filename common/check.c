/* `userdb check`: each file of a pair on its own (integrity, schema
 * version, meta), then the pair (ids and generations), then the images
 * against what the store records. The files are opened read-only one by
 * one, not through udb_db_open(), which refuses a broken pair outright:
 * here it is what must be described. Called by cli/backup.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backup.h"
#include "db-internal.h"
#include "image.h"

struct file_facts {
	bool opened, userdb;
	int version;
	char pair[64];
	long long generation, image_generation, shadow_image_generation;
};

struct found {
	struct udb_check_problem *v;
	size_t max, n;
};

static void
problem(struct found *f, enum udb_check_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (f->n < f->max) {
		f->v[f->n].kind = kind;
		va_start(ap, fmt);
		vsnprintf(f->v[f->n].detail, sizeof(f->v[f->n].detail), fmt, ap);
		va_end(ap);
	}
	f->n++;
}

static long long
meta_int(sqlite3 *s, const char *key)
{
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1", -1,
			       &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			v = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	return v;
}

/* integrity_check's first line; "ok" when the file is sound. */
static void
integrity(sqlite3 *s, char *buf, size_t size)
{
	sqlite3_stmt *stmt = NULL;

	snprintf(buf, size, "integrity_check could not run");
	if (sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
}

static void
read_file(const char *dir, const char *name, bool shadow, struct file_facts *ff, struct found *f)
{
	char path[4096], result[200];
	sqlite3_stmt *stmt = NULL;
	sqlite3 *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_exec(s, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
		problem(f, UDB_CHECK_MISSING, "%s: %s", name,
			s ? sqlite3_errmsg(s) : "cannot open");
		sqlite3_close(s);
		return;
	}
	ff->opened = true;
	integrity(s, result, sizeof(result));
	if (strcmp(result, "ok") != 0)
		problem(f, UDB_CHECK_DAMAGED, "%s: %s", name, result);
	if (sqlite3_prepare_v2(s, "SELECT value FROM meta WHERE key = 'pair'", -1, &stmt, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
		ff->userdb = true;
		snprintf(ff->pair, sizeof(ff->pair), "%s",
			 (const char *)sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	if (!ff->userdb) {
		problem(f, UDB_CHECK_NOT_USERDB, "%s", name);
		sqlite3_close(s);
		return;
	}
	if (sqlite3_prepare_v2(s, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		ff->version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (ff->version != (int)udb_db_schema_version())
		problem(f, UDB_CHECK_SCHEMA, "%s: schema version %d, this userdb's is %u", name,
			ff->version, udb_db_schema_version());
	ff->generation = meta_int(s, "generation");
	if (shadow) {
		ff->image_generation = meta_int(s, "image_generation");
		ff->shadow_image_generation = meta_int(s, "shadow_image_generation");
	}
	sqlite3_close(s);
}

/* The installed image of kind against the generation the store records. */
static void
check_image(const char *dir, int kind, const char *name, long long stored, struct found *f)
{
	uint64_t gen = 0;
	enum udb_result r = udb_image_read_generation(dir, kind, &gen);

	if (r != UDB_OK)
		problem(f, UDB_CHECK_IMAGE, "%s: %s", name, udb_result_to_string(r));
	else if (stored >= 0 && gen != (uint64_t)stored)
		problem(f, UDB_CHECK_IMAGE, "%s: generation %llu, the store records %lld", name,
			(unsigned long long)gen, stored);
}

enum udb_result
udb_check(const char *dir, bool images, struct udb_check_problem *problems, size_t max,
	  size_t *ret_n, long long *ret_generation)
{
	struct file_facts pub = {0}, sec = {0};
	struct found f = {.v = problems, .max = max};

	read_file(dir, UDB_PUBLIC_FILE, false, &pub, &f);
	read_file(dir, UDB_SHADOW_FILE, true, &sec, &f);
	if (pub.userdb && sec.userdb) {
		if (strcmp(pub.pair, sec.pair) != 0)
			problem(&f, UDB_CHECK_NOT_PAIR, "public.db pair %s, shadow.db pair %s",
				pub.pair, sec.pair);
		else if (sec.generation == pub.generation + 1)
			problem(&f, UDB_CHECK_INTERRUPTED,
				"shadow.db generation %lld, public.db %lld", sec.generation,
				pub.generation);
		else if (sec.generation != pub.generation)
			problem(&f, UDB_CHECK_APART, "shadow.db generation %lld, public.db %lld",
				sec.generation, pub.generation);
	}
	if (images && sec.userdb) {
		check_image(dir, UDB_IMG_PUBLIC, UDB_IMAGE_FILE, sec.image_generation, &f);
		check_image(dir, UDB_IMG_SHADOW, UDB_SHADOW_IMAGE_FILE, sec.shadow_image_generation,
			    &f);
	}
	*ret_n = f.n;
	*ret_generation = sec.generation;
	return UDB_OK;
}
