/* The fleet commands of the admin tool that talk to the central PostgreSQL
 * database directly: `userdb central init` and `userdb host add, allow,
 * deny, del, list` (doc/userdb.8). They need `central = CONNINFO` in the
 * configuration, with an admin login; nothing here touches the local
 * store. Dispatched by main.c. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "central.h"
#include "cli.h"
#include "output.h"
#include "validate.h"

#define DEFAULT_PASSFILE "/etc/userdb/central.pgpass"

/* Connects to the configured central database; with check, also checks
 * that it holds this build's schema. Reports its own errors. */
static enum udb_result
cli_central(struct cli *c, bool check)
{
	char err[512];
	unsigned version;
	enum udb_result r;

	c->central_only = true;
	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	if (!c->cfg->central) {
		c->config_failed = true;
		return cli_error(UDB_INVALID,
				 "no central database configured: set `central = CONNINFO` in %s",
				 cli_quote(c->cfg->path ? c->cfg->path : UDB_CONFIG_PATH));
	}
	r = udb_central_connect(c->cfg->central, &c->central, err, sizeof(err));
	if (r == UDB_INVALID) {
		c->config_failed = true;
		return cli_error(r, "config: central: not a libpq connection string: %s", err);
	}
	if (r == UDB_AUTH_FAILED)
		return cli_error(r, "central database refused the login: %s", err);
	if (r != UDB_OK)
		return cli_error(r, "central database unreachable: %s", err);
	if (!check)
		return UDB_OK;
	r = udb_central_check_schema(c->central, &version);
	if (r != UDB_OK)
		return cli_error(r, "central database: %s", udb_central_error(c->central));
	return UDB_OK;
}

/* The error line of a failed central call. */
static enum udb_result
central_fail(struct cli *c, enum udb_result r, const char *what)
{
	if (r == UDB_PERMISSION)
		return cli_error(r, "%s: permission denied by the central database: %s", what,
				 udb_central_error(c->central));
	return cli_error(r, "%s: central database: %s", what, udb_central_error(c->central));
}

enum udb_result
cmd_central_init(struct cli *c, int argc, char **argv)
{
	struct cli_args a = {.help = "Creates userdb's schema in the central PostgreSQL database "
				     "named by\n`central =`, or applies the missing migrations, in "
				     "one transaction.\n"};
	unsigned old = 0, now = 0;
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = cli_central(c, false);
	if (r != UDB_OK)
		return r;
	r = udb_central_init(c->central, &old, &now);
	if (r != UDB_OK)
		return cli_error(r, "central init: %s", udb_central_error(c->central));
	if (old == now)
		out_done(c, false, "the central database is current (schema version %u)", now);
	else if (old == 0)
		out_done(c, true, "created the central schema (version %u)", now);
	else
		out_done(c, true, "upgraded the central schema from version %u to %u", old, now);
	return UDB_OK;
}

/* A host name argument. */
static enum udb_result
arg_host(const char *s)
{
	if (udb_valid_host_name(s))
		return UDB_OK;
	return cli_error(UDB_INVALID,
			 "host name %s: must be 1 to %d lowercase letters, digits, '-' or '.', "
			 "starting with a letter or digit",
			 cli_quote(s), UDB_HOST_NAME_MAX);
}

/* 32 random bytes as 43 characters of [A-Za-z0-9_-] into buf (44+). */
static enum udb_result
random_password(char *buf, size_t size)
{
	static const char set[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[43];
	size_t i;

	if (size < sizeof(raw) + 1 || getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return UDB_IO;
	for (i = 0; i < sizeof(raw); i++)
		buf[i] = set[raw[i] & 63];
	buf[i] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return UDB_OK;
}

/* What host add prints: the host's userdb.conf lines and its passfile
 * line. */
static enum udb_result
print_host_config(struct cli *c, const char *name, const char *login, const char *conninfo,
		  const char *passfile, const char *password)
{
	char config[3072], pass[256];

	snprintf(config, sizeof(config), "central = %s\nhost = %s\n", conninfo, name);
	snprintf(pass, sizeof(pass), "*:*:*:%s:%s\n", login, password);
	c->changed = true;
	if (c->json) {
		struct json_object *o = json_object_new_object();
		bool ok = o != NULL;

		if (o) {
			out_jset_bool(o, "changed", true, &ok);
			out_jset_str(o, "host", name, &ok);
			out_jset_str(o, "login", login, &ok);
			out_jset_str(o, "config", config, &ok);
			out_jset_str(o, "passfile", passfile, &ok);
			out_jset_str(o, "passfile_line", pass, &ok);
		}
		explicit_bzero(pass, sizeof(pass));
		return out_jprint(o, ok, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	printf("added host %s (PostgreSQL login %s)\n", name, login);
	printf("# on %s, in /etc/userdb.conf:\n%s", name, config);
	printf("# on %s, in %s (root's, mode 0600):\n%s", name, passfile, pass);
	explicit_bzero(pass, sizeof(pass));
	return UDB_OK;
}

enum udb_result
cmd_host_add(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct cli_list roles = {0};
	const char *name = NULL, *passfile = DEFAULT_PASSFILE;
	const struct cli_opt opts[] = {
		{"allow-role", CLI_LIST, &roles},
		{"passfile", CLI_VALUE, &passfile},
		{0},
	};
	struct cli_args a = {
		.help = "Enrols a host: creates its PostgreSQL login userdb_host_NAME with a "
			"random\n"
			"password and prints the lines the host puts in its userdb.conf and in\n"
			"its passfile (--passfile, default " DEFAULT_PASSFILE ").\n"
			"--allow-role ROLE lets ROLE's members log in there (repeatable).\n",
		.opts = opts,
		.names = names,
		.min_args = 1,
		.max_args = 1,
		.args = &name};
	char password[64], *login = NULL, *conninfo = NULL;
	enum cli_parse_result p;
	enum udb_result r;
	size_t missing = 0;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_host(name);
	for (size_t i = 0; r == UDB_OK && i < roles.n; i++)
		r = arg_rolename(roles.v[i]);
	if (r == UDB_OK)
		r = arg_path("--passfile", passfile);
	if (r == UDB_OK)
		r = cli_central(c, true);
	if (r != UDB_OK)
		return r;
	r = random_password(password, sizeof(password));
	if (r != UDB_OK)
		return cli_error(r, "host add: no random bytes for the password");
	r = udb_central_host_add(c->central, name, roles.v, roles.n, password, c->now, &login,
				 &missing);
	if (r == UDB_NOT_FOUND)
		r = cli_error(r, "role %s: no such role (nothing changed)",
			      cli_quote(roles.v[missing]));
	else if (r == UDB_EXISTS)
		r = cli_error(r, "host %s: %s (nothing changed)", cli_quote(name),
			      udb_central_error(c->central));
	else if (r != UDB_OK)
		r = central_fail(c, r, "host add");
	if (r == UDB_OK) {
		r = udb_central_host_conninfo(c->cfg->central, login, passfile, &conninfo);
		if (r == UDB_OK)
			r = print_host_config(c, name, login, conninfo, passfile, password);
		else
			r = cli_error(r, "host add: added, but cannot write its conninfo");
	}
	explicit_bzero(password, sizeof(password));
	free(login);
	free(conninfo);
	return r;
}

static enum udb_result
host_allow_deny(struct cli *c, int argc, char **argv, bool allow)
{
	static const char *const names[] = {"NAME", "ROLE"};
	const char *args[2] = {NULL, NULL};
	struct cli_args a = {.help = allow ? "Lets the role's members log in on the host.\n"
					   : "Stops the role's members logging in on the host.\n",
			     .names = names,
			     .min_args = 2,
			     .max_args = 2,
			     .args = args};
	enum cli_parse_result p;
	enum udb_result r;
	bool changed = false;
	char which = 0;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_host(args[0]);
	if (r == UDB_OK)
		r = arg_rolename(args[1]);
	if (r == UDB_OK)
		r = cli_central(c, true);
	if (r != UDB_OK)
		return r;
	r = udb_central_host_allow(c->central, args[0], args[1], allow, &changed, &which);
	if (r == UDB_NOT_FOUND && which == 'h')
		return cli_error(r, "host %s: no such host", cli_quote(args[0]));
	if (r == UDB_NOT_FOUND)
		return cli_error(r, "role %s: no such role", cli_quote(args[1]));
	if (r != UDB_OK)
		return central_fail(c, r, c->name);
	c->subject.role = args[1];
	if (allow)
		out_done(c, changed,
			 changed ? "role %s may log in on host %s"
				 : "role %s already may log in on host %s",
			 args[1], args[0]);
	else
		out_done(c, changed,
			 changed ? "role %s may no longer log in on host %s"
				 : "role %s was not allowed on host %s",
			 args[1], args[0]);
	return UDB_OK;
}

enum udb_result
cmd_host_allow(struct cli *c, int argc, char **argv)
{
	return host_allow_deny(c, argc, argv, true);
}

enum udb_result
cmd_host_deny(struct cli *c, int argc, char **argv)
{
	return host_allow_deny(c, argc, argv, false);
}

enum udb_result
cmd_host_del(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	const char *name = NULL;
	struct cli_args a = {.help = "Removes the host, its allowed roles and its PostgreSQL "
				     "login.\n",
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_host(name);
	if (r == UDB_OK)
		r = cli_central(c, true);
	if (r != UDB_OK)
		return r;
	r = udb_central_host_del(c->central, name);
	if (r == UDB_NOT_FOUND)
		return cli_error(r, "host %s: no such host", cli_quote(name));
	if (r != UDB_OK)
		return central_fail(c, r, "host del");
	out_done(c, true, "deleted host %s", name);
	return UDB_OK;
}

static enum udb_result
print_hosts(struct cli *c, const struct udb_central_host *hosts, size_t n)
{
	char when[32];

	if (c->json) {
		struct json_object *arr = json_object_new_array();
		bool ok = arr != NULL;

		for (size_t i = 0; ok && i < n; i++) {
			struct json_object *o = json_object_new_object();

			if (!o) {
				ok = false;
				break;
			}
			out_jset_str(o, "name", hosts[i].name, &ok);
			out_jset_str(o, "login", hosts[i].login, &ok);
			out_jset_time(o, "created", hosts[i].created_at, &ok);
			out_jset(o, "roles", out_jstrv(hosts[i].roles, hosts[i].n_roles, &ok), &ok);
			out_jpush(arr, o, &ok);
		}
		return out_jprint(arr, ok, JSON_C_TO_STRING_SPACED);
	}
	printf("HOST  CREATED  ROLES\n");
	for (size_t i = 0; i < n; i++) {
		out_text(hosts[i].name);
		printf("  %s  ", out_when(hosts[i].created_at, when, sizeof(when), "-"));
		if (hosts[i].n_roles == 0)
			printf("(none)");
		for (size_t j = 0; j < hosts[i].n_roles; j++) {
			printf("%s", j ? "," : "");
			out_text(hosts[i].roles[j]);
		}
		putchar('\n');
	}
	return UDB_OK;
}

enum udb_result
cmd_host_list(struct cli *c, int argc, char **argv)
{
	struct cli_args a = {.help = "Lists the enrolled hosts and the roles allowed on each.\n"};
	struct udb_central_host *hosts = NULL;
	enum cli_parse_result p;
	enum udb_result r;
	size_t n = 0;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = cli_central(c, true);
	if (r != UDB_OK)
		return r;
	r = udb_central_host_list(c->central, &hosts, &n);
	if (r != UDB_OK)
		return central_fail(c, r, "host list");
	r = print_hosts(c, hosts, n);
	udb_central_hosts_free(hosts, n);
	return r;
}

/* A setting's value: digits only, at most 10 of them. */
static bool
parse_setting(const char *s, int64_t *ret)
{
	size_t len = strlen(s);

	if (len == 0 || len > 10 || strspn(s, "0123456789") != len)
		return false;
	*ret = strtoll(s, NULL, 10);
	return true;
}

enum udb_result
cmd_central_set(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"SETTING", "VALUE"};
	const char *args[2] = {NULL, NULL};
	struct cli_args a = {.help = "Sets fleet-deny (failed logins across the fleet that lock an "
				     "account everywhere,\n0: never, the default) or "
				     "fleet-deny-window (the seconds they are counted\nover, "
				     "default 900; 0: since the account's last unlock).\n",
			     .names = names,
			     .min_args = 2,
			     .max_args = 2,
			     .args = args};
	enum cli_parse_result p;
	const char *key = NULL;
	bool changed = false;
	int64_t value = 0;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	if (strcmp(args[0], "fleet-deny") == 0)
		key = "fleet_deny";
	else if (strcmp(args[0], "fleet-deny-window") == 0)
		key = "fleet_deny_window";
	else
		return cli_error(UDB_INVALID,
				 "central set: %s: no such setting (fleet-deny, fleet-deny-window)",
				 cli_quote(args[0]));
	if (!parse_setting(args[1], &value))
		return cli_error(UDB_INVALID,
				 "central set %s: %s: not a whole number from 0 to 9999999999",
				 args[0], cli_quote(args[1]));
	r = cli_central(c, true);
	if (r != UDB_OK)
		return r;
	r = udb_central_set_setting(c->central, key, value, &changed);
	if (r != UDB_OK)
		return central_fail(c, r, "central set");
	out_done(c, changed, "%s %s %" PRId64, args[0], changed ? "set to" : "is already", value);
	return UDB_OK;
}
