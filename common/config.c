/* Parsing of /etc/userdb.conf and the trust checks on files it names.
 * Called by every entry point (CLI, PAM, NSS) when it opens the database.
 * Whether the hash method can take the configured cost needs libcrypt, so
 * that check is hash.c's udb_config_check_hash(), called by the CLI and the
 * PAM module only: the NSS module never hashes and must not load libcrypt
 * into every process that looks up a user. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "trust.h"
#include "validate.h"

#define LINE_MAX_BYTES 4096

enum udb_result
udb_check_trusted_stat(const struct stat *st, int want_dir)
{
	char reason[128];

	return udb_trust_explain(st, want_dir, false, reason, sizeof(reason)) ? UDB_UNSAFE : UDB_OK;
}

enum udb_result
udb_check_trusted_fd(int fd, int want_dir)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return UDB_IO;
	return udb_check_trusted_stat(&st, want_dir);
}

static void names_free(char **v);

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
	free(config->central);
	free(config->host);
	names_free(config->offline_roles);
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

static void
names_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* "90", "90s", "15m", "12h", "7d": seconds, at most max. */
static enum udb_result
parse_duration(const char *value, unsigned long max, unsigned *ret_seconds)
{
	static const struct {
		char suffix;
		unsigned long factor;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char digits[32];
	size_t len = strlen(value);
	unsigned long factor = 1, v;

	if (len == 0 || len >= sizeof(digits))
		return UDB_INVALID;
	memcpy(digits, value, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (digits[len - 1] == units[i].suffix) {
			factor = units[i].factor;
			digits[--len] = '\0';
			break;
		}
	if (len == 0 || udb_parse_uint(digits, max / factor, &v) != UDB_OK)
		return UDB_INVALID;
	*ret_seconds = (unsigned)(v * factor);
	return UDB_OK;
}

/* "a, b,c" into a NULL-terminated vector of valid role names. */
static enum udb_result
set_names(char ***field, const char *value)
{
	char *copy = strdup(value), *save = NULL, **v;
	size_t n = 0;

	if (!copy)
		return UDB_NO_MEMORY;
	v = calloc(strlen(value) / 2 + 2, sizeof(*v));
	if (!v) {
		free(copy);
		return UDB_NO_MEMORY;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!udb_valid_rolename(tok) || !(v[n++] = strdup(tok))) {
			names_free(v);
			free(copy);
			return UDB_INVALID;
		}
	}
	free(copy);
	if (n == 0) {
		free(v);
		return UDB_INVALID;
	}
	names_free(*field);
	*field = v;
	return UDB_OK;
}

enum setting_kind {
	SETTING_PATH,     /* char *, an absolute path */
	SETTING_ID,       /* uint32_t, 0..4294967294 */
	SETTING_UINT,     /* unsigned, 0..max */
	SETTING_ULONG,    /* unsigned long, 0..max */
	SETTING_HASH,     /* char *, a method name mapped to its prefix */
	SETTING_CONNINFO, /* char *, a libpq connection string */
	SETTING_HOST,     /* char *, udb_valid_host_name() */
	SETTING_DURATION, /* unsigned seconds: N, Ns, Nm, Nh or Nd, up to max */
	SETTING_ROLES,    /* char **, role names separated by commas */
};

/* Every key, its field and, for a bad value, what it must be instead
 * (messages name the key and this, never the value: see config.h). */
static const struct setting {
	const char *key;
	enum setting_kind kind;
	size_t offset;
	unsigned long max;
	const char *want;
} settings[] = {
	{"dbdir", SETTING_PATH, offsetof(struct udb_config, dbdir), 0,
	 "must be an absolute path without ':' or control characters"},
	{"uid_min", SETTING_ID, offsetof(struct udb_config, uid_min), 0,
	 "must be a number from 1 to 4294967294"},
	{"uid_max", SETTING_ID, offsetof(struct udb_config, uid_max), 0,
	 "must be a number from 1 to 4294967294"},
	{"gid_min", SETTING_ID, offsetof(struct udb_config, gid_min), 0,
	 "must be a number from 1 to 4294967294"},
	{"gid_max", SETTING_ID, offsetof(struct udb_config, gid_max), 0,
	 "must be a number from 1 to 4294967294"},
	{"hash_method", SETTING_HASH, offsetof(struct udb_config, hash_method), 0,
	 "must be one of yescrypt, gost-yescrypt, scrypt, bcrypt, sha512crypt, sha256crypt"},
	{"hash_cost", SETTING_ULONG, offsetof(struct udb_config, hash_cost), 999999999UL,
	 "must be a number from 0 to 999999999"},
	{"deny", SETTING_UINT, offsetof(struct udb_config, deny), 1000000,
	 "must be a number of failures from 0 to 1000000"},
	{"unlock_time", SETTING_UINT, offsetof(struct udb_config, unlock_time), 100UL * 366 * 86400,
	 "must be a number of seconds from 0 to 3162240000"},
	{"pass_min_len", SETTING_UINT, offsetof(struct udb_config, pass_min_len), 512,
	 "must be a number of bytes from 0 to 512"},
	{"default_shell", SETTING_PATH, offsetof(struct udb_config, default_shell), 0,
	 "must be an absolute path without ':' or control characters"},
	{"home_base", SETTING_PATH, offsetof(struct udb_config, home_base), 0,
	 "must be an absolute path without ':' or control characters"},
	{"central", SETTING_CONNINFO, offsetof(struct udb_config, central), 0,
	 "must be a libpq connection string without control characters"},
	{"host", SETTING_HOST, offsetof(struct udb_config, host), 0,
	 "must be 1 to 50 lowercase letters, digits, '-' or '.', starting with a letter or "
	 "digit"},
	{"max_offline", SETTING_DURATION, offsetof(struct udb_config, max_offline),
	 100UL * 366 * 86400, "must be a duration (N, Ns, Nm, Nh or Nd) of at most 36600 days"},
	{"offline_roles", SETTING_ROLES, offsetof(struct udb_config, offline_roles), 0,
	 "must be role names separated by commas"},
};

/* A conninfo: not empty, printable, at most 1024 bytes (libpq parses it;
 * a bad one is reported when connecting). */
static bool
valid_conninfo(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Sets one key; UDB_INVALID for a bad value, UDB_NOT_FOUND for an
 * unknown key. *ret_setting is the key's entry when it is known. */
static enum udb_result
apply_setting(struct udb_config *c, const char *key, const char *value,
	      const struct setting **ret_setting)
{
	const struct setting *s = NULL;
	unsigned long v;
	char *field;

	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]) && !s; i++)
		if (strcmp(key, settings[i].key) == 0)
			s = &settings[i];
	*ret_setting = s;
	if (!s)
		return UDB_NOT_FOUND;
	field = (char *)c + s->offset;
	switch (s->kind) {
	case SETTING_PATH:
		return udb_valid_path(value) ? set_string((char **)(void *)field, value)
					     : UDB_INVALID;
	case SETTING_CONNINFO:
		return valid_conninfo(value) ? set_string((char **)(void *)field, value)
					     : UDB_INVALID;
	case SETTING_HOST:
		return udb_valid_host_name(value) ? set_string((char **)(void *)field, value)
						  : UDB_INVALID;
	case SETTING_DURATION:
		return parse_duration(value, s->max, (unsigned *)(void *)field);
	case SETTING_ROLES:
		return set_names((char ***)(void *)field, value);
	case SETTING_HASH:
		value = hash_prefix_for(value);
		return value ? set_string((char **)(void *)field, value) : UDB_INVALID;
	case SETTING_ID:
		return udb_parse_id(value, (uint32_t *)(void *)field);
	case SETTING_UINT:
	case SETTING_ULONG:
		if (udb_parse_uint(value, s->max, &v) != UDB_OK)
			return UDB_INVALID;
		if (s->kind == SETTING_UINT)
			*(unsigned *)(void *)field = (unsigned)v;
		else
			*(unsigned long *)(void *)field = v;
		return UDB_OK;
	}
	return UDB_INTERNAL;
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

/* Fills the error's reason; returns r. */
static enum udb_result
fail(struct udb_config_error *e, enum udb_result r, const char *key, const char *reason)
{
	e->key = key;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	return r;
}

/* The ranges, once every line is read: not about one line. */
static enum udb_result
check_ranges(const struct udb_config *c, struct udb_config_error *e)
{
	e->line = 0;
	if (c->uid_min == 0)
		return fail(e, UDB_INVALID, "uid_min", "must not be 0 (root's uid)");
	if (c->gid_min == 0)
		return fail(e, UDB_INVALID, "gid_min", "must not be 0 (root's gid)");
	if (c->uid_min > c->uid_max)
		return fail(e, UDB_INVALID, "uid_min", "is above uid_max: the range is empty");
	if (c->gid_min > c->gid_max)
		return fail(e, UDB_INVALID, "gid_min", "is above gid_max: the range is empty");
	return UDB_OK;
}

static enum udb_result
parse_file(struct udb_config *c, FILE *f, struct udb_config_error *e)
{
	char line[LINE_MAX_BYTES];

	e->line = 0;
	while (fgets(line, sizeof(line), f)) {
		const struct setting *setting = NULL;
		char *key, *value, *eq;
		enum udb_result r;

		e->line++;
		if (!strchr(line, '\n') && !feof(f))
			return fail(e, UDB_INVALID, NULL, "the line is longer than 4094 bytes");
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			return fail(e, UDB_INVALID, NULL, "not a `key = value` line");
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		r = apply_setting(c, key, value, &setting);
		/* An unknown key is not named: the file may be one the caller
		 * cannot read (`--config /etc/shadow` under sudo). */
		if (r == UDB_NOT_FOUND)
			return fail(
				e, UDB_INVALID, NULL,
				"unknown key (known: dbdir, uid_min, uid_max, gid_min, gid_max, "
				"hash_method, hash_cost, deny, unlock_time, pass_min_len, "
				"default_shell, home_base, central, host, max_offline, "
				"offline_roles)");
		if (r != UDB_OK)
			return fail(e, r, setting->key, r == UDB_INVALID ? setting->want : "");
	}
	if (ferror(f))
		return fail(e, UDB_IO, NULL, "read error");
	return check_ranges(c, e);
}

/* Opens the file and checks it may be trusted: a regular file, not a
 * symlink, owned by root or the caller, writable by nobody else. */
static enum udb_result
open_config(const char *path, int required, FILE **ret_file, struct udb_config_error *e)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && !required) {
			*ret_file = NULL;
			return UDB_OK;
		}
		if (errno == ENOENT)
			return fail(e, UDB_NOT_FOUND, NULL, "does not exist");
		if (errno == ELOOP)
			return fail(e, UDB_UNSAFE, NULL, "is a symlink");
		if (errno == EACCES)
			return fail(e, UDB_PERMISSION, NULL, "permission denied");
		return fail(e, UDB_IO, NULL, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return fail(e, UDB_IO, NULL, strerror(errno));
	}
	if (udb_trust_explain(&st, false, true, e->reason, sizeof(e->reason))) {
		close(fd);
		return UDB_UNSAFE;
	}
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return fail(e, UDB_NO_MEMORY, NULL, "out of memory");
	}
	*ret_file = f;
	return UDB_OK;
}

enum udb_result
udb_config_load_explained(const char *path, struct udb_config **ret_config,
			  struct udb_config_error *ret_error)
{
	struct udb_config *c;
	enum udb_result r;
	FILE *f = NULL;
	int required = 1;

	memset(ret_error, 0, sizeof(*ret_error));
	if (!path)
		path = secure_getenv("USERDB_CONF");
	if (!path || !*path) {
		path = UDB_CONFIG_PATH;
		required = 0;
	}
	ret_error->path = path;
	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(ret_error, UDB_NO_MEMORY, NULL, "out of memory");
	c->uid_min = 10000;
	c->uid_max = 59999;
	c->gid_min = 10000;
	c->gid_max = 59999;
	c->deny = 0;
	c->unlock_time = 600;
	c->pass_min_len = 8;
	r = set_string(&c->dbdir, UDB_DBDIR_DEFAULT);
	if (r == UDB_OK)
		r = set_string(&c->default_shell, "/bin/bash");
	if (r == UDB_OK)
		r = set_string(&c->home_base, "/home");
	if (r == UDB_OK)
		r = open_config(path, required, &f, ret_error);
	if (r == UDB_OK && f) {
		r = set_string(&c->path, path);
		if (r == UDB_OK)
			r = parse_file(c, f, ret_error);
	}
	if (f)
		fclose(f);
	if (r == UDB_NO_MEMORY && !ret_error->reason[0])
		fail(ret_error, r, NULL, "out of memory");
	if (r != UDB_OK) {
		udb_config_free(c);
		return r;
	}
	ret_error->path = NULL;
	*ret_config = c;
	return UDB_OK;
}

enum udb_result
udb_config_load(const char *path, struct udb_config **ret_config, unsigned *ret_error_line)
{
	struct udb_config_error e;
	enum udb_result r;

	r = udb_config_load_explained(path, ret_config, &e);
	*ret_error_line = r == UDB_OK ? 0 : e.line;
	return r;
}
