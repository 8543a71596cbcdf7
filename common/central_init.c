/* `userdb central init`: creates userdb's schema in the central PostgreSQL
 * database or upgrades it, forward only, and the schema check every other
 * central command makes first. Called through central.h by the admin tool.
 *
 * The migrations are schema/central/NNNN-*.sql, embedded at build time;
 * userdb.meta's schema_version says how many have run. init runs the
 * missing ones and the version bump in one transaction under an advisory
 * lock, so two concurrent runs cannot both apply one migration, and a
 * failed run leaves the database as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central-internal.h"

/* The advisory lock key of init: "udb" "init" as bytes. */
#define INIT_LOCK_KEY "7306344905655121268"

unsigned
udb_central_schema_version(void)
{
	return udb_central_migration_count;
}

/* Reads the schema version: 0 when there is no schema userdb; UDB_CORRUPT
 * when there is one without userdb's meta table or version row. */
static enum udb_result
read_version(struct udb_central *central, unsigned *ret_version)
{
	PGresult *res = NULL;
	enum udb_result r;
	unsigned long v;
	char *end;

	*ret_version = 0;
	r = udb_central_exec(central,
			     "SELECT to_regnamespace('userdb') IS NOT NULL, "
			     "to_regclass('userdb.meta') IS NOT NULL",
			     0, NULL, &res);
	if (r != UDB_OK)
		return r;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return UDB_OK;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		PQclear(res);
		return udb_central_fail(central, UDB_CORRUPT,
					"the database has a schema \"userdb\" that userdb did not "
					"create (no userdb.meta)");
	}
	PQclear(res);
	r = udb_central_exec(central, "SELECT value FROM userdb.meta WHERE key = 'schema_version'",
			     0, NULL, &res);
	if (r != UDB_OK)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return udb_central_fail(central, UDB_CORRUPT,
					"userdb.meta has no schema_version: not a userdb database");
	}
	v = strtoul(PQgetvalue(res, 0, 0), &end, 10);
	if (*end || v == 0 || v > 1000000) {
		PQclear(res);
		return udb_central_fail(central, UDB_CORRUPT,
					"userdb.meta's schema_version is not a version number");
	}
	PQclear(res);
	*ret_version = (unsigned)v;
	return UDB_OK;
}

enum udb_result
udb_central_check_schema(struct udb_central *central, unsigned *ret_version)
{
	enum udb_result r = read_version(central, ret_version);

	if (r != UDB_OK)
		return r;
	if (*ret_version == 0)
		return udb_central_fail(central, UDB_CORRUPT,
					"no userdb schema (run `userdb central init`)");
	if (*ret_version < udb_central_migration_count)
		return udb_central_fail(central, UDB_SCHEMA,
					"central schema version %u is older than this userdb's "
					"%u (run `userdb central init`)",
					*ret_version, udb_central_migration_count);
	if (*ret_version > udb_central_migration_count)
		return udb_central_fail(central, UDB_SCHEMA,
					"central schema version %u is newer than this userdb's %u "
					"(upgrade userdb)",
					*ret_version, udb_central_migration_count);
	return UDB_OK;
}

/* Runs the migrations from version old on and records the new version.
 * The caller holds the transaction. */
static enum udb_result
migrate(struct udb_central *central, unsigned old)
{
	char version[16];
	const char *params[] = {version};
	enum udb_result r = UDB_OK;

	for (unsigned i = old; i < udb_central_migration_count && r == UDB_OK; i++) {
		PGresult *res = PQexec(central->conn, udb_central_migrations[i]);

		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
			r = udb_central_result_error(central, res);
		PQclear(res);
	}
	if (r != UDB_OK)
		return r;
	snprintf(version, sizeof(version), "%u", udb_central_migration_count);
	return udb_central_exec(
		central,
		"INSERT INTO userdb.meta (key, value) VALUES ('schema_version', $1) "
		"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		1, params, NULL);
}

enum udb_result
udb_central_init(struct udb_central *central, unsigned *ret_old, unsigned *ret_new)
{
	enum udb_result r;
	unsigned old = 0;

	*ret_old = *ret_new = 0;
	r = udb_central_exec(central, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, NULL);
	if (r != UDB_OK)
		return r;
	/* Quiet: PostgreSQL's notices (IF NOT EXISTS) are not for the admin. */
	r = udb_central_exec(central, "SET LOCAL client_min_messages = warning", 0, NULL, NULL);
	if (r == UDB_OK)
		r = udb_central_exec(central, "SELECT pg_advisory_xact_lock(" INIT_LOCK_KEY ")", 0,
				     NULL, NULL);
	if (r == UDB_OK)
		r = read_version(central, &old);
	if (r == UDB_OK && old > udb_central_migration_count)
		r = udb_central_fail(central, UDB_SCHEMA,
				     "central schema version %u is newer than this userdb's %u "
				     "(upgrade userdb; nothing changed)",
				     old, udb_central_migration_count);
	if (r == UDB_OK && old < udb_central_migration_count)
		r = migrate(central, old);
	if (r == UDB_OK)
		r = udb_central_exec(central, "COMMIT", 0, NULL, NULL);
	if (r != UDB_OK) {
		PQclear(PQexec(central->conn, "ROLLBACK"));
		return r;
	}
	*ret_old = old;
	*ret_new = old > udb_central_migration_count ? old : udb_central_migration_count;
	return UDB_OK;
}
