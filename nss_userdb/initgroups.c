/* initgroups_dyn: the gids of the roles a user effectively has, added to
 * glibc's group list for initgroups(3), getgrouplist(3) and `id`. Called by
 * glibc (nsswitch.conf `group: files userdb`, or an `initgroups:` line).
 * One query through group.h instead of glibc's fallback, a scan of every
 * group. */
#include <stdlib.h>

#include "group.h"
#include "nss_userdb.h"
#include "validate.h"

static bool
has_gid(const gid_t *groups, long n, gid_t gid)
{
	for (long i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* glibc's contract, as nss_files keeps it: (*groupsp)[0 .. *start) is in
 * use out of *size entries; grow it with realloc when full, but never past
 * limit when limit > 0 (then stop quietly: the caller asked for no more);
 * leave out the primary gid, which glibc adds itself, and anything already
 * in the list, which another source may have added. */
static enum udb_result
add_gids(const uint32_t *gids, size_t n, gid_t primary, long *start, long *size, gid_t **groupsp,
	 long limit)
{
	/* gids has no repeats (group.h), so only what was in the list before
	 * needs checking: a hundred roles cost a hundred comparisons with
	 * glibc's usual one entry, not five thousand. */
	long before = *start;

	for (size_t i = 0; i < n; i++) {
		gid_t gid = (gid_t)gids[i];

		if (gid == primary || has_gid(*groupsp, before, gid))
			continue;
		if (*start >= *size) {
			long newsize = *size > 0 ? 2 * *size : 16;
			gid_t *grown;

			if (limit > 0 && *size >= limit)
				break;
			if (limit > 0 && newsize > limit)
				newsize = limit;
			grown = realloc(*groupsp, (size_t)newsize * sizeof(**groupsp));
			if (!grown)
				return UDB_NO_MEMORY;
			*groupsp = grown;
			*size = newsize;
		}
		(*groupsp)[(*start)++] = gid;
	}
	return UDB_OK;
}

enum nss_status
_nss_userdb_initgroups_dyn(const char *user, gid_t group, long int *start, long int *size,
			   gid_t **groupsp, long int limit, int *errnop)
{
	int cancel;
	struct udb_db *db = NULL;
	uint32_t *gids = NULL;
	enum udb_result r;
	size_t n = 0;

	if (!udb_valid_username(user))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	cancel = udb_nss_lock();
	r = udb_nss_db_locked(UDB_NSS_PUBLIC, &db);
	if (r == UDB_OK)
		r = udb_user_effective_gids(db, user, udb_now(), &gids, &n);
	/* A role's gid goes into the process's credentials: one outside the
	 * served ranges (0 planted with sqlite3) fails the whole answer. */
	for (size_t i = 0; r == UDB_OK && i < n; i++)
		if (!udb_served_gid(udb_nss_config_locked(UDB_NSS_PUBLIC), gids[i]))
			r = UDB_CORRUPT;
	udb_nss_unlock(cancel);
	/* Like nss_files: a user in no group here (or no such user) is
	 * NOTFOUND, and glibc goes on with the next source. */
	if (r == UDB_OK && n == 0)
		r = UDB_NOT_FOUND;
	if (r == UDB_OK)
		r = add_gids(gids, n, group, start, size, groupsp, limit);
	free(gids);
	return udb_nss_status(r, errnop);
}
