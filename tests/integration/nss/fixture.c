/* The NSS tests' database and config (see fixture.h). Called by
 * test_nss.c from check fixtures and by nss_fixture.c. */
#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "fixture.h"
#include "role.h"
#include "user.h"

struct nfx nfx;
bool nfx_in_check = true;

void
nfx_die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (nfx_in_check)
		ck_abort_msg("fixture: %s", msg);
	fprintf(stderr, "fixture: %s\n", msg);
	exit(1);
}

static void
check(enum udb_result r, const char *what)
{
	if (r != UDB_OK)
		nfx_die("%s: %s", what, udb_result_to_string(r));
}

void
nfx_user(const char *name, uint32_t uid, const char *first, const char *last,
	 const char *primary_role, const char *hash, bool disabled)
{
	struct udb_user_spec spec = {
		.username = name,
		.has_uid = true,
		.uid = uid,
		.primary_role = primary_role,
		.first_name = first,
		.last_name = last,
		.shell = "/bin/bash",
		.disabled = disabled,
		.password_hash = hash,
	};

	check(udb_user_add(nfx.db, nfx.cfg, &spec, false, udb_now(), NULL), name);
}

void
nfx_role(const char *name, uint32_t gid, const char *includes)
{
	const char *inc[1] = {includes};
	struct udb_role_spec spec = {
		.name = name,
		.has_gid = true,
		.gid = gid,
		.includes = inc,
		.n_includes = includes ? 1 : 0,
	};

	check(udb_role_add(nfx.db, nfx.cfg, &spec, false, udb_now()), name);
}

void
nfx_grant(const char *user, const char *role, int64_t not_before, int64_t not_after)
{
	check(udb_grant(nfx.db, user, role, not_before, not_after, udb_now(), NULL), "grant");
}

void
nfx_revoke(const char *user, const char *role)
{
	check(udb_revoke(nfx.db, user, role, NULL), "revoke");
}

void
nfx_bulk_users(const char *prefix, uint32_t uid0, unsigned n, const char *role)
{
	int64_t now = udb_now();

	check(udb_db_begin(nfx.db), "begin");
	for (unsigned i = 0; i < n; i++) {
		char name[64];
		struct udb_user_spec spec = {
			.username = name,
			.has_uid = true,
			.uid = uid0 + i,
			.first_name = "Bulk",
			.last_name = "User",
		};

		snprintf(name, sizeof(name), "%s%07u", prefix, i);
		check(udb_user_add(nfx.db, nfx.cfg, &spec, false, now, NULL), name);
		if (role)
			check(udb_grant(nfx.db, name, role, 0, 0, now, NULL), name);
	}
	check(udb_db_commit(nfx.db), "commit");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		nfx_die("cannot write %s", path);
	chmod(path, 0644);
}

void
nfx_setup_empty(void)
{
	char text[512];
	unsigned line = 0;

	memset(&nfx, 0, sizeof(nfx));
	snprintf(nfx.dir, sizeof(nfx.dir), "/tmp/nss-userdb-test.XXXXXX");
	if (!mkdtemp(nfx.dir) || chmod(nfx.dir, 0755) < 0)
		nfx_die("mkdtemp");
	snprintf(nfx.dbdir, sizeof(nfx.dbdir), "%s/db", nfx.dir);
	snprintf(nfx.conf, sizeof(nfx.conf), "%s/userdb.conf", nfx.dir);
	/* The ids of the population sit below the default ranges. */
	snprintf(text, sizeof(text),
		 "dbdir = %s\nhome_base = /home\nuid_min = 1000\nuid_max = 999999\n"
		 "gid_min = 1000\ngid_max = 999999\n",
		 nfx.dbdir);
	write_file(nfx.conf, text);
	setenv("USERDB_CONF", nfx.conf, 1);
	check(udb_config_load(nfx.conf, &nfx.cfg, &line), "config");
	check(udb_db_init(nfx.dbdir, NULL), "init");
	check(udb_db_open(nfx.dbdir, UDB_OPEN_WRITE, &nfx.db), "open");
	nfx.now = udb_now();
}

void
nfx_setup(void)
{
	int64_t now;

	nfx_setup_empty();
	now = nfx.now;
	nfx_role("staff", NFX_STAFF_GID, NULL);
	nfx_role("admins", NFX_ADMINS_GID, "staff");
	nfx_role("churn", NFX_CHURN_GID, NULL);
	nfx_user("alice", 2001, "Alice", "Liddell", NULL, NFX_HASH, false);
	nfx_user("bob", 2002, "Bob", NULL, "staff", NULL, false);
	nfx_user("carol", 2003, NULL, NULL, NULL, NFX_HASH, true);
	nfx_user("dave", 2004, "Dave", "Expired", NULL, NULL, false);
	nfx_user("erin", 2005, "Erin", "Future", NULL, NULL, false);
	nfx_grant("alice", "admins", 0, 0);
	nfx_grant("dave", "staff", now - 7200, now - 3600);
	nfx_grant("erin", "staff", now + 3600, 0);
	check(udb_account_set_aging(nfx.db, "alice", 1, 90, 7, 14), "aging");
	check(udb_account_set_must_change(nfx.db, "erin", true), "must change");
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
nfx_teardown(void)
{
	udb_db_close(nfx.db);
	udb_config_free(nfx.cfg);
	nfx.db = NULL;
	nfx.cfg = NULL;
	if (nfx.dir[0])
		nftw(nfx.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
