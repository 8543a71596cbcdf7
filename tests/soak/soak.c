/* The concurrency soak: for a chosen time, several processes x threads look
 * users and groups up and enumerate them through the built NSS module
 * (dlopen, its symbols called directly), two processes log in through the
 * built PAM module (one with the right password and a full session, one
 * with a wrong password and an unknown name), and the admin tool adds,
 * deletes, grants, revokes, disables and enables users in a loop.
 *
 * Every answer is checked against what must be true at any instant:
 *   - stable00..stable15 never change: always found, by name, by uid, in
 *     the `steady` group (whose members are exactly them), in initgroups,
 *     in shadow, and exactly once in every enumeration;
 *   - churn00..churn23 come and go: a lookup may find one or not, but a
 *     found one carries exactly its data (uid 25000+K, GECOS "Churn K", ...),
 *     and getpwuid of the uid getpwnam gave finds the same user or nothing;
 *     `flux` lists only churn users;
 *   - a name that never existed is NOTFOUND, never an error;
 *   - the only status besides SUCCESS/NOTFOUND allowed is TRYAGAIN, with
 *     ERANGE (retried with a larger buffer, as glibc does) or EAGAIN; the
 *     admin tool's only allowed failure is exit 75 (busy), run again;
 *   - an enumeration lists every stable user exactly once and nothing
 *     twice, except a churn user deleted and added again during the pass.
 * Afterwards: pamok's login_count equals the sessions opened, pambad's
 * failure counter the wrong passwords, the unknown-name counter the unknown
 * names (deny = 0: no lockout), PRAGMA integrity_check is ok on both files
 * and no user is left in one file only.
 *
 *   soak NSS_MODULE PAM_MODULE USERDB SECONDS [--keep]
 *
 * Prints operations per second for each kind; exits 0 when nothing went
 * wrong, 1 otherwise. Run by meson for a few seconds (suite soak) and by
 * hand for 60 (tests/RELIABILITY.md). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define N_STABLE   16
#define N_CHURN    24
#define STABLE_UID 21000
#define CHURN_UID  25000
#define STEADY_GID 40000
#define FLUX_GID   40001
#define EXTRA_GID  40002
#define READERS    3
#define THREADS    4
#define BUF_MAX    (1 << 20)
#define PW_OK      "right horse battery"
#define PW_CHURN   "churn password"
#define MAX_ERRORS 20

enum kind {
	K_GETPWNAM,
	K_GETPWUID,
	K_GETGRNAM,
	K_GETGRGID,
	K_INITGROUPS,
	K_GETSPNAM,
	K_ENUM_PASSWD,
	K_ENUM_GROUP,
	K_ENUM_SHADOW,
	K_PAM_RIGHT,
	K_PAM_WRONG,
	K_PAM_UNKNOWN,
	K_ADD,
	K_DEL,
	K_GRANT,
	K_REVOKE,
	K_DISABLE,
	K_ENABLE,
	K_ERANGE,
	K_EAGAIN,
	K_BUSY,
	K_COUNT,
};

static const char *const kind_names[K_COUNT] = {
	"getpwnam",         "getpwuid",       "getgrnam",      "getgrgid",       "initgroups_dyn",
	"getspnam",         "enum passwd",    "enum group",    "enum shadow",    "pam right pw",
	"pam wrong pw",     "pam unknown",    "userdb add",    "userdb del",     "userdb grant",
	"userdb revoke",    "userdb disable", "userdb enable", "ERANGE retries", "EAGAIN answers",
	"userdb busy (75)",
};

/* Shared by every process of the run (MAP_SHARED). */
struct shared {
	int stop;
	uint64_t ops[K_COUNT];
	uint64_t errors;
};

static struct shared *shared;
static struct hx bed;
static struct hx_nss nss;
static const char *who = "main";

static void
count(enum kind k)
{
	__atomic_fetch_add(&shared->ops[k], 1, __ATOMIC_RELAXED);
}

static bool
stopping(void)
{
	return __atomic_load_n(&shared->stop, __ATOMIC_RELAXED);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	uint64_t n = __atomic_fetch_add(&shared->errors, 1, __ATOMIC_RELAXED);
	char msg[1024];
	va_list ap;

	if (n >= MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "soak: ERROR (%s %d): %s\n", who, (int)getpid(), msg);
}

/* xorshift64*, one per thread. */
static unsigned
rnd(uint64_t *s, unsigned n)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (unsigned)((*s * 2685821657736338717ULL) >> 33) % n;
}

/* ---- readers ---- */

struct reader {
	uint64_t seed;
	char *buf;
	size_t size;
};

/* A buffer size for the next call: often too small, so that the ERANGE
 * path runs under concurrent change too. */
static void
pick_size(struct reader *r)
{
	static const size_t sizes[] = {8, 64, 200, 1024, 65536};

	r->size = sizes[rnd(&r->seed, 5)];
}

/* Handles TRYAGAIN as glibc does: ERANGE -> double the buffer and call
 * again; EAGAIN -> an allowed answer (counted). Anything else than
 * SUCCESS, NOTFOUND and those is an error. */
static bool
again(struct reader *r, enum nss_status st, int err, const char *what)
{
	if (st == NSS_STATUS_TRYAGAIN && err == ERANGE) {
		count(K_ERANGE);
		if (r->size >= BUF_MAX) {
			fail("%s: ERANGE with a %zu-byte buffer", what, r->size);
			return false;
		}
		r->size *= 2;
		return true;
	}
	if (st == NSS_STATUS_TRYAGAIN && err == EAGAIN)
		count(K_EAGAIN);
	else if (st != NSS_STATUS_SUCCESS && st != NSS_STATUS_NOTFOUND)
		fail("%s: %s errno %d", what, hx_nss_status_name(st), err);
	else if (st == NSS_STATUS_NOTFOUND && err != ENOENT)
		fail("%s: NOTFOUND with errno %d", what, err);
	return false;
}

static enum nss_status
pw_by_name(struct reader *r, const char *name, struct passwd *pw)
{
	enum nss_status st;
	int err;

	pick_size(r);
	do {
		err = 0;
		st = nss.getpwnam_r(name, pw, r->buf, r->size, &err);
	} while (again(r, st, err, name));
	count(K_GETPWNAM);
	return st;
}

static enum nss_status
pw_by_uid(struct reader *r, uid_t uid, struct passwd *pw)
{
	enum nss_status st;
	int err;

	pick_size(r);
	do {
		err = 0;
		st = nss.getpwuid_r(uid, pw, r->buf, r->size, &err);
	} while (again(r, st, err, "getpwuid"));
	count(K_GETPWUID);
	return st;
}

static enum nss_status
gr_by(struct reader *r, const char *name, gid_t gid, struct group *gr)
{
	enum nss_status st;
	int err;

	pick_size(r);
	do {
		err = 0;
		st = name ? nss.getgrnam_r(name, gr, r->buf, r->size, &err)
			  : nss.getgrgid_r(gid, gr, r->buf, r->size, &err);
	} while (again(r, st, err, name ? name : "getgrgid"));
	count(name ? K_GETGRNAM : K_GETGRGID);
	return st;
}

/* The number K of churnK / stableNN, or -1. */
static int
number_of(const char *name, const char *prefix, int n)
{
	size_t len = strlen(prefix);
	char *end;
	long k;

	if (strncmp(name, prefix, len) != 0 || strlen(name) != len + 2)
		return -1;
	k = strtol(name + len, &end, 10);
	return *end == '\0' && k >= 0 && k < n ? (int)k : -1;
}

/* A passwd entry of stableNN or churnK carries exactly its data. */
static void
check_pw(const struct passwd *pw, const char *what)
{
	int s = number_of(pw->pw_name, "stable", N_STABLE);
	int c = number_of(pw->pw_name, "churn", N_CHURN);
	char gecos[64], home[64];
	uid_t uid;

	if (s >= 0) {
		uid = STABLE_UID + (uid_t)s;
		snprintf(gecos, sizeof(gecos), "Stable %02d", s);
	} else if (c >= 0) {
		uid = CHURN_UID + (uid_t)c;
		snprintf(gecos, sizeof(gecos), "Churn %02d", c);
	} else if (strcmp(pw->pw_name, "pamok") == 0 || strcmp(pw->pw_name, "pambad") == 0) {
		return;
	} else {
		fail("%s: unexpected user %s", what, pw->pw_name);
		return;
	}
	snprintf(home, sizeof(home), "/home/%s", pw->pw_name);
	if (pw->pw_uid != uid || pw->pw_gid != uid || strcmp(pw->pw_passwd, "x") != 0 ||
	    strcmp(pw->pw_gecos, gecos) != 0 || strcmp(pw->pw_dir, home) != 0 ||
	    strcmp(pw->pw_shell, "/bin/bash") != 0)
		fail("%s: %s:%s:%u:%u:%s:%s:%s is not what was stored", what, pw->pw_name,
		     pw->pw_passwd, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, pw->pw_gecos,
		     pw->pw_dir, pw->pw_shell);
}

/* steady lists exactly the stable users; flux and extra only churn
 * users; a personal group has its user's name and uid and no members. */
static void
check_gr(const struct group *gr, const char *what)
{
	bool seen[N_STABLE] = {0};
	size_t n = 0;
	int k;

	if (gr->gr_gid == STEADY_GID || strcmp(gr->gr_name, "steady") == 0) {
		if (gr->gr_gid != STEADY_GID || strcmp(gr->gr_name, "steady") != 0) {
			fail("%s: group %s gid %u", what, gr->gr_name, (unsigned)gr->gr_gid);
			return;
		}
		for (char **m = gr->gr_mem; *m; m++, n++) {
			k = number_of(*m, "stable", N_STABLE);
			if (k < 0 || seen[k])
				fail("%s: steady lists %s", what, *m);
			else
				seen[k] = true;
		}
		if (n != N_STABLE)
			fail("%s: steady has %zu members, not %d", what, n, N_STABLE);
		return;
	}
	if (gr->gr_gid == FLUX_GID || gr->gr_gid == EXTRA_GID) {
		if (strcmp(gr->gr_name, gr->gr_gid == FLUX_GID ? "flux" : "extra") != 0)
			fail("%s: group %s gid %u", what, gr->gr_name, (unsigned)gr->gr_gid);
		for (char **m = gr->gr_mem; *m; m++)
			if (number_of(*m, "churn", N_CHURN) < 0)
				fail("%s: %s lists %s", what, gr->gr_name, *m);
		return;
	}
	k = number_of(gr->gr_name, "stable", N_STABLE);
	if (k >= 0 && gr->gr_gid == STABLE_UID + (gid_t)k && !gr->gr_mem[0])
		return;
	k = number_of(gr->gr_name, "churn", N_CHURN);
	if (k >= 0 && gr->gr_gid == CHURN_UID + (gid_t)k && !gr->gr_mem[0])
		return;
	if ((strcmp(gr->gr_name, "pamok") == 0 || strcmp(gr->gr_name, "pambad") == 0) &&
	    !gr->gr_mem[0])
		return;
	fail("%s: unexpected group %s gid %u", what, gr->gr_name, (unsigned)gr->gr_gid);
}

static void
look_stable(struct reader *r)
{
	int k = (int)rnd(&r->seed, N_STABLE);
	char name[16];
	struct passwd pw;
	struct spwd sp;
	enum nss_status st;
	int err;

	snprintf(name, sizeof(name), "stable%02d", k);
	switch (rnd(&r->seed, 4)) {
	case 0:
		st = pw_by_name(r, name, &pw);
		if (st == NSS_STATUS_SUCCESS)
			check_pw(&pw, "getpwnam");
		else if (st == NSS_STATUS_NOTFOUND)
			fail("getpwnam %s: NOTFOUND", name);
		break;
	case 1:
		st = pw_by_uid(r, STABLE_UID + (uid_t)k, &pw);
		if (st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, name) != 0)
			fail("getpwuid %d gave %s", STABLE_UID + k, pw.pw_name);
		else if (st == NSS_STATUS_SUCCESS)
			check_pw(&pw, "getpwuid");
		else if (st == NSS_STATUS_NOTFOUND)
			fail("getpwuid %d: NOTFOUND", STABLE_UID + k);
		break;
	case 2: {
		long start = 1, size = 2;
		gid_t *groups = malloc(2 * sizeof(gid_t));
		bool steady = false;

		if (!groups)
			hx_die("out of memory");
		groups[0] = STABLE_UID + (gid_t)k;
		err = 0;
		st = nss.initgroups_dyn(name, groups[0], &start, &size, &groups, -1, &err);
		count(K_INITGROUPS);
		if (st == NSS_STATUS_TRYAGAIN && err == EAGAIN)
			count(K_EAGAIN);
		else if (st != NSS_STATUS_SUCCESS)
			fail("initgroups_dyn %s: %s errno %d", name, hx_nss_status_name(st), err);
		for (long i = 1; i < start; i++)
			steady |= groups[i] == STEADY_GID;
		if (st == NSS_STATUS_SUCCESS && !steady)
			fail("initgroups_dyn %s: steady missing", name);
		free(groups);
		break;
	}
	default:
		pick_size(r);
		do {
			err = 0;
			st = nss.getspnam_r(name, &sp, r->buf, r->size, &err);
		} while (again(r, st, err, "getspnam"));
		count(K_GETSPNAM);
		if (st == NSS_STATUS_SUCCESS &&
		    (strcmp(sp.sp_namp, name) != 0 || strcmp(sp.sp_pwdp, "!") != 0))
			fail("getspnam %s: %s:%s", name, sp.sp_namp, sp.sp_pwdp);
		else if (st == NSS_STATUS_NOTFOUND)
			fail("getspnam %s: NOTFOUND", name);
		break;
	}
}

static void
look_churn(struct reader *r)
{
	int k = (int)rnd(&r->seed, N_CHURN);
	char name[16], found[16];
	struct passwd pw;
	struct group gr;
	enum nss_status st;
	uid_t uid;

	snprintf(name, sizeof(name), "churn%02d", k);
	switch (rnd(&r->seed, 3)) {
	case 0:
		st = pw_by_name(r, name, &pw);
		if (st != NSS_STATUS_SUCCESS)
			break;
		check_pw(&pw, "getpwnam");
		/* Whatever getpwnam said, getpwuid agrees or the user has gone
		 * meanwhile: never another user, never half of one. */
		uid = pw.pw_uid;
		snprintf(found, sizeof(found), "%s", pw.pw_name);
		st = pw_by_uid(r, uid, &pw);
		if (st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, found) != 0)
			fail("getpwnam %s gave uid %u, getpwuid %u gave %s", found, (unsigned)uid,
			     (unsigned)uid, pw.pw_name);
		else if (st == NSS_STATUS_SUCCESS)
			check_pw(&pw, "getpwuid after getpwnam");
		break;
	case 1:
		st = gr_by(r, name, 0, &gr);
		if (st == NSS_STATUS_SUCCESS)
			check_gr(&gr, "getgrnam churn");
		break;
	default:
		st = gr_by(r, NULL, rnd(&r->seed, 2) ? FLUX_GID : STEADY_GID, &gr);
		if (st == NSS_STATUS_SUCCESS)
			check_gr(&gr, "getgrgid");
		else
			fail("getgrgid of a role: %s", hx_nss_status_name(st));
		break;
	}
}

static void
look_ghost(struct reader *r)
{
	struct passwd pw;
	struct group gr;

	if (pw_by_name(r, "ghost", &pw) != NSS_STATUS_NOTFOUND)
		fail("getpwnam ghost: found");
	if (gr_by(r, "ghosts", 0, &gr) != NSS_STATUS_NOTFOUND)
		fail("getgrnam ghosts: found");
}

/* One pass of getpwent, getgrent or getspent; every stable user appears
 * exactly once, nothing appears twice. */
static void
enumerate(struct reader *r, enum kind k)
{
	char names[256][34];
	size_t n = 0;
	int stable = 0;

	if (k == K_ENUM_PASSWD)
		nss.setpwent(0);
	else if (k == K_ENUM_GROUP)
		nss.setgrent(0);
	else
		nss.setspent(0);
	pick_size(r);
	for (;;) {
		struct passwd pw;
		struct group gr;
		struct spwd sp;
		enum nss_status st;
		const char *name;
		int err = 0;

		if (k == K_ENUM_PASSWD)
			st = nss.getpwent_r(&pw, r->buf, r->size, &err);
		else if (k == K_ENUM_GROUP)
			st = nss.getgrent_r(&gr, r->buf, r->size, &err);
		else
			st = nss.getspent_r(&sp, r->buf, r->size, &err);
		if (again(r, st, err, kind_names[k]))
			continue;
		if (st != NSS_STATUS_SUCCESS)
			break;
		name = k == K_ENUM_PASSWD  ? pw.pw_name
		       : k == K_ENUM_GROUP ? gr.gr_name
					   : sp.sp_namp;
		if (k == K_ENUM_PASSWD)
			check_pw(&pw, "getpwent");
		else if (k == K_ENUM_GROUP)
			check_gr(&gr, "getgrent");
		/* A churn user deleted and added again during the pass has a
		 * new id and may show up again further on: a pass is not a
		 * snapshot (keyset paging, see nss_userdb.h). Nobody else may. */
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], name) == 0 && number_of(name, "churn", N_CHURN) < 0)
				fail("%s: %s twice in one pass", kind_names[k], name);
		if (n < 256 && strlen(name) < sizeof(names[0]))
			strcpy(names[n++], name);
		stable += number_of(name, "stable", N_STABLE) >= 0;
	}
	if (k == K_ENUM_PASSWD)
		nss.endpwent();
	else if (k == K_ENUM_GROUP)
		nss.endgrent();
	else
		nss.endspent();
	if (stable != N_STABLE)
		fail("%s: %d stable entries in a pass, not %d", kind_names[k], stable, N_STABLE);
	count(k);
}

struct thread_arg {
	int index;
};

static void *
reader_thread(void *p)
{
	const struct thread_arg *a = p;
	struct reader r = {.seed = (uint64_t)getpid() * 1000003u + (uint64_t)a->index + 1};

	r.buf = malloc(BUF_MAX);
	if (!r.buf)
		hx_die("out of memory");
	while (!stopping()) {
		if (a->index == 0) {
			/* One enumerating thread per process: glibc keeps one
			 * enumeration per process too. */
			enumerate(&r, K_ENUM_PASSWD + rnd(&r.seed, 3));
			continue;
		}
		switch (rnd(&r.seed, 8)) {
		case 0:
			look_ghost(&r);
			break;
		case 1:
		case 2:
		case 3:
			look_churn(&r);
			break;
		default:
			look_stable(&r);
			break;
		}
	}
	free(r.buf);
	return NULL;
}

static void
reader_process(const char *nss_path)
{
	pthread_t threads[THREADS];
	struct thread_arg args[THREADS];

	who = "reader";
	hx_nss_load(nss_path, &nss);
	for (int i = 0; i < THREADS; i++) {
		args[i].index = i;
		if (pthread_create(&threads[i], NULL, reader_thread, &args[i]) != 0)
			hx_die("pthread_create");
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
}

/* ---- PAM ---- */

static void
pam_right_process(void)
{
	const char *step = NULL;
	int rc;

	who = "pam-right";
	while (!stopping()) {
		rc = hx_pam_login(&bed, "soak", "pamok", PW_OK, "192.0.2.7", true, &step);
		if (rc == PAM_SUCCESS)
			count(K_PAM_RIGHT);
		else
			fail("pamok with the right password: %s gave %s", step,
			     pam_strerror(NULL, rc));
	}
}

static void
pam_wrong_process(void)
{
	unsigned i = 0;
	int rc;

	who = "pam-wrong";
	while (!stopping()) {
		if (++i % 4 == 0) {
			rc = hx_pam_login(&bed, "soak", "nosuchuser", PW_OK, NULL, false, NULL);
			if (rc == PAM_USER_UNKNOWN)
				count(K_PAM_UNKNOWN);
			else
				fail("unknown user: %s", pam_strerror(NULL, rc));
			continue;
		}
		rc = hx_pam_login(&bed, "soak", "pambad", "wrong password", NULL, false, NULL);
		if (rc == PAM_AUTH_ERR)
			count(K_PAM_WRONG);
		else
			fail("pambad with a wrong password: %s", pam_strerror(NULL, rc));
	}
}

/* ---- the admin tool ---- */

struct churn {
	bool present, flux, extra, disabled;
};

/* Runs one admin command. Exit 75 (EX_TEMPFAIL: the database stayed
 * locked by other writers for the tool's whole busy timeout) is the CLI's
 * TRYAGAIN: counted, and the same command is run again. */
static void
admin(enum kind k, const char *const argv[], const char *input)
{
	int st;

	while ((st = hx_userdbv(&bed, input, argv)) == 75 && !stopping())
		count(K_BUSY);
	if (st == 75)
		fail("userdb %s %s: still busy when the run ended", argv[0], argv[1]);
	else if (st != 0)
		fail("userdb %s %s: status %d: %s", argv[0], argv[1], st, hx_last_error(&bed));
	else
		count(k);
}

static void
admin_process(struct churn *state)
{
	uint64_t seed = (uint64_t)getpid();

	who = "admin";
	while (!stopping()) {
		int k = (int)rnd(&seed, N_CHURN);
		struct churn *c = &state[k];
		char name[16], uid[16], last[8], email[64];

		snprintf(name, sizeof(name), "churn%02d", k);
		snprintf(uid, sizeof(uid), "%d", CHURN_UID + k);
		snprintf(last, sizeof(last), "%02d", k);
		snprintf(email, sizeof(email), "%s@example.com", name);
		if (!c->present) {
			const char *argv[] = {"user", "add",          name,    "--uid",
					      uid,    "--first-name", "Churn", "--last-name",
					      last,   "--email",      email,   "--role",
					      "flux", "--role",       "extra", "--password-stdin",
					      NULL};

			admin(K_ADD, argv, PW_CHURN "\n");
			*c = (struct churn){.present = true, .flux = true, .extra = true};
			continue;
		}
		switch (rnd(&seed, 4)) {
		case 0: {
			const char *argv[] = {"user", "del", name, NULL};

			admin(K_DEL, argv, NULL);
			c->present = false;
			break;
		}
		case 1: {
			const char *grant[] = {"grant", name, "flux", NULL};
			const char *revoke[] = {"revoke", name, "flux", NULL};

			admin(c->flux ? K_REVOKE : K_GRANT, c->flux ? revoke : grant, NULL);
			c->flux = !c->flux;
			break;
		}
		case 2: {
			const char *grant[] = {"grant", name, "extra", "--until", "+1d", NULL};
			const char *revoke[] = {"revoke", name, "extra", NULL};

			admin(c->extra ? K_REVOKE : K_GRANT, c->extra ? revoke : grant, NULL);
			c->extra = !c->extra;
			break;
		}
		default: {
			const char *argv[] = {"user", c->disabled ? "enable" : "disable", name,
					      NULL};

			admin(c->disabled ? K_ENABLE : K_DISABLE, argv, NULL);
			c->disabled = !c->disabled;
			break;
		}
		}
	}
}

/* ---- setup, run, verdict ---- */

static void
setup(void)
{
	char name[16], uid[16], last[8];

	if (hx_userdb(&bed, NULL, "role", "add", "steady", "--gid", "40000", NULL) != 0 ||
	    hx_userdb(&bed, NULL, "role", "add", "flux", "--gid", "40001", NULL) != 0 ||
	    hx_userdb(&bed, NULL, "role", "add", "extra", "--gid", "40002", NULL) != 0)
		hx_die("role add: %s", hx_last_error(&bed));
	for (int k = 0; k < N_STABLE; k++) {
		snprintf(name, sizeof(name), "stable%02d", k);
		snprintf(uid, sizeof(uid), "%d", STABLE_UID + k);
		snprintf(last, sizeof(last), "%02d", k);
		if (hx_userdb(&bed, NULL, "user", "add", name, "--uid", uid, "--first-name",
			      "Stable", "--last-name", last, "--role", "steady", NULL) != 0)
			hx_die("user add %s: %s", name, hx_last_error(&bed));
	}
	if (hx_userdb(&bed, PW_OK "\n", "user", "add", "pamok", "--password-stdin", NULL) != 0 ||
	    hx_userdb(&bed, PW_OK "\n", "user", "add", "pambad", "--password-stdin", NULL) != 0)
		hx_die("user add pamok/pambad: %s", hx_last_error(&bed));
	hx_pam_service(&bed, "soak", "nodelay");
}

static pid_t
start(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		hx_die("fork: %s", strerror(errno));
	if (pid == 0) {
		fn();
		fflush(stderr);
		_exit(0);
	}
	return pid;
}

static const char *nss_path;
static struct churn *churn_state;

static void
run_reader(void)
{
	reader_process(nss_path);
}

static void
run_admin(void)
{
	admin_process(churn_state);
}

static int64_t
account_field(const char *user, const char *field)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT a.%s FROM main.users u JOIN sec.accounts a ON a.user_id = u.id "
		 "WHERE u.username = '%s'",
		 field, user);
	return hx_sql_int(&bed, sql, -1);
}

static void
verdict(void)
{
	uint64_t *ops = shared->ops;
	int64_t logins = account_field("pamok", "login_count");
	int64_t ok_failed = account_field("pamok", "failed_count");
	int64_t failed = account_field("pambad", "failed_count");
	int64_t unknown = hx_sql_int(
		&bed, "SELECT value FROM sec.meta WHERE key = 'unknown_user_failures'", 0);
	int64_t present = 0, stored;
	char msg[512];

	if (logins != (int64_t)ops[K_PAM_RIGHT])
		fail("pamok: login_count %lld, sessions opened %llu", (long long)logins,
		     (unsigned long long)ops[K_PAM_RIGHT]);
	if (ok_failed != 0)
		fail("pamok: failed_count %lld after right passwords only", (long long)ok_failed);
	if (failed != (int64_t)ops[K_PAM_WRONG])
		fail("pambad: failed_count %lld, wrong passwords %llu", (long long)failed,
		     (unsigned long long)ops[K_PAM_WRONG]);
	if (unknown != (int64_t)ops[K_PAM_UNKNOWN])
		fail("unknown_user_failures %lld, unknown names tried %llu", (long long)unknown,
		     (unsigned long long)ops[K_PAM_UNKNOWN]);
	if (!hx_integrity(&bed, msg, sizeof(msg)))
		fail("integrity_check: %s", msg);
	if (hx_half_users(&bed) != 0)
		fail("%lld users in one file only", (long long)hx_half_users(&bed));
	for (int k = 0; k < N_CHURN; k++)
		present += churn_state[k].present;
	stored = hx_sql_int(&bed, "SELECT count(*) FROM main.users WHERE username LIKE 'churn%'",
			    -1);
	if (stored != present)
		fail("%lld churn users stored, the admin loop left %lld", (long long)stored,
		     (long long)present);
	printf("pamok login_count %lld = sessions %llu; pambad failed_count %lld = wrong "
	       "passwords %llu; unknown-name counter %lld = unknown names %llu\n",
	       (long long)logins, (unsigned long long)ops[K_PAM_RIGHT], (long long)failed,
	       (unsigned long long)ops[K_PAM_WRONG], (long long)unknown,
	       (unsigned long long)ops[K_PAM_UNKNOWN]);
	printf("integrity_check: %s; users in one file only: %lld\n",
	       hx_integrity(&bed, msg, sizeof(msg)) ? "ok, ok" : msg,
	       (long long)hx_half_users(&bed));
}

int
main(int argc, char **argv)
{
	pid_t pids[READERS + 3];
	int n = 0, seconds;
	bool keep = argc > 5 && strcmp(argv[5], "--keep") == 0;
	double t0, elapsed;

	if (argc < 5 || (seconds = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: soak NSS_MODULE PAM_MODULE USERDB SECONDS [--keep]\n");
		return 64;
	}
	nss_path = argv[1];
	shared = mmap(NULL, sizeof(*shared) + N_CHURN * sizeof(struct churn),
		      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		hx_die("mmap: %s", strerror(errno));
	churn_state = (struct churn *)(shared + 1);
	hx_setup(&bed, argv[3], argv[2], "deny = 0\n");
	setup();
	printf("soak: %d s, %d reader processes x %d threads, 2 PAM loops, 1 admin loop, in %s\n",
	       seconds, READERS, THREADS, bed.dir);
	fflush(stdout);

	t0 = hx_now();
	for (int i = 0; i < READERS; i++)
		pids[n++] = start(run_reader);
	pids[n++] = start(pam_right_process);
	pids[n++] = start(pam_wrong_process);
	pids[n++] = start(run_admin);
	sleep((unsigned)seconds);
	__atomic_store_n(&shared->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++) {
		int st = hx_wait(pids[i]);

		if (st != 0)
			fail("worker %d ended with status %d", (int)pids[i], st);
	}
	elapsed = hx_now() - t0;

	verdict();
	printf("%-16s %10s %10s\n", "operation", "count", "per s");
	for (int k = 0; k < K_COUNT; k++)
		printf("%-16s %10llu %10.1f\n", kind_names[k], (unsigned long long)shared->ops[k],
		       (double)shared->ops[k] / elapsed);
	printf("errors: %llu (wall %.1f s)\n", (unsigned long long)shared->errors, elapsed);
	hx_teardown(&bed, keep || shared->errors != 0);
	return shared->errors == 0 ? 0 : 1;
}
