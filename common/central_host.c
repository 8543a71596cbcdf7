/* The enrolled hosts of a fleet on the central database: `userdb host add,
 * allow, deny, del, list`, and a host's own password write-back
 * (udb_central_host_set_password, run by userdb-central-passwd). Each
 * change is one transaction that starts with userdb.begin_change(), so the
 * hosts see it in revision order. The login role itself is created and
 * dropped by the schema's functions userdb.host_add() / host_del()
 * (schema/central/), which quote the name. Called through central.h by the
 * admin tool and userdb-central-passwd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central-internal.h"
#include "validate.h"

#define Q_ROLE_ID "SELECT id FROM userdb.roles WHERE name = $1"
#define Q_HOST    "SELECT 1 FROM userdb.hosts WHERE name = $1 FOR UPDATE"

/* The role's id as text into buf; UDB_NOT_FOUND when there is none. */
static enum udb_result
role_id(struct udb_central *central, const char *role, char *buf, size_t size)
{
	const char *params[] = {role};
	PGresult *res = NULL;
	enum udb_result r;

	if (!udb_valid_rolename(role))
		return udb_central_fail(central, UDB_NOT_FOUND, "no role");
	r = udb_central_exec(central, Q_ROLE_ID, 1, params, &res);
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) != 1)
		r = udb_central_fail(central, UDB_NOT_FOUND, "no role");
	else
		snprintf(buf, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

static enum udb_result
insert_host_role(struct udb_central *central, const char *host, const char *id, bool *ret_changed)
{
	const char *params[] = {host, id};
	PGresult *res = NULL;
	enum udb_result r;

	r = udb_central_exec(central,
			     "INSERT INTO userdb.host_roles (host, role_id) VALUES ($1, $2) "
			     "ON CONFLICT DO NOTHING",
			     2, params, &res);
	if (r == UDB_OK)
		*ret_changed = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return r;
}

/* The SCRAM verifier of password for login, computed here: the password
 * never reaches the server (nor its statement log). */
static enum udb_result
verifier(struct udb_central *central, const char *login, const char *password, char **ret)
{
	*ret = PQencryptPasswordConn(central->conn, password, login, "scram-sha-256");
	if (!*ret)
		return udb_central_fail(central, UDB_INTERNAL, "cannot compute a SCRAM verifier");
	return UDB_OK;
}

enum udb_result
udb_central_host_add(struct udb_central *central, const char *name, const char *const *roles,
		     size_t n_roles, const char *password, int64_t now, char **ret_login,
		     size_t *ret_missing)
{
	char login[64], at[24], id[24];
	const char *params[] = {name, NULL, at};
	char *verif = NULL;
	PGresult *res = NULL;
	enum udb_result r;
	bool changed;

	*ret_login = NULL;
	if (!udb_valid_host_name(name))
		return udb_central_fail(central, UDB_INVALID, "not a valid host name");
	snprintf(login, sizeof(login), "userdb_host_%s", name);
	snprintf(at, sizeof(at), "%lld", (long long)now);
	r = verifier(central, login, password, &verif);
	if (r == UDB_OK)
		r = udb_central_begin(central);
	if (r != UDB_OK)
		goto out;
	params[1] = verif;
	for (size_t i = 0; i < n_roles && r == UDB_OK; i++) {
		r = role_id(central, roles[i], id, sizeof(id));
		if (r == UDB_NOT_FOUND)
			*ret_missing = i;
	}
	if (r == UDB_OK)
		r = udb_central_exec(central, "SELECT userdb.host_add($1, $2, $3)", 3, params,
				     &res);
	for (size_t i = 0; i < n_roles && r == UDB_OK; i++) {
		r = role_id(central, roles[i], id, sizeof(id));
		if (r == UDB_OK)
			r = insert_host_role(central, name, id, &changed);
	}
	if (r == UDB_OK) {
		*ret_login = strdup(PQgetvalue(res, 0, 0));
		if (!*ret_login)
			r = UDB_NO_MEMORY;
	}
	r = udb_central_finish(central, r);
	if (r != UDB_OK) {
		free(*ret_login);
		*ret_login = NULL;
	}
out:
	PQclear(res);
	if (verif) {
		explicit_bzero(verif, strlen(verif));
		PQfreemem(verif);
	}
	return r;
}

/* Whether the host exists, its row locked until the transaction ends. */
static enum udb_result
lock_host(struct udb_central *central, const char *name)
{
	const char *params[] = {name};
	PGresult *res = NULL;
	enum udb_result r;

	if (!udb_valid_host_name(name))
		return udb_central_fail(central, UDB_NOT_FOUND, "no host");
	r = udb_central_exec(central, Q_HOST, 1, params, &res);
	if (r == UDB_OK && PQntuples(res) != 1)
		r = udb_central_fail(central, UDB_NOT_FOUND, "no host");
	PQclear(res);
	return r;
}

static enum udb_result
delete_host_role(struct udb_central *central, const char *host, const char *id, bool *ret_changed)
{
	const char *params[] = {host, id};
	PGresult *res = NULL;
	enum udb_result r;

	r = udb_central_exec(central,
			     "DELETE FROM userdb.host_roles WHERE host = $1 AND role_id = $2", 2,
			     params, &res);
	if (r == UDB_OK)
		*ret_changed = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return r;
}

enum udb_result
udb_central_host_allow(struct udb_central *central, const char *name, const char *role, bool allow,
		       bool *ret_changed, char *ret_which)
{
	enum udb_result r;
	char id[24];

	*ret_changed = false;
	*ret_which = 0;
	r = udb_central_begin(central);
	if (r != UDB_OK)
		return r;
	/* The counter's row lock first: changes commit in revision order. */
	r = udb_central_exec(central, "SELECT userdb.begin_change()", 0, NULL, NULL);
	if (r == UDB_OK) {
		r = lock_host(central, name);
		if (r == UDB_NOT_FOUND)
			*ret_which = 'h';
	}
	if (r == UDB_OK) {
		r = role_id(central, role, id, sizeof(id));
		if (r == UDB_NOT_FOUND)
			*ret_which = 'r';
	}
	if (r == UDB_OK)
		r = allow ? insert_host_role(central, name, id, ret_changed)
			  : delete_host_role(central, name, id, ret_changed);
	if (r == UDB_OK && !*ret_changed) {
		/* Nothing to do: roll back, so the revision does not move. */
		udb_central_finish(central, UDB_NOT_FOUND);
		return UDB_OK;
	}
	return udb_central_finish(central, r);
}

enum udb_result
udb_central_host_del(struct udb_central *central, const char *name)
{
	const char *params[] = {name};
	enum udb_result r;

	if (!udb_valid_host_name(name))
		return udb_central_fail(central, UDB_NOT_FOUND, "no host");
	r = udb_central_begin(central);
	if (r != UDB_OK)
		return r;
	r = udb_central_exec(central, "SELECT userdb.host_del($1)", 1, params, NULL);
	return udb_central_finish(central, r);
}

void
udb_central_hosts_free(struct udb_central_host *hosts, size_t n)
{
	for (size_t i = 0; hosts && i < n; i++) {
		free(hosts[i].name);
		free(hosts[i].login);
		for (size_t j = 0; j < hosts[i].n_roles; j++)
			free(hosts[i].roles[j]);
		free(hosts[i].roles);
	}
	free(hosts);
}

/* Adds row i of the listing (host, login, created_at, role or NULL) to the
 * hosts array: a new host when the name changes. */
static enum udb_result
add_row(const PGresult *res, int i, struct udb_central_host *hosts, size_t *n)
{
	struct udb_central_host *h = *n ? &hosts[*n - 1] : NULL;
	char **roles;

	if (!h || strcmp(h->name, PQgetvalue(res, i, 0)) != 0) {
		h = &hosts[(*n)++];
		h->name = strdup(PQgetvalue(res, i, 0));
		h->login = strdup(PQgetvalue(res, i, 1));
		h->created_at = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		if (!h->name || !h->login)
			return UDB_NO_MEMORY;
	}
	if (PQgetisnull(res, i, 3))
		return UDB_OK;
	roles = realloc(h->roles, (h->n_roles + 1) * sizeof(*roles));
	if (!roles)
		return UDB_NO_MEMORY;
	h->roles = roles;
	roles[h->n_roles] = strdup(PQgetvalue(res, i, 3));
	if (!roles[h->n_roles])
		return UDB_NO_MEMORY;
	h->n_roles++;
	return UDB_OK;
}

enum udb_result
udb_central_host_list(struct udb_central *central, struct udb_central_host **ret_hosts,
		      size_t *ret_n)
{
	struct udb_central_host *hosts = NULL;
	PGresult *res = NULL;
	enum udb_result r;
	size_t n = 0;

	*ret_hosts = NULL;
	*ret_n = 0;
	r = udb_central_exec(central,
			     "SELECT h.name, h.login, h.created_at, r.name FROM userdb.hosts h "
			     "LEFT JOIN userdb.host_roles hr ON hr.host = h.name "
			     "LEFT JOIN userdb.roles r ON r.id = hr.role_id "
			     "ORDER BY h.name COLLATE \"C\", r.name COLLATE \"C\"",
			     0, NULL, &res);
	if (r != UDB_OK)
		return r;
	hosts = calloc((size_t)PQntuples(res) + 1, sizeof(*hosts));
	if (!hosts)
		r = UDB_NO_MEMORY;
	for (int i = 0; r == UDB_OK && i < PQntuples(res); i++)
		r = add_row(res, i, hosts, &n);
	PQclear(res);
	if (r != UDB_OK) {
		udb_central_hosts_free(hosts, n);
		return r;
	}
	*ret_hosts = hosts;
	*ret_n = n;
	return UDB_OK;
}

enum udb_result
udb_central_host_set_password(struct udb_central *central, int64_t user_id, const char *hash,
			      int64_t at, int64_t *ret_rev)
{
	char id[24], when[24];
	const char *params[] = {id, hash, when};
	PGresult *res = NULL;
	enum udb_result r;

	*ret_rev = 0;
	if (!hash)
		return udb_central_fail(central, UDB_INVALID, "no password hash");
	snprintf(id, sizeof(id), "%lld", (long long)user_id);
	snprintf(when, sizeof(when), "%lld", (long long)at);
	/* One statement, so one transaction of its own: committed when the
	 * result comes back. */
	r = udb_central_exec(central, "SELECT userdb.host_set_password($1, $2, $3)", 3, params,
			     &res);
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		r = udb_central_fail(central, UDB_INTERNAL,
				     "host_set_password returned no revision");
	else
		*ret_rev = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return r;
}
