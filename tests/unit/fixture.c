/* The shared fixture of the unit tests: temporary directories, the config
 * file, a database built from schema/ by udb_db_init(), and small helpers
 * the test files share. Called by tests/unit/test_*.c. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "role.h"
#include "user.h"

struct fx fx;

/* Made by fx_main() in the parent process, so that it is removed even when a
 * test's child process dies before its teardown. */
static char base_dir[PATH_MAX];

/* dir/name into buf; false when it does not fit. */
static bool
join_fits(char *buf, size_t size, const char *dir, const char *name)
{
	return (size_t)snprintf(buf, size, "%s/%s", dir, name) < size;
}

static void
join(char *buf, size_t size, const char *dir, const char *name)
{
	ck_assert_msg(join_fits(buf, size, dir, name), "path too long");
}

/* Makes a fresh directory in parent, readable by everyone: some tests
 * switch to an unprivileged user. Also runs outside any test (fx_main), so
 * it reports instead of asserting. */
static bool
make_temp_dir(const char *parent, char *buf, size_t size)
{
	if (!join_fits(buf, size, parent, "udb-unit-XXXXXX") || !mkdtemp(buf) ||
	    chmod(buf, 0755) < 0) {
		fprintf(stderr, "cannot make a directory in %s: %s\n", parent, strerror(errno));
		return false;
	}
	return true;
}

void
fx_write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	size_t len = strlen(text);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

char *
fx_read_file(const char *path, size_t *ret_size)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*ret_size = (size_t)st.st_size;
	return buf;
}

void
fx_copy_file(const char *src, const char *dst)
{
	size_t size;
	char *data = fx_read_file(src, &size);
	int fd;

	fd = open(dst, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", dst, strerror(errno));
	ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
	close(fd);
	free(data);
}

static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void
fx_rm_rf(const char *path)
{
	if (path[0] != '\0')
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fx_dbfile(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned next;
	char *buf = bufs[next++ % 4];

	join(buf, PATH_MAX, fx.dbdir, name);
	return buf;
}

const char *
fx_file(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned next;
	char *buf = bufs[next++ % 4];

	join(buf, PATH_MAX, fx.dir, name);
	return buf;
}

void
fx_write_config(const char *extra)
{
	char text[PATH_MAX + 1024];
	unsigned line = 0;

	snprintf(text, sizeof(text), "dbdir = %s\nhash_method = sha512\nhash_cost = 1000\n%s",
		 fx.dbdir, extra);
	fx_write_file(fx.conf, text, 0644);
	udb_config_free(fx.cfg);
	fx.cfg = NULL;
	ck_assert_int_eq(udb_config_load(fx.conf, &fx.cfg, &line), UDB_OK);
}

void
fx_reopen(enum udb_open_mode mode)
{
	udb_db_close(fx.db);
	fx.db = NULL;
	ck_assert_int_eq(udb_db_open(fx.dbdir, mode, &fx.db), UDB_OK);
}

void
fx_setup_dir(void)
{
	memset(&fx, 0, sizeof(fx));
	ck_assert(make_temp_dir(base_dir[0] ? base_dir : "/tmp", fx.dir, sizeof(fx.dir)));
	join(fx.dbdir, sizeof(fx.dbdir), fx.dir, "db");
	join(fx.conf, sizeof(fx.conf), fx.dir, "userdb.conf");
	fx_write_config("");
}

void
fx_setup(void)
{
	unsigned old = 99;

	fx_setup_dir();
	ck_assert_int_eq(udb_db_init(fx.dbdir, &old), UDB_OK);
	ck_assert_uint_eq(old, 0);
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &fx.db), UDB_OK);
}

void
fx_teardown(void)
{
	udb_db_close(fx.db);
	udb_config_free(fx.cfg);
	fx_rm_rf(fx.dir);
	memset(&fx, 0, sizeof(fx));
}

TCase *
fx_tcase(Suite *s, const char *name, bool with_db)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, with_db ? fx_setup : fx_setup_dir, fx_teardown);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return tc;
}

int
fx_main(Suite *s)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	if (!make_temp_dir(tmp && *tmp ? tmp : "/tmp", base_dir, sizeof(base_dir)))
		return EXIT_FAILURE;
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fx_rm_rf(base_dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int64_t
fx_add_user(const char *name)
{
	struct udb_user_spec spec = {.username = name};
	struct udb_user *u = NULL;
	int64_t id;

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, &u), UDB_OK);
	id = u->id;
	udb_user_free(u);
	return id;
}

/* Splits a comma-separated list in place into at most max entries. */
static size_t
split(char *s, const char **v, size_t max)
{
	size_t n = 0;

	for (char *tok = s ? strtok(s, ",") : NULL; tok && n < max; tok = strtok(NULL, ","))
		v[n++] = tok;
	return n;
}

void
fx_add_role(const char *name, const char *includes, const char *permissions)
{
	char inc[512] = "", perm[512] = "";
	const char *inc_v[16], *perm_v[16];
	struct udb_role_spec spec = {.name = name};

	snprintf(inc, sizeof(inc), "%s", includes ? includes : "");
	snprintf(perm, sizeof(perm), "%s", permissions ? permissions : "");
	spec.n_includes = split(includes ? inc : NULL, inc_v, 16);
	spec.includes = inc_v;
	spec.n_permissions = split(permissions ? perm : NULL, perm_v, 16);
	spec.permissions = perm_v;
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &spec, false, T0), UDB_OK);
}

const char *
fx_join(char **v, size_t n)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "", v[i]);
	udb_strv_free(v, n);
	return buf;
}

int
fx_run_as(uid_t uid, gid_t gid, int (*fn)(void))
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(255);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}
