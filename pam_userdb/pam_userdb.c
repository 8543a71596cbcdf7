/* The entry points of pam_userdb.so: authentication (with the failed-login
 * lockout and re-hashing of outdated hashes), account checks (through
 * gate.c), password changes (the rules are passwd.c's) and login tracking,
 * plus the one mapping from enum udb_result to PAM codes. Called by libpam;
 * arguments are parsed by args.c and every read and write goes through
 * common/. Nothing lives between calls except the auth result kept for
 * pam_sm_setcred.
 *
 * Passwords are never copied: they stay in libpam's PAM_AUTHTOK and
 * PAM_OLDAUTHTOK items, which libpam wipes, and the core wipes every
 * buffer it hashes in. Logs never name an unknown user (people type
 * passwords into the login prompt) and never show a hash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "config.h"
#include "hash.h"
#include "module.h"
#include "outbox.h"
#include "user.h"

/* Linux-PAM ships an unrelated pam_userdb.so (Berkeley DB). The install
 * script (dist/install.sh) overwrites a pam_userdb.so only if it
 * carries this marker, i.e. is ours. */
__attribute__((used)) static const char install_marker[] = "userdb-role-database-pam-module";

#define PUD_EXPORT __attribute__((visibility("default")))

/* Never read here: `userdb explain` finds it in the file to tell this
 * module from Linux-PAM's pam_userdb.so (pam_args.h). */
__attribute__((used)) static const char pud_marker[] = UDB_PAM_MODULE_MARKER;

#define AUTH_RESULT_KEY "pam_userdb:auth_result"

int
pud_pam_code(enum pud_step step, enum udb_result r)
{
	if (r == UDB_OK)
		return PAM_SUCCESS;
	if (r == UDB_NO_MEMORY)
		return PAM_BUF_ERR;
	switch (step) {
	case PUD_STEP_OPEN:
		/* Missing, unreadable (the caller is not root), unsafe, corrupt
		 * or of another schema: fail closed. AUTHINFO_UNAVAIL is never
		 * success and never ignored by default, and an admin can still
		 * fall through to pam_unix with [authinfo_unavail=ignore]. */
		return PAM_AUTHINFO_UNAVAIL;
	case PUD_STEP_LOOKUP:
		return r == UDB_NOT_FOUND ? PAM_USER_UNKNOWN : PAM_AUTHINFO_UNAVAIL;
	case PUD_STEP_VERIFY:
		return PAM_AUTH_ERR;
	case PUD_STEP_CHANGE:
		if (r == UDB_BUSY)
			return PAM_AUTHTOK_LOCK_BUSY;
		return r == UDB_NOT_FOUND ? PAM_USER_UNKNOWN : PAM_AUTHTOK_ERR;
	case PUD_STEP_SESSION:
		return r == UDB_NOT_FOUND ? PAM_USER_UNKNOWN : PAM_SESSION_ERR;
	}
	return PAM_SERVICE_ERR;
}

/* The writer handle of one PAM transaction, kept with pam_set_data so that
 * the phases after the first one that writes (a counted failure, the
 * session's login record) do not open the two files again (an open is most
 * of the module's own cost); read-only phases before it use transient handles of
 * their own (see ctx_open). It is reused only by the process that opened it
 * (a forked child opens its own: SQLite connections must not cross fork),
 * for the same conf=, in a mode at least as strong, and while neither file
 * was replaced. */
struct pud_cache {
	pid_t pid;
	char *conf;
	enum udb_open_mode mode;
	struct udb_config *cfg;
	struct udb_db *db;
};

#define CACHE_KEY "pam_userdb:database"

/* The handle a forked child inherited and let go, kept reachable so that
 * leak checkers (valgrind in a child of sshd or a test) see it was left on
 * purpose; the module is linked with -z nodelete so this static outlives
 * pam_end's dlclose, and `used` keeps the compiler from dropping a store
 * it never sees read. A child has one at most: the handle of the
 * transaction it was forked in. */
__attribute__((used)) static struct pud_cache *inherited_cache;

static void
cache_free(pam_handle_t *pamh, void *data, int error_status)
{
	struct pud_cache *c = data;

	/* An inherited handle (after fork) is left alone: closing it here
	 * could not release the parent's locks, only confuse SQLite. */
	if (c->pid == getpid()) {
		udb_db_close(c->db);
		udb_config_free(c->cfg);
		free(c->conf);
		free(c);
	} else {
		inherited_cache = c;
	}
}

static bool
mode_covers(enum udb_open_mode have, enum udb_open_mode want)
{
	return have == want || have == UDB_OPEN_WRITE ||
	       (have == UDB_OPEN_READ_BOTH && want != UDB_OPEN_WRITE);
}

static bool
cache_fits(const struct pud_cache *c, const char *conf, enum udb_open_mode mode)
{
	if (c->pid != getpid() || !mode_covers(c->mode, mode))
		return false;
	if ((c->conf == NULL) != (conf == NULL) || (conf && strcmp(c->conf, conf) != 0))
		return false;
	return udb_db_is_current(c->db);
}

/* Remembers the context's handle for the next phase; on any failure the
 * context keeps it and ctx_close closes it. */
static void
cache_store(struct pud_ctx *ctx, enum udb_open_mode mode)
{
	struct pud_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return;
	c->pid = getpid();
	c->mode = mode;
	c->conf = ctx->args.conf ? strdup(ctx->args.conf) : NULL;
	if ((ctx->args.conf && !c->conf) ||
	    pam_set_data(ctx->pamh, CACHE_KEY, c, cache_free) != PAM_SUCCESS) {
		free(c->conf);
		free(c);
		return;
	}
	c->cfg = ctx->cfg;
	c->db = ctx->db;
	ctx->cached = true;
}

/* One log line for a configuration that did not load: the file, the line
 * when the problem is one line, the key when it is known, and the reason;
 * never the line's text (config.h says why). */
static void
log_config_error(pam_handle_t *pamh, const struct udb_config_error *e)
{
	char path[256], where[32] = "";

	pud_escape(e->path, path, sizeof(path));
	if (e->line)
		snprintf(where, sizeof(where), ", line %u", e->line);
	pam_syslog(pamh, LOG_ERR, "config %s%s: %s%s%s", path, where, e->key ? e->key : "",
		   e->key ? " " : "", e->reason);
}

int
pud_ctx_config(struct pud_ctx *ctx)
{
	struct udb_config_error cfg_error;
	enum udb_result r;

	if (ctx->cfg)
		return PAM_SUCCESS;
	r = udb_config_load_explained(ctx->args.conf, &ctx->cfg, &cfg_error);
	if (r != UDB_OK) {
		log_config_error(ctx->pamh, &cfg_error);
		return pud_pam_code(PUD_STEP_OPEN, r);
	}
	/* A method that cannot take the cost would fail every hash, the
	 * unknown users' dummy included: refuse the file like a bad line. */
	r = udb_config_check_hash(ctx->cfg);
	if (r != UDB_OK) {
		pam_syslog(ctx->pamh, LOG_ERR,
			   "config %s: hash_cost is not a cost hash_method can take",
			   ctx->cfg->path ? ctx->cfg->path : UDB_CONFIG_PATH);
		/* Not kept: a second call must refuse it again. */
		udb_config_free(ctx->cfg);
		ctx->cfg = NULL;
		return pud_pam_code(PUD_STEP_OPEN, r);
	}
	return PAM_SUCCESS;
}

static int
ctx_open(struct pud_ctx *ctx, enum udb_open_mode mode)
{
	const void *data = NULL;
	enum udb_result r;
	int rc;

	/* Root reads both files with the writer: the account phase is almost
	 * always followed by a session (sshd, login, su, sudo, cron), whose
	 * login record needs it, and one writer for both costs half of a
	 * reader and then a writer. Other callers cannot write anyway. */
	if (mode == UDB_OPEN_READ_BOTH && geteuid() == 0)
		mode = UDB_OPEN_WRITE;
	if (pam_get_data(ctx->pamh, CACHE_KEY, &data) == PAM_SUCCESS && data &&
	    cache_fits(data, ctx->args.conf, mode)) {
		const struct pud_cache *c = data;

		/* A configuration loaded for the owner check gives way. */
		if (!ctx->cached)
			udb_config_free(ctx->cfg);
		ctx->cfg = c->cfg;
		ctx->db = c->db;
		ctx->mode = c->mode;
		ctx->cached = true;
		return PAM_SUCCESS;
	}
	rc = pud_ctx_config(ctx);
	if (rc != PAM_SUCCESS)
		return rc;
	/* A read-only handle serves a few statements per phase: the transient kind
	 * opens in about half the time when no other process has the database
	 * open (see db.h), which is the common case for the shadow file. */
	if (mode == UDB_OPEN_WRITE || mode == UDB_OPEN_SHADOW_ATTEMPT)
		r = udb_db_open(ctx->cfg->dbdir, mode, &ctx->db);
	else
		r = udb_db_open_transient(ctx->cfg->dbdir, mode, &ctx->db);
	ctx->open_result = r;
	/* The attempt handle's caller falls back to a reader (auth). */
	if (r == UDB_PERMISSION && mode == UDB_OPEN_SHADOW_ATTEMPT)
		return pud_pam_code(PUD_STEP_OPEN, r);
	if (r != UDB_OK) {
		/* Not being root is expected in some stacks (a screen locker):
		 * that is a notice, anything else is an error. */
		pam_syslog(ctx->pamh, r == UDB_PERMISSION ? LOG_NOTICE : LOG_ERR,
			   "cannot open the database in %s as uid %u: %s", ctx->cfg->dbdir,
			   (unsigned)geteuid(), udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_OPEN, r);
	}
	ctx->mode = mode;
	/* A fleet host queues failures and logins for central (outbox.h). */
	if (mode == UDB_OPEN_WRITE)
		udb_db_set_outbox(ctx->db, ctx->cfg->central && ctx->cfg->host);
	/* Only a writer is kept for the next phase. A transient handle that is
	 * the first in this process to open a file shares its read-only view
	 * of SQLite's shared-memory index with every later connection of the
	 * process to that file, so that one kept past this phase would make a
	 * connection the application opens in between (a getpwnam through the
	 * NSS module, as login does after pam_acct_mgmt) and our own writer
	 * read-only. Replacing an older cache entry runs its cleanup, which
	 * closes it. */
	if (mode == UDB_OPEN_WRITE)
		cache_store(ctx, mode);
	return PAM_SUCCESS;
}

static void
ctx_close(struct pud_ctx *ctx)
{
	if (!ctx->cached) {
		udb_db_close(ctx->db);
		udb_config_free(ctx->cfg);
	}
	ctx->db = NULL;
	ctx->cfg = NULL;
	ctx->cached = false;
}

/* Makes the context's handle a writer, for auth: it reads with a read-only
 * handle and opens the writer only when there is something to write (a
 * failure to count, failures to reset, a hash to replace), so that most
 * logins never pay for one. False when it cannot (logged by ctx_open); ctx->cfg may then be
 * NULL. */
bool
pud_ctx_make_writer(struct pud_ctx *ctx)
{
	if (ctx->db && ctx->mode == UDB_OPEN_WRITE)
		return true;
	ctx_close(ctx);
	return ctx_open(ctx, UDB_OPEN_WRITE) == PAM_SUCCESS;
}

/* The user name: asked for when prompt is set (auth, account, password),
 * else only read (session, setcred), as pam_unix does. */
static int
get_user(struct pud_ctx *ctx, bool prompt, const char **ret_user)
{
	const void *item = NULL;
	int rc;

	if (prompt) {
		rc = pam_get_user(ctx->pamh, ret_user, NULL);
	} else {
		rc = pam_get_item(ctx->pamh, PAM_USER, &item);
		*ret_user = item;
	}
	if (rc == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (rc != PAM_SUCCESS) {
		pam_syslog(ctx->pamh, LOG_ERR, "cannot get the user name: %s",
			   pam_strerror(ctx->pamh, rc));
		return rc;
	}
	if (!*ret_user || !**ret_user)
		return PAM_USER_UNKNOWN;
	return PAM_SUCCESS;
}

void
pud_get_rhost(pam_handle_t *pamh, char *buf, size_t size)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS)
		item = NULL;
	pud_escape(item, buf, size);
}

/* Reads the account of user. A user we do not have, or whose account row
 * is missing (see db.h), is PAM_USER_UNKNOWN in every phase so that stacks
 * can fall through with [user_unknown=ignore]; the log says what was being
 * done but not the name that was typed. */
static int
ctx_account(struct pud_ctx *ctx, const char *user, int unknown_priority, const char *what,
	    bool login, struct udb_account **ret_account)
{
	char rhost[PUD_RHOST_MAX + 1];
	enum udb_result r;

	/* Authentication (login) decides on the user id, name and hash
	 * alone, and reads the state again after the hash (attempt.h): the
	 * leaner statement. */
	if (login)
		r = udb_account_for_login(ctx->db, user, ret_account);
	else
		r = udb_account_by_name(ctx->db, user, ret_account);
	if (r == UDB_NOT_FOUND) {
		pud_get_rhost(ctx->pamh, rhost, sizeof(rhost));
		pam_syslog(ctx->pamh, unknown_priority, "%s for an unknown user; rhost=%s", what,
			   rhost);
	} else if (r != UDB_OK)
		pam_syslog(ctx->pamh, LOG_ERR, "%s: cannot read the account: %s", what,
			   udb_result_to_string(r));
	return pud_pam_code(PUD_STEP_LOOKUP, r);
}

/* ---- auth ---- */

static int
auth_unknown(struct pud_ctx *ctx, const char *password)
{
	enum udb_result r;

	/* The same work as a wrong password for a real user: one hash of the
	 * configured method and cost and one write transaction on the shadow
	 * file, so that the time taken does not tell whether a name exists;
	 * where every user is asked for a code, so is an unknown one. */
	udb_hash_burn(ctx->cfg, password);
	if (ctx->args.second_factor == UDB_SECOND_FACTOR_REQUIRED)
		udb_secret_free(pud_factor_ask(ctx));
	if (!pud_ctx_make_writer(ctx))
		return PAM_USER_UNKNOWN;
	r = udb_account_record_unknown_failure(ctx->db);
	if (r != UDB_OK)
		pam_syslog(ctx->pamh, LOG_ERR, "cannot count a failed login: %s",
			   udb_result_to_string(r));
	return PAM_USER_UNKNOWN;
}

/* Replaces an outdated hash (another method or cost than configured,
 * e.g. an imported sha512crypt one) with hash, a fresh one of the same
 * password. The password was just verified; a failure here does not undo
 * the login. */
static void
upgrade_hash(struct pud_ctx *ctx, const struct udb_account *account, const char *hash)
{
	enum udb_result r;

	/* An accepted attempt may have been decided on the reader. */
	if (!pud_ctx_make_writer(ctx))
		return;
	r = udb_account_upgrade_hash(ctx->db, account->user_id, account->password_hash, hash);
	if (r != UDB_OK)
		pam_syslog(ctx->pamh, LOG_ERR, "cannot re-hash the password of %s: %s",
			   account->username, udb_result_to_string(r));
	else
		pam_syslog(ctx->pamh, LOG_INFO, "password hash of %s upgraded", account->username);
}

static int
auth_known(struct pud_ctx *ctx, const struct udb_account *account, const char *password)
{
	enum udb_result verified;
	char *new_hash = NULL, *code = NULL;
	bool ask = false, enrolled = false;
	int rc;

	rc = pud_factor_state(ctx, account, &ask, &enrolled);
	if (rc != PAM_SUCCESS)
		return rc;
	/* Hash first, with no lock held and even while locked (the time then
	 * says nothing about whether the password was right); the lock is
	 * decided afterwards, on what is read then under the write lock (in
	 * the writer's transaction that records the attempt, or, for a right
	 * password with nothing else to change, on this handle: attempt.c),
	 * so an attempt that read the account before a lock was taken cannot
	 * slip through. An outdated hash (another method or
	 * cost, e.g. an imported sha512crypt one) is verified while a hash of
	 * the configured method is made: the attempt then takes as long as
	 * for any other user, and a right password has its replacement. */
	verified = udb_hash_verify_timed(ctx->cfg, password, account->password_hash, &new_hash);
	/* The code is asked whatever the password was (factor.c). */
	if (ask)
		code = pud_factor_ask(ctx);
	if (ask && !code)
		rc = PAM_BUF_ERR;
	else
		rc = pud_attempt(ctx, account, verified, code, "authentication");
	udb_secret_free(code);
	if (rc == PAM_SUCCESS && new_hash && ctx->cfg)
		upgrade_hash(ctx, account, new_hash);
	udb_secret_free(new_hash);
	if (rc == PAM_SUCCESS && !enrolled && ctx->args.second_factor == UDB_SECOND_FACTOR_ENROL &&
	    !pud_factor_fleet_host(ctx))
		rc = pud_factor_enrol(ctx, account);
	if (rc == PAM_SUCCESS && ctx->args.debug)
		pam_syslog(ctx->pamh, LOG_DEBUG, "authenticated %s", account->username);
	return rc;
}

static int
auth_with_database(struct pud_ctx *ctx, const char *user, const char *password)
{
	struct udb_account *account = NULL;
	int rc;

	rc = ctx_account(ctx, user, LOG_NOTICE, "authentication failure", true, &account);
	if (rc == PAM_USER_UNKNOWN)
		rc = auth_unknown(ctx, password);
	else if (rc == PAM_SUCCESS)
		rc = auth_known(ctx, account, password);
	udb_account_free(account);
	return rc;
}

static void
free_auth_result(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

/* Kept for pam_sm_setcred, which must answer like pam_sm_authenticate did
 * (pam_unix does the same). */
static void
remember_auth_result(pam_handle_t *pamh, int rc)
{
	int *copy = malloc(sizeof(*copy));

	if (!copy)
		return;
	*copy = rc;
	if (pam_set_data(pamh, AUTH_RESULT_KEY, copy, free_auth_result) != PAM_SUCCESS)
		free(copy);
}

/* A database user whose store cannot be opened is refused: the profile
 * ignores AUTHINFO_UNAVAIL (so that a broken store never locks root out),
 * which for one of ours would hand the login to pam_unix with the hash NSS
 * shows and none of this module's gates. */
static int
closed_if_ours(struct pud_ctx *ctx, int rc, int refusal, const char *what)
{
	if (rc != PAM_AUTHINFO_UNAVAIL || !ctx->ours)
		return rc;
	pam_syslog(ctx->pamh, LOG_ERR, "%s refused: the store cannot be read", what);
	return refusal;
}

PUD_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	const char *user = NULL, *password = NULL;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc != PAM_SUCCESS)
		goto out;
	if (!ctx.args.nodelay)
		pam_fail_delay(pamh, PUD_FAIL_DELAY_USEC);
	rc = get_user(&ctx, true, &user);
	/* A local user is answered at once: no prompt, no hash, no write. A
	 * database user found in the image is confirmed after the open. */
	ctx.image_owner = true;
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "authentication");
	if (rc != PAM_SUCCESS)
		goto out;
	/* Ask for the password before looking the name up, so that an unknown
	 * user is prompted exactly like a known one. pam_get_authtok handles
	 * use_first_pass / try_first_pass from the module line. */
	rc = pam_get_authtok(pamh, PAM_AUTHTOK, &password, NULL);
	if (rc != PAM_SUCCESS) {
		if (rc == PAM_CONV_AGAIN)
			rc = PAM_INCOMPLETE;
		else
			pam_syslog(pamh, LOG_NOTICE, "cannot get the password: %s",
				   pam_strerror(pamh, rc));
		goto out;
	}
	/* The shadow file alone: that is all a password check needs before
	 * the hash, and root's handle on it can then decide a right password
	 * that changes nothing (attempt.c); the writer of both files is
	 * opened afterwards only to record a failure, a reset or a code. It
	 * is read-write when it can be (root), else read-only, and then every
	 * attempt goes to the writer. A caller that may not read it (a screen
	 * locker running as the user) asks the setuid helper, which records
	 * the attempt too: no caller verifies a database password uncounted. */
	if (geteuid() == 0) {
		rc = ctx_open(&ctx, UDB_OPEN_SHADOW_ATTEMPT);
		if (rc != PAM_SUCCESS && ctx.open_result == UDB_PERMISSION)
			rc = ctx_open(&ctx, UDB_OPEN_SHADOW_ONLY);
	} else {
		rc = ctx_open(&ctx, UDB_OPEN_SHADOW_ONLY);
	}
	if (rc != PAM_SUCCESS && ctx.open_result == UDB_PERMISSION && geteuid() != 0) {
		rc = pud_chkpwd_run(&ctx, user, password);
	} else if (rc == PAM_SUCCESS) {
		rc = pud_confirm_owner(&ctx, user, "authentication");
		if (rc == PAM_SUCCESS)
			rc = auth_with_database(&ctx, user, password);
	}
out:
	rc = closed_if_ours(&ctx, rc, PAM_AUTH_ERR, "authentication");
	if (rc != PAM_INCOMPLETE)
		remember_auth_result(pamh, rc);
	ctx_close(&ctx);
	return rc;
}

/* Whether the user is one of ours, from the public file (any caller can
 * read it): for the phases that have nothing else to do. */
static int
user_is_ours(pam_handle_t *pamh, int argc, const char **argv, const char *what)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_user *u = NULL;
	const char *user = NULL;
	enum udb_result r;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS)
		rc = get_user(&ctx, false, &user);
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, what);
	if (rc == PAM_SUCCESS)
		rc = ctx_open(&ctx, UDB_OPEN_PUBLIC);
	if (rc == PAM_SUCCESS) {
		r = udb_user_by_name(ctx.db, user, &u);
		if (r == UDB_NOT_FOUND && ctx.args.debug)
			pam_syslog(pamh, LOG_DEBUG, "%s for an unknown user", what);
		else if (r != UDB_OK && r != UDB_NOT_FOUND)
			pam_syslog(pamh, LOG_ERR, "%s: cannot read the user: %s", what,
				   udb_result_to_string(r));
		rc = pud_pam_code(PUD_STEP_LOOKUP, r);
	}
	udb_user_free(u);
	ctx_close(&ctx);
	return rc;
}

PUD_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;

	if (pam_get_data(pamh, AUTH_RESULT_KEY, &data) == PAM_SUCCESS && data)
		return *(const int *)data;
	/* This module did not authenticate in this transaction (sshd with a
	 * key): there are no credentials to set, only a user to recognise. */
	return user_is_ours(pamh, argc, argv, "credentials");
}

/* ---- account ---- */

PUD_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_account *account = NULL;
	const char *user = NULL;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS)
		rc = get_user(&ctx, true, &user);
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "account check");
	/* Read-only is enough here: nothing is written, and the account phase
	 * then works for every caller that may read the shadow file. */
	if (rc == PAM_SUCCESS)
		rc = ctx_open(&ctx, UDB_OPEN_READ_BOTH);
	if (rc == PAM_SUCCESS)
		rc = ctx_account(&ctx, user, LOG_NOTICE, "account check", false, &account);
	if (rc == PAM_SUCCESS)
		rc = pud_gate_account(pamh, flags, &ctx.args, ctx.cfg, ctx.db, account, udb_now());
	rc = closed_if_ours(&ctx, rc, PAM_PERM_DENIED, "account check");
	udb_account_free(account);
	ctx_close(&ctx);
	return rc;
}

/* ---- password ---- */

static bool
password_due(const struct udb_account *account)
{
	enum udb_account_status status = udb_account_status(account, udb_now());

	return status == UDB_ACCOUNT_PASSWORD_MUST_CHANGE || status == UDB_ACCOUNT_PASSWORD_EXPIRED;
}

PUD_EXPORT int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_account *account = NULL;
	const char *user = NULL;
	bool update = flags & PAM_UPDATE_AUTHTOK;
	/* pam_unix's rule: root changes a password without the old one,
	 * except when an application running as root (login, sshd) changes an
	 * expired password on the user's behalf; then the user must prove who
	 * they are. A setuid passwd run by a user has getuid() != 0. */
	bool as_root = getuid() == 0 && !(flags & PAM_CHANGE_EXPIRED_AUTHTOK);
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS && !(flags & (PAM_PRELIM_CHECK | PAM_UPDATE_AUTHTOK)))
		rc = PAM_SERVICE_ERR;
	if (rc == PAM_SUCCESS)
		rc = get_user(&ctx, true, &user);
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "password change");
	if (rc == PAM_SUCCESS)
		rc = ctx_open(&ctx, update ? UDB_OPEN_WRITE : UDB_OPEN_READ_BOTH);
	if (rc == PAM_SUCCESS)
		rc = ctx_account(&ctx, user, LOG_DEBUG, "password change", false, &account);
	rc = closed_if_ours(&ctx, rc, PAM_AUTHTOK_ERR, "password change");
	if ((rc == PAM_USER_UNKNOWN || rc == PAM_AUTHINFO_UNAVAIL) && update)
		rc = pud_passwd_pass_on(pamh, rc);
	if (rc != PAM_SUCCESS)
		goto out;
	/* PAM_CHANGE_EXPIRED_AUTHTOK asks for a change only of passwords that
	 * are due (pam_chauthtok(3)): login asks the whole stack when any one
	 * module said PAM_NEW_AUTHTOK_REQD, and ours may not be that one. */
	if ((flags & PAM_CHANGE_EXPIRED_AUTHTOK) && !password_due(account)) {
		if (ctx.args.debug)
			pam_syslog(pamh, LOG_DEBUG, "password of %s is not due, left alone",
				   account->username);
		goto out;
	}
	if (!as_root)
		rc = pud_passwd_check_old(&ctx, account, flags);
	if (rc == PAM_SUCCESS && update)
		rc = pud_passwd_change(&ctx, account, as_root, flags);
out:
	udb_account_free(account);
	ctx_close(&ctx);
	return rc;
}

/* ---- session ---- */

PUD_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pud_ctx ctx = {.pamh = pamh};
	struct udb_account *account = NULL;
	char rhost[PUD_RHOST_MAX + 1];
	const char *user = NULL;
	enum udb_result r;
	int rc;

	rc = pud_args_parse(pamh, argc, argv, &ctx.args);
	if (rc == PAM_SUCCESS)
		rc = get_user(&ctx, false, &user);
	/* Not a login: nothing to write, only the user to recognise, as at
	 * close. */
	if (rc == PAM_SUCCESS && !pud_session_is_login(pamh, user)) {
		if (ctx.args.debug)
			pam_syslog(pamh, LOG_DEBUG, "session is not a login, not recorded");
		return user_is_ours(pamh, argc, argv, "session");
	}
	if (rc == PAM_SUCCESS)
		rc = pud_check_owner(&ctx, user, "session");
	if (rc == PAM_SUCCESS)
		rc = ctx_open(&ctx, UDB_OPEN_WRITE);
	if (rc == PAM_SUCCESS)
		rc = ctx_account(&ctx, user, LOG_INFO, "session", false, &account);
	if (rc != PAM_SUCCESS)
		goto out;
	/* Stored escaped and cut, like it is logged: `userdb user show` must
	 * not print a client's control characters to an admin's terminal. */
	pud_get_rhost(pamh, rhost, sizeof(rhost));
	r = udb_account_record_login(ctx.db, account->user_id, udb_now(), rhost[0] ? rhost : NULL);
	if (r != UDB_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot record the login of %s: %s", account->username,
			   udb_result_to_string(r));
		rc = pud_pam_code(PUD_STEP_SESSION, r);
		goto out;
	}
	pam_syslog(pamh, LOG_INFO, "login of %s recorded; rhost=%s", account->username, rhost);
out:
	udb_account_free(account);
	ctx_close(&ctx);
	return rc;
}

PUD_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	/* Nothing is recorded at logout; only recognise the user, so that an
	 * unknown one is PAM_USER_UNKNOWN here too. */
	return user_is_ours(pamh, argc, argv, "session close");
}
