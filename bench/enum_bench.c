/* enum_bench: full passwd or group enumeration of several NSS modules,
 * side by side in one process, passes interleaved (module A, module B, ...,
 * then A again), so that a load change on a shared machine falls on every
 * module alike. Run by bench/run-enum-bench.sh, which mounts the generated
 * files where nss_files reads them; by hand:
 *
 *   enum_bench [--passes N] [--group] MODULE.so:PREFIX[:LABEL] ...
 *
 * Each pass is setpwent(0) (or setgrent(0)), getpwent_r until NOTFOUND,
 * endpwent, timed as a whole, as getpwent(3) drives a module; an ERANGE
 * answer is retried with a buffer twice as large, as glibc does. For each
 * module: entries per pass (every pass must give the same number), the
 * median, the fastest and the slowest pass in ms. Two builds of one module
 * are compared by naming two files: each path is loaded as an object of its
 * own, with its own state. */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MODULES 8
#define MAX_PASSES  64

typedef enum nss_status set_fn(int stayopen);
typedef enum nss_status end_fn(void);
typedef enum nss_status getpwent_fn(struct passwd *pw, char *buf, size_t len, int *err);
typedef enum nss_status getgrent_fn(struct group *gr, char *buf, size_t len, int *err);

struct module {
	const char *label;
	set_fn *set;
	end_fn *end;
	getpwent_fn *getpw;
	getgrent_fn *getgr;
	size_t entries;
	double ms[MAX_PASSES];
};

static char *buf;
static size_t buflen = 1 << 16;

static _Noreturn void
die(const char *what, const char *arg)
{
	fprintf(stderr, "enum_bench: %s%s\n", what, arg);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* _nss_PREFIX_NAME into *ret_fnptr, a pointer to a function pointer. */
static void
symbol(void *h, const char *prefix, const char *name, void *ret_fnptr)
{
	char sym[160];
	void *p;

	snprintf(sym, sizeof(sym), "_nss_%s_%s", prefix, name);
	p = dlsym(h, sym);
	if (!p)
		die("no symbol ", sym);
	/* dlsym returns an object pointer; copied, not cast (ISO C). */
	memcpy(ret_fnptr, &p, sizeof(p));
}

/* MODULE.so:PREFIX[:LABEL] */
static void
module_load(struct module *m, char *arg, int group)
{
	char *prefix = strchr(arg, ':'), *label;
	void *h;

	if (!prefix)
		die("want MODULE.so:PREFIX[:LABEL], not ", arg);
	*prefix++ = '\0';
	label = strchr(prefix, ':');
	if (label)
		*label++ = '\0';
	m->label = label ? label : prefix;
	h = dlopen(arg, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		die("", dlerror());
	symbol(h, prefix, group ? "setgrent" : "setpwent", &m->set);
	symbol(h, prefix, group ? "endgrent" : "endpwent", &m->end);
	if (group)
		symbol(h, prefix, "getgrent_r", &m->getgr);
	else
		symbol(h, prefix, "getpwent_r", &m->getpw);
}

/* One whole pass; the number of entries it gave. */
static size_t
pass(const struct module *m, int group)
{
	size_t n = 0;

	m->set(0);
	for (;;) {
		struct passwd pw;
		struct group gr;
		int err = 0;
		enum nss_status st =
			group ? m->getgr(&gr, buf, buflen, &err) : m->getpw(&pw, buf, buflen, &err);

		if (st == NSS_STATUS_TRYAGAIN && err == ERANGE) {
			buflen *= 2;
			buf = realloc(buf, buflen);
			if (!buf)
				die("out of memory", "");
			continue;
		}
		if (st != NSS_STATUS_SUCCESS)
			break;
		n++;
	}
	m->end();
	return n;
}

int
main(int argc, char **argv)
{
	struct module mods[MAX_MODULES];
	int passes = 7, group = 0, n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
			passes = atoi(argv[++i]);
		else if (strcmp(argv[i], "--group") == 0)
			group = 1;
		else if (argv[i][0] == '-' || n == MAX_MODULES)
			die("usage: enum_bench [--passes 1..64] [--group] MODULE.so:PREFIX[:LABEL] "
			    "... (at most 8), not ",
			    argv[i]);
		else
			module_load(&mods[n++], argv[i], group);
	}
	if (n == 0 || passes < 1 || passes > MAX_PASSES)
		die("usage: enum_bench [--passes 1..64] [--group] MODULE.so:PREFIX[:LABEL] ...",
		    "");
	buf = malloc(buflen);
	if (!buf)
		die("out of memory", "");
	/* One untimed pass each: every module has mapped or read its files. */
	for (int m = 0; m < n; m++)
		mods[m].entries = pass(&mods[m], group);
	for (int p = 0; p < passes; p++) {
		for (int m = 0; m < n; m++) {
			double t0 = now_ms();
			size_t got = pass(&mods[m], group);

			mods[m].ms[p] = now_ms() - t0;
			if (got != mods[m].entries)
				die("passes gave different numbers of entries: ", mods[m].label);
		}
	}
	printf("| module | %s entries | median ms | fastest ms | slowest ms |\n",
	       group ? "group" : "passwd");
	printf("|---|---:|---:|---:|---:|\n");
	for (int m = 0; m < n; m++) {
		qsort(mods[m].ms, (size_t)passes, sizeof(double), cmp_double);
		printf("| %s | %zu | %.1f | %.1f | %.1f |\n", mods[m].label, mods[m].entries,
		       passes % 2 ? mods[m].ms[passes / 2]
				  : (mods[m].ms[passes / 2 - 1] + mods[m].ms[passes / 2]) / 2,
		       mods[m].ms[0], mods[m].ms[passes - 1]);
	}
	free(buf);
	return 0;
}
