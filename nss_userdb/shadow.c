/* shadow entry points: getspnam_r and enumeration. Called by glibc
 * (nsswitch.conf `shadow: files userdb`) in processes that may read the
 * shadow image, which has the shadow file's owner and mode: root and group
 * shadow. Every getspnam opens the image anew (map.c), so the caller's
 * credentials are checked at that call; everyone else gets UNAVAIL with
 * EACCES. An enumeration keeps the image it opened at its first call until
 * it ends, as nss_files keeps /etc/shadow open. Packing is pack.h's, from
 * the account's fields and the time of the call. */
#include <string.h>

#include "nss_userdb.h"
#include "pack.h"
#include "validate.h"

static struct {
	struct udb_nss_shadow shadow; /* mapped while an enumeration runs */
	uint32_t index;
	bool end;
} sp_cursor;

static enum udb_result
pack_account(const struct udb_img_shadow *s, struct spwd *sp, char *buf, size_t buflen)
{
	const struct udb_img_account *a = &s->account;
	struct udb_account acc = {
		.username = (char *)(uintptr_t)s->name,
		.password_hash = (char *)(uintptr_t)s->hash,
		.password_changed_at = a->password_changed_at,
		.min_days = a->min_days,
		.max_days = a->max_days,
		.warn_days = a->warn_days,
		.inactive_days = a->inactive_days,
		.must_change = a->must_change != 0,
		.is_enabled = a->is_enabled != 0,
		.not_before = a->not_before,
		.not_after = a->not_after,
		.failed_count = a->failed_count,
		.last_failed_at = a->last_failed_at,
		.locked_until = a->locked_until,
	};

	return udb_pack_shadow(&acc, udb_now(), sp, buf, buflen);
}

enum nss_status
_nss_userdb_getspnam_r(const char *name, struct spwd *spbuf, char *buf, size_t buflen, int *errnop)
{
	struct udb_nss_shadow shadow = {0};
	struct udb_img_shadow s;
	enum udb_result r;

	if (!udb_valid_username(name))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	r = udb_nss_shadow_open(&shadow);
	if (r == UDB_OK)
		r = udb_img_account_by_name(&shadow.img, name, &s);
	if (r == UDB_OK)
		r = pack_account(&s, spbuf, buf, buflen);
	udb_nss_shadow_close(&shadow);
	return udb_nss_status(r, errnop);
}

static void
sp_cursor_reset_locked(void)
{
	udb_nss_shadow_close(&sp_cursor.shadow);
	memset(&sp_cursor, 0, sizeof(sp_cursor));
}

enum nss_status
_nss_userdb_setspent(int stayopen)
{
	int cancel;

	(void)stayopen;
	cancel = udb_nss_lock();
	sp_cursor_reset_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_endspent(void)
{
	return _nss_userdb_setspent(0);
}

enum nss_status
_nss_userdb_getspent_r(struct spwd *spbuf, char *buf, size_t buflen, int *errnop)
{
	struct udb_img_shadow s;
	enum udb_result r = UDB_OK;
	int cancel;

	cancel = udb_nss_lock();
	if (sp_cursor.end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	if (!sp_cursor.shadow.map)
		r = udb_nss_shadow_open(&sp_cursor.shadow);
	if (r != UDB_OK)
		goto out;
	/* A base account the delta supersedes reads as not found: the delta
	 * has it, after the base's (image.h). */
	do {
		if (sp_cursor.index >= udb_img_account_count(&sp_cursor.shadow.img)) {
			udb_nss_shadow_close(&sp_cursor.shadow);
			sp_cursor.end = true;
			r = UDB_NOT_FOUND;
			goto out;
		}
		r = udb_img_account_at(&sp_cursor.shadow.img, sp_cursor.index, &s);
	} while (r == UDB_NOT_FOUND && ++sp_cursor.index);
	if (r == UDB_OK)
		r = pack_account(&s, spbuf, buf, buflen);
	/* Not advancing on ERANGE: glibc asks again with a larger buffer. */
	if (r == UDB_OK)
		sp_cursor.index++;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
