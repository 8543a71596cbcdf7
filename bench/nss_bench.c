/*
 * nss_bench: times one NSS module's passwd and group lookups so that peer
 * modules and userdb can be compared side by side.
 *
 * Called by bench/run-nss-bench.sh, once per (module, size), inside a private
 * mount namespace where the module's data files and /etc/nsswitch.conf have
 * been put in place; it prints one markdown table row.
 *
 * Warm lookups dlopen the module and call its own _nss_<prefix>_* functions,
 * so glibc's dispatch and nscd are out of the picture. The population comes
 * from the spec.tsv written by bench/gen_users.py; every answer is checked
 * against it outside the timed region, and a wrong answer is an error, not a
 * number. The "fresh" figure spawns this same binary in child mode, which
 * does one getpwnam() through glibc and nsswitch.conf, and times it whole.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BENCH_MAX_BUFLEN ((size_t)256 << 20)

struct bench_user {
	char *name;
	uid_t uid;
	gid_t gid;
};

struct bench_group {
	const char *name;
	gid_t gid;
	size_t nmembers;
};

/* groups[0..nroles) are the spec's roles, the personal groups follow. */
struct bench_spec {
	char *text;
	struct bench_user *users;
	size_t nusers;
	struct bench_group *groups;
	size_t ngroups;
	size_t nroles;
};

struct bench_module {
	void *handle;
	const char *prefix;
	nss_getpwnam_r *getpwnam_r;
	nss_getpwuid_r *getpwuid_r;
	nss_getgrnam_r *getgrnam_r;
	nss_getgrgid_r *getgrgid_r;
	nss_setpwent *setpwent;
	nss_getpwent_r *getpwent_r;
	nss_endpwent *endpwent;
	nss_setgrent *setgrent;
	nss_getgrent_r *getgrent_r;
	nss_endgrent *endgrent;
	nss_initgroups_dyn *initgroups_dyn;
};

struct bench_opts {
	const char *label;
	const char *role_prefix;
	const char *big_group;
	const char *initgroups_user;
	uint64_t seed;
	size_t iters;
	double budget_ms;
	unsigned enum_passes;
	double enum_budget_ms;
	size_t fresh_runs;
	size_t thread_rounds;
	int header;
	int verbose;
};

/* State shared by every call of one run: the growing buffer and the tallies. */
struct bench_ctx {
	const struct bench_spec *spec;
	const struct bench_module *mod;
	const struct bench_opts *opts;
	char *buf;
	size_t buflen;
	unsigned long retries;
	unsigned long errors;
	uint64_t rng;
	const struct bench_user *ig_user;
	size_t ig_expected;
	size_t *role_idx;
	size_t nrole_idx;
	const struct bench_group *big;
};

enum bench_op {
	BENCH_PWNAM,
	BENCH_PWUID,
	BENCH_GRNAM,
	BENCH_GRGID,
	BENCH_GRNAM_ROLE,
	BENCH_GRGID_ROLE,
	BENCH_GRNAM_BIG,
	BENCH_INITGROUPS,
	BENCH_PWNAM_MISS,
	BENCH_PWUID_MISS,
	BENCH_GRNAM_MISS,
	BENCH_GRGID_MISS,
	BENCH_NOPS,
};

static const char *const bench_op_title[BENCH_NOPS] = {
	[BENCH_PWNAM] = "getpwnam",           [BENCH_PWUID] = "getpwuid",
	[BENCH_GRNAM] = "getgrnam",           [BENCH_GRGID] = "getgrgid",
	[BENCH_GRNAM_ROLE] = "getgrnam role", [BENCH_GRGID_ROLE] = "getgrgid role",
	[BENCH_GRNAM_BIG] = "getgrnam big",   [BENCH_INITGROUPS] = "initgroups",
	[BENCH_PWNAM_MISS] = "getpwnam miss", [BENCH_PWUID_MISS] = "getpwuid miss",
	[BENCH_GRNAM_MISS] = "getgrnam miss", [BENCH_GRGID_MISS] = "getgrgid miss",
};

/* Misses: names no population has (gen_users.py names users "many" and
 * "u<digits>", groups "role<k>", "big<k>" and the users' names) and ids
 * between the last personal gid (100000 + N - 1) and the first role gid
 * (2000000) for N up to 1,900,000, so inside any range a module serves. */
#define BENCH_MISS_ID_BASE 1900000u
#define BENCH_MISS_ID_SPAN 90000u

struct bench_stat {
	int measured;
	double median;
	double p90;
	size_t n;
	int fallback;
};

static _Noreturn void
bench_die(const char *msg)
{
	fprintf(stderr, "nss_bench: %s\n", msg);
	exit(2);
}

static double
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* splitmix64: tiny, seedable, and the same sequence on every machine. */
static uint64_t
bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
bench_stat_fill(struct bench_stat *st, double *samples, size_t n)
{
	size_t p90 = (n * 9 + 9) / 10;

	st->measured = n > 0;
	st->n = n;
	if (n == 0)
		return;
	qsort(samples, n, sizeof(*samples), bench_cmp_double);
	st->median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
	st->p90 = samples[p90 - 1];
}

static char *
bench_next_field(char **cursor)
{
	char *start = *cursor;
	char *end = start + strcspn(start, "\t\n");

	*cursor = *end == '\t' ? end + 1 : end;
	*end = '\0';
	return start;
}

static void *
bench_grow(void *ptr, size_t *cap, size_t elem)
{
	*cap = *cap ? *cap * 2 : 1024;
	ptr = realloc(ptr, *cap * elem);
	if (!ptr)
		bench_die("out of memory");
	return ptr;
}

/*
 * Reads spec.tsv whole and splits it in place; names point into the text.
 * Member lines only add to their role's member count: the file groups them
 * by role, so remembering the last role keeps this linear.
 */
static void
bench_spec_load(const char *path, struct bench_spec *spec)
{
	FILE *f = fopen(path, "re");
	size_t ucap = 0, gcap = 0, last_role = 0;
	long size = -1;
	char *line, *next;

	if (f && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
		bench_die("cannot read the spec file");
	spec->text = malloc((size_t)size + 1);
	if (!spec->text || fread(spec->text, 1, (size_t)size, f) != (size_t)size)
		bench_die("cannot read the spec file");
	spec->text[size] = '\0';
	fclose(f);

	for (line = spec->text; *line; line = next) {
		char *eol = strchr(line, '\n');
		char *cur = line, *kind;

		next = eol ? eol + 1 : line + strlen(line);
		if (eol)
			*eol = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		kind = bench_next_field(&cur);
		if (strcmp(kind, "user") == 0) {
			struct bench_user *u;

			if (spec->nusers == ucap)
				spec->users = bench_grow(spec->users, &ucap, sizeof(*u));
			u = &spec->users[spec->nusers++];
			u->name = bench_next_field(&cur);
			u->uid = (uid_t)strtoul(bench_next_field(&cur), NULL, 10);
			u->gid = (gid_t)strtoul(bench_next_field(&cur), NULL, 10);
		} else if (strcmp(kind, "role") == 0) {
			struct bench_group *g;

			if (spec->nroles == gcap)
				spec->groups = bench_grow(spec->groups, &gcap, sizeof(*g));
			g = &spec->groups[spec->nroles++];
			g->name = bench_next_field(&cur);
			g->gid = (gid_t)strtoul(bench_next_field(&cur), NULL, 10);
			g->nmembers = 0;
		} else if (strcmp(kind, "member") == 0) {
			const char *role = bench_next_field(&cur);

			if (last_role >= spec->nroles ||
			    strcmp(spec->groups[last_role].name, role) != 0) {
				for (last_role = 0; last_role < spec->nroles; last_role++)
					if (strcmp(spec->groups[last_role].name, role) == 0)
						break;
				if (last_role == spec->nroles)
					bench_die("spec: member of an unknown role");
			}
			spec->groups[last_role].nmembers++;
		}
	}
	if (spec->nusers == 0)
		bench_die("spec: no users");

	/* Personal groups: gid == uid, named like the user, no members. */
	spec->ngroups = spec->nroles;
	for (size_t i = 0; i < spec->nusers; i++) {
		const struct bench_user *u = &spec->users[i];

		if (u->gid != u->uid)
			continue;
		if (spec->ngroups == gcap)
			spec->groups = bench_grow(spec->groups, &gcap, sizeof(*spec->groups));
		spec->groups[spec->ngroups].name = u->name;
		spec->groups[spec->ngroups].gid = u->gid;
		spec->groups[spec->ngroups].nmembers = 0;
		spec->ngroups++;
	}
}

/* How many roles the user is a direct member of: the initgroups answer. */
static size_t
bench_spec_count_memberships(const char *path, const char *user)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t n = 0, ulen = strlen(user);

	if (!f)
		bench_die("cannot read the spec file");
	while (fgets(line, sizeof(line), f)) {
		char *tab;
		size_t len;

		if (strncmp(line, "member\t", 7) != 0 || !(tab = strchr(line + 7, '\t')))
			continue;
		len = strcspn(tab + 1, "\n");
		if (len == ulen && memcmp(tab + 1, user, ulen) == 0)
			n++;
	}
	fclose(f);
	return n;
}

static void
bench_module_sym(struct bench_module *mod, const char *fn, void *ret_fnptr)
{
	char sym[128];
	void *p;

	snprintf(sym, sizeof(sym), "_nss_%s_%s", mod->prefix, fn);
	p = dlsym(mod->handle, sym);
	/* dlsym returns an object pointer; copy it to avoid a pedantic cast. */
	memcpy(ret_fnptr, &p, sizeof(p));
}

static void
bench_module_open(const char *path, const char *prefix, struct bench_module *mod)
{
	memset(mod, 0, sizeof(*mod));
	mod->prefix = prefix;
	mod->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!mod->handle) {
		fprintf(stderr, "nss_bench: dlopen %s: %s\n", path, dlerror());
		exit(2);
	}
	bench_module_sym(mod, "getpwnam_r", &mod->getpwnam_r);
	bench_module_sym(mod, "getpwuid_r", &mod->getpwuid_r);
	bench_module_sym(mod, "getgrnam_r", &mod->getgrnam_r);
	bench_module_sym(mod, "getgrgid_r", &mod->getgrgid_r);
	bench_module_sym(mod, "setpwent", &mod->setpwent);
	bench_module_sym(mod, "getpwent_r", &mod->getpwent_r);
	bench_module_sym(mod, "endpwent", &mod->endpwent);
	bench_module_sym(mod, "setgrent", &mod->setgrent);
	bench_module_sym(mod, "getgrent_r", &mod->getgrent_r);
	bench_module_sym(mod, "endgrent", &mod->endgrent);
	bench_module_sym(mod, "initgroups_dyn", &mod->initgroups_dyn);
}

/*
 * glibc answers TRYAGAIN + ERANGE by retrying with a larger buffer; so do we,
 * doubling as glibc does. The buffer is kept between calls, as a long-lived
 * caller's would be, so steady-state calls see no retries.
 */
static int
bench_ctx_retry(struct bench_ctx *ctx, enum nss_status st, int err)
{
	if (st != NSS_STATUS_TRYAGAIN || err != ERANGE)
		return 0;
	if (ctx->buflen >= BENCH_MAX_BUFLEN)
		return 0;
	ctx->buflen *= 2;
	free(ctx->buf);
	ctx->buf = malloc(ctx->buflen);
	if (!ctx->buf)
		bench_die("out of memory");
	ctx->retries++;
	return 1;
}

static void
bench_ctx_error(struct bench_ctx *ctx, enum bench_op op, const char *key, enum nss_status st)
{
	if (ctx->errors++ < 5)
		fprintf(stderr, "nss_bench: %s: %s(%s): wrong answer (status %d)\n",
			ctx->opts->label, bench_op_title[op], key, (int)st);
}

static size_t
bench_count_members(char **mem)
{
	size_t n = 0;

	while (mem && mem[n])
		n++;
	return n;
}

/*
 * glibc's fallback when a module has no initgroups_dyn (compat_call in
 * nss/compat-initgroups.c): setgrent, getgrent_r over every group, endgrent.
 * glibc calls setgrent through a prototype without arguments, so the module
 * sees an unspecified stayopen; we pass 1, which is what libnss-db needs to
 * keep its database open across the scan.
 */
static enum nss_status
bench_initgroups_fallback(struct bench_ctx *ctx, const char *user, gid_t gid, long *start,
			  long *size, gid_t **groups, int *err)
{
	struct group gr;
	enum nss_status st = NSS_STATUS_SUCCESS;

	if (ctx->mod->setgrent)
		ctx->mod->setgrent(1);
	for (;;) {
		st = ctx->mod->getgrent_r(&gr, ctx->buf, ctx->buflen, err);
		if (bench_ctx_retry(ctx, st, *err))
			continue;
		if (st != NSS_STATUS_SUCCESS)
			break;
		if (gr.gr_gid == gid)
			continue;
		for (char **m = gr.gr_mem; *m; m++) {
			if (strcmp(*m, user) != 0)
				continue;
			if (*start == *size) {
				*size *= 2;
				*groups = realloc(*groups, (size_t)*size * sizeof(gid_t));
				if (!*groups)
					bench_die("out of memory");
			}
			(*groups)[(*start)++] = gr.gr_gid;
			break;
		}
	}
	if (ctx->mod->endgrent)
		ctx->mod->endgrent();
	return st == NSS_STATUS_NOTFOUND ? NSS_STATUS_SUCCESS : st;
}

/*
 * The key as any caller has it when it asks: in its own cache. The name is
 * one of N strings in this process's memory and the id sits in one of N
 * structs: left cold, their first touch (a cache and a TLB miss, hundreds
 * of ns in this VM at 1M users) would land inside the timed region and be
 * charged to the module. Every module gets the same treatment.
 */
static void
bench_touch_key(const struct bench_user *u, const struct bench_group *g)
{
	static volatile size_t sink;

	if (u)
		sink += strlen(u->name) + u->uid + u->gid;
	if (g)
		sink += strlen(g->name) + g->gid;
}

/* One timed call: returns its duration in µs; checks the answer afterwards. */
static double
bench_call(struct bench_ctx *ctx, enum bench_op op)
{
	const struct bench_spec *spec = ctx->spec;
	const struct bench_user *u = NULL;
	const struct bench_group *g = NULL;
	struct passwd pw;
	struct group gr;
	enum nss_status st;
	int err = 0, ok = 0;
	double t0, t1;
	long start = 1, size = 64;
	gid_t *groups = NULL;
	bool miss = op >= BENCH_PWNAM_MISS;
	char miss_name[32];
	uint32_t miss_id =
		BENCH_MISS_ID_BASE + (uint32_t)(bench_rand(&ctx->rng) % BENCH_MISS_ID_SPAN);

	snprintf(miss_name, sizeof(miss_name), "x%07u", miss_id);
	if (op == BENCH_PWNAM || op == BENCH_PWUID)
		u = &spec->users[bench_rand(&ctx->rng) % spec->nusers];
	else if (op == BENCH_GRNAM || op == BENCH_GRGID)
		g = &spec->groups[bench_rand(&ctx->rng) % spec->ngroups];
	else if (op == BENCH_GRNAM_ROLE || op == BENCH_GRGID_ROLE)
		g = &spec->groups[ctx->role_idx[bench_rand(&ctx->rng) % ctx->nrole_idx]];
	else if (op == BENCH_GRNAM_BIG)
		g = ctx->big;
	else if (op == BENCH_INITGROUPS) {
		u = ctx->ig_user;
		groups = malloc((size_t)size * sizeof(gid_t));
		if (!groups)
			bench_die("out of memory");
		groups[0] = u->gid;
	}

	bench_touch_key(u, g);
	t0 = bench_now_us();
	do {
		switch (op) {
		case BENCH_PWNAM:
			st = ctx->mod->getpwnam_r(u->name, &pw, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_PWUID:
			st = ctx->mod->getpwuid_r(u->uid, &pw, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_GRGID:
		case BENCH_GRGID_ROLE:
			st = ctx->mod->getgrgid_r(g->gid, &gr, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_PWNAM_MISS:
			st = ctx->mod->getpwnam_r(miss_name, &pw, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_PWUID_MISS:
			st = ctx->mod->getpwuid_r(miss_id, &pw, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_GRNAM_MISS:
			st = ctx->mod->getgrnam_r(miss_name, &gr, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_GRGID_MISS:
			st = ctx->mod->getgrgid_r(miss_id, &gr, ctx->buf, ctx->buflen, &err);
			break;
		case BENCH_INITGROUPS:
			if (ctx->mod->initgroups_dyn)
				st = ctx->mod->initgroups_dyn(u->name, u->gid, &start, &size,
							      &groups, -1, &err);
			else
				st = bench_initgroups_fallback(ctx, u->name, u->gid, &start, &size,
							       &groups, &err);
			break;
		default:
			st = ctx->mod->getgrnam_r(g->name, &gr, ctx->buf, ctx->buflen, &err);
			break;
		}
	} while (bench_ctx_retry(ctx, st, err));
	t1 = bench_now_us();

	if (miss) {
		ok = st == NSS_STATUS_NOTFOUND;
	} else if (st == NSS_STATUS_SUCCESS) {
		if (op == BENCH_PWNAM || op == BENCH_PWUID)
			ok = strcmp(pw.pw_name, u->name) == 0 && pw.pw_uid == u->uid &&
			     pw.pw_gid == u->gid;
		else if (op == BENCH_INITGROUPS)
			ok = (size_t)(start - 1) == ctx->ig_expected;
		else
			ok = strcmp(gr.gr_name, g->name) == 0 && gr.gr_gid == g->gid &&
			     bench_count_members(gr.gr_mem) == g->nmembers;
	}
	if (!ok)
		bench_ctx_error(ctx, op, miss ? miss_name : u ? u->name : g->name, st);
	free(groups);
	return t1 - t0;
}

static int
bench_op_available(const struct bench_ctx *ctx, enum bench_op op)
{
	const struct bench_module *m = ctx->mod;

	switch (op) {
	case BENCH_PWNAM:
	case BENCH_PWNAM_MISS:
		return m->getpwnam_r != NULL;
	case BENCH_PWUID:
	case BENCH_PWUID_MISS:
		return m->getpwuid_r != NULL;
	case BENCH_GRGID:
	case BENCH_GRGID_MISS:
		return m->getgrgid_r != NULL;
	case BENCH_GRNAM_ROLE:
		return m->getgrnam_r != NULL && ctx->nrole_idx > 0;
	case BENCH_GRGID_ROLE:
		return m->getgrgid_r != NULL && ctx->nrole_idx > 0;
	case BENCH_GRNAM_BIG:
		return m->getgrnam_r != NULL && ctx->big != NULL;
	case BENCH_INITGROUPS:
		return ctx->ig_user != NULL && (m->initgroups_dyn || m->getgrent_r);
	default:
		return m->getgrnam_r != NULL;
	}
}

/*
 * Untimed calls first (page cache, lazy opens, buffer growth, and a mapped
 * module's page tables and caches: a module that maps hundreds of MB and
 * reads two random places of it per call is not warm after three calls),
 * at least 3 and then up to opts->iters of them within a tenth of the time
 * budget, the same rule for every module; then up to opts->iters timed
 * calls, stopping early once the time budget is spent but never with fewer
 * than 5 samples.
 */
static void
bench_run_op(struct bench_ctx *ctx, enum bench_op op, struct bench_stat *st)
{
	double *samples;
	double spent = 0;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	if (!bench_op_available(ctx, op))
		return;
	st->fallback = op == BENCH_INITGROUPS && !ctx->mod->initgroups_dyn;
	samples = malloc(ctx->opts->iters * sizeof(*samples));
	if (!samples)
		bench_die("out of memory");
	for (size_t i = 0; i < 3 || (i < ctx->opts->iters && spent < ctx->opts->budget_ms * 1e2);
	     i++)
		spent += bench_call(ctx, op);
	spent = 0;
	while (n < ctx->opts->iters && (n < 5 || spent < ctx->opts->budget_ms * 1e3)) {
		samples[n] = bench_call(ctx, op);
		spent += samples[n++];
	}
	bench_stat_fill(st, samples, n);
	free(samples);
}

/*
 * Full passwd enumeration the way getpwent(3) drives a module: glibc's
 * setpwent passes stayopen = 0. A pass over a slow module can take minutes,
 * so passes stop once the budget is spent (at least one is always made).
 */
static void
bench_run_enum(struct bench_ctx *ctx, struct bench_stat *st)
{
	double samples[16];
	double spent = 0;
	unsigned n = 0;

	memset(st, 0, sizeof(*st));
	if (!ctx->mod->getpwent_r)
		return;
	while (n < ctx->opts->enum_passes && n < 16 &&
	       (n == 0 || spent < ctx->opts->enum_budget_ms)) {
		struct passwd pw;
		enum nss_status s;
		size_t count = 0;
		int err = 0;
		double t0 = bench_now_us();

		if (ctx->mod->setpwent)
			ctx->mod->setpwent(0);
		for (;;) {
			s = ctx->mod->getpwent_r(&pw, ctx->buf, ctx->buflen, &err);
			if (bench_ctx_retry(ctx, s, err))
				continue;
			if (s != NSS_STATUS_SUCCESS)
				break;
			count++;
		}
		if (ctx->mod->endpwent)
			ctx->mod->endpwent();
		samples[n] = (bench_now_us() - t0) / 1e3;
		spent += samples[n++];
		if (count != ctx->spec->nusers && ctx->errors++ < 5)
			fprintf(stderr, "nss_bench: %s: enumeration gave %zu users, not %zu\n",
				ctx->opts->label, count, ctx->spec->nusers);
	}
	bench_stat_fill(st, samples, n);
}

/*
 * The scaling measurement: two threads that live through every round, as a
 * server's would, so that each has mapped and touched what a module keeps
 * per thread before anything is timed. Each phase, the main thread says how
 * many workers run, releases them, sleeps, then stops them; a worker counts
 * its random getpwnam lookups (answers checked) until stopped.
 */
struct bench_pool {
	const struct bench_ctx *ctx;
	pthread_barrier_t start, end;
	atomic_bool stop;
	int active; /* workers that run in this phase; -1: exit */
	unsigned long lookups[2];
	unsigned long wrong[2];
};

struct bench_worker {
	struct bench_pool *pool;
	int index;
	uint64_t rng;
	pthread_t thread;
};

static void *
bench_worker_run(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_pool *pool = w->pool;
	const struct bench_spec *spec = pool->ctx->spec;
	size_t buflen = pool->ctx->buflen;
	char *buf = malloc(buflen);
	struct passwd pw;
	int err = 0;

	if (!buf)
		bench_die("out of memory");
	for (;;) {
		unsigned long n = 0, wrong = 0;

		pthread_barrier_wait(&pool->start);
		if (pool->active < 0)
			break;
		while (w->index < pool->active &&
		       !atomic_load_explicit(&pool->stop, memory_order_relaxed)) {
			const struct bench_user *u =
				&spec->users[bench_rand(&w->rng) % spec->nusers];
			enum nss_status st =
				pool->ctx->mod->getpwnam_r(u->name, &pw, buf, buflen, &err);

			if (st != NSS_STATUS_SUCCESS || strcmp(pw.pw_name, u->name) != 0 ||
			    pw.pw_uid != u->uid)
				wrong++;
			n++;
		}
		pool->lookups[w->index] = n;
		pool->wrong[w->index] = wrong;
		pthread_barrier_wait(&pool->end);
	}
	free(buf);
	return NULL;
}

/* One phase: lookups per second of the first nthreads workers together. */
static double
bench_pool_phase(struct bench_pool *pool, struct bench_ctx *ctx, int nthreads, double ms)
{
	struct timespec nap = {.tv_sec = (time_t)(ms / 1e3),
			       .tv_nsec = (long)((ms - 1e3 * (double)(time_t)(ms / 1e3)) * 1e6)};
	unsigned long total = 0;
	double t0, t1;

	pool->active = nthreads;
	atomic_store(&pool->stop, false);
	pthread_barrier_wait(&pool->start);
	t0 = bench_now_us();
	nanosleep(&nap, NULL);
	atomic_store(&pool->stop, true);
	pthread_barrier_wait(&pool->end);
	t1 = bench_now_us();
	for (int i = 0; i < nthreads; i++) {
		total += pool->lookups[i];
		if (pool->wrong[i] && ctx->errors++ < 5)
			fprintf(stderr, "nss_bench: %s: %lu wrong getpwnam answers in %d threads\n",
				ctx->opts->label, pool->wrong[i], nthreads);
	}
	return (double)total / ((t1 - t0) / 1e6);
}

/*
 * Two threads against one: after a warm-up phase of both, one-second
 * phases of one and of two workers, alternated so that drift hits both
 * alike. The cell is the median two-thread rate over the median one-thread
 * rate.
 */
static void
bench_run_threads(struct bench_ctx *ctx, struct bench_stat *st, double *ret_rate1)
{
	double one[16], two[16];
	size_t n = ctx->opts->thread_rounds < 16 ? ctx->opts->thread_rounds : 16;
	struct bench_pool pool = {.ctx = ctx};
	struct bench_worker w[2];
	struct bench_stat s1, s2;

	memset(st, 0, sizeof(*st));
	*ret_rate1 = 0;
	if (n == 0 || !ctx->mod->getpwnam_r)
		return;
	if (pthread_barrier_init(&pool.start, NULL, 3) != 0 ||
	    pthread_barrier_init(&pool.end, NULL, 3) != 0)
		bench_die("pthread_barrier_init failed");
	for (int i = 0; i < 2; i++) {
		w[i] = (struct bench_worker){
			.pool = &pool, .index = i, .rng = bench_rand(&ctx->rng)};
		if (pthread_create(&w[i].thread, NULL, bench_worker_run, &w[i]) != 0)
			bench_die("pthread_create failed");
	}
	bench_pool_phase(&pool, ctx, 2, 1000);
	for (size_t i = 0; i < n; i++) {
		one[i] = bench_pool_phase(&pool, ctx, 1, 1000);
		two[i] = bench_pool_phase(&pool, ctx, 2, 1000);
	}
	pool.active = -1;
	pthread_barrier_wait(&pool.start);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i].thread, NULL);
	pthread_barrier_destroy(&pool.start);
	pthread_barrier_destroy(&pool.end);
	bench_stat_fill(&s1, one, n);
	bench_stat_fill(&s2, two, n);
	st->measured = s1.median > 0;
	st->n = n;
	st->median = s1.median > 0 ? s2.median / s1.median : 0;
	st->p90 = st->median;
	*ret_rate1 = s1.median;
}

/*
 * Spawns this binary in child mode and waits for it. posix_spawn (vfork
 * semantics) keeps the cost independent of this process's size, which at a
 * million users is hundreds of MiB that fork() would have to map.
 */
static double
bench_spawn_child(char *self, char *mode, char *name, int *ret_failed)
{
	char *argv[] = {self, mode, name, NULL};
	double t0, t1;
	pid_t pid;
	int status = 0;

	t0 = bench_now_us();
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0)
		bench_die("posix_spawn failed");
	if (waitpid(pid, &status, 0) != pid)
		bench_die("waitpid failed");
	t1 = bench_now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*ret_failed = 1;
	return t1 - t0;
}

/*
 * Fresh processes, interleaved round by round: one that exits at once, one
 * that does a getpwnam() of a random user, one that does a getgrnam() of a
 * random role (when the spec has roles), each through glibc.
 */
static void
bench_run_fresh(struct bench_ctx *ctx, struct bench_stat *st, struct bench_stat *st_role,
		struct bench_stat *base)
{
	char self[4096], mode_lookup[] = "--child-getpwnam", mode_noop[] = "--child-noop";
	char mode_group[] = "--child-getgrnam";
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t runs = ctx->opts->fresh_runs;
	double *lookup, *noop, *group, spent = 0;
	size_t n = 0;
	int failed = 0;

	memset(st, 0, sizeof(*st));
	memset(st_role, 0, sizeof(*st_role));
	memset(base, 0, sizeof(*base));
	if (runs == 0)
		return;
	if (len <= 0)
		bench_die("cannot find /proc/self/exe");
	self[len] = '\0';
	lookup = malloc(runs * sizeof(*lookup));
	noop = malloc(runs * sizeof(*noop));
	group = malloc(runs * sizeof(*group));
	if (!lookup || !noop || !group)
		bench_die("out of memory");
	for (int i = 0; i < 3; i++)
		bench_spawn_child(self, mode_lookup, ctx->spec->users[0].name, &failed);
	while (n < runs && (n < 5 || spent < ctx->opts->budget_ms * 1e3)) {
		size_t pick = bench_rand(&ctx->rng) % ctx->spec->nusers;
		char *name = ctx->spec->users[pick].name;

		noop[n] = bench_spawn_child(self, mode_noop, name, &failed);
		lookup[n] = bench_spawn_child(self, mode_lookup, name, &failed);
		spent += lookup[n] + noop[n];
		if (ctx->nrole_idx > 0) {
			const struct bench_group *g =
				&ctx->spec->groups[ctx->role_idx[bench_rand(&ctx->rng) %
								 ctx->nrole_idx]];
			char gname[256];

			snprintf(gname, sizeof(gname), "%s", g->name);
			group[n] = bench_spawn_child(self, mode_group, gname, &failed);
			spent += group[n];
		}
		n++;
	}
	if (failed && ctx->errors++ < 5)
		fprintf(stderr,
			"nss_bench: %s: a fresh process did not find its user or role through "
			"glibc (is /etc/nsswitch.conf set to '%s'?)\n",
			ctx->opts->label, ctx->mod->prefix);
	for (size_t i = 0; i < n; i++) {
		lookup[i] /= 1e3;
		noop[i] /= 1e3;
		group[i] /= 1e3;
	}
	bench_stat_fill(st, lookup, n);
	bench_stat_fill(base, noop, n);
	if (ctx->nrole_idx > 0)
		bench_stat_fill(st_role, group, n);
	free(lookup);
	free(noop);
	free(group);
}

static void
bench_fmt(char *out, size_t outlen, double v)
{
	if (v < 10)
		snprintf(out, outlen, "%.2f", v);
	else if (v < 1000)
		snprintf(out, outlen, "%.1f", v);
	else
		snprintf(out, outlen, "%.0f", v);
}

static void
bench_print_cell(const struct bench_stat *st, int with_p90)
{
	char a[32], b[32];

	if (!st->measured) {
		printf(" n/a |");
		return;
	}
	bench_fmt(a, sizeof(a), st->median);
	bench_fmt(b, sizeof(b), st->p90);
	if (with_p90)
		printf(" %s / %s%s |", a, b, st->fallback ? " *" : "");
	else
		printf(" %s |", a);
}

static void
bench_print_header(void)
{
	printf("| module | users |");
	for (int op = 0; op < BENCH_NOPS; op++)
		printf(" %s µs |", bench_op_title[op]);
	printf(" enum passwd ms | 2 threads / 1 | fresh getpwnam ms | fresh getgrnam role ms |"
	       " fresh spawn only ms |\n|---|---:|");
	for (int op = 0; op < BENCH_NOPS + 5; op++)
		printf("---:|");
	printf("\n");
}

static _Noreturn void
bench_usage(void)
{
	fputs("usage: nss_bench [options] MODULE.so PREFIX SPEC.tsv\n"
	      "       nss_bench --print-header\n"
	      "  MODULE.so        path or soname given to dlopen (nss_files: libnss_files.so.2)\n"
	      "  PREFIX           symbol prefix: _nss_PREFIX_getpwnam_r ...\n"
	      "  SPEC.tsv         population written by gen_users.py\n"
	      "  --label NAME     row label (default PREFIX)\n"
	      "  --seed N         random key sequence (default 1)\n"
	      "  --iters N        timed calls per lookup at most (default 2000)\n"
	      "  --budget-ms MS   time budget per lookup kind (default 3000)\n"
	      "  --enum-passes N  enumeration passes at most (default 3, max 16)\n"
	      "  --enum-budget-ms MS  stop starting passes after this (default 10000)\n"
	      "  --fresh N        fresh-process runs at most, 0 = skip (default 200)\n"
	      "  --thread-rounds N  one-second rounds of 1 and 2 threads, 0 = skip (default 5)\n"
	      "  --role-prefix S  roles sampled for 'getgrnam role' (default role)\n"
	      "  --big-group NAME the one very large group (default big1)\n"
	      "  --initgroups-user NAME  (default many)\n"
	      "  --header         print the table header first\n"
	      "  -v               print sample counts and buffer retries to stderr\n",
	      stderr);
	exit(2);
}

/* Child mode: one lookup through glibc, so nsswitch.conf decides the module. */
static int
bench_child(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child-noop") == 0)
		return 0;
	if (argc == 3 && strcmp(argv[1], "--child-getgrnam") == 0)
		return getgrnam(argv[2]) ? 0 : 3;
	return getpwnam(argv[2]) ? 0 : 3;
}

static void
bench_parse_args(int argc, char **argv, struct bench_opts *o, const char **ret_pos)
{
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (strcmp(a, "--header") == 0) {
			o->header = 1;
			takes = 0;
		} else if (strcmp(a, "-v") == 0) {
			o->verbose = 1;
			takes = 0;
		} else if (a[0] == '-' && !v) {
			bench_usage();
		} else if (strcmp(a, "--label") == 0) {
			o->label = v;
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = strtoull(v, NULL, 10);
		} else if (strcmp(a, "--iters") == 0) {
			o->iters = strtoul(v, NULL, 10);
		} else if (strcmp(a, "--budget-ms") == 0) {
			o->budget_ms = strtod(v, NULL);
		} else if (strcmp(a, "--enum-passes") == 0) {
			o->enum_passes = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(a, "--enum-budget-ms") == 0) {
			o->enum_budget_ms = strtod(v, NULL);
		} else if (strcmp(a, "--fresh") == 0) {
			o->fresh_runs = strtoul(v, NULL, 10);
		} else if (strcmp(a, "--thread-rounds") == 0) {
			o->thread_rounds = strtoul(v, NULL, 10);
		} else if (strcmp(a, "--role-prefix") == 0) {
			o->role_prefix = v;
		} else if (strcmp(a, "--big-group") == 0) {
			o->big_group = v;
		} else if (strcmp(a, "--initgroups-user") == 0) {
			o->initgroups_user = v;
		} else if (a[0] == '-') {
			bench_usage();
		} else {
			if (npos == 3)
				bench_usage();
			ret_pos[npos++] = a;
			takes = 0;
		}
		i += takes;
	}
	if (npos != 3 || o->iters < 5)
		bench_usage();
}

int
main(int argc, char **argv)
{
	struct bench_opts opts = {
		.role_prefix = "role",
		.big_group = "big1",
		.initgroups_user = "many",
		.seed = 1,
		.iters = 2000,
		.budget_ms = 3000,
		.enum_passes = 3,
		.enum_budget_ms = 10000,
		.fresh_runs = 200,
		.thread_rounds = 5,
	};
	const char *pos[3] = {NULL, NULL, NULL};
	struct bench_spec spec = {0};
	struct bench_module mod;
	struct bench_ctx ctx = {0};
	struct bench_stat stats[BENCH_NOPS], en, threads, fresh, fresh_role, spawn;
	double rate1;

	if (argc == 3 && strncmp(argv[1], "--child-", 8) == 0)
		return bench_child(argc, argv);
	if (argc == 2 && strcmp(argv[1], "--print-header") == 0) {
		bench_print_header();
		return 0;
	}

	bench_parse_args(argc, argv, &opts, pos);
	if (!opts.label)
		opts.label = pos[1];
	bench_spec_load(pos[2], &spec);
	bench_module_open(pos[0], pos[1], &mod);

	ctx.spec = &spec;
	ctx.mod = &mod;
	ctx.opts = &opts;
	ctx.rng = opts.seed;
	ctx.buflen = 1024;
	ctx.buf = malloc(ctx.buflen);
	ctx.role_idx = calloc(spec.nroles + 1, sizeof(*ctx.role_idx));
	if (!ctx.buf || !ctx.role_idx)
		bench_die("out of memory");
	for (size_t i = 0; i < spec.nroles; i++) {
		if (strncmp(spec.groups[i].name, opts.role_prefix, strlen(opts.role_prefix)) == 0)
			ctx.role_idx[ctx.nrole_idx++] = i;
		if (strcmp(spec.groups[i].name, opts.big_group) == 0)
			ctx.big = &spec.groups[i];
	}
	for (size_t i = 0; i < spec.nusers; i++)
		if (strcmp(spec.users[i].name, opts.initgroups_user) == 0)
			ctx.ig_user = &spec.users[i];
	if (ctx.ig_user)
		ctx.ig_expected = bench_spec_count_memberships(pos[2], ctx.ig_user->name);

	for (int op = 0; op < BENCH_NOPS; op++)
		bench_run_op(&ctx, (enum bench_op)op, &stats[op]);
	bench_run_enum(&ctx, &en);
	bench_run_threads(&ctx, &threads, &rate1);
	bench_run_fresh(&ctx, &fresh, &fresh_role, &spawn);

	if (opts.header)
		bench_print_header();
	printf("| %s%s | %zu |", opts.label, ctx.errors ? " (ERRORS)" : "", spec.nusers);
	for (int op = 0; op < BENCH_NOPS; op++)
		bench_print_cell(&stats[op], 1);
	bench_print_cell(&en, 0);
	bench_print_cell(&threads, 0);
	bench_print_cell(&fresh, 0);
	bench_print_cell(&fresh_role, 0);
	bench_print_cell(&spawn, 0);
	printf("\n");
	fflush(stdout);

	if (opts.verbose) {
		fprintf(stderr, "nss_bench: %s: samples", opts.label);
		for (int op = 0; op < BENCH_NOPS; op++)
			fprintf(stderr, " %s=%zu", bench_op_title[op], stats[op].n);
		fprintf(stderr,
			" enum=%zu fresh=%zu; one thread %.0f getpwnam/s; ERANGE retries %lu, "
			"final buffer %zu bytes\n",
			en.n, fresh.n, rate1, ctx.retries, ctx.buflen);
	}
	free(ctx.buf);
	free(ctx.role_idx);
	free(spec.users);
	free(spec.groups);
	free(spec.text);
	return ctx.errors ? 1 : 0;
}
