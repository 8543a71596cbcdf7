/* Parsing of /etc/userdb.conf and the trust checks on files it names.
 * Called by every entry point (CLI, PAM, NSS) when it opens the database.
 * Whether the hash method can take the configured cost needs libcrypt, so
 * that check is hash.c's udb_config_check_hash(), called by the CLI and the
 * PAM module only: the NSS module never hashes and must not load libcrypt
 * into every process that looks up a user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "validate.h"

#define LINE_MAX_BYTES 4096

enum udb_result
udb_check_trusted_stat(const struct stat *st, int want_dir)
{
	if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return UDB_UNSAFE;
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return UDB_UNSAFE;
	if ((st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0))
		return UDB_UNSAFE;
	return UDB_OK;
}

enum udb_result
udb_check_trusted_fd(int fd, int want_dir)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return UDB_IO;
	return udb_check_trusted_stat(&st, want_dir);
}

void
udb_config_free(struct udb_config *config)
{
	if (!config)
		return;
	free(config->path);
	free(config->dbdir);
	free(config->hash_method);
	free(config->default_shell);
	free(config->home_base);
	free(config);
}

static enum udb_result
set_string(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return UDB_NO_MEMORY;
	free(*field);
	*field = copy;
	return UDB_OK;
}

static enum udb_result
set_uint(unsigned *field, const char *value, unsigned long max)
{
	unsigned long v;

	if (udb_parse_uint(value, max, &v) != UDB_OK)
		return UDB_INVALID;
	*field = (unsigned)v;
	return UDB_OK;
}

static enum udb_result
set_id(uint32_t *field, const char *value)
{
	return udb_parse_id(value, field);
}

/* Maps a method name or a libxcrypt prefix to the prefix libxcrypt wants. */
static const char *
hash_prefix_for(const char *name)
{
	static const struct {
		const char *name, *prefix;
	} methods[] = {
		{"yescrypt", "$y$"},    {"gost-yescrypt", "$gy$"}, {"scrypt", "$7$"},
		{"bcrypt", "$2b$"},     {"sha512crypt", "$6$"},    {"sha512", "$6$"},
		{"sha256crypt", "$5$"}, {"sha256", "$5$"},
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(name, methods[i].name) == 0 || strcmp(name, methods[i].prefix) == 0)
			return methods[i].prefix;
	return NULL;
}

static enum udb_result
apply_setting(struct udb_config *c, const char *key, const char *value)
{
	if (strcmp(key, "dbdir") == 0)
		return udb_valid_path(value) ? set_string(&c->dbdir, value) : UDB_INVALID;
	if (strcmp(key, "uid_min") == 0)
		return set_id(&c->uid_min, value);
	if (strcmp(key, "uid_max") == 0)
		return set_id(&c->uid_max, value);
	if (strcmp(key, "gid_min") == 0)
		return set_id(&c->gid_min, value);
	if (strcmp(key, "gid_max") == 0)
		return set_id(&c->gid_max, value);
	if (strcmp(key, "hash_method") == 0) {
		const char *prefix = hash_prefix_for(value);

		return prefix ? set_string(&c->hash_method, prefix) : UDB_INVALID;
	}
	if (strcmp(key, "hash_cost") == 0) {
		unsigned long v;

		if (udb_parse_uint(value, 999999999UL, &v) != UDB_OK)
			return UDB_INVALID;
		c->hash_cost = v;
		return UDB_OK;
	}
	if (strcmp(key, "deny") == 0)
		return set_uint(&c->deny, value, 1000000);
	if (strcmp(key, "unlock_time") == 0)
		return set_uint(&c->unlock_time, value, 100UL * 366 * 86400);
	if (strcmp(key, "pass_min_len") == 0)
		return set_uint(&c->pass_min_len, value, 512);
	if (strcmp(key, "default_shell") == 0)
		return udb_valid_path(value) ? set_string(&c->default_shell, value) : UDB_INVALID;
	if (strcmp(key, "home_base") == 0)
		return udb_valid_path(value) ? set_string(&c->home_base, value) : UDB_INVALID;
	return UDB_INVALID;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static enum udb_result
parse_file(struct udb_config *c, FILE *f, unsigned *ret_error_line)
{
	char line[LINE_MAX_BYTES];
	unsigned lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		char *key, *value, *eq;

		lineno++;
		*ret_error_line = lineno;
		if (!strchr(line, '\n') && !feof(f))
			return UDB_INVALID;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			return UDB_INVALID;
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (apply_setting(c, key, value) != UDB_OK)
			return UDB_INVALID;
	}
	*ret_error_line = 0;
	if (ferror(f))
		return UDB_IO;
	if (c->uid_min > c->uid_max || c->gid_min > c->gid_max || c->uid_min == 0 ||
	    c->gid_min == 0) {
		*ret_error_line = lineno;
		return UDB_INVALID;
	}
	return UDB_OK;
}

static enum udb_result
open_config(const char *path, int required, FILE **ret_file)
{
	enum udb_result r;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !required) {
			*ret_file = NULL;
			return UDB_OK;
		}
		if (errno == ENOENT)
			return UDB_NOT_FOUND;
		if (errno == ELOOP)
			return UDB_UNSAFE;
		return errno == EACCES ? UDB_PERMISSION : UDB_IO;
	}
	r = udb_check_trusted_fd(fd, 0);
	if (r != UDB_OK) {
		close(fd);
		return r;
	}
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return UDB_NO_MEMORY;
	}
	*ret_file = f;
	return UDB_OK;
}

enum udb_result
udb_config_load(const char *path, struct udb_config **ret_config, unsigned *ret_error_line)
{
	struct udb_config *c;
	enum udb_result r;
	FILE *f = NULL;
	int required = 1;

	*ret_error_line = 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return UDB_NO_MEMORY;
	c->uid_min = 10000;
	c->uid_max = 59999;
	c->gid_min = 10000;
	c->gid_max = 59999;
	c->deny = 0;
	c->unlock_time = 600;
	c->pass_min_len = 8;
	if (!path)
		path = secure_getenv("USERDB_CONF");
	if (!path || !*path) {
		path = UDB_CONFIG_PATH;
		required = 0;
	}
	r = set_string(&c->dbdir, UDB_DBDIR_DEFAULT);
	if (r == UDB_OK)
		r = set_string(&c->default_shell, "/bin/bash");
	if (r == UDB_OK)
		r = set_string(&c->home_base, "/home");
	if (r == UDB_OK)
		r = open_config(path, required, &f);
	if (r == UDB_OK && f) {
		r = set_string(&c->path, path);
		if (r == UDB_OK)
			r = parse_file(c, f, ret_error_line);
	}
	if (f)
		fclose(f);
	if (r != UDB_OK) {
		udb_config_free(c);
		return r;
	}
	*ret_config = c;
	return UDB_OK;
}
