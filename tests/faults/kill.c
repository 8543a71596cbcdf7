/* SIGKILL fault injection: the admin tool is killed at random points of
 * multi-row changes that span both files (`user add` with two emails, two
 * roles and a password; `user del`) while a reader process looks the
 * victims up through the NSS module. Half the kills come from the
 * kill_shim.c preload, which kills the tool right before its Nth write or
 * sync (N uniform over a whole run, so that every point of both commits is
 * reached, the window between the shadow and the public commit included);
 * the other half are sent from here after a random delay. Every third run
 * is `userdb compact --force` instead, which rebuilds the image bases and
 * removes the deltas every change published beside them, killed the same
 * ways.
 *
 * What must hold, as common/db.h documents it:
 *   - readers never see half of a change: a found victim carries all of its
 *     data, initgroups gives both of its roles or neither (one snapshot),
 *     a shadow entry always has the hash it was added with; within one add
 *     a found victim is not lost again, within one delete a gone victim
 *     does not come back;
 *   - after each kill: integrity_check ok on both files; at most the one
 *     victim is in one file only, and then it cannot log in (PAM gives
 *     USER_UNKNOWN in auth and account) and NSS shows the state before the
 *     change (the images are installed after both commits); the next
 *     command works, and after the next write no user is in one file only;
 *   - a compaction changes no answer: while it runs and after it is killed,
 *     no victim appears or disappears and initgroups keeps both roles or
 *     neither (the new base goes in before the old delta goes; a reader
 *     that finds a delta of an older base ignores it).
 *
 *   faults_kill NSS_MODULE PAM_MODULE USERDB SHIM KILLS [--keep]
 *
 * Prints how many kills landed before, between and after the commits. Run
 * by meson (suite faults) with 100 kills. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define N_VICTIMS  8
#define VICTIM_UID 31000
#define A_GID      41000
#define B_GID      41001
#define PASSWORD   "victim password"
#define MAX_ERRORS 20

enum op { OP_NONE, OP_ADD, OP_DEL, OP_COMPACT, OP_COUNT };

/* Shared with the reader process. */
struct shared {
	int stop;
	unsigned seq; /* changes whenever the phase does */
	int op;       /* enum op of the running command */
	int victim;
	uint64_t lookups, errors;
};

static struct shared *shared;
static struct hx bed;
static struct hx_nss nss;
static const char *nss_module;
static const char *who = "main";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	uint64_t n = __atomic_fetch_add(&shared->errors, 1, __ATOMIC_RELAXED);
	va_list ap;

	if (n >= MAX_ERRORS)
		return;
	fprintf(stderr, "faults_kill: ERROR (%s): ", who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static unsigned
rnd(uint64_t *s, unsigned n)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (unsigned)((*s * 2685821657736338717ULL) >> 33) % n;
}

/* ---- the reader ---- */

static enum nss_status
lookup_pw(int k, struct passwd *pw, char *buf, size_t size)
{
	char name[16];
	int err = 0;
	enum nss_status st;

	snprintf(name, sizeof(name), "victim%02d", k);
	st = nss.getpwnam_r(name, pw, buf, size, &err);
	if (st == NSS_STATUS_TRYAGAIN && err == EAGAIN)
		return st;
	if (st != NSS_STATUS_SUCCESS && st != NSS_STATUS_NOTFOUND)
		fail("getpwnam %s: %s errno %d", name, hx_nss_status_name(st), err);
	if (st == NSS_STATUS_SUCCESS) {
		char gecos[32], home[32];

		snprintf(gecos, sizeof(gecos), "Victim %02d", k);
		snprintf(home, sizeof(home), "/home/%s", name);
		if (pw->pw_uid != (uid_t)(VICTIM_UID + k) || pw->pw_gid != pw->pw_uid ||
		    strcmp(pw->pw_gecos, gecos) != 0 || strcmp(pw->pw_dir, home) != 0)
			fail("getpwnam %s: half a user: uid %u gecos '%s' home '%s'", name,
			     (unsigned)pw->pw_uid, pw->pw_gecos, pw->pw_dir);
	}
	return st;
}

static void
check_groups(int k)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	char name[16];
	int err = 0, roles = 0;
	enum nss_status st;

	if (!groups)
		hx_die("out of memory");
	snprintf(name, sizeof(name), "victim%02d", k);
	groups[0] = (gid_t)(VICTIM_UID + k);
	st = nss.initgroups_dyn(name, groups[0], &start, &size, &groups, -1, &err);
	if (st != NSS_STATUS_SUCCESS && st != NSS_STATUS_NOTFOUND &&
	    !(st == NSS_STATUS_TRYAGAIN && err == EAGAIN))
		fail("initgroups_dyn %s: %s errno %d", name, hx_nss_status_name(st), err);
	for (long i = 1; st == NSS_STATUS_SUCCESS && i < start; i++)
		roles += groups[i] == A_GID || groups[i] == B_GID;
	/* Both grants were added in one commit of the public file. */
	if (roles == 1)
		fail("initgroups_dyn %s: one of its two roles", name);
	free(groups);
}

static void
check_shadow(int k, char *buf, size_t size)
{
	struct spwd sp;
	char name[16];
	int err = 0;
	enum nss_status st;

	snprintf(name, sizeof(name), "victim%02d", k);
	st = nss.getspnam_r(name, &sp, buf, size, &err);
	if (st == NSS_STATUS_SUCCESS && strncmp(sp.sp_pwdp, "$6$", 3) != 0)
		fail("getspnam %s: password field '%s'", name, sp.sp_pwdp);
	else if (st != NSS_STATUS_SUCCESS && st != NSS_STATUS_NOTFOUND &&
		 !(st == NSS_STATUS_TRYAGAIN && err == EAGAIN))
		fail("getspnam %s: %s errno %d", name, hx_nss_status_name(st), err);
}

static void
reader(const char *nss_path)
{
	static char buf[65536];
	uint64_t seed = (uint64_t)getpid();
	unsigned seq = 0;
	bool seen_present = false, seen_absent = false;
	enum nss_status during[N_VICTIMS]; /* each victim's first answer in a compaction */

	who = "reader";
	hx_nss_load(nss_path, &nss);
	while (!__atomic_load_n(&shared->stop, __ATOMIC_ACQUIRE)) {
		unsigned s1 = __atomic_load_n(&shared->seq, __ATOMIC_ACQUIRE), s2;
		int op = shared->op, victim = shared->victim, k;
		struct passwd pw;
		enum nss_status st;

		if (s1 != seq) {
			seq = s1;
			seen_present = seen_absent = false;
			for (int i = 0; i < N_VICTIMS; i++)
				during[i] = NSS_STATUS_TRYAGAIN;
		}
		/* Mostly the victim of the running command, sometimes another. */
		k = op != OP_NONE && rnd(&seed, 4) ? victim : (int)rnd(&seed, N_VICTIMS);
		switch (rnd(&seed, 3)) {
		case 0:
			st = lookup_pw(k, &pw, buf, sizeof(buf));
			s2 = __atomic_load_n(&shared->seq, __ATOMIC_ACQUIRE);
			if (s2 == s1 && op == OP_COMPACT &&
			    (st == NSS_STATUS_SUCCESS || st == NSS_STATUS_NOTFOUND)) {
				if (during[k] == NSS_STATUS_TRYAGAIN)
					during[k] = st;
				else if (during[k] != st)
					fail("victim%02d %s during a compaction", k,
					     st == NSS_STATUS_SUCCESS ? "appeared" : "vanished");
				break;
			}
			if (s2 != s1 || k != victim || op == OP_NONE)
				break;
			/* One command moves its victim one way only. */
			if (st == NSS_STATUS_SUCCESS) {
				if (op == OP_DEL && seen_absent)
					fail("victim%02d came back during its delete", k);
				seen_present = true;
			} else if (st == NSS_STATUS_NOTFOUND) {
				if (op == OP_ADD && seen_present)
					fail("victim%02d vanished during its add", k);
				seen_absent = true;
			}
			break;
		case 1:
			check_groups(k);
			break;
		default:
			check_shadow(k, buf, sizeof(buf));
			break;
		}
		__atomic_fetch_add(&shared->lookups, 1, __ATOMIC_RELAXED);
	}
}

/* ---- the killer ---- */

static void
set_phase(enum op op, int victim)
{
	shared->op = op;
	shared->victim = victim;
	__atomic_fetch_add(&shared->seq, 1, __ATOMIC_RELEASE);
}

static bool
present(int k)
{
	char sql[200];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM main.users u JOIN sec.accounts a ON a.user_id = u.id "
		 "WHERE u.username = 'victim%02d'",
		 k);
	return hx_sql_int(&bed, sql, 0) == 1;
}

/* The arguments of the command for victim k: an add when it is absent, a
 * delete when it is there. */
struct command {
	enum op op;
	char name[16], uid[16], last[8], email[40], email2[40];
	const char *argv[24];
};

static void
command_for(int k, bool compact, struct command *c)
{
	size_t n = 0;

	snprintf(c->name, sizeof(c->name), "victim%02d", k);
	if (compact) {
		c->op = OP_COMPACT;
		c->argv[n++] = "compact";
		c->argv[n++] = "--force";
		c->argv[n] = NULL;
		return;
	}
	if (present(k)) {
		c->op = OP_DEL;
		c->argv[n++] = "user";
		c->argv[n++] = "del";
		c->argv[n++] = c->name;
		c->argv[n] = NULL;
		return;
	}
	c->op = OP_ADD;
	snprintf(c->uid, sizeof(c->uid), "%d", VICTIM_UID + k);
	snprintf(c->last, sizeof(c->last), "%02d", k);
	snprintf(c->email, sizeof(c->email), "%s@example.com", c->name);
	snprintf(c->email2, sizeof(c->email2), "%s@alt.example", c->name);
	{
		const char *args[] = {
			"user",    "add",         c->name, "--uid",   c->uid,   "--first-name",
			"Victim",  "--last-name", c->last, "--email", c->email, "--email",
			c->email2, "--role",      "a",     "--role",  "b",      "--password-stdin",
			NULL};

		memcpy(c->argv, args, sizeof(args));
	}
}

/* Runs the command for k with the shim counting its calls; returns the
 * count and adds the run's wall time to *ret_ms. */
static long
calibrate(int k, bool compact, double *ret_ms)
{
	char path[400], env[450];
	struct command c;
	double t0 = hx_now();
	long calls = -1;
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/calls", bed.dir);
	snprintf(env, sizeof(env), "UDB_FAULT_COUNT=%s", path);
	command_for(k, compact, &c);
	st = hx_wait(hx_userdb_start(&bed, PASSWORD "\n", env, c.argv));
	*ret_ms += (hx_now() - t0) * 1000;
	if (st != 0)
		hx_die("calibration: userdb %s %s: status %d: %s", c.argv[1], c.name, st,
		       hx_last_error(&bed));
	f = fopen(path, "re");
	if (!f || fscanf(f, "%ld", &calls) != 1 || calls <= 0)
		hx_die("calibration: no call count from the shim (is it preloaded?)");
	fclose(f);
	return calls;
}

struct stats {
	unsigned kills, by_shim, by_timer, not_killed;
	unsigned before, between, after; /* where the kill landed */
	unsigned half_add, half_del;
	unsigned compactions; /* kills of a compaction */
};

/* What a process that maps the images afresh answers for every victim is
 * what the store holds: after a compaction killed anywhere, whichever
 * files are in place (the old base and delta, or the new base) show the
 * same users. (Running readers keep the files they mapped until the next
 * publication; only a new one sees what a kill left in place.) */
static void
check_fresh_view(void)
{
	bool want[N_VICTIMS];
	int status = 0;
	pid_t pid;

	for (int k = 0; k < N_VICTIMS; k++)
		want[k] = present(k);
	pid = fork();
	if (pid < 0)
		hx_die("fork: %s", strerror(errno));
	if (pid == 0) {
		static char buf[65536];
		struct hx_nss fresh;
		int wrong = 0;

		hx_nss_load(nss_module, &fresh);
		for (int k = 0; k < N_VICTIMS; k++) {
			struct passwd pw;
			char name[16];
			int err = 0;
			enum nss_status st;

			snprintf(name, sizeof(name), "victim%02d", k);
			st = fresh.getpwnam_r(name, &pw, buf, sizeof(buf), &err);
			if ((st == NSS_STATUS_SUCCESS) != want[k] ||
			    (st != NSS_STATUS_SUCCESS && st != NSS_STATUS_NOTFOUND))
				wrong++;
		}
		_exit(wrong);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("after a kill during compact: a new process sees %d victims other than the "
		     "store has",
		     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* A victim in one file only must not get in anywhere. pam_authenticate
 * for it records an unknown-name failure, a write that repairs the half
 * state on its way (see db.h): it is tried after every other half state
 * only, so that the other half is left for the admin tool's next write. */
static void
check_half_victim(int k, struct stats *st)
{
	char name[16], buf[4096];
	struct spwd sp;
	int err = 0, rc;
	enum nss_status s;
	bool half_del;

	snprintf(name, sizeof(name), "victim%02d", k);
	half_del = hx_sql_int(&bed,
			      "SELECT count(*) FROM main.users WHERE id NOT IN "
			      "(SELECT user_id FROM sec.accounts)",
			      0) == 1;
	if (half_del)
		st->half_del++;
	else
		st->half_add++;
	/* The images are installed after both commits: a half add shows the
	 * state before it (no entry), a half delete too (the whole entry,
	 * its hash included), until the next write repairs the store and
	 * publishes. */
	s = nss.getspnam_r(name, &sp, buf, sizeof(buf), &err);
	if (s == NSS_STATUS_SUCCESS && (!half_del || strncmp(sp.sp_pwdp, "$6$", 3) != 0))
		fail("%s in one file only: getspnam gave '%s'", name, sp.sp_pwdp);
	else if (s != NSS_STATUS_SUCCESS && s != NSS_STATUS_NOTFOUND)
		fail("%s in one file only: getspnam gave %s", name, hx_nss_status_name(s));
	rc = hx_pam_account(&bed, "kill", name);
	if (rc != PAM_USER_UNKNOWN)
		fail("%s in one file only: pam_acct_mgmt gave %s", name, pam_strerror(NULL, rc));
	if ((st->half_add + st->half_del) % 2 == 0)
		return;
	rc = hx_pam_login(&bed, "kill", name, PASSWORD, NULL, false, NULL);
	if (rc != PAM_USER_UNKNOWN)
		fail("%s in one file only: pam_authenticate gave %s", name, pam_strerror(NULL, rc));
}

static void
one_kill(int k, bool by_shim, bool compact, const long calls[OP_COUNT], const double ms[OP_COUNT],
	 uint64_t *seed, struct stats *st)
{
	static bool keeper_enabled = true;
	struct command c;
	char env[64], msg[512];
	pid_t pid;
	int status;
	int64_t half;

	command_for(k, compact, &c);
	set_phase(c.op, k);
	if (by_shim) {
		snprintf(env, sizeof(env), "UDB_FAULT_KILL_AT=%u",
			 1 + rnd(seed, (unsigned)calls[c.op]));
		pid = hx_userdb_start(&bed, PASSWORD "\n", env, c.argv);
	} else {
		struct timespec ts;
		double delay = ms[c.op] * 1.5 * rnd(seed, 1000) / 1000.0;

		pid = hx_userdb_start(&bed, PASSWORD "\n", NULL, c.argv);
		ts.tv_sec = (time_t)(delay / 1000);
		ts.tv_nsec = (long)((delay - (double)ts.tv_sec * 1000) * 1e6);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	status = hx_wait(pid);
	set_phase(OP_NONE, k);
	if (status == 128 + SIGKILL) {
		st->kills++;
		by_shim ? st->by_shim++ : st->by_timer++;
	} else if (status == 0) {
		st->not_killed++;
	} else {
		fail("userdb %s %s: status %d: %s", c.argv[1], c.name, status, hx_last_error(&bed));
	}

	if (!hx_integrity(&bed, msg, sizeof(msg)))
		fail("after a kill during %s %s: %s", c.argv[1], c.name, msg);
	half = hx_half_users(&bed);
	if (half > 1)
		fail("after a kill during %s %s: %lld users in one file only", c.argv[1], c.name,
		     (long long)half);
	if (status == 128 + SIGKILL && compact) {
		st->compactions++;
		if (half != 0)
			fail("after a kill during compact: %lld users in one file only",
			     (long long)half);
		check_fresh_view();
	} else if (status == 128 + SIGKILL) {
		if (half == 1)
			st->between++;
		else if (present(k) == (c.op == OP_ADD))
			st->after++;
		else
			st->before++;
	}
	if (half == 1)
		check_half_victim(k, st);

	/* The next command works, and the next write leaves no half user. */
	if (hx_userdb(&bed, NULL, "user", "list", NULL) != 0)
		fail("user list after a kill: %s", hx_last_error(&bed));
	if (hx_userdb(&bed, NULL, "user", keeper_enabled ? "disable" : "enable", "keeper", NULL) !=
	    0)
		fail("user disable/enable after a kill: %s", hx_last_error(&bed));
	keeper_enabled = !keeper_enabled;
	if (hx_half_users(&bed) != 0)
		fail("after the next write: %lld users in one file only",
		     (long long)hx_half_users(&bed));
	/* The repair undoes a half add and finishes a half delete. */
	else if (half == 1 && present(k))
		fail("victim%02d still there after the repair of a half %s", k,
		     c.op == OP_ADD ? "add" : "delete");
}

int
main(int argc, char **argv)
{
	struct stats st = {0};
	long calls[OP_COUNT] = {0};
	double ms[OP_COUNT] = {0};
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
	unsigned want, tries = 0;
	bool keep = argc > 6 && strcmp(argv[6], "--keep") == 0;
	double t0;
	pid_t reader_pid;
	int rc;

	if (argc < 6 || (want = (unsigned)atoi(argv[5])) == 0) {
		fprintf(stderr, "usage: faults_kill NSS_MODULE PAM_MODULE USERDB SHIM KILLS "
				"[--keep]\n");
		return 64;
	}
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		      0);
	if (shared == MAP_FAILED)
		hx_die("mmap: %s", strerror(errno));
	hx_setup(&bed, argv[3], argv[2], "deny = 0\n");
	hx_pam_service(&bed, "kill", "nodelay");
	if (hx_userdb(&bed, NULL, "role", "add", "a", "--gid", "41000", NULL) != 0 ||
	    hx_userdb(&bed, NULL, "role", "add", "b", "--gid", "41001", NULL) != 0 ||
	    hx_userdb(&bed, PASSWORD "\n", "user", "add", "keeper", "--password-stdin", NULL) != 0)
		hx_die("setup: %s", hx_last_error(&bed));

	reader_pid = fork();
	if (reader_pid < 0)
		hx_die("fork: %s", strerror(errno));
	if (reader_pid == 0) {
		reader(argv[1]);
		_exit(0);
	}
	hx_nss_load(argv[1], &nss);
	nss_module = argv[1];
	{
		char shim[4200];

		if (!realpath(argv[4], shim))
			hx_die("%s: %s", argv[4], strerror(errno));
		setenv("LD_PRELOAD", shim, 1);
	}
	/* Calls and time of an add and a delete, twice. */
	for (int i = 0; i < 2; i++) {
		calls[OP_ADD] = calibrate(0, false, &ms[OP_ADD]);
		calls[OP_DEL] = calibrate(0, false, &ms[OP_DEL]);
		calls[OP_COMPACT] = calibrate(0, true, &ms[OP_COMPACT]);
	}
	ms[OP_ADD] /= 2;
	ms[OP_DEL] /= 2;
	ms[OP_COMPACT] /= 2;
	printf("faults_kill: an add makes %ld writes and syncs in %.1f ms, a delete %ld in %.1f "
	       "ms\n",
	       calls[OP_ADD], ms[OP_ADD], calls[OP_DEL], ms[OP_DEL]);
	fflush(stdout);

	t0 = hx_now();
	while (st.kills < want && tries++ < 4 * want && shared->errors < MAX_ERRORS)
		one_kill((int)rnd(&seed, N_VICTIMS), tries % 2, tries % 3 == 0, calls, ms, &seed,
			 &st);
	__atomic_store_n(&shared->stop, 1, __ATOMIC_RELEASE);
	rc = hx_wait(reader_pid);
	if (rc != 0)
		fail("the reader ended with status %d", rc);
	unsetenv("LD_PRELOAD");
	if (hx_pam_login(&bed, "kill", "keeper", PASSWORD, NULL, true, NULL) != PAM_SUCCESS &&
	    hx_userdb(&bed, NULL, "user", "enable", "keeper", NULL) == 0 &&
	    hx_pam_login(&bed, "kill", "keeper", PASSWORD, NULL, true, NULL) != PAM_SUCCESS)
		fail("keeper cannot log in at the end");

	printf("faults_kill: %u kills in %u runs (%u from the shim, %u by timer; %u runs ended "
	       "before the kill) in %.1f s\n",
	       st.kills, tries, st.by_shim, st.by_timer, st.not_killed, hx_now() - t0);
	printf("faults_kill: kills before the first commit %u, between the two commits %u "
	       "(half adds %u, half deletes %u), after both %u; of a compaction %u\n",
	       st.before, st.between, st.half_add, st.half_del, st.after, st.compactions);
	printf("faults_kill: reader lookups %llu; errors %llu\n",
	       (unsigned long long)shared->lookups, (unsigned long long)shared->errors);
	if (st.kills < want)
		fail("only %u kills", st.kills);
	hx_teardown(&bed, keep || shared->errors != 0);
	return shared->errors == 0 ? 0 : 1;
}
