/* The audit trail of the tool: after a command changed something, one
 * authpriv syslog line and one row in the audit table (common/audit.c)
 * saying what changed and who ran the tool (the real uid and, under sudo,
 * SUDO_USER); and `userdb log`, which shows the rows. main.c calls
 * cli_audit_record() once per run, after out_done() (or a command that
 * prints its own report) has called cli_changed() (output.c). */
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "output.h"

/* Control bytes become '?': a row and a log line are one line each. */
static void
one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* SUDO_USER as sudo sets it, cut to a user name's length; NULL when unset.
 * Only root runs the tool, so the variable is as trustworthy as its
 * caller: the row records what sudo said, not a proof. */
static const char *
sudo_user(char *buf, size_t size)
{
	const char *s = getenv("SUDO_USER");

	if (!s || !*s)
		return NULL;
	snprintf(buf, size, "%s", s);
	one_line(buf);
	return buf;
}

enum udb_result
cli_audit_record(struct cli *c)
{
	char actor[64], sudo[64], line[1024];
	struct passwd *pw = getpwuid(getuid());
	struct udb_audit_change e = {
		.at = c->now,
		.uid = (uint32_t)getuid(),
		.actor = actor,
		.sudo_user = sudo_user(sudo, sizeof(sudo)),
		.command = c->audit_command,
		.subject_user = c->subject.user,
		.subject_role = c->subject.role,
		.message = c->audit_message,
	};
	enum udb_result r;

	if (!c->changed || !c->audit_message[0])
		return UDB_OK;
	if (pw)
		snprintf(actor, sizeof(actor), "%s", pw->pw_name);
	else
		snprintf(actor, sizeof(actor), "#%u", (unsigned)getuid());
	one_line(actor);
	snprintf(line, sizeof(line), "%s by %s (uid %u%s%s): %s", c->audit_command, actor,
		 (unsigned)e.uid, e.sudo_user ? ", sudo from " : "", e.sudo_user ? e.sudo_user : "",
		 c->audit_message);
	/* The log line goes out first: if the row cannot be written, the
	 * system log still has the change. */
	openlog("userdb", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "%s", line);
	closelog();
	/* central init and the host commands change the central database
	 * alone; the admin box need not have a local store to hold a row. */
	if (c->central_only)
		return UDB_OK;
	r = c->db ? UDB_OK : cli_open(c, CLI_WRITE_LOCAL);
	if (r == UDB_OK)
		r = udb_audit_add(c->db, &e);
	if (r != UDB_OK && !cli_error_reported())
		cli_error(r, "%s: the change was made, but its audit row was not written: %s",
			  c->audit_command, udb_result_to_string(r));
	return r;
}

static struct json_object *
json_entry(const struct udb_audit_entry *e, bool *ok)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		*ok = false;
		return NULL;
	}
	out_jset_int(o, "id", e->id, ok);
	out_jset_time(o, "time", e->at, ok);
	out_jset_int(o, "uid", e->uid, ok);
	out_jset_str(o, "by", e->actor, ok);
	out_jset_str(o, "sudo_user", e->sudo_user, ok);
	out_jset_str(o, "command", e->command, ok);
	out_jset_str(o, "user", e->subject_user, ok);
	out_jset_str(o, "role", e->subject_role, ok);
	out_jset_str(o, "message", e->message, ok);
	return o;
}

static enum udb_result
print_entries(struct cli *c, const struct udb_audit_entry *v, size_t n)
{
	char when[32];

	if (c->json) {
		struct json_object *a = json_object_new_array();
		bool ok = a != NULL;

		for (size_t i = 0; i < n && ok; i++)
			out_jpush(a, json_entry(&v[i], &ok), &ok);
		return out_jprint(a, ok, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s  ", out_when(v[i].at, when, sizeof(when), "-"));
		out_text(v[i].actor);
		if (v[i].sudo_user) {
			printf(" (sudo from ");
			out_text(v[i].sudo_user);
			putchar(')');
		}
		printf("  ");
		out_text(v[i].command);
		printf(": ");
		out_text(v[i].message);
		putchar('\n');
	}
	return UDB_OK;
}

enum udb_result
cmd_log(struct cli *c, int argc, char **argv)
{
	const char *user = NULL, *since = NULL;
	const struct cli_opt opts[] = {
		{"user", CLI_VALUE, &user},
		{"since", CLI_VALUE, &since},
		{0},
	};
	struct cli_args a = {.help = "Shows the changes made with this tool, oldest first: "
				     "when, by whom (and\nSUDO_USER), the command and what it "
				     "printed. --user: the changes to one\nuser; --since: those "
				     "made at or after a time.\n",
			     .opts = opts};
	struct udb_audit_entry *v = NULL;
	int64_t from = 0;
	size_t n = 0;
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = user ? arg_username(user) : UDB_OK;
	if (r == UDB_OK && since)
		r = arg_time("--since", since, c->now, false, &from);
	if (r == UDB_OK)
		r = cli_open(c, CLI_READ_SHADOW);
	if (r != UDB_OK)
		return r;
	r = udb_audit_list(c->db, user, from, &v, &n);
	if (r != UDB_OK)
		return cli_fail(r, "log");
	r = print_entries(c, v, n);
	udb_audit_list_free(v, n);
	return r;
}
