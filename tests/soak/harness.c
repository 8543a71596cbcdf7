/* The test bed of tests/soak/ and tests/faults/; see harness.h. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

extern char **environ;

void
hx_die(const char *fmt, ...)
{
	va_list ap;

	fputs("harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(99);
}

double
hx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		hx_die("cannot write %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		hx_die("chmod %s: %s", path, strerror(errno));
}

void
hx_setup(struct hx *h, const char *userdb, const char *pam_module, const char *extra_conf)
{
	const char *tmp = getenv("TMPDIR");
	char conf[4096];
	int st;

	memset(h, 0, sizeof(*h));
	if (!realpath(userdb, h->userdb))
		hx_die("%s: %s", userdb, strerror(errno));
	if (pam_module && !realpath(pam_module, h->pam_module))
		hx_die("%s: %s", pam_module, strerror(errno));
	snprintf(h->dir, sizeof(h->dir), "%s/userdb-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(h->dir) || chmod(h->dir, 0755) < 0)
		hx_die("mkdtemp %s: %s", h->dir, strerror(errno));
	snprintf(h->dbdir, sizeof(h->dbdir), "%s/db", h->dir);
	snprintf(h->conf, sizeof(h->conf), "%s/userdb.conf", h->dir);
	snprintf(h->pamdir, sizeof(h->pamdir), "%s/pam", h->dir);
	snprintf(h->errfile, sizeof(h->errfile), "%s/userdb.err", h->dir);
	if (mkdir(h->pamdir, 0755) < 0)
		hx_die("mkdir %s: %s", h->pamdir, strerror(errno));
	/* libpam complains on every pam_start without an `other` service. */
	snprintf(conf, sizeof(conf), "%s/other", h->pamdir);
	write_file(conf,
		   "auth required pam_deny.so\naccount required pam_deny.so\n"
		   "password required pam_deny.so\nsession required pam_deny.so\n",
		   0644);
	snprintf(conf, sizeof(conf),
		 "dbdir = %s\nhash_method = sha512crypt\nhash_cost = 1000\n"
		 "uid_min = 20000\nuid_max = 59999\ngid_min = 20000\ngid_max = 59999\n%s",
		 h->dbdir, extra_conf ? extra_conf : "");
	write_file(h->conf, conf, 0644);
	setenv("USERDB_CONF", h->conf, 1);
	st = hx_userdb(h, NULL, "init", NULL);
	if (st != 0)
		hx_die("userdb init: status %d: %s", st, hx_last_error(h));
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	/* A test may leave a file unreadable or a directory unwritable. */
	if (flag == FTW_DP || flag == FTW_D)
		chmod(path, 0700);
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void
hx_teardown(struct hx *h, bool keep)
{
	if (keep) {
		fprintf(stderr, "kept %s\n", h->dir);
		return;
	}
	chmod(h->dbdir, 0755);
	nftw(h->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

pid_t
hx_userdb_start(struct hx *h, const char *stdin_text, const char *extra_env,
		const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	char *args[64], **env = environ, **own = NULL;
	char input[] = "/tmp/userdb-stdin-XXXXXX";
	size_t n = 0, n_env = 0;
	pid_t pid;
	int fd = -1, rc;

	/* posix_spawn's argv and envp are char *const[] for historical
	 * reasons; it does not write to the strings. */
	args[n++] = h->userdb;
	for (; argv[n - 1] && n < 63; n++)
		memcpy(&args[n], &argv[n - 1], sizeof(char *));
	args[n] = NULL;
	if (extra_env) {
		while (environ[n_env])
			n_env++;
		own = calloc(n_env + 2, sizeof(char *));
		if (!own)
			hx_die("out of memory");
		memcpy(own, environ, n_env * sizeof(char *));
		memcpy(&own[n_env], &extra_env, sizeof(char *));
		env = own;
	}
	/* The password goes in through a file that is already unlinked: no
	 * pipe to feed while the child may be killed at any moment. */
	if (stdin_text) {
		fd = mkstemp(input);
		if (fd < 0 || unlink(input) < 0 ||
		    write(fd, stdin_text, strlen(stdin_text)) != (ssize_t)strlen(stdin_text) ||
		    lseek(fd, 0, SEEK_SET) != 0)
			hx_die("stdin file: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	if (fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, h->errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	rc = posix_spawn(&pid, h->userdb, &fa, NULL, args, env);
	posix_spawn_file_actions_destroy(&fa);
	if (fd >= 0)
		close(fd);
	free(own);
	if (rc != 0)
		hx_die("spawn %s: %s", h->userdb, strerror(rc));
	return pid;
}

int
hx_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			hx_die("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
hx_userdbv(struct hx *h, const char *stdin_text, const char *const argv[])
{
	return hx_wait(hx_userdb_start(h, stdin_text, NULL, argv));
}

int
hx_userdb(struct hx *h, const char *stdin_text, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;

	va_start(ap, stdin_text);
	while (n < 63 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return hx_userdbv(h, stdin_text, argv);
}

const char *
hx_last_error(struct hx *h)
{
	static char line[1024];
	FILE *f = fopen(h->errfile, "re");

	line[0] = '\0';
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static void *
sym(void *handle, const char *name)
{
	char full[64];
	void *p;

	snprintf(full, sizeof(full), "_nss_userdb_%s", name);
	p = dlsym(handle, full);
	if (!p)
		hx_die("the NSS module has no %s", full);
	return p;
}

#define LOAD(field) memcpy(&ret->field, &(void *){sym(h, #field)}, sizeof(void *))

void
hx_nss_load(const char *path, struct hx_nss *ret)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		hx_die("dlopen %s: %s", path, dlerror());
	LOAD(getpwnam_r);
	LOAD(getpwuid_r);
	LOAD(setpwent);
	LOAD(getpwent_r);
	LOAD(endpwent);
	LOAD(getgrnam_r);
	LOAD(getgrgid_r);
	LOAD(setgrent);
	LOAD(getgrent_r);
	LOAD(endgrent);
	LOAD(initgroups_dyn);
	LOAD(getspnam_r);
	LOAD(setspent);
	LOAD(getspent_r);
	LOAD(endspent);
}

const char *
hx_nss_status_name(enum nss_status st)
{
	switch (st) {
	case NSS_STATUS_SUCCESS:
		return "SUCCESS";
	case NSS_STATUS_NOTFOUND:
		return "NOTFOUND";
	case NSS_STATUS_TRYAGAIN:
		return "TRYAGAIN";
	case NSS_STATUS_UNAVAIL:
		return "UNAVAIL";
	case NSS_STATUS_RETURN:
		return "RETURN";
	}
	return "?";
}

void
hx_pam_service(struct hx *h, const char *name, const char *args)
{
	char path[600], text[4096];

	snprintf(path, sizeof(path), "%s/%s", h->pamdir, name);
	static const char *const types[] = {"auth", "account", "password", "session"};
	size_t n = 0;

	for (size_t i = 0; i < 4; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%-8s required %s conf=%s %s\n",
				      types[i], h->pam_module, h->conf, args ? args : "");
	write_file(path, text, 0644);
}

/* Answers every hidden prompt with the password; shows nothing. */
static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF && data) {
			r[i].resp = strdup(data);
			if (!r[i].resp) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_BUF_ERR;
			}
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int
hx_pam_login(struct hx *h, const char *service, const char *user, const char *password,
	     const char *rhost, bool session, const char **ret_step)
{
	char *secret = password ? strdup(password) : NULL;
	struct pam_conv conv = {converse, secret};
	pam_handle_t *pamh = NULL;
	const char *step = "pam_start";
	int rc;

	if (password && !secret)
		hx_die("out of memory");
	rc = pam_start_confdir(service, user, &conv, h->pamdir, &pamh);
	if (rc == PAM_SUCCESS && rhost) {
		step = "pam_set_item";
		rc = pam_set_item(pamh, PAM_RHOST, rhost);
	}
	if (rc == PAM_SUCCESS) {
		step = "pam_authenticate";
		rc = pam_authenticate(pamh, 0);
	}
	if (rc == PAM_SUCCESS && session) {
		step = "pam_acct_mgmt";
		rc = pam_acct_mgmt(pamh, 0);
		if (rc == PAM_SUCCESS) {
			step = "pam_open_session";
			rc = pam_open_session(pamh, 0);
		}
		if (rc == PAM_SUCCESS) {
			step = "pam_close_session";
			rc = pam_close_session(pamh, 0);
		}
	}
	if (pamh)
		pam_end(pamh, rc);
	free(secret);
	if (ret_step)
		*ret_step = step;
	return rc;
}

int
hx_pam_account(struct hx *h, const char *service, const char *user)
{
	struct pam_conv conv = {converse, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	rc = pam_start_confdir(service, user, &conv, h->pamdir, &pamh);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(pamh, 0);
	if (pamh)
		pam_end(pamh, rc);
	return rc;
}

int
hx_pam_session(struct hx *h, const char *service, const char *user, const char *rhost)
{
	struct pam_conv conv = {converse, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	rc = pam_start_confdir(service, user, &conv, h->pamdir, &pamh);
	if (rc == PAM_SUCCESS && rhost)
		rc = pam_set_item(pamh, PAM_RHOST, rhost);
	if (rc == PAM_SUCCESS)
		rc = pam_open_session(pamh, 0);
	if (rc == PAM_SUCCESS)
		rc = pam_close_session(pamh, 0);
	if (pamh)
		pam_end(pamh, rc);
	return rc;
}

static sqlite3 *
sql_open(struct hx *h)
{
	char pub[400], sec[400];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(pub, sizeof(pub), "%s/public.db", h->dbdir);
	snprintf(sec, sizeof(sec), "%s/shadow.db", h->dbdir);
	if (sqlite3_open_v2(pub, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		hx_die("open %s: %s", pub, db ? sqlite3_errmsg(db) : "no memory");
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "ATTACH ?1 AS sec", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, sec, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		hx_die("attach %s: %s", sec, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return db;
}

int64_t
hx_sql_int(struct hx *h, const char *sql, int64_t dflt)
{
	sqlite3 *db = sql_open(h);
	sqlite3_stmt *st = NULL;
	int64_t v = dflt;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		hx_die("%s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		hx_die("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

bool
hx_integrity(struct hx *h, char *msg, size_t size)
{
	static const char *const checks[] = {"PRAGMA main.integrity_check",
					     "PRAGMA sec.integrity_check"};
	sqlite3 *db = sql_open(h);
	bool ok = true;

	for (size_t i = 0; i < 2 && ok; i++) {
		sqlite3_stmt *st = NULL;
		const char *text;

		if (sqlite3_prepare_v2(db, checks[i], -1, &st, NULL) != SQLITE_OK)
			hx_die("%s: %s", checks[i], sqlite3_errmsg(db));
		if (sqlite3_step(st) != SQLITE_ROW) {
			snprintf(msg, size, "%s: %s", checks[i], sqlite3_errmsg(db));
			ok = false;
		} else {
			text = (const char *)sqlite3_column_text(st, 0);
			if (!text || strcmp(text, "ok") != 0) {
				snprintf(msg, size, "%s: %s", checks[i], text ? text : "NULL");
				ok = false;
			}
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return ok;
}

int64_t
hx_half_users(struct hx *h)
{
	return hx_sql_int(h,
			  "SELECT (SELECT count(*) FROM main.users WHERE id NOT IN "
			  "(SELECT user_id FROM sec.accounts)) + (SELECT count(*) FROM "
			  "sec.accounts WHERE user_id NOT IN (SELECT id FROM main.users))",
			  -1);
}
