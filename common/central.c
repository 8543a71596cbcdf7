/* The connection to the central PostgreSQL database of fleet mode and the
 * one mapping of PostgreSQL failures to enum udb_result. Called by the
 * other central*.c files and, through central.h, by the admin tool. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central-internal.h"

/* The first line of a libpq message, without its "ERROR:  " prefix and
 * with control characters replaced, into buf. */
static void
one_line(const char *msg, char *buf, size_t size)
{
	size_t n = 0;

	if (!msg)
		msg = "";
	if (strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	while (*msg && n + 1 < size) {
		unsigned char ch = (unsigned char)*msg++;

		if (ch == '\n') {
			/* libpq's connection messages continue on indented lines. */
			if (*msg == '\t' || *msg == ' ') {
				while (*msg == '\t' || *msg == ' ')
					msg++;
				if (*msg && n + 2 < size) {
					buf[n++] = ';';
					buf[n++] = ' ';
				}
				continue;
			}
			break;
		}
		buf[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	buf[n] = '\0';
}

enum udb_result
udb_central_fail(struct udb_central *central, enum udb_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(central->error, sizeof(central->error), fmt, ap);
	va_end(ap);
	return r;
}

/* By SQLSTATE class and code: what the admin tool says and which exit. */
static enum udb_result
map_sqlstate(const char *state)
{
	static const struct {
		const char *prefix;
		enum udb_result r;
	} map[] = {
		{"42501", UDB_PERMISSION}, {"23505", UDB_EXISTS},    {"42710", UDB_EXISTS},
		{"P0002", UDB_NOT_FOUND},  {"40001", UDB_BUSY},      {"40P01", UDB_BUSY},
		{"55P03", UDB_BUSY},       {"57P", UDB_UNAVAILABLE}, {"08", UDB_UNAVAILABLE},
		{"53", UDB_UNAVAILABLE},   {"28", UDB_AUTH_FAILED},  {"22", UDB_INVALID},
		{"23", UDB_CONFLICT},      {"3F000", UDB_SCHEMA},    {"42P01", UDB_SCHEMA},
		{"42883", UDB_SCHEMA},
	};

	if (!state)
		return UDB_UNAVAILABLE;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(state, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].r;
	return UDB_INTERNAL;
}

enum udb_result
udb_central_result_error(struct udb_central *central, const PGresult *res)
{
	enum udb_result r;
	char line[400];

	if (!res || PQstatus(central->conn) != CONNECTION_OK) {
		one_line(PQerrorMessage(central->conn), line, sizeof(line));
		return udb_central_fail(central, UDB_UNAVAILABLE, "connection lost: %s", line);
	}
	r = map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
	one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), line, sizeof(line));
	return udb_central_fail(central, r, "%s", line);
}

enum udb_result
udb_central_exec(struct udb_central *central, const char *sql, int n, const char *const *params,
		 PGresult **ret_res)
{
	PGresult *res = PQexecParams(central->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum udb_result r = UDB_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = udb_central_result_error(central, res);
	if (r == UDB_OK && ret_res)
		*ret_res = res;
	else
		PQclear(res);
	return r;
}

/* A refused login reads like one of these in libpq's message. */
static bool
is_auth_failure(const char *msg)
{
	static const char *const marks[] = {
		"authentication failed", "no password supplied",      "password authentication",
		"SSL certificate",       "certificate verify failed", "no pg_hba.conf entry",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(msg, marks[i]))
			return true;
	return false;
}

/* Connects with keys/values, which expand conninfo (given as dbname). */
static enum udb_result
connect_params(const char *conninfo, const char *const *keys, const char *const *values,
	       struct udb_central **ret_central, char *err, size_t err_size)
{
	struct udb_central *central;
	char *parse_err = NULL;
	PQconninfoOption *opts;
	enum udb_result r;

	*ret_central = NULL;
	if (err && err_size)
		err[0] = '\0';
	opts = PQconninfoParse(conninfo, &parse_err);
	if (!opts) {
		if (err)
			one_line(parse_err ? parse_err : "out of memory", err, err_size);
		PQfreemem(parse_err);
		return parse_err ? UDB_INVALID : UDB_NO_MEMORY;
	}
	PQconninfoFree(opts);
	central = calloc(1, sizeof(*central));
	if (!central)
		return UDB_NO_MEMORY;
	central->conn = PQconnectdbParams(keys, values, 1);
	if (!central->conn) {
		free(central);
		return UDB_NO_MEMORY;
	}
	if (PQstatus(central->conn) == CONNECTION_OK) {
		*ret_central = central;
		return UDB_OK;
	}
	r = is_auth_failure(PQerrorMessage(central->conn)) ? UDB_AUTH_FAILED : UDB_UNAVAILABLE;
	if (err)
		one_line(PQerrorMessage(central->conn), err, err_size);
	udb_central_close(central);
	return r;
}

enum udb_result
udb_central_connect(const char *conninfo, struct udb_central **ret_central, char *err,
		    size_t err_size)
{
	/* connect_timeout before dbname: the conninfo expanded from dbname
	 * overrides it when it names its own. */
	const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
	const char *const values[] = {"10", "userdb", conninfo, NULL};

	return connect_params(conninfo, keys, values, ret_central, err, err_size);
}

enum udb_result
udb_central_connect_within(const char *conninfo, unsigned seconds, struct udb_central **ret_central,
			   char *err, size_t err_size)
{
	/* connect_timeout after dbname: it overrides the conninfo's own. */
	const char *const keys[] = {"fallback_application_name", "dbname", "connect_timeout", NULL};
	const char *values[] = {"userdb", conninfo, NULL, NULL};
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%u", seconds ? seconds : 1);
	values[2] = timeout;
	return connect_params(conninfo, keys, values, ret_central, err, err_size);
}

void
udb_central_close(struct udb_central *central)
{
	if (!central)
		return;
	PQfinish(central->conn);
	free(central);
}

const char *
udb_central_error(const struct udb_central *central)
{
	return central ? central->error : "";
}

/* A value that needs no quotes: letters, digits and a few safe marks. */
static bool
plain_value(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			       "/._-:,@") == strlen(s);
}

/* Appends key=value to buf, the value in libpq's quotes unless plain;
 * false when buf is full. */
static bool
append_param(char *buf, size_t size, const char *key, const char *value)
{
	bool plain = plain_value(value);
	size_t n = strlen(buf);
	int w;

	w = snprintf(buf + n, size - n, "%s%s=%s", n ? " " : "", key, plain ? "" : "'");
	if (w < 0 || (size_t)w >= size - n)
		return false;
	n += (size_t)w;
	for (; *value; value++) {
		if (n + 3 >= size)
			return false;
		if (!plain && (*value == '\'' || *value == '\\'))
			buf[n++] = '\\';
		buf[n++] = *value;
	}
	if (!plain)
		buf[n++] = '\'';
	buf[n] = '\0';
	return true;
}

enum udb_result
udb_central_host_conninfo(const char *conninfo, const char *login, const char *passfile,
			  char **ret_conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	char buf[2048] = "";
	bool ok = true;

	if (!opts)
		return UDB_INVALID;
	for (PQconninfoOption *o = opts; ok && o->keyword; o++) {
		if (!o->val || strcmp(o->keyword, "user") == 0 ||
		    strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "passfile") == 0)
			continue;
		ok = append_param(buf, sizeof(buf), o->keyword, o->val);
	}
	PQconninfoFree(opts);
	if (ok)
		ok = append_param(buf, sizeof(buf), "user", login) &&
		     append_param(buf, sizeof(buf), "passfile", passfile);
	if (!ok)
		return UDB_INVALID;
	*ret_conninfo = strdup(buf);
	return *ret_conninfo ? UDB_OK : UDB_NO_MEMORY;
}

enum udb_result
udb_central_begin(struct udb_central *central)
{
	return udb_central_exec(central, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, NULL);
}

enum udb_result
udb_central_finish(struct udb_central *central, enum udb_result r)
{
	if (r == UDB_OK)
		return udb_central_exec(central, "COMMIT", 0, NULL, NULL);
	/* The failure's reason stays; a failed ROLLBACK (a lost connection)
	 * rolls back as well. */
	PQclear(PQexec(central->conn, "ROLLBACK"));
	return r;
}
