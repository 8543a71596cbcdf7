/* Fleet mode's central PostgreSQL database (doc/userdb-central.7): the
 * connection, `userdb central init` and the host enrolment of `userdb host
 * ...`. Every SQL string sent to PostgreSQL lives in common/central*.c.
 * Called by the admin tool; nothing here logs: a failure returns a result
 * and leaves its one-line reason in udb_central_error(). */
#ifndef UDB_CENTRAL_H
#define UDB_CENTRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct udb_central;

/* Connects with a libpq conninfo (connect_timeout 10 s unless it names
 * one). UDB_UNAVAILABLE: unreachable, or no such database; UDB_AUTH_FAILED:
 * the server refused the login; UDB_INVALID: a conninfo libpq cannot parse.
 * On failure *ret_central is NULL and err (when not NULL) holds the reason. */
enum udb_result udb_central_connect(const char *conninfo, struct udb_central **ret_central,
				    char *err, size_t err_size);
/* The same with connect_timeout forced to seconds (1 when 0), whatever
 * conninfo says: for a caller that must not wait long (a password change
 * through PAM). */
enum udb_result udb_central_connect_within(const char *conninfo, unsigned seconds,
					   struct udb_central **ret_central, char *err,
					   size_t err_size);
void udb_central_close(struct udb_central *central);
/* The reason of the last failure, one line ("" when none). */
const char *udb_central_error(const struct udb_central *central);

/* The central schema version this build creates. */
unsigned udb_central_schema_version(void);

/* Creates userdb's schema in the database, or brings it up to this build's
 * version, in one transaction (concurrent runs wait for each other).
 * *ret_old is the version found (0: none), *ret_new the version now.
 * UDB_CORRUPT: the database has a schema `userdb` that is not userdb's;
 * UDB_SCHEMA: its version is newer than this build's; UDB_PERMISSION: the
 * login may not create it. */
enum udb_result udb_central_init(struct udb_central *central, unsigned *ret_old, unsigned *ret_new);

/* Checks that the database holds this build's schema version: UDB_SCHEMA
 * (older or newer; *ret_version says which), UDB_CORRUPT (none there). */
enum udb_result udb_central_check_schema(struct udb_central *central, unsigned *ret_version);

/* An enrolled host, as `host list` shows it. */
struct udb_central_host {
	char *name;
	char *login; /* its PostgreSQL login */
	int64_t created_at;
	char **roles; /* allowed roles, sorted */
	size_t n_roles;
};
void udb_central_hosts_free(struct udb_central_host *hosts, size_t n);

/* Enrols host name with the given allowed roles (which must exist): creates
 * its PostgreSQL login `userdb_host_<name>` with the password (only a SCRAM
 * verifier of it reaches the server) and its rows, in one change.
 * UDB_INVALID: a bad name; UDB_EXISTS: the host or its login exists;
 * UDB_NOT_FOUND: a role does not exist (*ret_missing is its index). */
enum udb_result udb_central_host_add(struct udb_central *central, const char *name,
				     const char *const *roles, size_t n_roles, const char *password,
				     int64_t now, char **ret_login, size_t *ret_missing);
/* Allows (allow true) or stops allowing a role on a host. UDB_NOT_FOUND:
 * no such host or role (*ret_which: 'h' or 'r'); UDB_OK with *ret_changed
 * false when it already was so. */
enum udb_result udb_central_host_allow(struct udb_central *central, const char *name,
				       const char *role, bool allow, bool *ret_changed,
				       char *ret_which);
/* Removes a host, its allowed roles and its login. UDB_NOT_FOUND: none. */
enum udb_result udb_central_host_del(struct udb_central *central, const char *name);
/* Every host, by name. */
enum udb_result udb_central_host_list(struct udb_central *central,
				      struct udb_central_host **ret_hosts, size_t *ret_n);

/* On a host (its own login): sends a password change of user_id to central
 * through userdb.host_set_password(), one change of its own, committed on
 * return; *ret_rev is its revision. UDB_PERMISSION: the user may not log in
 * on this host (or the login is not an enrolled host's); UDB_INVALID: not a
 * crypt(3) hash; UDB_UNAVAILABLE: the connection was lost. */
enum udb_result udb_central_host_set_password(struct udb_central *central, int64_t user_id,
					      const char *hash, int64_t at, int64_t *ret_rev);

/* The conninfo a new host uses: conninfo's connection keywords with user
 * set to login, password dropped and passfile set to passfile; malloc'd. */
enum udb_result udb_central_host_conninfo(const char *conninfo, const char *login,
					  const char *passfile, char **ret_conninfo);

/* The fleet-wide lock's settings (central schema 5): key "fleet_deny"
 * (failures across the fleet that lock an account, 0: never) or
 * "fleet_deny_window" (seconds they are counted over, 0: since the last
 * unlock). UDB_INVALID: another key or a negative value. */
enum udb_result udb_central_set_setting(struct udb_central *central, const char *key, int64_t value,
					bool *ret_changed);
enum udb_result udb_central_setting(struct udb_central *central, const char *key,
				    int64_t *ret_value);

/* A user's last login across the fleet, as the hosts pushed it. */
struct udb_central_login {
	bool found;
	char host[64];
	int64_t at;
	char detail[256]; /* the client's address, as the host recorded it */
};
enum udb_result udb_central_last_login(struct udb_central *central, int64_t user_id,
				       struct udb_central_login *ret_login);

#endif
