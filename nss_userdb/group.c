/* group entry points: getgrnam_r, getgrgid_r and enumeration (roles, then
 * personal groups). Called by glibc (nsswitch.conf `group: files userdb`).
 * Groups come from the public image (map.c, image.h): a role with its
 * effective members resolved by the writer, filtered here by the time of
 * the lookup (a grant that ends drops out at its second, with no write); a
 * personal group from its user's entry. Packing is pack.h's. Lookups take
 * no lock; enumeration keeps its cursor under the enumeration lock. */
#include <string.h>

#include "nss_userdb.h"
#include "pack.h"
#include "validate.h"

/* Enumeration: its own mapping of the image, taken at the first call of a
 * pass (one snapshot); roles by index, then users in file order (walk,
 * udb_img_user_next), of which those with a personal group are shown;
 * next: the walk past the user at hand. */
static struct {
	bool open, personal, end;
	struct udb_nss_view view;
	uint32_t index;
	struct udb_img_walk walk, next;
} gr_cursor;

static enum udb_result
pack_personal(const struct udb_img_passwd *u, const struct udb_config *cfg, struct group *grp,
	      char *buf, size_t buflen)
{
	/* The entry's first string is the user name, NUL-ended in the image. */
	struct udb_group g = {.name = (char *)(uintptr_t)u->entry, .gid = u->gid};

	return udb_pack_group(&g, cfg, grp, buf, buflen);
}

enum nss_status
_nss_userdb_getgrnam_r(const char *name, struct group *grp, char *buf, size_t buflen, int *errnop)
{
	const struct udb_img *img = NULL;
	struct udb_img_group role;
	struct udb_img_passwd u;
	enum udb_result r;

	/* Roles and personal groups share the name space; a name that is
	 * neither a valid role name nor a valid user name cannot exist. */
	if (!udb_valid_rolename(name) && !udb_valid_username(name))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	r = udb_nss_image(&img);
	if (r != UDB_OK)
		goto out;
	r = udb_img_role_by_name(img, name, &role);
	if (r == UDB_OK) {
		r = udb_pack_img_role(&role, udb_nss_config(), udb_now(), grp, buf, buflen);
		goto out;
	}
	if (r != UDB_NOT_FOUND || !udb_valid_username(name))
		goto out;
	r = udb_img_user_by_name(img, name, &u);
	if (r == UDB_OK && !u.personal)
		r = UDB_NOT_FOUND;
	if (r == UDB_OK)
		r = pack_personal(&u, udb_nss_config(), grp, buf, buflen);
out:
	return udb_nss_status(r, errnop);
}

enum nss_status
_nss_userdb_getgrgid_r(gid_t gid, struct group *grp, char *buf, size_t buflen, int *errnop)
{
	const struct udb_img *img = NULL;
	struct udb_img_group role;
	struct udb_img_passwd u;
	enum udb_result r;

	if (gid == (gid_t)-1)
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	r = udb_nss_image(&img);
	if (r != UDB_OK)
		goto out;
	r = udb_img_role_by_gid(img, (uint32_t)gid, &role);
	if (r == UDB_OK) {
		r = udb_pack_img_role(&role, udb_nss_config(), udb_now(), grp, buf, buflen);
		goto out;
	}
	if (r != UDB_NOT_FOUND)
		goto out;
	/* A personal group's gid is its user's uid (ids come from one pool,
	 * so no role has it). */
	r = udb_img_user_by_uid(img, (uint32_t)gid, &u);
	if (r == UDB_OK && (!u.personal || u.gid != u.uid))
		r = UDB_NOT_FOUND;
	if (r == UDB_OK)
		r = pack_personal(&u, udb_nss_config(), grp, buf, buflen);
out:
	return udb_nss_status(r, errnop);
}

static void
gr_cursor_reset_locked(void)
{
	if (gr_cursor.open)
		udb_nss_view_close(&gr_cursor.view);
	memset(&gr_cursor, 0, sizeof(gr_cursor));
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
	return _nss_userdb_setgrent(0);
}

/* The group at the cursor, or the cursor moved to the end. */
static enum udb_result
gr_next_locked(struct group *grp, char *buf, size_t buflen)
{
	const struct udb_img *img = &gr_cursor.view.img;
	const struct udb_config *cfg = gr_cursor.view.cfg;
	struct udb_img_group role;
	struct udb_img_passwd u;
	enum udb_result r;

	/* A base record the delta supersedes reads as not found: the delta
	 * has it, after the base's (image.h). */
	for (; !gr_cursor.personal && gr_cursor.index < udb_img_role_count(img);
	     gr_cursor.index++) {
		r = udb_img_role_at(img, gr_cursor.index, &role);
		if (r == UDB_OK)
			r = udb_pack_img_role(&role, cfg, udb_now(), grp, buf, buflen);
		if (r != UDB_NOT_FOUND)
			return r;
	}
	if (!gr_cursor.personal) {
		gr_cursor.personal = true;
		gr_cursor.walk = (struct udb_img_walk){0};
	}
	for (;;) {
		gr_cursor.next = gr_cursor.walk;
		r = udb_img_user_next(img, &gr_cursor.next, &u);
		if (r != UDB_OK)
			break;
		if (u.personal)
			return pack_personal(&u, cfg, grp, buf, buflen);
		gr_cursor.walk = gr_cursor.next;
	}
	if (r != UDB_NOT_FOUND)
		return r;
	gr_cursor_reset_locked();
	gr_cursor.end = true;
	return UDB_NOT_FOUND;
}

enum nss_status
_nss_userdb_getgrent_r(struct group *grp, char *buf, size_t buflen, int *errnop)
{
	enum udb_result r = UDB_OK;
	int cancel;

	cancel = udb_nss_lock();
	if (gr_cursor.end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	if (!gr_cursor.open) {
		r = udb_nss_view_open(&gr_cursor.view);
		if (r != UDB_OK)
			goto out;
		gr_cursor.open = true;
	}
	r = gr_next_locked(grp, buf, buflen);
	/* Not advancing on ERANGE: glibc asks again with a larger buffer. */
	if (r == UDB_OK && gr_cursor.personal)
		gr_cursor.walk = gr_cursor.next;
	else if (r == UDB_OK)
		gr_cursor.index++;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
