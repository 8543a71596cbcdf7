/* passwd entry points: getpwnam_r, getpwuid_r and enumeration. Called by
 * glibc (nsswitch.conf `passwd: files userdb`). Entries come from the
 * public image (map.c, image.h), packing from pack.h; lookups take no lock,
 * enumeration keeps its cursor under the enumeration lock. */
#include "nss_userdb.h"
#include "pack.h"
#include "validate.h"

/* Enumeration: its own mapping of the image, taken at the first call of a
 * pass, so that a pass is one snapshot; where the walk over the records is
 * (udb_img_user_next walks them in file order). */
static struct {
	bool open, end;
	struct udb_nss_view view;
	struct udb_img_walk walk;
} pw_cursor;

enum nss_status
_nss_userdb_getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	const struct udb_img *img = NULL;
	struct udb_img_passwd u;
	enum udb_result r;

	/* An invalid name cannot exist: answer without the image. */
	if (!udb_valid_username(name))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	r = udb_nss_image(&img);
	if (r == UDB_OK)
		r = udb_img_user_by_name(img, name, &u);
	if (r == UDB_OK)
		r = udb_pack_img_passwd(&u, udb_nss_config(), pwd, buf, buflen);
	return udb_nss_status(r, errnop);
}

enum nss_status
_nss_userdb_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	const struct udb_img *img = NULL;
	struct udb_img_passwd u;
	enum udb_result r;

	/* (uid_t)-1 means "no uid" to the kernel and never names a user. */
	if (uid == (uid_t)-1)
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	r = udb_nss_image(&img);
	if (r == UDB_OK)
		r = udb_img_user_by_uid(img, (uint32_t)uid, &u);
	if (r == UDB_OK)
		r = udb_pack_img_passwd(&u, udb_nss_config(), pwd, buf, buflen);
	return udb_nss_status(r, errnop);
}

static void
pw_cursor_reset_locked(void)
{
	if (pw_cursor.open)
		udb_nss_view_close(&pw_cursor.view);
	pw_cursor.open = false;
	pw_cursor.end = false;
	pw_cursor.walk = (struct udb_img_walk){0};
}

enum nss_status
_nss_userdb_setpwent(int stayopen)
{
	int cancel;

	(void)stayopen;
	cancel = udb_nss_lock();
	pw_cursor_reset_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_endpwent(void)
{
	return _nss_userdb_setpwent(0);
}

enum nss_status
_nss_userdb_getpwent_r(struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	struct udb_img_passwd u;
	struct udb_img_walk next;
	enum udb_result r = UDB_OK;
	int cancel;

	cancel = udb_nss_lock();
	if (pw_cursor.end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	/* Enumeration without setpwent starts at the beginning. */
	if (!pw_cursor.open) {
		r = udb_nss_view_open(&pw_cursor.view);
		if (r != UDB_OK)
			goto out;
		pw_cursor.open = true;
	}
	/* A base user the delta supersedes is skipped: the delta has it,
	 * after the base's (image.h). */
	next = pw_cursor.walk;
	r = udb_img_user_next(&pw_cursor.view.img, &next, &u);
	if (r == UDB_NOT_FOUND) {
		pw_cursor_reset_locked();
		pw_cursor.end = true;
		goto out;
	}
	if (r == UDB_OK)
		r = udb_pack_img_passwd(&u, pw_cursor.view.cfg, pwd, buf, buflen);
	/* glibc retries with a larger buffer after ERANGE, so the cursor must
	 * not advance unless the entry was handed out. */
	if (r == UDB_OK)
		pw_cursor.walk = next;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
