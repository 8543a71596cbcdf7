/* The test bed of the PAM integration tests: a temporary directory with a
 * database built from schema/ (udb_db_init), a config file pointing at it,
 * and PAM service files for pam_wrapper that name the built module by
 * absolute path. Used by every test_pam_*.c and by pam_fixture (the
 * pamtester test's database builder).
 *
 * pam_wrapper copies the service directory once, at the first pam_start of
 * a process: write every service a test needs before running any of them.
 * check runs each test in its own process, so each test starts afresh. */
#ifndef PAM_TEST_FIXTURE_H
#define PAM_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpamtest.h>

#include "account.h"
#include "config.h"
#include "db.h"

struct fx {
	char dir[128];      /* the temporary directory (mode 0755) */
	char dbdir[192];    /* dir/db */
	char conf[192];     /* dir/userdb.conf: sha512crypt, 1000 rounds */
	char services[192]; /* dir/services: PAM_WRAPPER_SERVICE_DIR */
	struct udb_config *cfg;
	struct udb_db *db; /* read-write, for building and checking */
};

extern struct fx fx;

/* Creates everything; conf_extra (may be NULL) is appended to the config
 * file. Any failure of the fixture fails the test (or, in a program that is
 * not a check test, exits with status 1: set fx_in_check to false). */
extern bool fx_in_check;
void fx_setup_with(const char *conf_extra);
void fx_setup(void);
void fx_teardown(void);

/* Writes the service file name. In text, @MODULE@ becomes the module's
 * path, @CONF@ the config file's, @DIR@ the temporary directory and
 * @SETITEMS@ / @GETITEMS@ the paths of pam_wrapper's pam_set_items.so and
 * pam_get_items.so (which copies the PAM items into the PAM environment). */
void fx_service(const char *name, const char *text);
/* Writes the config file dir/name: the usual settings, then extra. */
void fx_conf(const char *name, const char *extra);

/* Database building through the core API. */
int64_t fx_user(const char *name, const char *password);
void fx_set_hash(const char *name, const char *hash);
void fx_role(const char *name, const char *permissions, const char *includes);
void fx_grant(const char *user, const char *role, int64_t not_before, int64_t not_after);
/* A fresh read of the account (caller frees). */
struct udb_account *fx_account(const char *name);

/* Messages the module showed the user. */
struct fx_msgs {
	char err[8][PAM_MAX_MSG_SIZE];
	char info[8][PAM_MAX_MSG_SIZE];
};

/* Runs the cases as user on service, answering password prompts from
 * answers (NULL-terminated; NULL itself: no answers) and collecting the
 * messages into msgs (may be NULL; zeroed here). Fails the test with the
 * first case that differs, naming the caller's file and line. */
void fx_run_(const char *service, const char *user, const char **answers,
	     struct pam_testcase *cases, size_t n, struct fx_msgs *msgs, const char *file,
	     int line);
#define fx_run(service, user, answers, cases)                                                      \
	fx_run_(service, user, answers, cases, sizeof(cases) / sizeof(cases[0]), NULL, __FILE__,   \
		__LINE__)
#define fx_run_msgs(service, user, answers, cases, msgs)                                           \
	fx_run_(service, user, answers, cases, sizeof(cases) / sizeof(cases[0]), msgs, __FILE__,   \
		__LINE__)

/* The name of a PAM code, for messages. */
const char *fx_code(int code);

#endif
