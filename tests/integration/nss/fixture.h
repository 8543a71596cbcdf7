/* The test bed of the NSS integration tests: a temporary directory (0755,
 * so that a process running as nobody can reach it) with a database built
 * from schema/ by udb_db_init, a config file naming it and USERDB_CONF set
 * to that file, and a standard population built through the core API.
 * Used by test_nss.c and by nss_fixture (the shell tests' database
 * builder).
 *
 * The standard population (times relative to setup):
 *   roles   admins (gid 3000) includes staff (gid 3001); churn (gid 3002)
 *   alice   uid 2001, "Alice Liddell", personal group, granted admins,
 *           password hash NFX_HASH, aging 1 / 90 / 7 / 14 days
 *   bob     uid 2002, "Bob", primary group staff
 *   carol   uid 2003, no names, disabled, password hash NFX_HASH
 *   dave    uid 2004, grant of staff that expired an hour ago
 *   erin    uid 2005, grant of staff from an hour on, must change password
 * so the effective members of staff are alice (through admins) and bob. */
#ifndef NSS_TEST_FIXTURE_H
#define NSS_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"

#define NFX_HASH       "$6$saltsalt$5hQeVkmxxhGkvYBJkFLrUaNn9hMvSQHvPTqJ3hIlmpU"
#define NFX_ADMINS_GID 3000
#define NFX_STAFF_GID  3001
#define NFX_CHURN_GID  3002

struct nfx {
	char dir[128];   /* the temporary directory */
	char dbdir[192]; /* dir/db */
	char conf[192];  /* dir/userdb.conf, exported as USERDB_CONF */
	struct udb_config *cfg;
	struct udb_db *db; /* read-write, for building and changing */
	int64_t now;       /* when the population was built */
};

extern struct nfx nfx;

/* Failures of the fixture fail the running check test; outside check (set
 * nfx_in_check to false) they exit with status 1. */
extern bool nfx_in_check;

/* An empty database (setup_empty) or the standard population (setup). */
void nfx_setup_empty(void);
void nfx_setup(void);
void nfx_teardown(void);

/* Building through the core API, each its own transaction. */
void nfx_user(const char *name, uint32_t uid, const char *first, const char *last,
	      const char *primary_role, const char *hash, bool disabled);
void nfx_role(const char *name, uint32_t gid, const char *includes);
void nfx_grant(const char *user, const char *role, int64_t not_before, int64_t not_after);
void nfx_revoke(const char *user, const char *role);

/* Adds n users prefix0000000.. with uids from uid0 and grants each role
 * (may be NULL), all in one transaction: thousands per second. */
void nfx_bulk_users(const char *prefix, uint32_t uid0, unsigned n, const char *role);

void nfx_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
