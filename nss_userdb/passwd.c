/* passwd entry points: getpwnam_r, getpwuid_r and enumeration. Called by
 * glibc (nsswitch.conf `passwd: files userdb`). Rows come from user.h's
 * allocation-free views, packing from pack.h; this file only takes the
 * lock, picks the connection and keeps the enumeration page. */
#include <stdlib.h>

#include "nss_userdb.h"
#include "pack.h"
#include "user.h"
#include "validate.h"

/* The caller's struct and buffer, for packing straight from the row. */
struct pw_target {
	const struct udb_config *cfg;
	struct passwd *pwd;
	char *buf;
	size_t buflen;
};

/* Enumeration: one keyset page of entries, already packed into one buffer
 * (so a page costs two allocations, not seven per user), handed out one by
 * one. No statement stays open between calls, memory stays bounded by the
 * page. Guarded by the module lock. */
struct pw_page {
	struct udb_packed_passwd entries[UDB_NSS_PAGE];
	size_t n, pos;
	char *buf;
	size_t used, cap;
	int64_t after_uid; /* keyset cursor: the last uid of the page handed out */
	int64_t last_uid;  /* the last uid packed while filling */
	bool last;         /* the page came back short: nothing followed it */
	bool end;
	const struct udb_config *cfg; /* set before each fill */
};

static struct pw_page *pw_page;

static enum udb_result
pack_into_target(const struct udb_user_view *view, void *userdata)
{
	struct pw_target *t = userdata;

	return udb_pack_passwd(view, t->cfg, t->pwd, t->buf, t->buflen);
}

static enum udb_result
pack_entry_into_target(const struct udb_passwd_entry *entry, void *userdata)
{
	struct pw_target *t = userdata;

	return udb_pack_passwd_from_entry(entry, t->cfg, t->pwd, t->buf, t->buflen);
}

static enum udb_result
pack_into_page(const struct udb_passwd_entry *entry, void *userdata)
{
	struct pw_page *p = userdata;
	size_t need = entry->len;
	enum udb_result r;

	if (p->cap - p->used < need) {
		size_t cap = p->cap ? p->cap : 64 * 1024;
		char *grown;

		while (cap - p->used < need)
			cap *= 2;
		grown = realloc(p->buf, cap);
		if (!grown)
			return UDB_NO_MEMORY;
		p->buf = grown;
		p->cap = cap;
	}
	/* A bad entry fails the page: enumeration stops with UNAVAIL there
	 * rather than serve it or silently leave it out. */
	r = udb_pack_passwd_entry(entry, p->cfg, p->buf + p->used, &p->entries[p->n]);
	if (r != UDB_OK)
		return r;
	p->entries[p->n].off = p->used;
	p->used += need;
	p->n++;
	p->last_uid = entry->uid;
	return UDB_OK;
}

static void
pw_page_free_locked(void)
{
	if (pw_page)
		free(pw_page->buf);
	free(pw_page);
	pw_page = NULL;
}

static enum udb_result
pw_page_fill_locked(void)
{
	struct udb_db *db = NULL;
	enum udb_result r;
	size_t n = 0;

	r = udb_nss_scan_db_locked(UDB_NSS_PUBLIC, &db);
	if (r != UDB_OK)
		return r;
	pw_page->n = 0;
	pw_page->pos = 0;
	pw_page->used = 0;
	pw_page->cfg = udb_nss_config_locked(UDB_NSS_PUBLIC);
	r = udb_passwd_entry_page(db, pw_page->after_uid, UDB_NSS_PAGE, pack_into_page, pw_page,
				  &n);
	if (r != UDB_OK) {
		/* Drop a partial page; the next call reads it again. */
		pw_page->n = 0;
		return r;
	}
	pw_page->end = n == 0;
	pw_page->last = n < UDB_NSS_PAGE;
	if (n > 0)
		pw_page->after_uid = pw_page->last_uid;
	return UDB_OK;
}

enum nss_status
_nss_userdb_getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	struct pw_target t = {NULL, pwd, buf, buflen};
	struct udb_db *db = NULL;
	enum udb_result r;

	/* An invalid name cannot exist: answer without the database. */
	if (!udb_valid_username(name))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	cancel = udb_nss_lock();
	r = udb_nss_db_locked(UDB_NSS_PUBLIC, &db);
	if (r != UDB_OK)
		goto out;
	t.cfg = udb_nss_config_locked(UDB_NSS_PUBLIC);
	r = udb_user_view_by_name(db, name, pack_into_target, &t);
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}

enum nss_status
_nss_userdb_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	struct pw_target t = {NULL, pwd, buf, buflen};
	struct udb_db *db = NULL;
	enum udb_result r;

	/* (uid_t)-1 means "no uid" to the kernel and never names a user. */
	if (uid == (uid_t)-1)
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	cancel = udb_nss_lock();
	r = udb_nss_db_locked(UDB_NSS_PUBLIC, &db);
	if (r != UDB_OK)
		goto out;
	t.cfg = udb_nss_config_locked(UDB_NSS_PUBLIC);
	r = udb_passwd_entry_by_uid(db, (uint32_t)uid, pack_entry_into_target, &t);
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}

enum nss_status
_nss_userdb_setpwent(int stayopen)
{
	int cancel;

	/* stayopen means nothing here: the connection always stays open. */
	(void)stayopen;
	cancel = udb_nss_lock();
	pw_page_free_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_endpwent(void)
{
	int cancel;

	cancel = udb_nss_lock();
	pw_page_free_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_getpwent_r(struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	enum udb_result r = UDB_OK;

	cancel = udb_nss_lock();
	/* Enumeration without setpwent starts at the beginning. */
	if (!pw_page) {
		pw_page = calloc(1, sizeof(*pw_page));
		if (!pw_page) {
			r = UDB_NO_MEMORY;
			goto out;
		}
		pw_page->after_uid = -1; /* uids start at 0 */
	}
	/* A short page was the rest of the table when it was read: asking
	 * again would cost a read transaction to learn nothing (a user added
	 * since then may or may not be seen, as with any enumeration that is
	 * not one snapshot). */
	if (pw_page->pos == pw_page->n && pw_page->last)
		pw_page->end = true;
	if (pw_page->pos == pw_page->n && !pw_page->end)
		r = pw_page_fill_locked();
	if (r != UDB_OK)
		goto out;
	if (pw_page->end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	r = udb_unpack_passwd(&pw_page->entries[pw_page->pos], pw_page->buf, pwd, buf, buflen);
	/* glibc retries with a larger buffer after ERANGE, so the cursor must
	 * not advance unless the entry was handed out. */
	if (r == UDB_OK)
		pw_page->pos++;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
