/* group entry points: getgrnam_r, getgrgid_r and enumeration (roles, then
 * personal groups). Called by glibc (nsswitch.conf `group: files userdb`).
 * Lookups go through group.h, packing through pack.h; this file takes the
 * lock, keeps the enumeration cursor and the retry cache below.
 *
 * The retry cache. A role can have 100,000 effective members; computing
 * them is the expensive part of a lookup, and glibc's getgrnam() starts
 * with a 1 KiB buffer and doubles it after every ERANGE, so such a lookup
 * arrives a dozen times in a row. When a group does not fit, it is kept
 * (one group only) with its key, the second of `now` it was computed for and
 * the public file's data_version, read in the query's transaction (and only
 * then, or when a kept group could serve: it is a statement of its own,
 * which the common path does without). The next lookup of
 * the same key is served from it only if the data_version is unchanged and
 * it is still the same second: the answer is then exactly what a new query
 * would return (membership depends on time only through whole seconds). Any
 * other lookup, a success or a change drops it. The data_version is read in
 * the same read transaction as the query, so it names exactly the snapshot
 * the group comes from. data_version can change
 * without a commit for a reader that cannot write the -shm file (see db.h):
 * such a caller then recomputes, never gets a stale answer. */
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "nss_userdb.h"
#include "pack.h"
#include "validate.h"

struct gr_key {
	bool by_gid;
	uint32_t gid;
	char name[UDB_NAME_MAX + 1];
};

struct gr_retry {
	struct udb_group *group; /* NULL: empty */
	struct gr_key key;
	int64_t now;
	int64_t version;
	uint64_t epoch;
};

/* Enumeration: one buffered page of groups. Guarded by the module lock. */
struct gr_cursor {
	struct udb_group **page;
	size_t n, pos;
	struct udb_group_cursor next;
	bool end;
};

static struct gr_retry gr_retry;
static struct gr_cursor gr_cursor;

static void
gr_retry_drop_locked(void)
{
	udb_group_free(gr_retry.group);
	gr_retry = (struct gr_retry){0};
}

static bool
gr_key_equal(const struct gr_key *a, const struct gr_key *b)
{
	if (a->by_gid != b->by_gid)
		return false;
	return a->by_gid ? a->gid == b->gid : strcmp(a->name, b->name) == 0;
}

/* Looks the group up and packs it: a personal group in one statement, a
 * role in a read transaction, from the retry cache when that is still
 * exact. On ERANGE a role goes into the cache for the retry. */
static enum udb_result
gr_lookup_locked(const struct gr_key *key, struct group *grp, char *buf, size_t buflen)
{
	struct udb_group *g = NULL;
	struct udb_db *db = NULL;
	enum udb_result r;
	int64_t now = udb_now(), version = 0;
	uint64_t epoch;
	bool in_tx = false, have_version = false;

	r = udb_nss_db_locked(UDB_NSS_PUBLIC, &db);
	if (r != UDB_OK)
		goto out;
	/* Most lookups are of personal groups: one statement answers them,
	 * without a transaction of its own. A role, or a key whose group the
	 * retry cache holds, goes on to the transaction below. */
	if (!gr_retry.group || !gr_key_equal(&gr_retry.key, key)) {
		bool is_role = false;

		r = key->by_gid ? udb_group_brief_by_gid(db, key->gid, &g, &is_role)
				: udb_group_brief_by_name(db, key->name, &g, &is_role);
		if (r != UDB_OK || !is_role) {
			gr_retry_drop_locked();
			if (r == UDB_OK)
				r = udb_pack_group(g, udb_nss_config_locked(UDB_NSS_PUBLIC), grp,
						   buf, buflen);
			goto out;
		}
	}
	epoch = udb_nss_db_epoch_locked(UDB_NSS_PUBLIC);
	r = udb_db_read_begin(db);
	if (r != UDB_OK)
		goto out;
	in_tx = true;
	/* SQLite's data_version (a statement of its own) is only needed to
	 * trust a kept result, or to keep one: not on the common path. */
	if (gr_retry.group && gr_retry.epoch == epoch && gr_retry.now == now &&
	    gr_key_equal(&gr_retry.key, key)) {
		r = udb_db_data_version(db, &version);
		if (r != UDB_OK)
			goto out;
		have_version = true;
		if (gr_retry.version == version) {
			g = gr_retry.group;
			gr_retry.group = NULL;
		}
	}
	if (!g && key->by_gid)
		r = udb_group_by_gid(db, key->gid, now, &g);
	else if (!g)
		r = udb_group_by_name(db, key->name, now, &g);
	gr_retry_drop_locked();
	if (r != UDB_OK)
		goto out;
	r = udb_pack_group(g, udb_nss_config_locked(UDB_NSS_PUBLIC), grp, buf, buflen);
	if (r == UDB_BUFFER_TOO_SMALL) {
		/* Kept for glibc's retry with a larger buffer, with the
		 * version of the snapshot it was read from. */
		if (!have_version && udb_db_data_version(db, &version) != UDB_OK)
			goto out;
		gr_retry.group = g;
		gr_retry.key = *key;
		gr_retry.now = now;
		gr_retry.version = version;
		gr_retry.epoch = epoch;
		g = NULL;
	}
out:
	if (in_tx)
		udb_db_read_end(db);
	udb_group_free(g);
	return r;
}

enum nss_status
_nss_userdb_getgrnam_r(const char *name, struct group *grp, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	struct gr_key key = {.by_gid = false};
	enum udb_result r;

	/* Roles and personal groups share the name space; a name that is
	 * neither a valid role name nor a valid user name cannot exist. */
	if (!udb_valid_rolename(name) && !udb_valid_username(name))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	strcpy(key.name, name);
	cancel = udb_nss_lock();
	r = gr_lookup_locked(&key, grp, buf, buflen);
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}

enum nss_status
_nss_userdb_getgrgid_r(gid_t gid, struct group *grp, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	struct gr_key key = {.by_gid = true, .gid = (uint32_t)gid};
	enum udb_result r;

	if (gid == (gid_t)-1)
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	cancel = udb_nss_lock();
	r = gr_lookup_locked(&key, grp, buf, buflen);
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}

static void
gr_cursor_reset_locked(void)
{
	udb_group_list_free(gr_cursor.page, gr_cursor.n);
	gr_cursor = (struct gr_cursor){0};
}

static enum udb_result
gr_cursor_fill_locked(void)
{
	struct udb_group **groups = NULL;
	struct udb_group_cursor next = gr_cursor.next;
	struct udb_db *db = NULL;
	enum udb_result r;
	size_t n = 0;

	r = udb_nss_scan_db_locked(UDB_NSS_PUBLIC, &db);
	if (r != UDB_OK)
		return r;
	/* A page of roles is one query per role for its members: one
	 * snapshot, one lock round trip. */
	r = udb_db_read_begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_group_page(db, &next, next.phase == 0 ? UDB_NSS_ROLE_PAGE : UDB_NSS_PAGE, udb_now(),
			   &groups, &n);
	udb_db_read_end(db);
	if (r != UDB_OK)
		return r;
	udb_group_list_free(gr_cursor.page, gr_cursor.n);
	gr_cursor.page = groups;
	gr_cursor.n = n;
	gr_cursor.pos = 0;
	gr_cursor.next = next;
	gr_cursor.end = n == 0;
	return UDB_OK;
}

enum nss_status
_nss_userdb_setgrent(int stayopen)
{
	int cancel;

	(void)stayopen;
	cancel = udb_nss_lock();
	gr_cursor_reset_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_endgrent(void)
{
	int cancel;

	cancel = udb_nss_lock();
	gr_cursor_reset_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_getgrent_r(struct group *grp, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	const struct udb_config *cfg;
	enum udb_result r = UDB_OK;

	cancel = udb_nss_lock();
	if (gr_cursor.pos == gr_cursor.n && !gr_cursor.end)
		r = gr_cursor_fill_locked();
	if (r != UDB_OK)
		goto out;
	if (gr_cursor.end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	/* The page outlives the connection it came from when a lookup in
	 * between found the files replaced and could not reopen them. */
	cfg = udb_nss_config_locked(UDB_NSS_PUBLIC);
	if (!cfg) {
		r = UDB_UNAVAILABLE;
		goto out;
	}
	r = udb_pack_group(gr_cursor.page[gr_cursor.pos], cfg, grp, buf, buflen);
	/* Not advancing on ERANGE: glibc asks again with a larger buffer. */
	if (r == UDB_OK)
		gr_cursor.pos++;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
