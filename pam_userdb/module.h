/* Shared between the files of pam_userdb.so only: the parsed module
 * arguments (args.c), the one mapping from enum udb_result to PAM codes
 * (pam_userdb.c), the account gate (gate.c), the password change rules
 * (passwd.c), the second factor (factor.c), which sessions are logins
 * (session.c) and escaping of
 * outside text for logs (escape.c). Nothing here is exported from the
 * module. */
#ifndef PUD_MODULE_H
#define PUD_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <security/pam_modules.h>

#include "account.h"
#include "config.h"
#include "db.h"
#include "pam_args.h"
#include "result.h"

/* Parses argv into *ret_args. Unknown arguments are logged once per PAM
 * handle and ignored. A known argument with a bad value is PAM_SERVICE_ERR:
 * a typo in `deny=` or `roles_required=` must not quietly weaken a gate. */
int pud_args_parse(pam_handle_t *pamh, int argc, const char **argv, struct udb_pam_args *ret_args);

/* What the module was doing when a core call failed: the same result means
 * different things to PAM in different steps (UDB_NOT_FOUND is an unknown
 * user in a lookup, UDB_BUSY is a busy password database in a change). */
enum pud_step {
	PUD_STEP_OPEN,    /* loading the config, opening the database */
	PUD_STEP_LOOKUP,  /* reading the user, account, roles, emails */
	PUD_STEP_VERIFY,  /* checking a password */
	PUD_STEP_CHANGE,  /* writing a new password */
	PUD_STEP_SESSION, /* recording a login */
};

/* The one place where an enum udb_result becomes a PAM code. */
int pud_pam_code(enum pud_step step, enum udb_result r);

/* What one entry point works with: its arguments, and once opened the
 * configuration and the database (pam_userdb.c opens and closes them). */
struct pud_ctx {
	pam_handle_t *pamh;
	struct udb_pam_args args;
	struct udb_config *cfg;
	struct udb_db *db;
	enum udb_open_mode mode;     /* what db was opened for */
	bool cached;                 /* cfg and db belong to the PAM handle's cache */
	enum udb_result open_result; /* of the last open that was tried */
	bool ours;                   /* the owner check found a database user */
	bool image_owner;            /* the owner check may take the image's "ours" */
	bool owner_unconfirmed;      /* it did: pud_confirm_owner must run */
	uint64_t owner_gen[2];       /* the generations of the image it read */
};

/* For a caller that cannot open the shadow file: runs userdb-chkpwd, which
 * checks that user is the caller (or the caller root), verifies password
 * and records the attempt. PAM_SUCCESS, PAM_USER_UNKNOWN (not a database
 * user), else PAM_AUTH_ERR, also when the helper cannot be run (chkpwd.c). */
int pud_chkpwd_run(struct pud_ctx *ctx, const char *user, const char *password);

/* On a fleet host: sends the new hash of account to central through
 * userdb-central-passwd, with at as the change time, before the local
 * write. PAM_SUCCESS with *ret_rev, central's revision of the change, when
 * central committed it; else PAM_AUTHTOK_ERR, the reason told through the
 * conversation and logged (writeback.c). */
int pud_writeback_password(struct pud_ctx *ctx, const struct udb_account *account, const char *hash,
			   int64_t at, int flags, int64_t *ret_rev);

/* Loads the configuration into ctx->cfg unless it is there (context.c);
 * a PAM code, logged on failure. */
int pud_ctx_config(struct pud_ctx *ctx);

/* Whether user is a name the database may answer for (owner.c). Another
 * NSS source (files first, as nsswitch.conf says) that resolves it to an
 * account the database does not have makes it PAM_USER_UNKNOWN at once:
 * a local user, logged at debug only. A database user whose name resolves
 * to another uid through an earlier source is PAM_USER_UNKNOWN too, logged
 * once per PAM handle: the name is the other account's now, and never
 * authenticates into it with the database's password or roles.
 * PAM_SUCCESS otherwise (also for a name no source knows); another code
 * when the database cannot tell. */
int pud_check_owner(struct pud_ctx *ctx, const char *user, const char *what);

/* With ctx->image_owner set (authentication, as root), pud_check_owner
 * takes the image's word that the name is the database's when it gives
 * the uid NSS gave, without opening the public file; pud_confirm_owner
 * must then run once ctx->db (with the shadow file) is open, before
 * anything is decided: PAM_SUCCESS when the image's generations are the
 * ones the store recorded, else pud_check_owner's answer from the store. */
int pud_confirm_owner(struct pud_ctx *ctx, const char *user, const char *what);

/* A DNS name is at most 253 bytes; whatever a client sends beyond this is
 * cut before it is logged or stored. */
#define PUD_RHOST_MAX 255

/* PAM_RHOST escaped and cut to size - 1 bytes (context.c). */
void pud_get_rhost(pam_handle_t *pamh, char *buf, size_t size);

/* Opens the store for ctx in mode (or takes the handle an earlier phase
 * of the same transaction kept, when it covers mode), with ctx's
 * configuration; a PAM code, logged when not PAM_SUCCESS. pud_ctx_close
 * lets go of what pud_ctx_open opened and leaves a kept handle for the
 * next phase (context.c). */
int pud_ctx_open(struct pud_ctx *ctx, enum udb_open_mode mode);
void pud_ctx_close(struct pud_ctx *ctx);

/* The user name: asked for when prompt is set (auth, account, password),
 * else only read (session, setcred), as pam_unix does (context.c). */
int pud_get_user(struct pud_ctx *ctx, bool prompt, const char **ret_user);

/* Reads the account of user (login: the leaner read authentication
 * decides on, attempt.h). A user we do not have is PAM_USER_UNKNOWN, logged
 * at unknown_priority without the name; what names the step in the log
 * (context.c). */
int pud_ctx_account(struct pud_ctx *ctx, const char *user, int unknown_priority, const char *what,
		    bool login, struct udb_account **ret_account);

/* Makes the context's handle a writer, for auth: it reads with a read-only
 * handle and opens the writer only when there is something to write. False
 * when it cannot (logged); ctx->cfg may then be NULL (context.c). */
bool pud_ctx_make_writer(struct pud_ctx *ctx);

/* The lockout's settings: the module line's deny= and unlock_time=, else
 * the configuration's (attempt.c). */
unsigned pud_deny_of(const struct pud_ctx *ctx);
unsigned pud_unlock_time_of(const struct pud_ctx *ctx);

/* pam_unix's failure delay: libpam waits about this long (randomised)
 * before pam_authenticate returns a failure, which slows down guessing. */
#define PUD_FAIL_DELAY_USEC 2000000U

/* Waits PUD_FAIL_DELAY_USEC, for a refusal outside pam_authenticate (the
 * old password of a password change), where libpam does not (attempt.c). */
void pud_fail_sleep(void);

/* Records a password attempt of account after its hash was checked
 * (verified is udb_hash_verify's result) and decides it in the same write
 * transaction: PAM_SUCCESS only for a right password of an account that
 * is not locked then, and, when code is not NULL, of a right second-factor
 * code (used up in the same transaction). A right password (and code)
 * with nothing else to change is decided on auth's own handle of the
 * shadow file (ctx->mode UDB_OPEN_SHADOW_ATTEMPT) instead: no writer is
 * opened then, and ctx->db stays that handle. Every refusal is PAM_AUTH_ERR, also when the
 * attempt cannot be recorded (no uncounted guessing), and the log does not
 * tell a wrong password from a wrong code. what names the step in the log
 * ("authentication", "password change"). (attempt.c) */
int pud_attempt(struct pud_ctx *ctx, const struct udb_account *account, enum udb_result verified,
		const char *code, const char *what);

/* The second factor in auth (factor.c). pud_factor_state says whether
 * the code is to be asked of account (second_factor= and whether the user
 * has a confirmed factor) and whether the user has one; a PAM code when it
 * cannot be read. pud_factor_ask prompts for it and returns the answer
 * (udb_secret_free), "" when the conversation gives none, NULL when out of
 * memory. pud_factor_enrol runs self-enrolment after an accepted password
 * (second_factor=enrol, no factor yet): the new secret as QR code, key and
 * URI through the conversation, then a code, enrolled when right; a wrong
 * code is counted and refused. pud_totp_window_of is totp_window= or the
 * default. pud_factor_fleet_host: the configuration names a fleet host
 * (`host =`), whose second factors are central's: there second_factor=enrol
 * enrols nobody and asks a code of users without a factor, as required
 * does. */
int pud_factor_state(struct pud_ctx *ctx, const struct udb_account *account, bool *ret_ask,
		     bool *ret_enrolled);
char *pud_factor_ask(struct pud_ctx *ctx);
int pud_factor_enrol(struct pud_ctx *ctx, const struct udb_account *account);
unsigned pud_totp_window_of(const struct pud_ctx *ctx);
bool pud_factor_fleet_host(const struct pud_ctx *ctx);

/* The account phase after the user has been found: state, validity, aging,
 * then the gating arguments, then fleet mode's offline limit (cfg's
 * max_offline and offline_roles). Logs one line for a refusal and returns
 * its PAM code, or PAM_SUCCESS. */
int pud_gate_account(pam_handle_t *pamh, int flags, const struct udb_pam_args *args,
		     const struct udb_config *cfg, struct udb_db *db,
		     const struct udb_account *account, int64_t now);

/* pam_sm_chauthtok's two steps (passwd.c). The first proves the current
 * password (users, and root changing an expired password on a user's
 * behalf); it runs in both passes. The second, in PAM_UPDATE_AUTHTOK,
 * checks and writes the new one; as_root: no old password to compare. */
int pud_passwd_check_old(struct pud_ctx *ctx, const struct udb_account *account, int flags);
int pud_passwd_change(struct pud_ctx *ctx, const struct udb_account *account, bool as_root,
		      int flags);

/* The update pass for a user the database does not have, or while it
 * cannot be read (rc: PAM_USER_UNKNOWN or PAM_AUTHINFO_UNAVAIL): obtains
 * the new password into PAM_AUTHTOK for pam_unix below (use_authtok) and
 * returns rc, or the error of obtaining it. */
int pud_passwd_pass_on(pam_handle_t *pamh, int rc);

/* Whether an opening session is the user logging in, which the login
 * record counts (session.c). */
bool pud_session_is_login(pam_handle_t *pamh, const char *user);

/* Copies s into out (size bytes, at least 1) with every byte outside
 * printable ASCII, and the backslash, written as \xNN, never splitting an
 * escape: the result is at most size - 1 bytes and safe to log or store.
 * NULL becomes "". */
void pud_escape(const char *s, char *out, size_t size);

#endif
