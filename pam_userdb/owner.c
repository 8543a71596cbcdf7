/* Whose name is it: a name that another NSS source resolves to an account
 * of its own is not the database's to answer for (see pud_check_owner in
 * module.h). Called by every entry point of pam_userdb.c before it opens
 * the shadow file, so that a local user's login costs one getpwnam and,
 * when that finds the name, one read of the public file. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "module.h"
#include "user.h"

#define SHADOWED_KEY "pam_userdb:shadowed_logged"
/* glibc asks for more room with ERANGE; a passwd entry never needs this. */
#define PW_BUF_MAX (1 << 20)

/* getpwnam through every source nsswitch.conf lists. false when no source
 * has the name (or the lookup failed: then the database decides). */
static bool
lookup_uid(const char *user, uid_t *ret_uid)
{
	struct passwd pw, *found = NULL;
	size_t size = 4096;
	char *buf = NULL;
	int err;

	for (;;) {
		char *grown = realloc(buf, size);

		if (!grown)
			break;
		buf = grown;
		err = getpwnam_r(user, &pw, buf, size, &found);
		if (err != ERANGE || size >= PW_BUF_MAX)
			break;
		size *= 2;
	}
	if (found)
		*ret_uid = found->pw_uid;
	free(buf);
	return found != NULL;
}

static void
log_shadowed_once(struct pud_ctx *ctx, const char *user, uint32_t ours, uid_t theirs,
		  const char *what)
{
	const void *done = NULL;

	if (pam_get_data(ctx->pamh, SHADOWED_KEY, &done) == PAM_SUCCESS && done)
		return;
	pam_syslog(ctx->pamh, LOG_WARNING,
		   "%s refused for %s: the name resolves to uid %u through another source "
		   "before the database (uid %u)",
		   what, user, (unsigned)theirs, (unsigned)ours);
	pam_set_data(ctx->pamh, SHADOWED_KEY, (void *)(uintptr_t)1, NULL);
}

int
pud_check_owner(struct pud_ctx *ctx, const char *user, const char *what)
{
	struct udb_user *u = NULL;
	struct udb_db *pub = NULL;
	enum udb_result r;
	uid_t uid = 0;
	int rc;

	if (!lookup_uid(user, &uid))
		return PAM_SUCCESS;
	rc = pud_ctx_config(ctx);
	if (rc != PAM_SUCCESS)
		return rc;
	/* The public file has every user's uid and any caller may read it;
	 * the handle is closed at once (see ctx_open on brief handles). */
	r = udb_db_open_brief(ctx->cfg->dbdir, UDB_OPEN_PUBLIC, &pub);
	if (r == UDB_OK)
		r = udb_user_by_name(pub, user, &u);
	udb_db_close(pub);
	if (r == UDB_NOT_FOUND) {
		if (ctx->args.debug)
			pam_syslog(ctx->pamh, LOG_DEBUG, "%s: not a database user", what);
		return PAM_USER_UNKNOWN;
	}
	if (r != UDB_OK) {
		pam_syslog(ctx->pamh, LOG_ERR, "%s: cannot read the public file: %s", what,
			   udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_OPEN, r);
	}
	rc = PAM_SUCCESS;
	if (u->uid != uid) {
		log_shadowed_once(ctx, u->username, u->uid, uid, what);
		rc = PAM_USER_UNKNOWN;
	}
	udb_user_free(u);
	return rc;
}
