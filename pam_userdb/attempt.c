/* What a password attempt leaves behind, after the hash: the attempt is
 * recorded and decided in one write transaction (common/attempt.c), and a
 * login whose outcome cannot be recorded is refused. A right password
 * (and code) with nothing else to change is decided on the handle the
 * account was read with, and opens no writer. Called by
 * pam_sm_authenticate (pam_userdb.c) and by the old-password check of a
 * password change (passwd.c); the unprivileged path goes through
 * userdb-chkpwd instead (chkpwd.c), which calls the same core function. */
#include <errno.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>

#include "attempt.h"
#include "module.h"

/* A failure to record is logged at most this often per process: a full
 * disk would otherwise add a log line to every guess. */
#define UNRECORDED_LOG_INTERVAL 60

unsigned
pud_deny_of(const struct pud_ctx *ctx)
{
	return ctx->args.has_deny ? ctx->args.deny : ctx->cfg->deny;
}

unsigned
pud_unlock_time_of(const struct pud_ctx *ctx)
{
	return ctx->args.has_unlock_time ? ctx->args.unlock_time : ctx->cfg->unlock_time;
}

void
pud_fail_sleep(void)
{
	struct timespec left = {.tv_sec = PUD_FAIL_DELAY_USEC / 1000000,
				.tv_nsec = (PUD_FAIL_DELAY_USEC % 1000000) * 1000};

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

static void
log_unrecorded(pam_handle_t *pamh, const char *what, const char *user, enum udb_result r)
{
	static time_t last;
	time_t now = time(NULL);

	if (last != 0 && now >= last && now - last < UNRECORDED_LOG_INTERVAL)
		return;
	last = now;
	pam_syslog(pamh, LOG_ERR,
		   "%s refused for %s: the attempt cannot be recorded: %s (logged at most once "
		   "a minute)",
		   what, user, udb_result_to_string(r));
}

int
pud_attempt(struct pud_ctx *ctx, const struct udb_account *account, enum udb_result verified,
	    const char *code, const char *what)
{
	unsigned deny = pud_deny_of(ctx), unlock_time = pud_unlock_time_of(ctx);
	enum udb_attempt attempt = UDB_ATTEMPT_WRONG;
	char rhost[PUD_RHOST_MAX + 1];
	enum udb_result r;
	bool accepted = false;

	/* Most logins: a right password (and code), nothing to reset,
	 * decided on auth's own handle of the shadow file. It decides only an
	 * acceptance; anything else (a lock, a count to reset, a hash changed
	 * meanwhile, no room, a wrong code) goes on to the writer's
	 * transaction, which decides it again. Busy is what the writer would
	 * meet too. */
	r = UDB_OK;
	if (verified == UDB_OK && ctx->db && ctx->mode == UDB_OPEN_SHADOW_ATTEMPT)
		r = udb_attempt_accept_unchanged(ctx->db, account, code, pud_totp_window_of(ctx),
						 udb_now(), &accepted);
	if (accepted)
		return PAM_SUCCESS;
	/* ctx_make_writer may leave ctx->cfg NULL: deny and unlock_time are
	 * read before it. */
	if (r != UDB_BUSY) {
		r = UDB_UNAVAILABLE;
		if (pud_ctx_make_writer(ctx))
			r = udb_attempt_record_code(ctx->db, account, verified == UDB_OK, code,
						    pud_totp_window_of(ctx), udb_now(), deny,
						    unlock_time, &attempt);
	}
	if (r != UDB_OK) {
		/* No uncounted guessing: a right password is refused too
		 * until attempts can be recorded again. */
		log_unrecorded(ctx->pamh, what, account->username, r);
		return PAM_AUTH_ERR;
	}
	pud_get_rhost(ctx->pamh, rhost, sizeof(rhost));
	switch (attempt) {
	case UDB_ATTEMPT_ACCEPTED:
		return PAM_SUCCESS;
	case UDB_ATTEMPT_LOCKED:
		/* PAM_AUTH_ERR, not PAM_MAXTRIES, and no message to the user:
		 * applications print MAXTRIES as "maximum number of tries
		 * exceeded", which an unknown name never gets, so it would
		 * confirm to whoever is guessing that the name exists. It is
		 * what pam_faillock returns while locked, too. The admin learns
		 * it from this line, which does not say whether the password
		 * was right. */
		pam_syslog(ctx->pamh, LOG_NOTICE, "%s refused for %s: account locked; rhost=%s",
			   what, account->username, rhost);
		return PAM_AUTH_ERR;
	case UDB_ATTEMPT_WRONG:
	case UDB_ATTEMPT_LOCKED_NOW:
		break;
	}
	pam_syslog(ctx->pamh, LOG_NOTICE, "%s failure for %s; rhost=%s%s", what, account->username,
		   rhost, attempt == UDB_ATTEMPT_LOCKED_NOW ? "; account now locked" : "");
	return PAM_AUTH_ERR;
}
