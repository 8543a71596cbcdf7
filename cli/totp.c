/* The `totp enroll`, `totp confirm`, `totp disable`, `totp status` and
 * `totp recovery-codes` commands: a user's second factor (common/totp.c),
 * asked by pam_userdb.so after the password. Dispatched from main.c.
 *
 * A secret or a recovery code is shown once, by the command that makes it,
 * and never again: the store keeps the secret for the PAM module only and
 * the recovery codes as hashes. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hash.h"
#include "output.h"
#include "totp.h"

/* Parses NAME (and, with code, CODE), checks the name, opens the database
 * (access) and finds the user. *ret_name stays NULL when --help was
 * printed instead. */
static enum udb_result
user_command(struct cli *c, int argc, char **argv, const char *help, enum cli_access access,
	     const char **args, bool with_code, int64_t *ret_user_id)
{
	static const char *const names[] = {"USER", "CODE"};
	int n = with_code ? 2 : 1;
	struct cli_args a = {
		.help = help, .names = names, .min_args = n, .max_args = n, .args = args};
	struct udb_user *u = NULL;
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	c->subject.user = args[0];
	r = arg_username(args[0]);
	if (r == UDB_OK)
		r = cli_open(c, access);
	if (r != UDB_OK)
		return r;
	r = udb_user_by_name(c->db, args[0], &u);
	if (r != UDB_OK)
		return report_user(r, args[0]);
	*ret_user_id = u->id;
	udb_user_free(u);
	return UDB_OK;
}

/* The issuer an authenticator app shows beside the account: this host. */
static void
issuer(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0 || !buf[0])
		snprintf(buf, size, "userdb");
	buf[size - 1] = '\0';
}

/* The message, the one the audit trail records, never holds the secret. */
static enum udb_result
print_enrolment(struct cli *c, const char *user, const char *secret, const char *uri)
{
	char msg[256];
	char *qr;

	snprintf(msg, sizeof(msg),
		 "pending second factor for user %s: confirm it with `userdb totp confirm %s "
		 "CODE`",
		 user, user);
	if (c->json) {
		struct json_object *o = json_object_new_object();
		bool ok = o != NULL;

		out_jset_bool(o, "changed", true, &ok);
		out_jset_str(o, "message", msg, &ok);
		out_jset_str(o, "user", user, &ok);
		out_jset_str(o, "secret", secret, &ok);
		out_jset_str(o, "uri", uri, &ok);
		cli_changed(c, msg);
		return out_jprint(o, ok, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	qr = udb_qr_text(uri);
	if (!qr)
		return cli_fail(UDB_NO_MEMORY, "the QR code");
	out_done(c, true, "%s", msg);
	out_kv_text("key", secret);
	out_kv_text("uri", uri);
	fputs(qr, stdout);
	free(qr);
	return UDB_OK;
}

enum udb_result
cmd_totp_enroll(struct cli *c, int argc, char **argv)
{
	const char *args[1] = {0};
	char host[256], *secret = NULL, *uri = NULL;
	int64_t user_id = 0;
	enum udb_result r;

	r = user_command(c, argc, argv,
			 "Makes a new secret for the user's authenticator app and shows it as a "
			 "key, an otpauth:// URI\n"
			 "and a QR code. It is asked at login only once `totp confirm` was given "
			 "a right code;\n"
			 "until then an earlier confirmed secret stays in force.\n"
			 "  --json  the key and the URI as JSON (no QR code)\n",
			 CLI_WRITE, args, false, &user_id);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_totp_enroll(c->db, user_id, &secret);
	if (r != UDB_OK)
		return report_user(r, args[0]);
	issuer(host, sizeof(host));
	uri = udb_totp_uri(host, args[0], secret);
	r = uri ? print_enrolment(c, args[0], secret, uri) : cli_fail(UDB_NO_MEMORY, "the URI");
	udb_secret_free(uri);
	udb_secret_free(secret);
	return r;
}

enum udb_result
cmd_totp_confirm(struct cli *c, int argc, char **argv)
{
	const char *args[2] = {0};
	int64_t user_id = 0;
	enum udb_result r;

	r = user_command(c, argc, argv,
			 "Puts the pending secret of `totp enroll` in force when CODE is its "
			 "current code\n"
			 "(one step either side is accepted). A wrong code changes nothing "
			 "(exit 77).\n",
			 CLI_WRITE, args, true, &user_id);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_totp_confirm(c->db, user_id, args[1], c->now, UDB_TOTP_WINDOW);
	if (r == UDB_NOT_FOUND)
		return cli_error(r,
				 "user %s has no pending second factor (run `userdb totp enroll` "
				 "first)",
				 cli_quote(args[0]));
	if (r == UDB_AUTH_FAILED)
		return cli_error(r, "user %s: wrong code; the second factor stays pending",
				 cli_quote(args[0]));
	if (r != UDB_OK)
		return report_user(r, args[0]);
	out_done(c, true, "second factor of user %s confirmed: it is asked at every login",
		 args[0]);
	return UDB_OK;
}

enum udb_result
cmd_totp_disable(struct cli *c, int argc, char **argv)
{
	const char *args[1] = {0};
	int64_t user_id = 0;
	bool changed = false;
	enum udb_result r;

	r = user_command(c, argc, argv,
			 "Removes the user's second factor, pending secret and recovery codes.\n",
			 CLI_WRITE, args, false, &user_id);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_totp_disable(c->db, user_id, &changed);
	if (r != UDB_OK)
		return report_user(r, args[0]);
	if (changed)
		out_done(c, true, "removed the second factor of user %s", args[0]);
	else
		out_done(c, false, "user %s had no second factor", args[0]);
	return UDB_OK;
}

static enum udb_result
print_status(struct cli *c, const char *user, const struct udb_totp_state *s)
{
	char when[32];

	if (c->json) {
		struct json_object *o = json_object_new_object();
		bool ok = o != NULL;

		out_jset_str(o, "user", user, &ok);
		out_jset_bool(o, "enrolled", s->enrolled, &ok);
		out_jset_bool(o, "pending", s->pending, &ok);
		out_jset_time(o, "confirmed_at", s->confirmed_at, &ok);
		out_jset_int(o, "recovery_codes_left", s->recovery_left, &ok);
		out_jset_int(o, "recovery_codes_total", s->recovery_total, &ok);
		return out_jprint(o, ok, JSON_C_TO_STRING_SPACED);
	}
	out_kv_text("user", user);
	if (s->enrolled)
		out_kv_fmt("second factor", "TOTP, confirmed %s",
			   out_when(s->confirmed_at, when, sizeof(when), "-"));
	else
		out_kv_text("second factor", "none");
	out_kv_text("pending", s->pending ? "yes, waiting for `totp confirm`" : "no");
	out_kv_fmt("recovery codes", "%u of %u left", s->recovery_left, s->recovery_total);
	return UDB_OK;
}

enum udb_result
cmd_totp_status(struct cli *c, int argc, char **argv)
{
	const char *args[1] = {0};
	struct udb_totp_state s;
	int64_t user_id = 0;
	enum udb_result r;

	r = user_command(c, argc, argv,
			 "Shows whether the user has a second factor, a pending one, and how "
			 "many recovery codes\n"
			 "are left. Needs root.\n"
			 "  --json  one JSON object\n",
			 CLI_READ_SHADOW, args, false, &user_id);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_totp_state(c->db, user_id, &s);
	if (r != UDB_OK)
		return report_user(r, args[0]);
	return print_status(c, args[0], &s);
}

/* The message, the one the audit trail records, never holds a code. */
static enum udb_result
print_codes(struct cli *c, const char *user, char **codes)
{
	struct json_object *o, *a;
	char msg[256];
	bool ok;

	snprintf(msg, sizeof(msg),
		 "new recovery codes for user %s, each good for one login in place of a code "
		 "(shown only now; the old ones no longer work)",
		 user);
	if (!c->json) {
		out_done(c, true, "%s:", msg);
		for (size_t i = 0; i < UDB_RECOVERY_CODES; i++)
			printf("%s\n", codes[i]);
		return UDB_OK;
	}
	o = json_object_new_object();
	ok = o != NULL;
	out_jset_bool(o, "changed", true, &ok);
	out_jset_str(o, "message", msg, &ok);
	out_jset_str(o, "user", user, &ok);
	a = out_jstrv(codes, UDB_RECOVERY_CODES, &ok);
	out_jset(o, "codes", a, &ok);
	cli_changed(c, msg);
	return out_jprint(o, ok, JSON_C_TO_STRING_SPACED);
}

enum udb_result
cmd_totp_recovery_codes(struct cli *c, int argc, char **argv)
{
	const char *args[1] = {0};
	char **codes = NULL;
	int64_t user_id = 0;
	enum udb_result r;

	r = user_command(c, argc, argv,
			 "Makes 10 new single-use recovery codes for a user with a confirmed "
			 "second factor and\n"
			 "prints them once; only their hashes are kept. Each works once at "
			 "login in place of a\n"
			 "TOTP code. Earlier codes stop working.\n"
			 "  --json  the codes as a JSON array\n",
			 CLI_WRITE, args, false, &user_id);
	if (r != UDB_OK || !c->db)
		return r;
	r = udb_totp_recovery_codes(c->db, user_id, &codes);
	if (r == UDB_NOT_FOUND)
		return cli_error(r,
				 "user %s has no confirmed second factor (`userdb totp enroll`, "
				 "then `totp confirm`)",
				 cli_quote(args[0]));
	if (r != UDB_OK)
		return report_user(r, args[0]);
	r = print_codes(c, args[0], codes);
	udb_totp_codes_free(codes);
	return r;
}
