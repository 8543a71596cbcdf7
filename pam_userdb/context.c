/* A PAM call's context (module.h, struct pud_ctx): the configuration, the
 * store handle (kept on the PAM handle between the phases of one
 * transaction), the user name, the remote host and the account. Called by
 * the entry points in pam_userdb.c and by the helpers they use. */
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

/* The writer handle of one PAM transaction, kept with pam_set_data so that
 * the phases after the first one that writes (a counted failure, the
 * session's login record) do not open the two files again (an open is most
 * of the module's own cost); read-only phases before it use transient handles of
 * their own (see pud_ctx_open). It is reused only by the process that opened it
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

int
pud_ctx_open(struct pud_ctx *ctx, enum udb_open_mode mode)
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

void
pud_ctx_close(struct pud_ctx *ctx)
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
	pud_ctx_close(ctx);
	return pud_ctx_open(ctx, UDB_OPEN_WRITE) == PAM_SUCCESS;
}

/* The user name: asked for when prompt is set (auth, account, password),
 * else only read (session, setcred), as pam_unix does. */
int
pud_get_user(struct pud_ctx *ctx, bool prompt, const char **ret_user)
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
int
pud_ctx_account(struct pud_ctx *ctx, const char *user, int unknown_priority, const char *what,
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
