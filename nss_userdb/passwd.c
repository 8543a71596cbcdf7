/* passwd entry points: getpwnam_r, getpwuid_r and enumeration. Called by
 * glibc (nsswitch.conf `passwd: files userdb`). Entries come from the
 * public image (map.c, image.h), packing from pack.h; lookups take no lock,
 * enumeration keeps its cursor under the enumeration lock. */
#include "nss_userdb.h"
#include "pack.h"
#include "validate.h"

/* Enumeration: the uid of the last entry handed out. Users are in uid order
 * in every image, so a new image published during a pass is picked up
 * where the pass stands. */
static struct {
	bool started, end;
	int64_t after_uid;
} pw_cursor;

static enum udb_result
pack_user(const struct udb_img_passwd *u, struct passwd *pwd, char *buf, size_t buflen)
{
	struct udb_passwd_entry e = {u->uid, u->gid, u->entry, u->len};

	return udb_pack_passwd_from_entry(&e, udb_nss_config(), pwd, buf, buflen);
}

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
		r = pack_user(&u, pwd, buf, buflen);
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
		r = pack_user(&u, pwd, buf, buflen);
	return udb_nss_status(r, errnop);
}

enum nss_status
_nss_userdb_setpwent(int stayopen)
{
	int cancel;

	(void)stayopen;
	cancel = udb_nss_lock();
	pw_cursor.started = false;
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
	const struct udb_img *img = NULL;
	struct udb_img_passwd u;
	enum udb_result r;
	uint32_t index = 0;
	int cancel;

	cancel = udb_nss_lock();
	/* Enumeration without setpwent starts at the beginning. */
	if (!pw_cursor.started) {
		pw_cursor.started = true;
		pw_cursor.end = false;
		pw_cursor.after_uid = -1;
	}
	if (pw_cursor.end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	r = udb_nss_image(&img);
	if (r != UDB_OK)
		goto out;
	index = udb_img_user_after_uid(img, pw_cursor.after_uid);
	if (index >= udb_img_user_count(img)) {
		pw_cursor.end = true;
		r = UDB_NOT_FOUND;
		goto out;
	}
	r = udb_img_user_at(img, index, &u);
	if (r == UDB_OK)
		r = pack_user(&u, pwd, buf, buflen);
	/* glibc retries with a larger buffer after ERANGE, so the cursor must
	 * not advance unless the entry was handed out. */
	if (r == UDB_OK)
		pw_cursor.after_uid = u.uid;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
