/* A fleet host's push (sync-internal.h): the outbox (outbox.h) goes to
 * central through userdb.host_push() (schema/central/0004-*.sql), in one
 * central transaction, CHUNK parts per call, as parallel arrays. Central
 * names the host from the session's login; nothing here says which host
 * this is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "sync-internal.h"

#define CHUNK 1000

/* A growing text buffer for one array literal. */
struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *grown = realloc(b->s, cap);

		if (!grown) {
			b->failed = true;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
put_int(struct buf *b, int64_t v)
{
	char num[24];

	put(b, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, v));
}

/* A quoted array element: every '"' and '\' escaped. */
static void
put_text(struct buf *b, const char *s)
{
	put(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(b, "\\", 1);
		put(b, s, 1);
	}
	put(b, "\"", 1);
}

enum { A_USER, A_KIND, A_SEQ, A_COUNT, A_AT, A_DETAIL, N_ARRAYS };

/* One call of userdb.host_push() for v[0..n). */
static enum udb_result
push_chunk(struct udb_sync *s, const char *stream, const struct udb_outbox_entry *v, size_t n,
	   struct udb_sync_report *rep)
{
	struct buf a[N_ARRAYS] = {0};
	const char *params[N_ARRAYS + 1];
	enum udb_result r = UDB_OK;
	PGresult *res;

	for (unsigned k = 0; k < N_ARRAYS; k++)
		put(&a[k], "{", 1);
	for (size_t i = 0; i < n; i++) {
		const char *sep = i ? "," : "";

		for (unsigned k = 0; k < N_ARRAYS; k++)
			put(&a[k], sep, strlen(sep));
		put_int(&a[A_USER], v[i].user_id);
		put_text(&a[A_KIND], v[i].kind == UDB_OUTBOX_LOGIN ? "login" : "failure");
		put_int(&a[A_SEQ], v[i].seq);
		put_int(&a[A_COUNT], v[i].count);
		put_int(&a[A_AT], v[i].at);
		put_text(&a[A_DETAIL], v[i].detail);
	}
	params[0] = stream;
	for (unsigned k = 0; k < N_ARRAYS; k++) {
		put(&a[k], "}", 1);
		if (a[k].failed)
			r = UDB_NO_MEMORY;
		params[k + 1] = a[k].s;
	}
	if (r == UDB_OK) {
		res = PQexecParams(s->pg,
				   "SELECT userdb.host_push($1, $2::bigint[], $3::text[], "
				   "$4::bigint[], $5::bigint[], $6::bigint[], $7::text[])",
				   N_ARRAYS + 1, NULL, params, NULL, NULL, 0);
		if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			rep->fleet_locked += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		} else {
			r = udb_sync_result_of(res, s->pg);
			udb_sync_set_detail(rep->detail, sizeof(rep->detail),
					    PQerrorMessage(s->pg));
		}
		PQclear(res);
	}
	for (unsigned k = 0; k < N_ARRAYS; k++)
		free(a[k].s);
	return r;
}

enum udb_result
udb_sync_push(struct udb_sync *s, struct udb_db *db, struct udb_sync_report *rep)
{
	struct udb_outbox_entry *v = NULL;
	char stream[65];
	enum udb_result r;
	size_t n = 0;

	r = udb_outbox_take(db, &v, &n, stream, sizeof(stream));
	if (r != UDB_OK) {
		udb_sync_set_detail(rep->detail, sizeof(rep->detail), udb_result_to_string(r));
		return r;
	}
	if (n == 0)
		return UDB_OK;
	r = udb_sync_run(s, "BEGIN", PGRES_COMMAND_OK, NULL, rep->detail, sizeof(rep->detail));
	for (size_t i = 0; i < n && r == UDB_OK; i += CHUNK)
		r = push_chunk(s, stream, v + i, n - i < CHUNK ? n - i : CHUNK, rep);
	if (r == UDB_OK)
		r = udb_sync_run(s, "COMMIT", PGRES_COMMAND_OK, NULL, rep->detail,
				 sizeof(rep->detail));
	else
		(void)udb_sync_run(s, "ROLLBACK", PGRES_COMMAND_OK, NULL, NULL, 0);
	free(v);
	if (r != UDB_OK) {
		rep->fleet_locked = 0;
		return r;
	}
	/* Killed here, the marks stay: the next push resends the same parts,
	 * which central ignores (outbox.h). */
	rep->pushed = n;
	r = udb_outbox_done(db);
	if (r != UDB_OK)
		udb_sync_set_detail(rep->detail, sizeof(rep->detail), udb_result_to_string(r));
	return r;
}
