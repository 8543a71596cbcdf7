/* shadow entry points: getspnam_r and enumeration. Called by glibc
 * (nsswitch.conf `shadow: files userdb`) in processes that may read the
 * shadow file: root and group shadow. Everyone else gets UNAVAIL with
 * EACCES from opening the shadow connection, and their public connection
 * is not affected. Records come from account.h, packing from pack.h. */
#include <stdlib.h>

#include "account.h"
#include "nss_userdb.h"
#include "pack.h"
#include "validate.h"

/* Enumeration: one buffered page of accounts. Guarded by the module lock. */
struct sp_cursor {
	struct udb_account **page;
	size_t n, pos;
	int64_t after_id;
	bool end;
};

static struct sp_cursor sp_cursor;

static void
sp_cursor_reset_locked(void)
{
	/* udb_account_free wipes the hashes. */
	udb_account_list_free(sp_cursor.page, sp_cursor.n);
	sp_cursor = (struct sp_cursor){0};
}

static enum udb_result
sp_cursor_fill_locked(void)
{
	struct udb_account **accounts = NULL;
	struct udb_db *db = NULL;
	enum udb_result r;
	size_t n = 0;

	r = udb_nss_scan_db_locked(UDB_NSS_SHADOW, &db);
	if (r == UDB_OK)
		r = udb_shadow_page(db, sp_cursor.after_id, UDB_NSS_PAGE, &accounts, &n);
	if (r != UDB_OK)
		return r;
	udb_account_list_free(sp_cursor.page, sp_cursor.n);
	sp_cursor.page = accounts;
	sp_cursor.n = n;
	sp_cursor.pos = 0;
	if (n == 0)
		sp_cursor.end = true;
	else
		sp_cursor.after_id = accounts[n - 1]->user_id;
	return UDB_OK;
}

enum nss_status
_nss_userdb_getspnam_r(const char *name, struct spwd *spbuf, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	struct udb_account *account = NULL;
	struct udb_db *db = NULL;
	enum udb_result r;

	if (!udb_valid_username(name))
		return udb_nss_status(UDB_NOT_FOUND, errnop);
	cancel = udb_nss_lock();
	r = udb_nss_db_locked(UDB_NSS_SHADOW, &db);
	if (r != UDB_OK)
		goto out;
	/* The user row and the account row: one snapshot of both files. */
	r = udb_db_read_begin(db);
	if (r != UDB_OK)
		goto out;
	r = udb_account_by_name(db, name, &account);
	udb_db_read_end(db);
	if (r != UDB_OK)
		goto out;
	r = udb_pack_shadow(account, udb_now(), spbuf, buf, buflen);
out:
	udb_nss_unlock(cancel);
	udb_account_free(account);
	return udb_nss_status(r, errnop);
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
	int cancel;

	cancel = udb_nss_lock();
	sp_cursor_reset_locked();
	udb_nss_unlock(cancel);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_userdb_getspent_r(struct spwd *spbuf, char *buf, size_t buflen, int *errnop)
{
	int cancel;
	enum udb_result r = UDB_OK;

	cancel = udb_nss_lock();
	if (sp_cursor.pos == sp_cursor.n && !sp_cursor.end)
		r = sp_cursor_fill_locked();
	if (r != UDB_OK)
		goto out;
	if (sp_cursor.end) {
		r = UDB_NOT_FOUND;
		goto out;
	}
	r = udb_pack_shadow(sp_cursor.page[sp_cursor.pos], udb_now(), spbuf, buf, buflen);
	/* Not advancing on ERANGE: glibc asks again with a larger buffer. */
	if (r == UDB_OK)
		sp_cursor.pos++;
out:
	udb_nss_unlock(cancel);
	return udb_nss_status(r, errnop);
}
