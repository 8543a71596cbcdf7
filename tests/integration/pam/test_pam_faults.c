/* pam_userdb.so when things are wrong, under pam_wrapper: a missing,
 * corrupt, empty or unsafe database or config gives AUTHINFO_UNAVAIL in
 * every phase (fail closed); bad argument values give SERVICE_ERR; an
 * unknown argument is ignored and logged once; the log never shows the
 * name typed for an unknown user, a password or a hash; the handle the
 * module keeps between the phases of one login is dropped when the database
 * is replaced and never used by a forked child. Run by meson (suite pam). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "fixture.h"

#define ALL_PHASES(conf)                                                                           \
	"auth required @MODULE@ conf=" conf " nodelay\n"                                           \
	"account required @MODULE@ conf=" conf "\n"                                                \
	"password required @MODULE@ conf=" conf "\n"                                               \
	"session required @MODULE@ conf=" conf "\n"

static const char *right[] = {"correct horse", NULL};

static void
setup_faults(void)
{
	fx_setup();
	fx_user("alice", "correct horse");
}

/* Every phase of alice on service fails closed with AUTHINFO_UNAVAIL. */
static void
unavailable_at(const char *service, int line)
{
	static const char *answers[] = {"correct horse", "new password 1", "new password 1", NULL};
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_AUTHINFO_UNAVAIL),
		pam_test(PAMTEST_ACCOUNT, PAM_AUTHINFO_UNAVAIL),
		pam_test(PAMTEST_OPEN_SESSION, PAM_AUTHINFO_UNAVAIL),
		pam_test(PAMTEST_CHAUTHTOK, PAM_AUTHINFO_UNAVAIL),
	};

	fx_run_(service, "alice", answers, cases, 4, NULL, __FILE__, line);
}
#define unavailable(service) unavailable_at(service, __LINE__)

static void
write_bytes(const char *path, const char *bytes, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	close(fd);
}

/* dir/name holding two files that are not databases (text, or empty). */
static void
make_bad_dbdir(const char *name, const char *content)
{
	char dir[256], path[300];

	snprintf(dir, sizeof(dir), "%s/%s", fx.dir, name);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, UDB_PUBLIC_FILE);
	write_bytes(path, content, 0644);
	snprintf(path, sizeof(path), "%s/%s", dir, UDB_SHADOW_FILE);
	write_bytes(path, content, 0640);
}

START_TEST(test_missing_database)
{
	fx_conf("missing.conf", "dbdir = /nonexistent/userdb");
	fx_service("missing", ALL_PHASES("@DIR@/missing.conf"));
	unavailable("missing");
}
END_TEST

START_TEST(test_missing_config)
{
	fx_service("noconf", ALL_PHASES("@DIR@/nonexistent.conf"));
	unavailable("noconf");
}
END_TEST

/* A hash method that cannot take the configured cost would make every
 * hash fail, the unknown users' dummy included: the file is refused. */
START_TEST(test_config_hash_cost_refused)
{
	fx_conf("badcost.conf", "hash_method = yescrypt\nhash_cost = 1000");
	fx_service("badcost", ALL_PHASES("@DIR@/badcost.conf"));
	unavailable("badcost");
}
END_TEST

START_TEST(test_corrupt_database)
{
	char text[512];

	make_bad_dbdir("corrupt", "this is not an SQLite database, it is a text file\n");
	snprintf(text, sizeof(text), "dbdir = %s/corrupt", fx.dir);
	fx_conf("corrupt.conf", text);
	fx_service("corrupt", ALL_PHASES("@DIR@/corrupt.conf"));
	unavailable("corrupt");
}
END_TEST

START_TEST(test_empty_database)
{
	char text[512];

	make_bad_dbdir("empty", "");
	snprintf(text, sizeof(text), "dbdir = %s/empty", fx.dir);
	fx_conf("empty.conf", text);
	fx_service("empty", ALL_PHASES("@DIR@/empty.conf"));
	unavailable("empty");
}
END_TEST

/* A shadow file others may write could have been edited by anyone. */
START_TEST(test_unsafe_database_refused)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fx.dbdir, UDB_SHADOW_FILE);
	ck_assert_int_eq(chmod(path, 0666), 0);
	fx_service("login", ALL_PHASES("@CONF@"));
	unavailable("login");
}
END_TEST

START_TEST(test_unsafe_config_refused)
{
	ck_assert_int_eq(chmod(fx.conf, 0666), 0);
	fx_service("login", ALL_PHASES("@CONF@"));
	unavailable("login");
}
END_TEST

START_TEST(test_bad_argument_values)
{
	static const char *const lines[] = {
		"auth required @MODULE@ conf=@CONF@ nodelay deny=three\n",
		"auth required @MODULE@ conf=@CONF@ nodelay unlock_time=-1\n",
		"auth required @MODULE@ conf=relative.conf nodelay\n",
		"auth required @MODULE@ conf=@CONF@ nodelay roles_required=\n",
		"auth required @MODULE@ conf=@CONF@ nodelay roles_required=staff,\n",
		"auth required @MODULE@ conf=@CONF@ nodelay roles_accepted=staff,Bad!\n",
		"auth required @MODULE@ conf=@CONF@ nodelay permissions_required=ssh/login\n",
	};
	char name[32];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(name, sizeof(name), "bad%zu", i);
		fx_service(name, lines[i]);
	}
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct pam_testcase cases[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SERVICE_ERR),
		};

		snprintf(name, sizeof(name), "bad%zu", i);
		fx_run(name, "alice", right, cases);
	}
}
END_TEST

/* Reads what the module logged (pam_wrapper prints pam_syslog lines on
 * stderr at PAM_WRAPPER_DEBUGLEVEL 2) while cases ran. */
static char *
logged_while(const char *service, const char *user, const char **answers,
	     struct pam_testcase *cases, size_t n)
{
	char path[256];
	static char text[65536];
	int saved, fd;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/stderr.log", fx.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	setenv("PAM_WRAPPER_DEBUGLEVEL", "2", 1);
	fx_run_(service, user, answers, cases, n, NULL, __FILE__, __LINE__);
	unsetenv("PAM_WRAPPER_DEBUGLEVEL");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	ck_assert_int_ge(len, 0);
	text[len] = '\0';
	return text;
}

static int
count(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

START_TEST(test_unknown_argument_ignored_and_logged_once)
{
	struct pam_testcase cases[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	};
	const char *log;

	fx_service("login", "auth required @MODULE@ conf=@CONF@ nodelay frobnicate\n"
			    "account required @MODULE@ conf=@CONF@ frobnicate\n"
			    "session required @MODULE@ conf=@CONF@ frobnicate\n");
	log = logged_while("login", "alice", right, cases, 3);
	ck_assert_msg(count(log, "unknown argument ignored: frobnicate") == 1, "log:\n%s", log);
}
END_TEST

/* People type their password at the login prompt: the name of an unknown
 * user is not logged, and neither is any password or hash. */
START_TEST(test_log_keeps_secrets)
{
	static const char *typed[] = {"battery staple", NULL};
	struct pam_testcase unknown[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN),
		pam_test(PAMTEST_ACCOUNT, PAM_USER_UNKNOWN),
	};
	struct pam_testcase wrong[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_AUTH_ERR),
	};
	const char *log;

	fx_service("login", "auth required @MODULE@ conf=@CONF@ nodelay\n"
			    "account required @MODULE@ conf=@CONF@\n");
	log = logged_while("login", "correcthorse", typed, unknown, 2);
	ck_assert_msg(strstr(log, "unknown user"), "log:\n%s", log);
	ck_assert_msg(!strstr(log, "correcthorse"), "log:\n%s", log);
	ck_assert_msg(!strstr(log, "battery staple"), "log:\n%s", log);

	log = logged_while("login", "alice", typed, wrong, 1);
	ck_assert_msg(strstr(log, "authentication failure for alice"), "log:\n%s", log);
	ck_assert_msg(!strstr(log, "battery staple"), "log:\n%s", log);
	ck_assert_msg(!strstr(log, "$6$"), "log:\n%s", log);
}
END_TEST

/* Answers every hidden prompt with the password in appdata. */
static int
conv_password(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(appdata);
	*resp = r;
	return PAM_SUCCESS;
}

static pam_handle_t *
start_alice(const char *service)
{
	static char password[] = "correct horse";
	static struct pam_conv conv = {conv_password, password};
	pam_handle_t *pamh = NULL;

	ck_assert_int_eq(pam_start(service, "alice", &conv, &pamh), PAM_SUCCESS);
	return pamh;
}

/* The module keeps its database handle between the phases of one login;
 * a database replaced in between (say, restored from a backup without
 * alice) must be what the next phase sees. */
START_TEST(test_database_replaced_between_phases)
{
	char other[256], from[300], to[300];
	const char *files[] = {UDB_PUBLIC_FILE, UDB_SHADOW_FILE};
	pam_handle_t *pamh;

	fx_service("phases", ALL_PHASES("@CONF@"));
	pamh = start_alice("phases");
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);

	snprintf(other, sizeof(other), "%s/other", fx.dir);
	ck_assert_int_eq(udb_db_init(other, NULL), UDB_OK);
	for (size_t i = 0; i < 2; i++) {
		snprintf(from, sizeof(from), "%s/%s", other, files[i]);
		snprintf(to, sizeof(to), "%s/%s", fx.dbdir, files[i]);
		ck_assert_int_eq(rename(from, to), 0);
	}
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_USER_UNKNOWN);
	pam_end(pamh, PAM_SUCCESS);
}
END_TEST

/* A child forked after auth (as sshd does for a session) must not use the
 * parent's SQLite connection: it opens its own and both go on working. */
START_TEST(test_forked_child_opens_its_own_handle)
{
	struct udb_account *account;
	pam_handle_t *pamh;
	int status = 0;
	pid_t pid;

	fx_service("phases", ALL_PHASES("@CONF@"));
	pamh = start_alice("phases");
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int rc = pam_acct_mgmt(pamh, 0);

		if (rc == PAM_SUCCESS)
			rc = pam_open_session(pamh, 0);
		pam_end(pamh, rc);
		_exit(rc == PAM_SUCCESS ? 0 : 10 + rc);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %d", status);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	pam_end(pamh, PAM_SUCCESS);
	account = fx_account("alice");
	ck_assert_int_eq(account->login_count, 2);
	udb_account_free(account);
}
END_TEST

static Suite *
faults_suite(void)
{
	Suite *s = suite_create("pam_faults");
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, setup_faults, fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_missing_database);
	tcase_add_test(tc, test_missing_config);
	tcase_add_test(tc, test_config_hash_cost_refused);
	tcase_add_test(tc, test_corrupt_database);
	tcase_add_test(tc, test_empty_database);
	tcase_add_test(tc, test_unsafe_database_refused);
	tcase_add_test(tc, test_unsafe_config_refused);
	tcase_add_test(tc, test_bad_argument_values);
	tcase_add_test(tc, test_unknown_argument_ignored_and_logged_once);
	tcase_add_test(tc, test_log_keeps_secrets);
	tcase_add_test(tc, test_database_replaced_between_phases);
	tcase_add_test(tc, test_forked_child_opens_its_own_handle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(faults_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
