/* initgroups_dyn: the gids of the roles a user effectively has, added to
 * glibc's group list for initgroups(3), getgrouplist(3) and `id`. Called by
 * glibc (nsswitch.conf `group: files userdb`, or an `initgroups:` line).
 * The user's group list is in the public image, with the time windows of
 * grants that start or end, filtered here at the time of the call. */
#include <stdlib.h>

#include "nss_userdb.h"
#include "validate.h"

struct gid_list {
	gid_t primary;
	long *start, *size, limit, before;
	gid_t **groupsp;
	enum udb_result r;
	bool any;
};

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
 * in the list, which another source may have added. The image lists each
 * gid of a user once, so only what was in the list before needs checking. */
static void
add_gid(uint32_t gid32, void *data)
{
	struct gid_list *l = data;
	gid_t gid = (gid_t)gid32;

	l->any = true;
	/* A role's gid goes into the process's credentials: one outside the
	 * served ranges (0 planted in the store) fails the whole answer. */
	if (l->r == UDB_OK && !udb_served_gid(udb_nss_config(), gid32))
		l->r = UDB_CORRUPT;
	if (l->r != UDB_OK || gid == l->primary || has_gid(*l->groupsp, l->before, gid))
		return;
	if (*l->start >= *l->size) {
		long newsize = *l->size > 0 ? 2 * *l->size : 16;
		gid_t *grown;

		if (l->limit > 0 && *l->size >= l->limit)
			return;
		if (l->limit > 0 && newsize > l->limit)
			newsize = l->limit;
		grown = realloc(*l->groupsp, (size_t)newsize * sizeof(**l->groupsp));
		if (!grown) {
			l->r = UDB_NO_MEMORY;
			return;
		}
		*l->groupsp = grown;
		*l->size = newsize;
	}
	(*l->groupsp)[(*l->start)++] = gid;
}

enum nss_status
_nss_userdb_initgroups_dyn(const char *user, gid_t group, long int *start, long int *size,
			   gid_t **groupsp, long int limit, int *errnop)
{
	struct gid_list l = {group, start, size, limit, *start, groupsp, UDB_OK, false};
	const struct udb_img *img = NULL;
	struct udb_img_passwd u;
	enum udb_result r;

	if (!udb_valid_username(user))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	r = udb_nss_image(&img);
	if (r == UDB_OK)
		r = udb_img_user_by_name(img, user, &u);
	if (r == UDB_OK)
		r = udb_img_user_groups(img, &u, udb_now(), add_gid, &l);
	if (r == UDB_OK)
		r = l.r;
	/* Like nss_files: a user in no group here (or no such user) is
	 * NOTFOUND, and glibc goes on with the next source. */
	if (r == UDB_OK && !l.any)
		r = UDB_NOT_FOUND;
	return udb_nss_status(r, errnop);
}
