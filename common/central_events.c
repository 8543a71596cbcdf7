/* What hosts report, on the admin's side (central.h): the fleet-wide lock's
 * settings and the fleet's last login of a user (central schema 5). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central-internal.h"

enum udb_result
udb_central_set_setting(struct udb_central *central, const char *key, int64_t value,
			bool *ret_changed)
{
	char num[24];
	const char *params[] = {key, num};
	PGresult *res = NULL;
	enum udb_result r;

	if (strcmp(key, "fleet_deny") != 0 && strcmp(key, "fleet_deny_window") != 0)
		return udb_central_fail(central, UDB_INVALID, "no setting %s", key);
	if (value < 0)
		return udb_central_fail(central, UDB_INVALID, "a negative value");
	snprintf(num, sizeof(num), "%" PRId64, value);
	r = udb_central_exec(central,
			     "UPDATE userdb.settings SET value = $2::bigint WHERE key = $1 AND "
			     "value <> $2::bigint RETURNING key",
			     2, params, &res);
	if (r == UDB_OK) {
		*ret_changed = PQntuples(res) > 0;
		PQclear(res);
	}
	return r;
}

enum udb_result
udb_central_setting(struct udb_central *central, const char *key, int64_t *ret_value)
{
	const char *params[] = {key};
	PGresult *res = NULL;
	enum udb_result r;

	r = udb_central_exec(central, "SELECT value FROM userdb.settings WHERE key = $1", 1, params,
			     &res);
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) == 1)
		*ret_value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		r = udb_central_fail(central, UDB_NOT_FOUND, "no setting %s", key);
	PQclear(res);
	return r;
}

enum udb_result
udb_central_last_login(struct udb_central *central, int64_t user_id,
		       struct udb_central_login *ret_login)
{
	char id[24];
	const char *params[] = {id};
	PGresult *res = NULL;
	enum udb_result r;

	memset(ret_login, 0, sizeof(*ret_login));
	snprintf(id, sizeof(id), "%" PRId64, user_id);
	r = udb_central_exec(central,
			     "SELECT host, at, detail FROM userdb.last_logins WHERE user_id = "
			     "$1::bigint",
			     1, params, &res);
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) == 1) {
		ret_login->found = true;
		snprintf(ret_login->host, sizeof(ret_login->host), "%s", PQgetvalue(res, 0, 0));
		ret_login->at = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		snprintf(ret_login->detail, sizeof(ret_login->detail), "%s", PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return UDB_OK;
}
