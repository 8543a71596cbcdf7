/* The PAM benchmark, run by run-pam-bench.sh and never by the test suite
 * (timings are measured here, not asserted in tests). Side by side, in one
 * run and interleaved so that drift hits all columns alike:
 *
 *  (a) pam_authenticate through pam_userdb.so with a cheap hash
 *      (sha512crypt, 1000 rounds), through pam_unix.so verifying the very
 *      same hash string, and the bare crypt_rn of that hash: the module's
 *      own cost beyond the hash is its time minus the hash's;
 *  (b) pam_userdb.so with the default method (yescrypt): a wrong password
 *      for a real user against an unknown user, which must take the same
 *      time (SPEC: within 10%), and a wrong password for a user imported
 *      with a sha512crypt hash (issue 11: within 10% of an unknown name);
 *  (d) a whole login of a local user (in /etc/passwd and /etc/shadow only,
 *      yescrypt) through Debian's common-* lines without and with the
 *      shipped profile's pam_userdb lines (issue 11: within 10%);
 *  (e) pam_authenticate of a user with a TOTP second factor (password and
 *      code) against one without (password alone), same hash, interleaved:
 *      the second factor's cost beyond the hash (issue 15: at most 1 ms).
 *      A code is good once, so the last used step is set back outside the
 *      timed call before each login (for both users alike).
 *
 * pam_unix reads /etc/passwd and /etc/shadow. The program moves into a
 * private mount namespace and binds private copies that also hold the bench
 * user over them, so the host's files never change. Needs root. PAM
 * services come from a private directory through pam_start_confdir, and an
 * application delay function stands in for the 2 s failure delay. */
#include <crypt.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <security/pam_appl.h>
#include <sqlite3.h>

#include "config.h"
#include "db.h"
#include "hash.h"
#include "totp.h"
#include "user.h"

#define BENCH_USER     "udbbench"
#define BENCH_PASSWORD "bench password 1"
#define IMPORTED_USER  "udbimported"
#define LOCAL_USER     "udblocal"
#define LOCAL_PASSWORD "local password 1"
#define TOTP_USER      "udbtotp"
#define PAM_UNIX_PATH  "/lib/x86_64-linux-gnu/security/pam_unix.so"

static char dir[64];
/* The bench user's uid in the databases, which /etc/passwd must repeat:
 * pam_userdb answers for a name only when NSS resolves it to the
 * database's uid (a name another source gives another uid is not ours). */
static uint32_t bench_uid;

__attribute__((format(printf, 1, 2), noreturn)) static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "pam_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of this (single-threaded) process: what the work itself costs,
 * without the time other processes on a busy machine take from it. */
static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One measurement: wall-clock and CPU microseconds. */
struct sample {
	double wall, cpu;
	double hash;     /* wall time spent inside libcrypt's crypt functions */
	unsigned hashes; /* how many times they were called */
};

/* Every call the modules make to libcrypt's crypt functions goes through
 * these (the executable is linked with --export-dynamic, so its definitions
 * come first in the global scope the dlopen()ed modules bind against), and
 * is timed: a module's own cost is then its pam_authenticate time minus the
 * hashing it did inside that very call, which a separately timed hash
 * cannot give (caches are colder inside a login, and a module may hash more
 * than once). */
static double hash_wall;
static unsigned hash_calls;

#define TIMED_CRYPT(name, params, args)                                                            \
	__attribute__((visibility("default"))) char *name params                                   \
	{                                                                                          \
		static char *(*real)params;                                                        \
		double t0;                                                                         \
		char *r;                                                                           \
                                                                                                   \
		if (!real)                                                                         \
			*(void **)&real = dlsym(RTLD_NEXT, #name);                                 \
		if (!real)                                                                         \
			die("cannot find libcrypt's " #name);                                      \
		t0 = now_us();                                                                     \
		r = real args;                                                                     \
		hash_wall += now_us() - t0;                                                        \
		hash_calls++;                                                                      \
		return r;                                                                          \
	}

TIMED_CRYPT(crypt, (const char *phrase, const char *setting), (phrase, setting))
TIMED_CRYPT(crypt_r, (const char *phrase, const char *setting, struct crypt_data *data),
	    (phrase, setting, data))
TIMED_CRYPT(crypt_rn, (const char *phrase, const char *setting, void *data, int size),
	    (phrase, setting, data, size))
TIMED_CRYPT(crypt_ra, (const char *phrase, const char *setting, void **data, int *size),
	    (phrase, setting, data, size))

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* Copies src to dst and appends line. */
static void
copy_with(const char *src, const char *dst, const char *line, mode_t mode)
{
	char buf[65536];
	FILE *in = fopen(src, "re"), *out = fopen(dst, "we");
	size_t n;

	if (!in || !out)
		die("cannot copy %s: %s", src, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fputs(line, out);
	fclose(in);
	if (fclose(out) != 0 || chmod(dst, mode) != 0)
		die("cannot write %s", dst);
}

/* A database in dir/name with the bench user; returns the user's hash. */
static char *
make_db(const char *name, const char *conf_text)
{
	struct udb_user_spec spec = {.username = BENCH_USER};
	char conf[128], dbdir[128], text[512];
	struct udb_config *cfg = NULL;
	struct udb_db *db = NULL;
	struct udb_user *u = NULL;
	unsigned line = 0, old = 0;
	char *hash = NULL;

	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, name);
	snprintf(dbdir, sizeof(dbdir), "%s/%s", dir, name);
	snprintf(text, sizeof(text), "dbdir = %s\n%s", dbdir, conf_text);
	write_file(conf, text, 0644);
	if (udb_db_init(dbdir, &old) != UDB_OK || udb_config_load(conf, &cfg, &line) != UDB_OK ||
	    udb_db_open(dbdir, UDB_OPEN_WRITE, &db) != UDB_OK ||
	    udb_hash_password(cfg, BENCH_PASSWORD, &hash) != UDB_OK)
		die("cannot build the database %s", dbdir);
	spec.password_hash = hash;
	if (udb_user_add(db, cfg, &spec, false, udb_now(), &u) != UDB_OK)
		die("cannot add the bench user");
	if (bench_uid && u->uid != bench_uid)
		die("the bench user has uid %u and %u in two databases", (unsigned)bench_uid,
		    (unsigned)u->uid);
	bench_uid = u->uid;
	/* The first write transaction after an add confirms the new name in
	 * the shadow file, as on any database in use (schema/0002-*.sql);
	 * until then an authentication also reads the public file. */
	if (udb_db_begin(db) != UDB_OK || udb_db_commit(db) != UDB_OK)
		die("cannot write to the bench database");
	udb_user_free(u);
	udb_db_close(db);
	udb_config_free(cfg);
	return hash;
}

/* A hash of password with libxcrypt's own default setting for prefix. */
static char *
hash_of(const char *prefix, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data = {0};
	char *out;

	if (!crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)) ||
	    !crypt_rn(password, setting, &data, sizeof(data)) || data.output[0] == '*')
		die("cannot hash with %s", prefix);
	out = strdup(data.output);
	if (!out)
		die("out of memory");
	return out;
}

/* A user imported with a sha512crypt hash (5000 rounds, libxcrypt's
 * default) into the database dir/name. */
static void
add_imported(const char *name)
{
	struct udb_user_spec spec = {.username = IMPORTED_USER};
	char conf[128], dbdir[128];
	struct udb_config *cfg = NULL;
	struct udb_db *db = NULL;
	struct udb_user *u = NULL;
	unsigned line = 0;

	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, name);
	snprintf(dbdir, sizeof(dbdir), "%s/%s", dir, name);
	spec.password_hash = hash_of("$6$", BENCH_PASSWORD);
	if (udb_config_load(conf, &cfg, &line) != UDB_OK ||
	    udb_db_open(dbdir, UDB_OPEN_WRITE, &db) != UDB_OK ||
	    udb_user_add(db, cfg, &spec, false, udb_now(), &u) != UDB_OK ||
	    udb_db_begin(db) != UDB_OK || udb_db_commit(db) != UDB_OK)
		die("cannot add the imported user");
	udb_user_free(u);
	udb_db_close(db);
	udb_config_free(cfg);
	free((char *)(uintptr_t)spec.password_hash);
}

/* A user with the bench password's hash and a confirmed TOTP second factor
 * in the database dir/name; its raw secret goes to ret_secret. */
static void
add_totp_user(const char *name, const char *hash, char *ret_secret, size_t *ret_len)
{
	struct udb_user_spec spec = {.username = TOTP_USER, .password_hash = hash};
	char conf[128], dbdir[128], code[16], *key = NULL, *raw = NULL;
	struct udb_config *cfg = NULL;
	struct udb_db *db = NULL;
	struct udb_user *u = NULL;
	unsigned line = 0;
	size_t len = 0;

	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, name);
	snprintf(dbdir, sizeof(dbdir), "%s/%s", dir, name);
	if (udb_config_load(conf, &cfg, &line) != UDB_OK ||
	    udb_db_open(dbdir, UDB_OPEN_WRITE, &db) != UDB_OK ||
	    udb_user_add(db, cfg, &spec, false, udb_now(), &u) != UDB_OK ||
	    udb_totp_enroll(db, u->id, &key) != UDB_OK ||
	    oath_base32_decode(key, strlen(key), &raw, &len) != OATH_OK ||
	    len > UDB_TOTP_SECRET_BYTES ||
	    oath_totp_generate2(raw, len, time(NULL), UDB_TOTP_STEP, 0, UDB_TOTP_DIGITS, 0, code) !=
		    OATH_OK ||
	    udb_totp_confirm(db, u->id, code, udb_now(), 1) != UDB_OK ||
	    udb_db_begin(db) != UDB_OK || udb_db_commit(db) != UDB_OK)
		die("cannot add the TOTP user");
	memcpy(ret_secret, raw, len);
	*ret_len = len;
	udb_secret_free(key);
	free(raw);
	udb_user_free(u);
	udb_db_close(db);
	udb_config_free(cfg);
}

/* Sets every user's last used TOTP step back, so that the current code is
 * good again; not timed. */
static void
reset_steps(sqlite3 *shadow)
{
	if (sqlite3_exec(shadow, "UPDATE second_factors SET last_step = 0", NULL, NULL, NULL) !=
	    SQLITE_OK)
		die("cannot reset the TOTP steps: %s", sqlite3_errmsg(shadow));
}

/* Debian's common-auth, -account and -session lines for a service, without
 * (module NULL) and with the lines pam-auth-update writes for the shipped
 * profile (dist/pam-config.in; its success=end becomes a jump past
 * pam_unix's block). */
static void
write_debian_stack(const char *service, const char *module)
{
	char path[160], text[2048], ours[256] = "";

	if (module)
		snprintf(ours, sizeof(ours), "%s conf=%s/default.conf", module, dir);
	snprintf(path, sizeof(path), "%s/pam.d/%s", dir, service);
	snprintf(text, sizeof(text),
		 "%s%s%s"
		 "auth [success=1 default=ignore] " PAM_UNIX_PATH " nullok%s\n"
		 "auth requisite pam_deny.so\nauth required pam_permit.so\n"
		 "account [success=1 new_authtok_reqd=done default=ignore] " PAM_UNIX_PATH "\n"
		 "account requisite pam_deny.so\naccount required pam_permit.so\n"
		 "%s%s%s"
		 "session [default=1] pam_permit.so\nsession requisite pam_deny.so\n"
		 "session required pam_permit.so\nsession required " PAM_UNIX_PATH "\n"
		 "%s%s%s",
		 module ? "auth [success=2 user_unknown=ignore authinfo_unavail=ignore "
			  "default=die] "
			: "",
		 ours, module ? "\n" : "", module ? " try_first_pass" : "",
		 module ? "account [success=ok new_authtok_reqd=done user_unknown=ignore "
			  "authinfo_unavail=ignore default=bad] "
			: "",
		 ours, module ? "\n" : "", module ? "session optional " : "", ours,
		 module ? "\n" : "");
	write_file(path, text, 0644);
}

/* pam_unix's view: private passwd and shadow with the bench user, bound
 * over the real ones inside a private mount namespace. */
static void
private_etc(const char *hash, const char *local_hash)
{
	char path[128], line[1024], pw[256];

	if (unshare(CLONE_NEWNS) != 0)
		die("unshare: %s (run as root)", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		die("making / private: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/passwd", dir);
	snprintf(pw, sizeof(pw),
		 BENCH_USER ":x:%u:%u::/nonexistent:/bin/false\n" LOCAL_USER
			    ":x:3999998:3999998::/nonexistent:/bin/false\n",
		 (unsigned)bench_uid, (unsigned)bench_uid);
	copy_with("/etc/passwd", path, pw, 0644);
	if (mount(path, "/etc/passwd", NULL, MS_BIND, NULL) != 0)
		die("bind passwd: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/shadow", dir);
	snprintf(line, sizeof(line),
		 BENCH_USER ":%s:19000:0:99999:7:::\n" LOCAL_USER ":%s:19000:0:99999:7:::\n", hash,
		 local_hash);
	copy_with("/etc/shadow", path, line, 0640);
	if (mount(path, "/etc/shadow", NULL, MS_BIND, NULL) != 0)
		die("bind shadow: %s", strerror(errno));
}

/* The code typed at a second-factor prompt, for (e). */
static char bench_code[16];

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(strstr(msg[i]->msg, "code") ? bench_code : data);
	*resp = r;
	return PAM_SUCCESS;
}

/* Called by libpam instead of sleeping after a failure. */
static void
no_delay(int status, unsigned delay, void *appdata)
{
}

struct handle {
	pam_handle_t *ph;
	struct pam_conv conv;
	int expect;
};

static void
open_handle(struct handle *h, const char *service, const char *user, const char *password,
	    int expect)
{
	void (*fn)(int, unsigned, void *) = no_delay;
	char confdir[96];
	void *item;

	snprintf(confdir, sizeof(confdir), "%s/pam.d", dir);
	h->conv.conv = converse;
	h->conv.appdata_ptr = (void *)(uintptr_t)password;
	h->expect = expect;
	if (pam_start_confdir(service, user, &h->conv, confdir, &h->ph) != PAM_SUCCESS)
		die("pam_start %s", service);
	memcpy(&item, &fn, sizeof(item));
	pam_set_item(h->ph, PAM_FAIL_DELAY, item);
}

/* One login on a handle of its own, timed: pam_authenticate alone, or with
 * whole, the password login sshd or login run (authenticate, acct_mgmt,
 * open_session, close_session). pam_start and pam_end stay outside the
 * measurement (the modules are kept loaded by main, so pam_start does not
 * load them again). A fresh handle per login is what sshd or login do; a
 * long-lived one would also be unfair to pam_unix, whose
 * pam_modutil_getpwnam caches add one handle entry per call that every
 * later pam_get_data walks. */
static struct sample
time_login(const char *service, const char *user, const char *password, int expect, bool whole)
{
	struct sample t;
	struct handle h;
	double w0, c0;
	int rc;

	open_handle(&h, service, user, password, expect);
	hash_wall = 0;
	hash_calls = 0;
	w0 = now_us();
	c0 = cpu_us();
	rc = pam_authenticate(h.ph, 0);
	if (whole && rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h.ph, 0);
	if (whole && rc == PAM_SUCCESS)
		rc = pam_open_session(h.ph, 0);
	if (whole && rc == PAM_SUCCESS)
		rc = pam_close_session(h.ph, 0);
	t.cpu = cpu_us() - c0;
	t.wall = now_us() - w0;
	t.hash = hash_wall;
	t.hashes = hash_calls;
	if (rc != expect)
		die("%s: %s gave %d (%s), expected %d", service,
		    whole ? "a whole login" : "pam_authenticate", rc, pam_strerror(h.ph, rc),
		    expect);
	pam_end(h.ph, rc);
	return t;
}

static struct sample
time_auth(const char *service, const char *user, const char *password, int expect)
{
	return time_login(service, user, password, expect, false);
}

/* The bare hash, as the core computes it (heap crypt_data, wiped). */
static struct sample
time_crypt(const char *hash)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	struct sample t;
	double w0, c0;

	if (!data)
		die("out of memory");
	w0 = now_us();
	c0 = cpu_us();
	if (!crypt_rn(BENCH_PASSWORD, hash, data, sizeof(*data)) || strcmp(data->output, hash))
		die("crypt_rn does not reproduce the hash");
	t.cpu = cpu_us() - c0;
	t.wall = now_us() - w0;
	t.hash = t.wall;
	t.hashes = 1;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return t;
}

struct dist {
	double p10, median, p90;
};

static int
compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Distribution of the wall (cpu false) or CPU times of n samples. */
static struct dist
dist_of(const struct sample *s, size_t n, bool cpu)
{
	double *v = calloc(n, sizeof(*v));
	struct dist d;

	if (!v)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = cpu ? s[i].cpu : s[i].wall;
	qsort(v, n, sizeof(*v), compare);
	d.p10 = v[n / 10];
	d.median = v[n / 2];
	d.p90 = v[n * 9 / 10];
	free(v);
	return d;
}

/* Median of a[i] - b[i], wall time: the difference within each round,
 * which drift and bursts of load hit alike. */
static double
paired_median(const struct sample *a, const struct sample *b, size_t n)
{
	double *v = calloc(n, sizeof(*v)), m;

	if (!v)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].wall - b[i].wall;
	qsort(v, n, sizeof(*v), compare);
	m = v[n / 2];
	free(v);
	return m;
}

/* Median of wall - hash: the time of the call outside libcrypt. */
static double
own_median(const struct sample *s, size_t n, unsigned *ret_hashes)
{
	double *v = calloc(n, sizeof(*v)), m;
	unsigned most = 0;

	if (!v)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i] = s[i].wall - s[i].hash;
		if (s[i].hashes > most)
			most = s[i].hashes;
	}
	qsort(v, n, sizeof(*v), compare);
	m = v[n / 2];
	free(v);
	*ret_hashes = most;
	return m;
}

/* A table row: wall median, p10, p90 and CPU median, in unit (1 or 1000). */
static void
print_row(const char *what, const struct sample *s, size_t n, double unit)
{
	struct dist w = dist_of(s, n, false), c = dist_of(s, n, true);

	printf("| %s | %.*f | %.*f | %.*f | %.*f |\n", what, unit > 1 ? 2 : 0, w.median / unit,
	       unit > 1 ? 2 : 0, w.p10 / unit, unit > 1 ? 2 : 0, w.p90 / unit, unit > 1 ? 2 : 0,
	       c.median / unit);
}

static void
print_login_row(const char *what, const struct sample *s, size_t n)
{
	struct dist w = dist_of(s, n, false), c = dist_of(s, n, true);
	unsigned hashes = 0;
	double own = own_median(s, n, &hashes);

	printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f (%u hash) |\n", what, w.median, w.p10,
	       w.p90, c.median, own, hashes);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(int argc, char **argv)
{
	const char *module = argc > 1 ? argv[1] : NULL;
	size_t n_cheap = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
	size_t n_timing = argc > 3 ? strtoul(argv[3], NULL, 10) : 200;
	char services[96], path[160], text[512];
	char *cheap_hash, *default_hash, *local_hash;
	struct sample *crypt_t, *userdb_t, *unix_t, *wrong_t, *unknown_t, *login_userdb_t,
		*login_unix_t, *imported_t, *local_plain_t, *local_profile_t, *plain_t, *totp_t;
	void *keep_userdb, *keep_unix;
	struct dist cc, cu, cx, dw, dn, di, dlp, dlq;
	double own_userdb, own_unix, own_plain, own_totp;
	unsigned hashes_userdb, hashes_unix, hashes_plain, hashes_totp;
	char totp_secret[UDB_TOTP_SECRET_BYTES];
	size_t totp_len = 0;
	sqlite3 *shadow = NULL;

	if (!module || module[0] != '/' || n_cheap < 10 || n_timing < 10)
		die("usage: pam_bench /abs/path/pam_userdb.so [N_CHEAP [N_TIMING]]");
	snprintf(dir, sizeof(dir), "/var/tmp/pambench.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	chmod(dir, 0755);

	cheap_hash = make_db("cheap", "hash_method = sha512\nhash_cost = 1000\n");
	default_hash = make_db("default", "");
	add_imported("default");
	add_totp_user("cheap", cheap_hash, totp_secret, &totp_len);
	local_hash = hash_of("$y$", LOCAL_PASSWORD);
	snprintf(services, sizeof(services), "%s/pam.d", dir);
	mkdir(services, 0755);
	snprintf(path, sizeof(path), "%s/userdb-cheap", services);
	snprintf(text, sizeof(text), "auth required %s conf=%s/cheap.conf\n", module, dir);
	write_file(path, text, 0644);
	snprintf(path, sizeof(path), "%s/userdb-default", services);
	snprintf(text, sizeof(text), "auth required %s conf=%s/default.conf\n", module, dir);
	write_file(path, text, 0644);
	snprintf(path, sizeof(path), "%s/unix", services);
	write_file(path, "auth required " PAM_UNIX_PATH "\n", 0644);
	snprintf(path, sizeof(path), "%s/userdb-login", services);
	snprintf(text, sizeof(text),
		 "auth required %s conf=%s/cheap.conf\naccount required %s conf=%s/cheap.conf\n"
		 "session required %s conf=%s/cheap.conf\n",
		 module, dir, module, dir, module, dir);
	write_file(path, text, 0644);
	snprintf(path, sizeof(path), "%s/unix-login", services);
	write_file(path,
		   "auth required " PAM_UNIX_PATH "\naccount required " PAM_UNIX_PATH
		   "\nsession required " PAM_UNIX_PATH "\n",
		   0644);
	write_debian_stack("local-plain", NULL);
	write_debian_stack("local-profile", module);
	private_etc(cheap_hash, local_hash);
	/* Loaded once here, so that libpam's dlopen at each pam_start only
	 * takes a reference: the loader's work is not the module's. */
	keep_userdb = dlopen(module, RTLD_NOW);
	keep_unix = dlopen(PAM_UNIX_PATH, RTLD_NOW);
	if (!keep_userdb || !keep_unix)
		die("cannot load the modules: %s", dlerror());

	crypt_t = calloc(n_cheap, sizeof(*crypt_t));
	userdb_t = calloc(n_cheap, sizeof(*userdb_t));
	unix_t = calloc(n_cheap, sizeof(*unix_t));
	wrong_t = calloc(n_timing, sizeof(*wrong_t));
	unknown_t = calloc(n_timing, sizeof(*unknown_t));
	login_userdb_t = calloc(n_cheap, sizeof(*login_userdb_t));
	login_unix_t = calloc(n_cheap, sizeof(*login_unix_t));
	imported_t = calloc(n_timing, sizeof(*imported_t));
	local_plain_t = calloc(n_timing, sizeof(*local_plain_t));
	local_profile_t = calloc(n_timing, sizeof(*local_profile_t));
	plain_t = calloc(n_cheap, sizeof(*plain_t));
	totp_t = calloc(n_cheap, sizeof(*totp_t));
	if (!plain_t || !totp_t)
		die("out of memory");
	if (!crypt_t || !userdb_t || !unix_t || !wrong_t || !unknown_t || !login_userdb_t ||
	    !login_unix_t || !imported_t || !local_plain_t || !local_profile_t)
		die("out of memory");

	/* (a) the same hash through both modules and alone, interleaved. */
	for (size_t i = 0; i < n_cheap + 50; i++) {
		struct sample c = time_crypt(cheap_hash);
		struct sample u =
			time_auth("userdb-cheap", BENCH_USER, BENCH_PASSWORD, PAM_SUCCESS);
		struct sample x = time_auth("unix", BENCH_USER, BENCH_PASSWORD, PAM_SUCCESS);

		if (i >= 50) { /* the first 50 warm the caches */
			crypt_t[i - 50] = c;
			userdb_t[i - 50] = u;
			unix_t[i - 50] = x;
		}
	}

	/* (c) whole logins, interleaved the same way. */
	for (size_t i = 0; i < n_cheap + 50; i++) {
		struct sample u =
			time_login("userdb-login", BENCH_USER, BENCH_PASSWORD, PAM_SUCCESS, true);
		struct sample x =
			time_login("unix-login", BENCH_USER, BENCH_PASSWORD, PAM_SUCCESS, true);

		if (i >= 50) {
			login_userdb_t[i - 50] = u;
			login_unix_t[i - 50] = x;
		}
	}

	/* (b) default method: wrong password vs unknown user, alternating
	 * which goes first so that neither always follows the other. */
	for (size_t i = 0; i < n_timing + 5; i++) {
		struct sample w, n, m;

		if (i % 2) {
			w = time_auth("userdb-default", BENCH_USER, "not the password",
				      PAM_AUTH_ERR);
			m = time_auth("userdb-default", IMPORTED_USER, "not the password",
				      PAM_AUTH_ERR);
			n = time_auth("userdb-default", "nosuchuser", "not the password",
				      PAM_USER_UNKNOWN);
		} else {
			n = time_auth("userdb-default", "nosuchuser", "not the password",
				      PAM_USER_UNKNOWN);
			m = time_auth("userdb-default", IMPORTED_USER, "not the password",
				      PAM_AUTH_ERR);
			w = time_auth("userdb-default", BENCH_USER, "not the password",
				      PAM_AUTH_ERR);
		}
		if (i >= 5) {
			wrong_t[i - 5] = w;
			unknown_t[i - 5] = n;
			imported_t[i - 5] = m;
		}
	}

	/* (d) a local user's whole login, without and with the profile's
	 * lines, alternating which goes first. */
	for (size_t i = 0; i < n_timing + 5; i++) {
		struct sample p, q;

		if (i % 2) {
			p = time_login("local-plain", LOCAL_USER, LOCAL_PASSWORD, PAM_SUCCESS,
				       true);
			q = time_login("local-profile", LOCAL_USER, LOCAL_PASSWORD, PAM_SUCCESS,
				       true);
		} else {
			q = time_login("local-profile", LOCAL_USER, LOCAL_PASSWORD, PAM_SUCCESS,
				       true);
			p = time_login("local-plain", LOCAL_USER, LOCAL_PASSWORD, PAM_SUCCESS,
				       true);
		}
		if (i >= 5) {
			local_plain_t[i - 5] = p;
			local_profile_t[i - 5] = q;
		}
	}

	/* (e) the same hash with and without a second factor, alternating
	 * which goes first; the steps are set back before each pair. */
	snprintf(path, sizeof(path), "%s/cheap/shadow.db", dir);
	if (sqlite3_open(path, &shadow) != SQLITE_OK)
		die("cannot open %s", path);
	sqlite3_busy_timeout(shadow, 5000);
	for (size_t i = 0; i < n_cheap + 50; i++) {
		struct sample p, t;

		reset_steps(shadow);
		if (oath_totp_generate2(totp_secret, totp_len, time(NULL), UDB_TOTP_STEP, 0,
					UDB_TOTP_DIGITS, 0, bench_code) != OATH_OK)
			die("oath_totp_generate2");
		if (i % 2) {
			p = time_auth("userdb-cheap", BENCH_USER, BENCH_PASSWORD, PAM_SUCCESS);
			t = time_auth("userdb-cheap", TOTP_USER, BENCH_PASSWORD, PAM_SUCCESS);
		} else {
			t = time_auth("userdb-cheap", TOTP_USER, BENCH_PASSWORD, PAM_SUCCESS);
			p = time_auth("userdb-cheap", BENCH_USER, BENCH_PASSWORD, PAM_SUCCESS);
		}
		if (i >= 50) {
			plain_t[i - 50] = p;
			totp_t[i - 50] = t;
		}
	}
	sqlite3_close(shadow);
	explicit_bzero(totp_secret, sizeof(totp_secret));

	cc = dist_of(crypt_t, n_cheap, true);
	cu = dist_of(userdb_t, n_cheap, true);
	cx = dist_of(unix_t, n_cheap, true);
	dw = dist_of(wrong_t, n_timing, false);
	dn = dist_of(unknown_t, n_timing, false);
	di = dist_of(imported_t, n_timing, false);
	dlp = dist_of(local_plain_t, n_timing, false);
	dlq = dist_of(local_profile_t, n_timing, false);

	printf("(a) successful pam_authenticate, sha512crypt 1000 rounds, the same hash, "
	       "%zu logins each, fresh handle per login, µs\n\n",
	       n_cheap);
	printf("| | median | p10 | p90 | CPU median |\n| --- | ---: | ---: | ---: | ---: |\n");
	print_row("crypt_rn of the hash alone", crypt_t, n_cheap, 1);
	print_row("pam_unix.so", unix_t, n_cheap, 1);
	print_row("pam_userdb.so", userdb_t, n_cheap, 1);
	own_userdb = own_median(userdb_t, n_cheap, &hashes_userdb);
	own_unix = own_median(unix_t, n_cheap, &hashes_unix);
	printf("\nown cost beyond the hash (issue 13's bar: ≤ 300 µs, the 'inside each call' "
	       "line):\n"
	       "- inside each call, pam_authenticate minus the time it spent in libcrypt's "
	       "crypt functions (interposed), median: pam_userdb %.0f µs (%u hash per "
	       "login), pam_unix %.0f µs (%u per login)\n"
	       "- against the separately timed hash, median of the per-round differences: "
	       "pam_userdb − bare hash %.0f µs, pam_unix − bare hash %.0f µs; "
	       "pam_userdb − pam_unix %.0f µs\n"
	       "- CPU medians, module − hash: pam_userdb %.0f µs, pam_unix %.0f µs\n\n",
	       own_userdb, hashes_userdb, own_unix, hashes_unix,
	       paired_median(userdb_t, crypt_t, n_cheap), paired_median(unix_t, crypt_t, n_cheap),
	       paired_median(userdb_t, unix_t, n_cheap), cu.median - cc.median,
	       cx.median - cc.median);
	printf("(c) a whole password login (authenticate, acct_mgmt, open_session, "
	       "close_session), sha512crypt 1000 rounds, %zu each, fresh handle per login, µs\n\n",
	       n_cheap);
	printf("| | median | p10 | p90 | CPU median | outside libcrypt, median |\n"
	       "| --- | ---: | ---: | ---: | ---: | ---: |\n");
	print_login_row("pam_unix.so", login_unix_t, n_cheap);
	print_login_row("pam_userdb.so", login_userdb_t, n_cheap);
	printf("\n");
	printf("(b) pam_userdb.so, default method (%.7s…), failed pam_authenticate, "
	       "%zu logins each, interleaved, ms\n\n",
	       default_hash, n_timing);
	printf("| | median | p10 | p90 | CPU median |\n| --- | ---: | ---: | ---: | ---: |\n");
	print_row("wrong password", wrong_t, n_timing, 1000);
	print_row("unknown user", unknown_t, n_timing, 1000);
	print_row("wrong password, user imported with a $6$ hash", imported_t, n_timing, 1000);
	printf("\nunknown / wrong: median %.3f, p10 %.3f, p90 %.3f (bar: within 10%%)\n",
	       dn.median / dw.median, dn.p10 / dw.p10, dn.p90 / dw.p90);
	printf("imported $6$ / unknown: median %.3f, p10 %.3f, p90 %.3f (bar: within 10%%)\n\n",
	       di.median / dn.median, di.p10 / dn.p10, di.p90 / dn.p90);
	printf("(d) a local /etc/passwd user's whole login (yescrypt), Debian's common-* "
	       "lines without and with the profile's pam_userdb lines, %zu each, "
	       "interleaved, ms\n\n",
	       n_timing);
	printf("| | median | p10 | p90 | CPU median |\n| --- | ---: | ---: | ---: | ---: |\n");
	print_row("without the profile", local_plain_t, n_timing, 1000);
	print_row("with the profile", local_profile_t, n_timing, 1000);
	printf("\nwith / without: median %.3f, p10 %.3f, p90 %.3f (bar: within 10%%)\n",
	       dlq.median / dlp.median, dlq.p10 / dlp.p10, dlq.p90 / dlp.p90);

	printf("\n(e) successful pam_authenticate through pam_userdb.so, sha512crypt 1000 "
	       "rounds, a user without and a user with a TOTP second factor (password, then "
	       "code), %zu each, interleaved, µs\n\n",
	       n_cheap);
	printf("| | median | p10 | p90 | CPU median |\n| --- | ---: | ---: | ---: | ---: |\n");
	print_row("password alone", plain_t, n_cheap, 1);
	print_row("password and TOTP code", totp_t, n_cheap, 1);
	own_plain = own_median(plain_t, n_cheap, &hashes_plain);
	own_totp = own_median(totp_t, n_cheap, &hashes_totp);
	printf("\nown cost beyond the hash (wall minus libcrypt, median): password alone %.0f "
	       "µs, with the code %.0f µs; the second factor adds %.0f µs (median of the "
	       "per-pair differences %.0f µs; bar ≤ 1000 µs)\n",
	       own_plain, own_totp, own_totp - own_plain, paired_median(totp_t, plain_t, n_cheap));

	dlclose(keep_userdb);
	dlclose(keep_unix);
	udb_secret_free(cheap_hash);
	udb_secret_free(default_hash);
	free(crypt_t);
	free(userdb_t);
	free(unix_t);
	free(wrong_t);
	free(unknown_t);
	free(login_userdb_t);
	free(login_unix_t);
	free(imported_t);
	free(local_plain_t);
	free(local_profile_t);
	free(plain_t);
	free(totp_t);
	free(local_hash);
	if (!getenv("PAM_BENCH_KEEP"))
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
