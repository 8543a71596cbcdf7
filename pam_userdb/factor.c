/* The second factor in auth: whether pam_sm_authenticate (pam_userdb.c)
 * asks for a TOTP code after the password, the prompt, and self-enrolment
 * at login under second_factor=enrol. The code itself is checked in the
 * attempt's write transaction (attempt.c, common/attempt.c), never here.
 *
 * The code is asked after the hash whatever the password was, with the
 * same prompt, so that neither the conversation nor the time tells a wrong
 * password from a wrong code; and a conversation that cannot answer (a
 * caller without a user at a keyboard) gives an empty code, which is
 * wrong and counted like any other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "attempt.h"
#include "hash.h"
#include "module.h"
#include "totp.h"

#define CODE_PROMPT "Verification code: "

unsigned
pud_totp_window_of(const struct pud_ctx *ctx)
{
	return ctx->args.has_totp_window ? ctx->args.totp_window : UDB_TOTP_WINDOW;
}

bool
pud_factor_fleet_host(const struct pud_ctx *ctx)
{
	return ctx->cfg && ctx->cfg->host;
}

int
pud_factor_state(struct pud_ctx *ctx, const struct udb_account *account, bool *ret_ask,
		 bool *ret_enrolled)
{
	struct udb_totp_state state = {0};
	enum udb_result r;

	*ret_ask = *ret_enrolled = false;
	if (ctx->args.second_factor == UDB_SECOND_FACTOR_OFF)
		return PAM_SUCCESS;
	r = udb_totp_state(ctx->db, account->user_id, &state);
	if (r != UDB_OK) {
		pam_syslog(ctx->pamh, LOG_ERR, "cannot read the second factor of %s: %s",
			   account->username, udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_LOOKUP, r);
	}
	*ret_enrolled = state.enrolled;
	*ret_ask = state.enrolled || ctx->args.second_factor == UDB_SECOND_FACTOR_REQUIRED;
	if (!state.enrolled && ctx->args.second_factor == UDB_SECOND_FACTOR_ENROL &&
	    pud_factor_fleet_host(ctx)) {
		/* A fleet host's second factors are central's copy: one made
		 * here would be lost at a sync. Refused as under required. */
		pam_syslog(ctx->pamh, LOG_NOTICE,
			   "%s has no second factor and fleet host %s does not enrol at login "
			   "(userdb totp enroll on the admin box): refused as under "
			   "second_factor=required",
			   account->username, ctx->cfg->host);
		*ret_ask = true;
	}
	return PAM_SUCCESS;
}

char *
pud_factor_ask(struct pud_ctx *ctx)
{
	char *resp = NULL;

	if (pam_prompt(ctx->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", CODE_PROMPT) != PAM_SUCCESS ||
	    !resp) {
		udb_secret_free(resp);
		return strdup("");
	}
	return resp;
}

/* The key in groups of four, easier to type into an app by hand. */
static void
grouped(const char *key, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; key[i] && o + 2 < size; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = key[i];
	}
	out[o] = '\0';
}

/* Shows the new secret as text, QR code and URI. */
static void
show_secret(struct pud_ctx *ctx, const char *user, const char *secret)
{
	char host[256], key[64];
	char *uri, *qr = NULL;

	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "userdb");
	host[sizeof(host) - 1] = '\0';
	grouped(secret, key, sizeof(key));
	uri = udb_totp_uri(host, user, secret);
	if (uri)
		qr = udb_qr_text(uri);
	pam_info(ctx->pamh,
		 "This account needs a second factor. Scan the QR code below with an "
		 "authenticator app, or enter the key %s, then type the code the app shows.",
		 key);
	if (qr)
		pam_info(ctx->pamh, "%s", qr);
	if (uri)
		pam_info(ctx->pamh, "%s", uri);
	explicit_bzero(key, sizeof(key));
	udb_secret_free(qr);
	udb_secret_free(uri);
}

/* A wrong first code counts like a wrong password. */
static void
count_failure(struct pud_ctx *ctx, const struct udb_account *account)
{
	enum udb_attempt attempt;

	if (udb_attempt_record(ctx->db, account, false, udb_now(), pud_deny_of(ctx),
			       pud_unlock_time_of(ctx), &attempt) != UDB_OK)
		pam_syslog(ctx->pamh, LOG_ERR, "cannot count a failed enrolment of %s",
			   account->username);
}

int
pud_factor_enrol(struct pud_ctx *ctx, const struct udb_account *account)
{
	char *secret = NULL, *code = NULL;
	enum udb_result r;

	if (!pud_ctx_make_writer(ctx))
		return PAM_AUTH_ERR;
	r = udb_totp_enroll(ctx->db, account->user_id, &secret);
	if (r != UDB_OK) {
		pam_syslog(ctx->pamh, LOG_ERR, "cannot enrol a second factor for %s: %s",
			   account->username, udb_result_to_string(r));
		return PAM_AUTH_ERR;
	}
	show_secret(ctx, account->username, secret);
	udb_secret_free(secret);
	code = pud_factor_ask(ctx);
	r = code ? udb_totp_confirm(ctx->db, account->user_id, code, udb_now(),
				    pud_totp_window_of(ctx))
		 : UDB_NO_MEMORY;
	udb_secret_free(code);
	if (r == UDB_OK) {
		pam_syslog(ctx->pamh, LOG_NOTICE, "second factor of %s enrolled at login",
			   account->username);
		return PAM_SUCCESS;
	}
	if (r == UDB_AUTH_FAILED)
		count_failure(ctx, account);
	pam_syslog(ctx->pamh, LOG_NOTICE, "second factor enrolment of %s failed: %s",
		   account->username, udb_result_to_string(r));
	return PAM_AUTH_ERR;
}
