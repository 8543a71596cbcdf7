/* Fuzz target: the configuration file parser (common/config.c), through
 * udb_config_load on a private temporary file that each input overwrites:
 * the parser only reads files, and this way the file checks (regular
 * file, owner, mode) run as they do in real use. The result is compared
 * with a reference parser written here from config.h's description: one
 * `key = value` per line, `#` comments, blank lines, the known keys only,
 * each value checked by the validators of common/validate.c. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "validate.h"

static char dir[256], path[300];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	/* A file rewritten a million times wants tmpfs: truncating one on a
	 * disk (ext4 with discard) costs a millisecond. */
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/udb-fuzz-config-XXXXXX", tmp);
	fuzz_check(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
	snprintf(path, sizeof(path), "%s/userdb.conf", dir);
	atexit(cleanup);
	return 0;
}

/* The reference's view of a configuration. */
struct ref {
	const char *dbdir, *default_shell, *home_base, *hash_method;
	unsigned long uid_min, uid_max, gid_min, gid_max, hash_cost, deny, unlock_time, min_len;
};

static const char *
method_prefix(const char *v)
{
	static const char *const names[][2] = {
		{"yescrypt", "$y$"},    {"gost-yescrypt", "$gy$"}, {"scrypt", "$7$"},
		{"bcrypt", "$2b$"},     {"sha512crypt", "$6$"},    {"sha512", "$6$"},
		{"sha256crypt", "$5$"}, {"sha256", "$5$"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i][0]) == 0 || strcmp(v, names[i][1]) == 0)
			return names[i][1];
	return NULL;
}

static bool
number(const char *v, unsigned long max, unsigned long *ret)
{
	return udb_parse_uint(v, max, ret) == UDB_OK;
}

/* Applies one `key = value`; false for an unknown key or a bad value. */
static bool
ref_setting(struct ref *c, const char *k, const char *v)
{
	static const struct {
		const char *key;
		size_t field; /* offset in struct ref */
		unsigned long max;
	} numbers[] = {
		{"uid_min", offsetof(struct ref, uid_min), 4294967294UL},
		{"uid_max", offsetof(struct ref, uid_max), 4294967294UL},
		{"gid_min", offsetof(struct ref, gid_min), 4294967294UL},
		{"gid_max", offsetof(struct ref, gid_max), 4294967294UL},
		{"hash_cost", offsetof(struct ref, hash_cost), 999999999UL},
		{"deny", offsetof(struct ref, deny), 1000000UL},
		{"unlock_time", offsetof(struct ref, unlock_time), 100UL * 366 * 86400},
		{"pass_min_len", offsetof(struct ref, min_len), 512},
	};
	static const struct {
		const char *key;
		size_t field;
	} paths[] = {
		{"dbdir", offsetof(struct ref, dbdir)},
		{"default_shell", offsetof(struct ref, default_shell)},
		{"home_base", offsetof(struct ref, home_base)},
	};

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (strcmp(k, numbers[i].key) == 0)
			return number(v, numbers[i].max,
				      (unsigned long *)(void *)((char *)c + numbers[i].field));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (strcmp(k, paths[i].key) != 0)
			continue;
		if (!udb_valid_path(v))
			return false;
		*(const char **)(void *)((char *)c + paths[i].field) = v;
		return true;
	}
	if (strcmp(k, "hash_method") == 0) {
		c->hash_method = method_prefix(v);
		return c->hash_method != NULL;
	}
	return false;
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Strips blanks in front and blanks and line ends behind, in place. */
static char *
strip(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Parses text (no NUL inside, every line shorter than 4000 bytes) into
 * *c; returns the 1-based number of the first bad line, 0 when all are
 * good. Strings in *c point into text. */
static unsigned
ref_parse(char *text, struct ref *c)
{
	unsigned lineno = 0;
	char *line = text;

	while (*line) {
		char *end = strchr(line, '\n'), *key, *eq;

		if (end)
			*end = '\0';
		lineno++;
		key = strip(line);
		if (*key && *key != '#') {
			eq = strchr(key, '=');
			if (!eq)
				return lineno;
			*eq = '\0';
			if (!ref_setting(c, strip(key), strip(eq + 1)))
				return lineno;
		}
		if (!end)
			break;
		line = end + 1;
	}
	return 0;
}

static bool
same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void
compare(const struct udb_config *cfg, const struct ref *c)
{
	fuzz_check(same(cfg->path, path), "path %s", cfg->path);
	fuzz_check(same(cfg->dbdir, c->dbdir), "dbdir %s, reference %s", cfg->dbdir, c->dbdir);
	fuzz_check(same(cfg->default_shell, c->default_shell), "default_shell");
	fuzz_check(same(cfg->home_base, c->home_base), "home_base");
	fuzz_check(same(cfg->hash_method, c->hash_method), "hash_method");
	fuzz_check(cfg->uid_min == c->uid_min && cfg->uid_max == c->uid_max &&
			   cfg->gid_min == c->gid_min && cfg->gid_max == c->gid_max,
		   "id ranges %u-%u %u-%u, reference %lu-%lu %lu-%lu", cfg->uid_min, cfg->uid_max,
		   cfg->gid_min, cfg->gid_max, c->uid_min, c->uid_max, c->gid_min, c->gid_max);
	fuzz_check(cfg->hash_cost == c->hash_cost && cfg->deny == c->deny &&
			   cfg->unlock_time == c->unlock_time && cfg->pass_min_len == c->min_len,
		   "numbers");
}

/* Facts every caller relies on, whatever the file said. */
static void
check_sane(const struct udb_config *cfg)
{
	fuzz_check(udb_valid_path(cfg->dbdir) && udb_valid_path(cfg->default_shell) &&
			   udb_valid_path(cfg->home_base),
		   "a path setting is not a valid path");
	fuzz_check(cfg->uid_min >= 1 && cfg->uid_min <= cfg->uid_max && cfg->gid_min >= 1 &&
			   cfg->gid_min <= cfg->gid_max && cfg->uid_max <= 4294967294U &&
			   cfg->gid_max <= 4294967294U,
		   "id ranges");
	fuzz_check(cfg->pass_min_len <= 512 && cfg->deny <= 1000000, "limits");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udb_config *cfg = NULL;
	struct ref c = {
		.dbdir = UDB_DBDIR_DEFAULT,
		.default_shell = "/bin/bash",
		.home_base = "/home",
		.uid_min = 10000,
		.uid_max = 59999,
		.gid_min = 10000,
		.gid_max = 59999,
		.unlock_time = 600,
		.min_len = 8,
	};
	unsigned line = 12345, ref_line, lines = 0;
	bool comparable = !memchr(data, '\0', size);
	enum udb_result r;
	char *text;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fuzz_check(fd >= 0 && (size == 0 || write(fd, data, size) == (ssize_t)size),
		   "cannot write %s", path);
	close(fd);

	r = udb_config_load(path, &cfg, &line);
	/* Lines as fgets sees them: a last line without '\n' counts too. */
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || i == size - 1;
	fuzz_check(line <= lines, "error line %u of %u", line, lines);
	if (r == UDB_OK) {
		check_sane(cfg);
		fuzz_check(line == 0, "success with error line %u", line);
	} else {
		fuzz_check(r == UDB_INVALID, "unexpected result %s", udb_result_to_string(r));
	}

	/* The reference handles lines shorter than the parser's line buffer
	 * and text without NUL bytes. */
	text = malloc(size + 1);
	fuzz_check(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text, *nl; comparable; p = nl + 1) {
		nl = strchr(p, '\n');
		if ((nl ? (size_t)(nl - p) : strlen(p)) >= 4000)
			comparable = false;
		if (!nl)
			break;
	}
	if (comparable) {
		ref_line = ref_parse(text, &c);
		/* Empty or zero ranges are not about one line: line 0. */
		bool bad_ranges =
			ref_line == 0 && (c.uid_min > c.uid_max || c.gid_min > c.gid_max ||
					  c.uid_min == 0 || c.gid_min == 0);

		fuzz_check((r == UDB_OK) == (ref_line == 0 && !bad_ranges),
			   "result %s, reference line %u", udb_result_to_string(r), ref_line);
		if (r == UDB_OK)
			compare(cfg, &c);
		else
			fuzz_check(line == ref_line, "error line %u, reference %u", line, ref_line);
	}
	free(text);
	udb_config_free(cfg);
	return 0;
}
