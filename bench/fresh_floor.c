/*
 * fresh_floor: what a new process pays for its first passwd lookup, split
 * into the parts a module built on SQLite cannot avoid.
 *
 * Called by bench/run-nss-bench.sh inside its mount namespace, after the
 * userdb row, so that /etc/passwd is the population's file; it prints one
 * markdown table. Every figure is the median wall time of posix_spawn of
 * this binary in a child mode until waitpid returns, the modes interleaved
 * round by round so that a noisy moment hits all of them alike:
 *
 *   noop      nothing: the process alone;
 *   files     glibc's own _nss_files_getpwnam_r (linked into libc since
 *             glibc 2.34, so no module is loaded);
 *   sqlite    dlopen of the system libsqlite3 and nothing else;
 *   query     dlopen libsqlite3, open the public file read-only, one SELECT
 *             by name: any module that reads the database with it does at
 *             least this;
 *   userdb    dlopen of libnss_userdb.so.2 and its _nss_userdb_getpwnam_r.
 *
 * Both NSS modes call the module function directly, so neither pays for
 * glibc's nsswitch.conf parsing; nss_bench's "fresh" column has that. This
 * binary must not link libsqlite3 itself, or every mode would load it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <nss.h>
#include <pwd.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum floor_mode { FLOOR_NOOP, FLOOR_FILES, FLOOR_SQLITE, FLOOR_QUERY, FLOOR_USERDB, FLOOR_NMODES };

static const char *const floor_names[FLOOR_NMODES] = {
	"noop", "files", "sqlite", "query", "userdb",
};

static const char *const floor_labels[FLOOR_NMODES] = {
	"spawn only",
	"nss_files getpwnam (in libc)",
	"dlopen libsqlite3 only",
	"libsqlite3: open public.db, one SELECT by name",
	"userdb getpwnam (dlopen module, lookup)",
};

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef int (*open_fn)(const char *, sqlite3 **, int, const char *);
typedef int (*prepare_fn)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
typedef int (*bind_text_fn)(sqlite3_stmt *, int, const char *, int, void (*)(void *));
typedef int (*step_fn)(sqlite3_stmt *);

struct floor_args {
	char *module; /* path of libnss_userdb.so.2 */
	char *prefix; /* its NSS service name */
	char *name;   /* a user every source has */
	char *dbfile; /* the public file the module reads */
};

static _Noreturn void
floor_die(const char *msg)
{
	fprintf(stderr, "fresh_floor: %s\n", msg);
	exit(2);
}

static double
floor_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
floor_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* dlsym returns an object pointer; copying it avoids a pedantic cast. */
static bool
floor_sym(void *lib, const char *name, void *ret_fnptr)
{
	void *p = dlsym(lib, name);

	memcpy(ret_fnptr, &p, sizeof(p));
	return p != NULL;
}

static int
child_getpwnam(void *lib, const char *sym, const char *name)
{
	getpwnam_fn fn;
	struct passwd pw;
	char buf[4096];
	int err = 0;

	if (!floor_sym(lib, sym, &fn))
		return 3;
	if (fn(name, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
		return 1;
	return strcmp(pw.pw_name, name) == 0 ? 0 : 1;
}

static int
child_query(const char *dbfile, const char *name)
{
	void *lib = dlopen("libsqlite3.so.0", RTLD_LAZY);
	open_fn open_v2;
	prepare_fn prepare;
	bind_text_fn bind_text;
	step_fn step;
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	if (!lib)
		return 3;
	if (!floor_sym(lib, "sqlite3_open_v2", &open_v2) ||
	    !floor_sym(lib, "sqlite3_prepare_v2", &prepare) ||
	    !floor_sym(lib, "sqlite3_bind_text", &bind_text) ||
	    !floor_sym(lib, "sqlite3_step", &step))
		return 3;
	if (open_v2(dbfile, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    prepare(db, "SELECT uid FROM users WHERE username = ?1", -1, &stmt, NULL) !=
		    SQLITE_OK ||
	    bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
		return 1;
	/* The process exits right after: closing would only add its own cost. */
	return step(stmt) == SQLITE_ROW ? 0 : 1;
}

static int
floor_child(enum floor_mode mode, const struct floor_args *a)
{
	char sym[64];
	void *lib;

	switch (mode) {
	case FLOOR_NOOP:
		return 0;
	case FLOOR_FILES:
		return child_getpwnam(RTLD_DEFAULT, "_nss_files_getpwnam_r", a->name);
	case FLOOR_SQLITE:
		return dlopen("libsqlite3.so.0", RTLD_LAZY) ? 0 : 3;
	case FLOOR_QUERY:
		return child_query(a->dbfile, a->name);
	case FLOOR_USERDB:
		lib = dlopen(a->module, RTLD_LAZY);
		if (!lib)
			return 3;
		snprintf(sym, sizeof(sym), "_nss_%s_getpwnam_r", a->prefix);
		return child_getpwnam(lib, sym, a->name);
	case FLOOR_NMODES:
		break;
	}
	return 3;
}

static double
floor_spawn(char *self, enum floor_mode mode, const struct floor_args *a)
{
	char opt[] = "--child", name[16];
	char *argv[] = {self, opt, name, a->module, a->prefix, a->name, a->dbfile, NULL};
	int status = 0;
	double t0;
	pid_t pid;

	snprintf(name, sizeof(name), "%s", floor_names[mode]);
	t0 = floor_now_us();
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0)
		floor_die("posix_spawn failed");
	if (waitpid(pid, &status, 0) != pid)
		floor_die("waitpid failed");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr,
			"fresh_floor: mode %s failed (status %d): is '%s' in %s and in "
			"/etc/passwd?\n",
			floor_names[mode], WIFEXITED(status) ? WEXITSTATUS(status) : -1, a->name,
			a->dbfile);
		exit(1);
	}
	return (floor_now_us() - t0) / 1e3;
}

static enum floor_mode
floor_mode_by_name(const char *name)
{
	for (int m = 0; m < FLOOR_NMODES; m++)
		if (strcmp(name, floor_names[m]) == 0)
			return (enum floor_mode)m;
	floor_die("unknown child mode");
}

int
main(int argc, char **argv)
{
	char self[4096];
	double *samples[FLOOR_NMODES], median[FLOOR_NMODES];
	struct floor_args a;
	ssize_t len;
	long runs = 200;
	int argi = 1;

	if (argc == 7 && strcmp(argv[1], "--child") == 0) {
		a = (struct floor_args){argv[3], argv[4], argv[5], argv[6]};
		return floor_child(floor_mode_by_name(argv[2]), &a);
	}
	if (argc >= 3 && strcmp(argv[1], "--runs") == 0) {
		runs = strtol(argv[2], NULL, 10);
		argi = 3;
	}
	if (argc - argi != 4 || runs < 1 || runs > 100000) {
		fprintf(stderr, "usage: fresh_floor [--runs N] MODULE.so PREFIX NAME PUBLIC.db\n");
		return 2;
	}
	a = (struct floor_args){argv[argi], argv[argi + 1], argv[argi + 2], argv[argi + 3]};
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		floor_die("cannot find /proc/self/exe");
	self[len] = '\0';
	for (int m = 0; m < FLOOR_NMODES; m++) {
		samples[m] = calloc((size_t)runs, sizeof(double));
		if (!samples[m])
			floor_die("out of memory");
		/* Untimed: page cache and dentries warm for every mode. */
		floor_spawn(self, (enum floor_mode)m, &a);
	}
	for (long i = 0; i < runs; i++)
		for (int m = 0; m < FLOOR_NMODES; m++)
			samples[m][i] = floor_spawn(self, (enum floor_mode)m, &a);
	printf("| fresh process, first lookup (%ld runs, interleaved) | median ms | over spawn "
	       "only ms |\n",
	       runs);
	printf("|---|---:|---:|\n");
	for (int m = 0; m < FLOOR_NMODES; m++) {
		qsort(samples[m], (size_t)runs, sizeof(double), floor_cmp_double);
		median[m] = runs % 2 ? samples[m][runs / 2]
				     : (samples[m][runs / 2 - 1] + samples[m][runs / 2]) / 2;
		printf("| %s | %.2f | %.2f |\n", floor_labels[m], median[m], median[m] - median[0]);
		free(samples[m]);
	}
	return 0;
}
