/* The shared fixture of the unit tests in tests/unit/: every test that needs
 * a database gets a fresh temporary directory holding a config file and a
 * database built by udb_db_init() from the embedded schema/, plus an open
 * write handle; teardown removes all of it. Each test program runs its
 * suite through fx_main(), which also removes every temporary directory of
 * a test that failed before its teardown. Used by tests/unit/test_*.c only. */
#ifndef UDB_TEST_FIXTURE_H
#define UDB_TEST_FIXTURE_H

#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "db.h"
#include "result.h"

/* A fixed "now" (2023-11-14T22:13:20Z) so that time rules are exact. */
#define T0  ((int64_t)1700000000)
#define DAY ((int64_t)86400)

struct fx {
	char dir[PATH_MAX];   /* the test's temporary directory, 0755 */
	char dbdir[PATH_MAX]; /* dir/db */
	char conf[PATH_MAX];  /* dir/userdb.conf */
	struct udb_config *cfg;
	struct udb_db *db; /* UDB_OPEN_WRITE unless a test reopened it */
};

extern struct fx fx;

/* Checked fixtures: fx_setup_dir makes the directory and the config file
 * only; fx_setup also initialises the database and opens it for writing. */
void fx_setup_dir(void);
void fx_setup(void);
void fx_teardown(void);

/* A TCase named name in s, with the fixture (with_db: fx_setup, else
 * fx_setup_dir) and a timeout that CK_TIMEOUT_MULTIPLIER can stretch. */
TCase *fx_tcase(Suite *s, const char *name, bool with_db);

/* Runs the suite, prints the results, removes every temporary directory and
 * returns the process's exit status. */
int fx_main(Suite *s);

/* Rewrites the config file with the fixture's base settings (dbdir, sha512,
 * cost 1000) followed by extra, and reloads fx.cfg. */
void fx_write_config(const char *extra);
/* Closes fx.db and opens the database again in the given mode. */
void fx_reopen(enum udb_open_mode mode);
/* Path of name inside fx.dbdir; a few results stay valid at once. */
const char *fx_dbfile(const char *name);
/* Path of name inside fx.dir. */
const char *fx_file(const char *name);

void fx_write_file(const char *path, const char *text, mode_t mode);
/* Overwrites dst in place (same inode) with the bytes of src. */
void fx_copy_file(const char *src, const char *dst);
/* The whole content of a file, malloc'd; *ret_size gets its length. */
char *fx_read_file(const char *path, size_t *ret_size);
void fx_rm_rf(const char *path);

/* Adds a user with defaults through udb_user_add (no system check, T0) and
 * returns its id. */
int64_t fx_add_user(const char *name);
/* Adds a role; includes and permissions are comma-separated lists or NULL. */
void fx_add_role(const char *name, const char *includes, const char *permissions);

/* v joined with commas ("" when empty), in a static buffer, then freed with
 * udb_strv_free(). */
const char *fx_join(char **v, size_t n);

/* Runs fn in a child process with the given uid and gid (no supplementary
 * groups) and returns what fn returned; -1 when the switch failed. */
int fx_run_as(uid_t uid, gid_t gid, int (*fn)(void));

#endif
