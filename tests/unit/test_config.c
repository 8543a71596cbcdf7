/* Unit tests of common/config.c: defaults, every key, errors with their
 * line numbers, and the trust checks on the config file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

#define NOBODY 65534

/* Loads text written to a fresh config file; returns the result and the
 * error line, and leaves the config in *ret_cfg on success. */
static enum udb_result
load_text(const char *text, struct udb_config **ret_cfg, unsigned *ret_line)
{
	const char *path = fx_file("test.conf");

	fx_write_file(path, text, 0644);
	*ret_cfg = NULL;
	return udb_config_load(path, ret_cfg, ret_line);
}

START_TEST(test_udb_config_load_defaults_from_empty_file)
{
	struct udb_config *c = NULL;
	unsigned line = 99;

	ck_assert_int_eq(load_text("", &c, &line), UDB_OK);
	ck_assert_uint_eq(line, 0);
	ck_assert_str_eq(c->path, fx_file("test.conf"));
	ck_assert_str_eq(c->dbdir, "/var/lib/userdb");
	ck_assert_uint_eq(c->uid_min, 10000);
	ck_assert_uint_eq(c->uid_max, 59999);
	ck_assert_uint_eq(c->gid_min, 10000);
	ck_assert_uint_eq(c->gid_max, 59999);
	ck_assert_ptr_null(c->hash_method);
	ck_assert_uint_eq(c->hash_cost, 0);
	ck_assert_uint_eq(c->deny, 0);
	ck_assert_uint_eq(c->unlock_time, 600);
	ck_assert_uint_eq(c->pass_min_len, 8);
	ck_assert_str_eq(c->default_shell, "/bin/bash");
	ck_assert_str_eq(c->home_base, "/home");
	ck_assert_ptr_null(c->central);
	ck_assert_ptr_null(c->host);
	udb_config_free(c);
}
END_TEST

START_TEST(test_udb_config_load_every_key)
{
	struct udb_config *c = NULL;
	unsigned line = 99;

	ck_assert_int_eq(
		load_text("# userdb test config\n"
			  "\n"
			  "dbdir = /srv/userdb\n"
			  "uid_min = 20000\n"
			  "uid_max = 29999\n"
			  "\tgid_min=30000\t\n"
			  "gid_max   =   39999\r\n"
			  "hash_method = yescrypt\n"
			  "hash_cost = 7\n"
			  "deny = 3\n"
			  "unlock_time = 0\n"
			  "pass_min_len = 12\n"
			  "default_shell = /bin/zsh\n"
			  "home_base = /srv/home\n"
			  "central = host=db.example dbname=userdb user=a passfile=/etc/p\n"
			  "host = web-1.example\n"
			  "   # an indented comment\n",
			  &c, &line),
		UDB_OK);
	ck_assert_str_eq(c->dbdir, "/srv/userdb");
	ck_assert_uint_eq(c->uid_min, 20000);
	ck_assert_uint_eq(c->uid_max, 29999);
	ck_assert_uint_eq(c->gid_min, 30000);
	ck_assert_uint_eq(c->gid_max, 39999);
	ck_assert_str_eq(c->hash_method, "$y$");
	ck_assert_uint_eq(c->hash_cost, 7);
	ck_assert_uint_eq(c->deny, 3);
	ck_assert_uint_eq(c->unlock_time, 0);
	ck_assert_uint_eq(c->pass_min_len, 12);
	ck_assert_str_eq(c->default_shell, "/bin/zsh");
	ck_assert_str_eq(c->home_base, "/srv/home");
	ck_assert_str_eq(c->central, "host=db.example dbname=userdb user=a passfile=/etc/p");
	ck_assert_str_eq(c->host, "web-1.example");
	udb_config_free(c);
}
END_TEST

START_TEST(test_udb_config_load_offline_limit)
{
	static const char *const bad[] = {
		"max_offline = 7w\n",        "max_offline = -1\n",  "max_offline = d\n",
		"max_offline = 99999999d\n", "offline_roles = ,\n", "offline_roles = ad:min\n",
	};
	struct udb_config *c = NULL;
	unsigned line = 0;

	ck_assert_int_eq(
		load_text("max_offline = 7d\noffline_roles = admins, ops,sre\n", &c, &line),
		UDB_OK);
	ck_assert_uint_eq(c->max_offline, 7 * 86400);
	ck_assert_str_eq(c->offline_roles[0], "admins");
	ck_assert_str_eq(c->offline_roles[1], "ops");
	ck_assert_str_eq(c->offline_roles[2], "sre");
	ck_assert_ptr_null(c->offline_roles[3]);
	udb_config_free(c);
	ck_assert_int_eq(load_text("max_offline = 90\n", &c, &line), UDB_OK);
	ck_assert_uint_eq(c->max_offline, 90);
	ck_assert_ptr_null(c->offline_roles);
	udb_config_free(c);
	ck_assert_int_eq(load_text("", &c, &line), UDB_OK);
	ck_assert_uint_eq(c->max_offline, 0);
	udb_config_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		ck_assert_msg(load_text(bad[i], &c, &line) == UDB_INVALID, "accepted %s", bad[i]);
		ck_assert_uint_eq(line, 1);
	}
}
END_TEST

START_TEST(test_udb_config_load_hash_method_names)
{
	static const struct {
		const char *name, *prefix;
	} methods[] = {
		{"yescrypt", "$y$"}, {"sha512", "$6$"},         {"sha512crypt", "$6$"},
		{"$6$", "$6$"},      {"bcrypt", "$2b$"},        {"scrypt", "$7$"},
		{"$y$", "$y$"},      {"gost-yescrypt", "$gy$"},
	};
	char text[128];

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct udb_config *c = NULL;
		unsigned line = 0;

		snprintf(text, sizeof(text), "hash_method = %s\n", methods[i].name);
		ck_assert_int_eq(load_text(text, &c, &line), UDB_OK);
		ck_assert_str_eq(c->hash_method, methods[i].prefix);
		udb_config_free(c);
	}
}
END_TEST

START_TEST(test_udb_config_load_last_setting_wins)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	ck_assert_int_eq(load_text("deny = 3\ndeny = 5\n", &c, &line), UDB_OK);
	ck_assert_uint_eq(c->deny, 5);
	udb_config_free(c);
}
END_TEST

START_TEST(test_udb_config_load_bad_lines_report_line_number)
{
	static const struct {
		const char *text;
		unsigned line;
	} cases[] = {
		{"bogus = 1\n", 1},
		{"# ok\n\ndeny = 3\nfrobnicate = yes\n", 4},
		{"deny = 3\ndeny\n", 2},
		{"dbdir = relative/path\n", 1},
		{"dbdir =\n", 1},
		{"dbdir = /var/lib/user:db\n", 1},
		{"uid_min = -1\n", 1},
		{"uid_min = 4294967295\n", 1},
		{"uid_max = 10x\n", 1},
		{"gid_min = \n", 1},
		{"hash_method = md5\n", 1},
		{"hash_method = $1$\n", 1},
		{"hash_method = des\n", 1},
		{"hash_cost = many\n", 1},
		{"deny = 3 # three\n", 1},
		{"deny = 1000001\n", 1},
		{"unlock_time = -5\n", 1},
		{"pass_min_len = 513\n", 1},
		{"default_shell = bash\n", 1},
		{"home_base = ~/home\n", 1},
		{"central =\n", 1},
		{"central = host=x\tdbname=y\n", 1},
		{"host = Web1\n", 1},
		{"host = -web\n", 1},
		{"host = web_1\n", 1},
		{"host = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 1},
		{"DBDIR = /srv\n", 1},
		{"\n\n\n= 4\n", 4},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct udb_config *c = NULL;
		unsigned line = 0;

		ck_assert_msg(load_text(cases[i].text, &c, &line) == UDB_INVALID,
			      "case %zu should be refused", i);
		ck_assert_msg(line == cases[i].line, "case %zu: line %u, expected %u", i, line,
			      cases[i].line);
		ck_assert_ptr_null(c);
	}
}
END_TEST

START_TEST(test_udb_config_load_inconsistent_ranges_refused)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	ck_assert_int_eq(load_text("uid_min = 30000\nuid_max = 20000\n", &c, &line), UDB_INVALID);
	/* Not about one line: the ranges are checked once all are read. */
	ck_assert_uint_eq(line, 0);
	ck_assert_int_eq(load_text("gid_min = 60000\n", &c, &line), UDB_INVALID);
	/* 0 is root's id; a range starting there would hand it out. */
	ck_assert_int_eq(load_text("uid_min = 0\n", &c, &line), UDB_INVALID);
	ck_assert_int_eq(load_text("gid_min = 0\n", &c, &line), UDB_INVALID);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_udb_config_load_cost_left_to_the_hash_check)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	/* Whether the method can take the cost needs libcrypt, which the NSS
	 * module must not load: the loader takes any number, and
	 * udb_config_check_hash() (test_hash.c) refuses it for those that hash. */
	ck_assert_int_eq(load_text("hash_method = yescrypt\nhash_cost = 1000\n", &c, &line),
			 UDB_OK);
	ck_assert_str_eq(c->hash_method, "$y$");
	ck_assert_uint_eq(c->hash_cost, 1000);
	udb_config_free(c);
	ck_assert_int_eq(load_text("hash_method = yescrypt\nhash_cost = many\n", &c, &line),
			 UDB_INVALID);
	ck_assert_uint_eq(line, 2);
}
END_TEST

START_TEST(test_udb_config_load_overlong_line_refused)
{
	char *text = malloc(8192);
	struct udb_config *c = NULL;
	unsigned line = 0;

	ck_assert_ptr_nonnull(text);
	strcpy(text, "deny = 3\ndbdir = /");
	memset(text + strlen(text), 'a', 6000);
	strcpy(text + 18 + 6000, "\n");
	ck_assert_int_eq(load_text(text, &c, &line), UDB_INVALID);
	ck_assert_uint_eq(line, 2);
	free(text);
}
END_TEST

static enum udb_result
load_explained(const char *text, struct udb_config_error *e)
{
	const char *path = fx_file("test.conf");
	struct udb_config *c = NULL;
	enum udb_result r;

	fx_write_file(path, text, 0644);
	r = udb_config_load_explained(path, &c, e);
	udb_config_free(c);
	return r;
}

/* Every refusal names the line, a known key and what the value must be. */
START_TEST(test_udb_config_load_explained_names_key_and_reason)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *key; /* NULL: none */
		const char *reason;
	} cases[] = {
		{"uid_min = 10x\n", 1, "uid_min", "must be a number from 1 to 4294967294"},
		{"deny = 3\ndeny = lots\n", 2, "deny", "must be a number of failures"},
		{"hash_method = md5\n", 1, "hash_method", "must be one of yescrypt"},
		{"dbdir = relative\n", 1, "dbdir", "must be an absolute path"},
		{"home_base = ~/x\n", 1, "home_base", "must be an absolute path"},
		{"pass_min_len = 513\n", 1, "pass_min_len", "from 0 to 512"},
		{"uid_min = 30000\nuid_max = 20000\n", 0, "uid_min", "is above uid_max"},
		{"gid_min = 0\n", 0, "gid_min", "must not be 0"},
		{"host = Web1\n", 1, "host", "must be 1 to 50 lowercase letters"},
		{"central = \x01\n", 1, "central", "must be a libpq connection string"},
		{"frobnicate = yes\n", 1, NULL, "unknown key (known: dbdir"},
		{"# c\njust words\n", 2, NULL, "not a `key = value` line"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct udb_config_error e;

		ck_assert_int_eq(load_explained(cases[i].text, &e), UDB_INVALID);
		ck_assert_msg(e.line == cases[i].line, "case %zu: line %u", i, e.line);
		if (cases[i].key)
			ck_assert_str_eq(e.key, cases[i].key);
		else
			ck_assert_ptr_null(e.key);
		ck_assert_msg(strstr(e.reason, cases[i].reason), "case %zu: reason '%s'", i,
			      e.reason);
		ck_assert_str_eq(e.path, fx_file("test.conf"));
	}
}
END_TEST

/* `--config /etc/shadow` through sudo: nothing of the file may come back,
 * neither a line nor the part before '=' nor a value. */
START_TEST(test_udb_config_load_explained_never_quotes_the_file)
{
	static const char *const texts[] = {
		"root:$y$j9T$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n",
		"SECRETKEY=SECRETVALUE\n",
		"deny = SECRETVALUE\n",
		"dbdir = SECRETVALUE\n",
		"hash_method = SECRETVALUE\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct udb_config_error e;

		ck_assert_int_eq(load_explained(texts[i], &e), UDB_INVALID);
		ck_assert_uint_eq(e.line, 1);
		ck_assert_msg(!strstr(e.reason, "SECRET"), "case %zu: '%s'", i, e.reason);
		ck_assert_msg(!e.key || !strstr(e.key, "SECRET"), "case %zu: key '%s'", i, e.key);
	}
}
END_TEST

START_TEST(test_udb_config_load_explained_file_refusals)
{
	const char *path = fx_file("x.conf"), *link = fx_file("l.conf");
	struct udb_config *c = NULL;
	struct udb_config_error e;

	fx_write_file(path, "deny = 3\n", 0646);
	ck_assert_int_eq(udb_config_load_explained(path, &c, &e), UDB_UNSAFE);
	ck_assert_str_eq(e.reason, "is writable by everyone (mode 0646)");
	ck_assert_int_eq(chmod(path, 0664), 0);
	ck_assert_int_eq(udb_config_load_explained(path, &c, &e), UDB_UNSAFE);
	ck_assert(strncmp(e.reason, "is writable by group", 20) == 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(udb_config_load_explained(link, &c, &e), UDB_UNSAFE);
	ck_assert_str_eq(e.reason, "is a symlink");
	ck_assert_str_eq(e.path, link);
	ck_assert_int_eq(udb_config_load_explained(fx.dir, &c, &e), UDB_UNSAFE);
	ck_assert_str_eq(e.reason, "is not a regular file");
	ck_assert_int_eq(udb_config_load_explained(fx_file("nope"), &c, &e), UDB_NOT_FOUND);
	ck_assert_str_eq(e.reason, "does not exist");
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, NOBODY, 0), 0);
		ck_assert_int_eq(udb_config_load_explained(path, &c, &e), UDB_UNSAFE);
		ck_assert_str_eq(e.reason, "is owned by uid 65534, not root");
	}
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_udb_config_load_missing_named_file)
{
	struct udb_config *c = NULL;
	unsigned line = 7;

	ck_assert_int_eq(udb_config_load(fx_file("nope.conf"), &c, &line), UDB_NOT_FOUND);
	ck_assert_uint_eq(line, 0);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_udb_config_load_writable_file_unsafe)
{
	const char *path = fx_file("w.conf");
	struct udb_config *c = NULL;
	unsigned line = 0;

	fx_write_file(path, "deny = 3\n", 0646);
	ck_assert_int_eq(udb_config_load(path, &c, &line), UDB_UNSAFE);
	/* Group-writable is refused, whatever the group (root's included:
	 * a config file is only ever written by its owner). */
	fx_write_file(path, "deny = 3\n", 0664);
	ck_assert_int_eq(chown(path, geteuid(), NOBODY), 0);
	ck_assert_int_eq(udb_config_load(path, &c, &line), UDB_UNSAFE);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(chown(path, geteuid(), 0), 0);
	ck_assert_int_eq(udb_config_load(path, &c, &line), UDB_UNSAFE);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(udb_config_load(path, &c, &line), UDB_OK);
	ck_assert_uint_eq(c->deny, 3);
	udb_config_free(c);
}
END_TEST

START_TEST(test_udb_config_load_foreign_owner_unsafe)
{
	const char *path = fx_file("o.conf");
	struct udb_config *c = NULL;
	unsigned line = 0;

	if (geteuid() != 0)
		return; /* only root can give a file away */
	fx_write_file(path, "deny = 3\n", 0644);
	ck_assert_int_eq(chown(path, NOBODY, 0), 0);
	ck_assert_int_eq(udb_config_load(path, &c, &line), UDB_UNSAFE);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_udb_config_load_symlink_unsafe)
{
	const char *real = fx_file("real.conf"), *link = fx_file("link.conf");
	struct udb_config *c = NULL;
	unsigned line = 0;

	fx_write_file(real, "deny = 3\n", 0644);
	ck_assert_int_eq(symlink(real, link), 0);
	ck_assert_int_eq(udb_config_load(link, &c, &line), UDB_UNSAFE);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_udb_config_load_directory_refused)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	ck_assert_int_ne(udb_config_load(fx.dir, &c, &line), UDB_OK);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_udb_config_load_userdb_conf_honoured)
{
	const char *path = fx_file("env.conf");
	struct udb_config *c = NULL;
	unsigned line = 0;

	fx_write_file(path, "deny = 4\n", 0644);
	ck_assert_int_eq(setenv("USERDB_CONF", path, 1), 0);
	ck_assert_int_eq(udb_config_load(NULL, &c, &line), UDB_OK);
	ck_assert_str_eq(c->path, path);
	ck_assert_uint_eq(c->deny, 4);
	udb_config_free(c);
	c = NULL;
	/* An explicit path wins over the environment. */
	ck_assert_int_eq(udb_config_load(fx.conf, &c, &line), UDB_OK);
	ck_assert_str_eq(c->path, fx.conf);
	udb_config_free(c);
	c = NULL;
	/* A file the environment names must exist. */
	ck_assert_int_eq(setenv("USERDB_CONF", fx_file("missing.conf"), 1), 0);
	ck_assert_int_eq(udb_config_load(NULL, &c, &line), UDB_NOT_FOUND);
	ck_assert_ptr_null(c);
	unsetenv("USERDB_CONF");
}
END_TEST

START_TEST(test_udb_config_load_default_path_optional)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	unsetenv("USERDB_CONF");
	ck_assert_int_eq(udb_config_load(NULL, &c, &line), UDB_OK);
	if (access(UDB_CONFIG_PATH, F_OK) == 0) {
		ck_assert_str_eq(c->path, UDB_CONFIG_PATH);
	} else {
		ck_assert_ptr_null(c->path);
		ck_assert_str_eq(c->dbdir, UDB_DBDIR_DEFAULT);
	}
	udb_config_free(c);
	udb_config_free(NULL);
}
END_TEST

START_TEST(test_udb_check_trusted_fd_rules)
{
	const char *path = fx_file("f");
	int fd;

	fx_write_file(path, "x", 0644);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(udb_check_trusted_fd(fd, 0), UDB_OK);
	ck_assert_int_eq(udb_check_trusted_fd(fd, 1), UDB_UNSAFE);
	ck_assert_int_eq(fchmod(fd, 0602), 0);
	ck_assert_int_eq(udb_check_trusted_fd(fd, 0), UDB_UNSAFE);
	close(fd);
	fd = open(fx.dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(udb_check_trusted_fd(fd, 1), UDB_OK);
	ck_assert_int_eq(udb_check_trusted_fd(fd, 0), UDB_UNSAFE);
	ck_assert_int_eq(fchmod(fd, 0777), 0);
	ck_assert_int_eq(udb_check_trusted_fd(fd, 1), UDB_UNSAFE);
	ck_assert_int_eq(fchmod(fd, 0755), 0);
	close(fd);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = fx_tcase(s, "udb_config_load", false);
	tcase_add_test(tc, test_udb_config_load_defaults_from_empty_file);
	tcase_add_test(tc, test_udb_config_load_every_key);
	tcase_add_test(tc, test_udb_config_load_hash_method_names);
	tcase_add_test(tc, test_udb_config_load_offline_limit);
	tcase_add_test(tc, test_udb_config_load_last_setting_wins);
	tcase_add_test(tc, test_udb_config_load_bad_lines_report_line_number);
	tcase_add_test(tc, test_udb_config_load_inconsistent_ranges_refused);
	tcase_add_test(tc, test_udb_config_load_cost_left_to_the_hash_check);
	tcase_add_test(tc, test_udb_config_load_overlong_line_refused);
	tcase_add_test(tc, test_udb_config_load_missing_named_file);
	tcase_add_test(tc, test_udb_config_load_explained_names_key_and_reason);
	tcase_add_test(tc, test_udb_config_load_explained_never_quotes_the_file);
	tcase_add_test(tc, test_udb_config_load_explained_file_refusals);
	tcase_add_test(tc, test_udb_config_load_writable_file_unsafe);
	tcase_add_test(tc, test_udb_config_load_foreign_owner_unsafe);
	tcase_add_test(tc, test_udb_config_load_symlink_unsafe);
	tcase_add_test(tc, test_udb_config_load_directory_refused);
	tcase_add_test(tc, test_udb_config_load_userdb_conf_honoured);
	tcase_add_test(tc, test_udb_config_load_default_path_optional);
	tc = fx_tcase(s, "udb_check_trusted_fd", false);
	tcase_add_test(tc, test_udb_check_trusted_fd_rules);
	return s;
}

int
main(void)
{
	return fx_main(config_suite());
}
