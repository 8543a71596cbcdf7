/* `userdb explain USER SERVICE`: why the account phase of SERVICE would
 * let USER in or not. Reads the service's PAM lines (pamconf.c), parses
 * pam_userdb's arguments with the module's own rules (common/pam_args.c)
 * and asks the module's own decision (common/gate.c), then shows where each
 * role or permission comes from (explain_detail.c). The first line is the
 * decision and its reason; exit 0 allowed, 1 refused. Called by main.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explain.h"
#include "pamconf.h"

/* One of our lines: its arguments and what the gate said. */
struct line_eval {
	const struct cli_pam_line *line;
	struct udb_pam_args args;
	const char *bad_arg; /* an argument of ours with a bad value */
	struct udb_gate_verdict verdict;
};

static bool
valid_service(const char *s)
{
	return *s && *s != '.' && !strchr(s, '/') && strlen(s) < 256;
}

/* Parses a line's arguments as the module does. */
static void
parse_line(struct line_eval *e)
{
	e->args = (struct udb_pam_args){0};
	for (int i = 0; i < e->line->argc; i++)
		if (udb_pam_arg_parse(e->line->argv[i], &e->args) == UDB_INVALID && !e->bad_arg)
			e->bad_arg = e->line->argv[i];
}

/* The first line that does not simply allow decides (pam_userdb's lines
 * run in stack order; the profile's control ends at the first refusal). */
static const struct line_eval *
deciding(const struct line_eval *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].bad_arg || e[i].verdict.reason != UDB_GATE_OK)
			return &e[i];
	return &e[0];
}

static enum udb_result
evaluate(struct cli *c, const struct udb_account *a, struct line_eval *e, size_t n)
{
	enum udb_result r = UDB_OK;

	for (size_t i = 0; i < n && r == UDB_OK; i++)
		if (!e[i].bad_arg)
			r = udb_gate_account(c->db, &e[i].args, c->cfg->host, a, c->now,
					     &e[i].verdict);
	if (r != UDB_OK)
		return cli_error(r, "user %s: cannot read its roles, permissions or emails: %s",
				 cli_quote(a->username), udb_result_to_string(r));
	return UDB_OK;
}

/* Collects our lines; reports when there is none. */
static enum udb_result
our_lines(const struct cli_pam_stack *s, const char *service, struct line_eval **ret, size_t *ret_n)
{
	struct line_eval *e = calloc(s->n_lines ? s->n_lines : 1, sizeof(*e));
	size_t n = 0;

	if (!e)
		return cli_error(UDB_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < s->n_lines; i++) {
		if (!s->lines[i].ours)
			continue;
		e[n].line = &s->lines[i];
		parse_line(&e[n++]);
	}
	if (n == 0) {
		free(e);
		if (s->n_lines)
			return cli_error(UDB_UNAVAILABLE,
					 "service %s: no account line runs userdb's pam_userdb.so "
					 "(%s: %s)",
					 cli_quote(service), s->lines[0].where, s->lines[0].why);
		return cli_error(UDB_UNAVAILABLE,
				 "service %s: no account line runs userdb's pam_userdb.so",
				 cli_quote(service));
	}
	*ret = e;
	*ret_n = n;
	return UDB_OK;
}

static enum udb_result
explain_account(struct cli *c, const char *user, const char *service,
		const struct cli_pam_stack *stack)
{
	struct line_eval *e = NULL;
	struct udb_account *account = NULL;
	struct explain_view v = {.user = user, .service = service, .stack = stack, .now = c->now};
	size_t n = 0;
	enum udb_result r;

	r = our_lines(stack, service, &e, &n);
	if (r != UDB_OK)
		return r;
	/* The module reads the configuration its conf= names. */
	if (e[0].args.conf && !c->config_path)
		c->config_path = e[0].args.conf;
	r = cli_open(c, CLI_READ_SHADOW);
	if (r == UDB_OK) {
		r = udb_account_by_name(c->db, user, &account);
		if (r != UDB_OK && r != UDB_NOT_FOUND)
			r = report_user(r, user);
	}
	if (r == UDB_NOT_FOUND) {
		r = explain_print_unknown(c, &v);
		if (r == UDB_OK)
			r = cli_error(UDB_NOT_FOUND, "user %s: not in the database",
				      cli_quote(user));
		goto out;
	}
	if (r == UDB_OK)
		r = evaluate(c, account, e, n);
	if (r != UDB_OK)
		goto out;
	const struct line_eval *d = deciding(e, n);

	v.account = account;
	v.line = d->line;
	v.args = &d->args;
	v.bad_arg = d->bad_arg;
	v.verdict = &d->verdict;
	/* The module asks for the offline limit after a verdict that allows. */
	if (!d->bad_arg && udb_gate_allows(d->verdict.reason)) {
		r = udb_gate_offline(c->db, c->cfg, account, c->now, &v.offline_refused,
				     &v.offline_age);
		if (r != UDB_OK) {
			r = cli_error(r, "user %s: cannot read how old the local copy is: %s",
				      cli_quote(user), udb_result_to_string(r));
			goto out;
		}
	}
	c->refused = d->bad_arg || !udb_gate_allows(d->verdict.reason) || v.offline_refused;
	r = explain_print(c, &v);
out:
	udb_account_free(account);
	free(e);
	return r;
}

enum udb_result
cmd_explain(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER", "SERVICE"};
	const char *args[2] = {0}, *pam_dir = "/etc/pam.d";
	const struct cli_opt opts[] = {
		{"pam-dir", CLI_VALUE, &pam_dir},
		{0},
	};
	struct cli_args a = {
		.help = "Reads SERVICE's PAM configuration, finds userdb's pam_userdb.so in its\n"
			"account phase and decides for USER now, as the module would. Prints the\n"
			"decision and its reason first. Exit 0: allowed; 1: refused. Needs root.\n"
			"  --pam-dir DIR  read DIR instead of /etc/pam.d\n"
			"  --json         one JSON object\n",
		.opts = opts,
		.names = names,
		.min_args = 2,
		.max_args = 2,
		.args = args};
	struct cli_pam_stack stack = {0};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_username(args[0]);
	if (r != UDB_OK)
		return r;
	if (!valid_service(args[1]))
		return cli_error(UDB_INVALID, "service %s: not a PAM service name",
				 cli_quote(args[1]));
	if (pam_dir[0] != '/')
		return cli_error(UDB_INVALID, "--pam-dir %s: not an absolute path",
				 cli_quote(pam_dir));
	r = cli_pam_stack_read(pam_dir, args[1], &stack);
	if (r == UDB_OK)
		r = explain_account(c, args[0], args[1], &stack);
	cli_pam_stack_free(&stack);
	return r;
}
