/* Hostile input through the modules (suite faults, TAP):
 *   - SQL metacharacters, LIKE wildcards, format strings, case variants,
 *     control characters and a 10 kB string as user and group names in
 *     every NSS lookup: NOTFOUND/ENOENT, never a match, never an error;
 *   - the same as PAM user names in auth, account and session:
 *     PAM_USER_UNKNOWN; as PAM_RHOST of a real login: the session is
 *     recorded with the host escaped (bytes outside printable ASCII and
 *     the backslash as \xNN), exactly as pam_userdb.so stores it;
 *   - a 1 MB password, for a known and an unknown user: refused, and no
 *     call to libxcrypt ever sees more than UDB_PASSWORD_MAX (511) bytes;
 *   - everything the module logs (syslog is captured in this process):
 *     printable ASCII only, no password, never a name typed for an unknown
 *     user, the hostile PAM_RHOST escaped;
 *   - afterwards the database is intact (integrity_check, row counts).
 * This executable exports crypt_rn and the syslog functions, so that the
 * PAM module it loads calls these, which record and pass on (it links
 * libcrypt itself, so that the real crypt_rn is next in line).
 *
 *   faults_attacks PAM_MODULE NSS_MODULE USERDB */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_appl.h>

#include "harness.h"

#define PASSWORD "alice password"
#define MAX_LOG  4096

static int n_tests, n_failed;
static struct hx bed;
static struct hx_nss nss;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	n_failed += !ok;
	printf("%s %d - ", ok ? "ok" : "not ok", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- interposed: libxcrypt's crypt_rn and glibc's syslog ---- */

static size_t longest_phrase;
static unsigned crypt_calls;

__attribute__((visibility("default"))) char *crypt_rn(const char *phrase, const char *setting,
						      void *data, int size);

char *
crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	static char *(*real)(const char *, const char *, void *, int);
	size_t len = phrase ? strlen(phrase) : 0;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "crypt_rn");
	if (!real)
		hx_die("crypt_rn: libcrypt is not loaded ahead of the module");
	crypt_calls++;
	if (len > longest_phrase)
		longest_phrase = len;
	return real(phrase, setting, data, size);
}

static char *logs[MAX_LOG];
static size_t n_logs;

static void
keep_log(const char *fmt, va_list ap)
{
	char *line = NULL;

	if (vasprintf(&line, fmt, ap) < 0)
		return;
	if (n_logs < MAX_LOG)
		logs[n_logs++] = line;
	else
		free(line);
}

__attribute__((visibility("default"))) void __syslog_chk(int pri, int flag, const char *fmt, ...);
__attribute__((visibility("default"))) void __vsyslog_chk(int pri, int flag, const char *fmt,
							  va_list ap);

void
syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep_log(fmt, ap);
	va_end(ap);
}

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	keep_log(fmt, ap);
}

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep_log(fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	keep_log(fmt, ap);
}

/* Whether a log line kept since index before contains s (of 4 bytes or
 * more: shorter ones are in every line). */
static bool
logged_since(size_t before, const char *s)
{
	for (size_t j = before; j < n_logs && strlen(s) >= 4; j++)
		if (strstr(logs[j], s))
			return true;
	return false;
}

/* ---- inputs ---- */

static const char *const hostile[] = {
	"alice' OR '1'='1",
	"alice'--",
	"'; DROP TABLE users; --",
	"alice\" OR 1=1 --",
	"a_ice", /* LIKE wildcards: would match alice */
	"al%",
	"%",
	"_____",
	"*",
	"ALICE",
	"Alice",
	"alice ",
	" alice",
	"alice\n",
	"alice\t",
	"alice:x:0:0",
	"%s%s%s%s%n",
	"%x%x%x%x",
	"%99999999s",
	"\x1b[31malice",
	"ali\xc3\xa9",
	"\xff\xfe",
	"-alice",
	"+alice",
	"alice$$",
	"0",
	"20001",
};

static char big_name[10241];

/* ---- NSS ---- */

static void
nss_hostile(const char *name, const char *shown)
{
	static char buf[1 << 16];
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	enum nss_status st[4];
	int err[4] = {0};

	if (!groups)
		hx_die("out of memory");
	st[0] = nss.getpwnam_r(name, &pw, buf, sizeof(buf), &err[0]);
	st[1] = nss.getgrnam_r(name, &gr, buf, sizeof(buf), &err[1]);
	st[2] = nss.getspnam_r(name, &sp, buf, sizeof(buf), &err[2]);
	groups[0] = 20001;
	st[3] = nss.initgroups_dyn(name, 20001, &start, &size, &groups, -1, &err[3]);
	check(st[0] == NSS_STATUS_NOTFOUND && err[0] == ENOENT && st[1] == NSS_STATUS_NOTFOUND &&
		      err[1] == ENOENT && st[2] == NSS_STATUS_NOTFOUND && err[2] == ENOENT &&
		      (st[3] == NSS_STATUS_NOTFOUND || (st[3] == NSS_STATUS_SUCCESS && start == 1)),
	      "NSS %s: getpwnam %s, getgrnam %s, getspnam %s, initgroups %s (%ld groups)", shown,
	      hx_nss_status_name(st[0]), hx_nss_status_name(st[1]), hx_nss_status_name(st[2]),
	      hx_nss_status_name(st[3]), start - 1);
	free(groups);
}

/* A printable rendering of s for test names. */
static const char *
shown(const char *s)
{
	static char out[4][160];
	static unsigned next;
	char *o = out[next++ % 4];
	size_t n = 0;

	for (; *s && n < sizeof(out[0]) - 6; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7e || c == '#')
			n += (size_t)snprintf(o + n, 5, "\\x%02x", c);
		else
			o[n++] = (char)c;
	}
	if (*s)
		n += (size_t)snprintf(o + n, 6, "...");
	o[n] = '\0';
	return o;
}

/* pam_userdb's escaping of PAM_RHOST (pam_userdb/escape.c, module.h),
 * written out again: bytes outside printable ASCII and the backslash as
 * \xNN, cut at 255 bytes without splitting an escape. */
static void
escaped(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = c < 0x20 || c > 0x7e || c == '\\' ? 4 : 1;

		if (n + need >= size)
			break;
		if (need == 1)
			out[n] = (char)c;
		else
			snprintf(out + n, 5, "\\x%02x", c);
		n += need;
	}
	out[n] = '\0';
}

static int64_t
alice_field(const char *field)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT a.%s FROM main.users u JOIN sec.accounts a ON a.user_id = u.id "
		 "WHERE u.username = 'alice'",
		 field);
	return hx_sql_int(&bed, sql, -1);
}

int
main(int argc, char **argv)
{
	static const char *const rhosts[] = {
		"'; DROP TABLE users; --",     "%s%s%s%n%n",
		"evil\nhost\x1b[31m\x07",      "back\\slash \x7f\x80\xff",
		"host.example.com' OR '1'='1",
	};
	char *huge;
	double t0, t_wrong, t_huge;
	int64_t users_before, logins;
	char msg[512];
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: faults_attacks PAM_MODULE NSS_MODULE USERDB\n");
		return 64;
	}
	hx_setup(&bed, argv[3], argv[1], "deny = 0\n");
	hx_pam_service(&bed, "attacks", "nodelay");
	if (hx_userdb(&bed, NULL, "role", "add", "crew", "--gid", "40100", NULL) != 0 ||
	    hx_userdb(&bed, PASSWORD "\n", "user", "add", "alice", "--uid", "20001", "--role",
		      "crew", "--password-stdin", NULL) != 0)
		hx_die("setup: %s", hx_last_error(&bed));
	hx_nss_load(argv[2], &nss);
	users_before = hx_sql_int(&bed, "SELECT count(*) FROM main.users", -1);
	memset(big_name, 'a', sizeof(big_name) - 1);

	/* NSS */
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		nss_hostile(hostile[i], shown(hostile[i]));
	nss_hostile(big_name, "a 10 kB name");

	/* PAM user names: unknown in every phase, and never logged. */
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		size_t before = n_logs;
		int auth = hx_pam_login(&bed, "attacks", hostile[i], PASSWORD, NULL, false, NULL);
		int acct = hx_pam_account(&bed, "attacks", hostile[i]);
		int sess = hx_pam_session(&bed, "attacks", hostile[i], NULL);

		check(auth == PAM_USER_UNKNOWN && acct == PAM_USER_UNKNOWN &&
			      sess == PAM_USER_UNKNOWN && !logged_since(before, hostile[i]),
		      "PAM user %s: auth %d, account %d, session %d (want %d), name not logged",
		      shown(hostile[i]), auth, acct, sess, PAM_USER_UNKNOWN);
	}
	{
		size_t before = n_logs;

		rc = hx_pam_login(&bed, "attacks", big_name, PASSWORD, NULL, false, NULL);
		check(rc == PAM_USER_UNKNOWN && !logged_since(before, "aaaaaaaaaaaaaaaa"),
		      "PAM user of 10 kB: auth %d, name not logged", rc);
	}

	/* PAM_RHOST of a real login */
	for (size_t i = 0; i < sizeof(rhosts) / sizeof(rhosts[0]); i++) {
		char want[256], sql[1024];
		const char *step = NULL;
		size_t before = n_logs;
		bool logged = false;

		logins = alice_field("login_count");
		rc = hx_pam_login(&bed, "attacks", "alice", PASSWORD, rhosts[i], true, &step);
		escaped(rhosts[i], want, sizeof(want));
		/* The stored host, compared in SQL with a bound-free literal:
		 * want is printable ASCII; quote its single quotes. */
		{
			char lit[600];
			size_t n = 0;

			for (const char *p = want; *p && n < sizeof(lit) - 3; p++) {
				if (*p == '\'')
					lit[n++] = '\'';
				lit[n++] = *p;
			}
			lit[n] = '\0';
			snprintf(sql, sizeof(sql),
				 "SELECT count(*) FROM main.users u JOIN sec.accounts a ON "
				 "a.user_id = u.id WHERE u.username = 'alice' AND "
				 "a.current_login_ip = '%s'",
				 lit);
		}
		for (size_t j = before; j < n_logs; j++)
			logged |= strstr(logs[j], want) != NULL;
		check(rc == PAM_SUCCESS && alice_field("login_count") == logins + 1 &&
			      hx_sql_int(&bed, sql, 0) == 1 && logged,
		      "PAM_RHOST %s: %s gives %s, login counted, stored and logged as %s",
		      shown(rhosts[i]), step, pam_strerror(NULL, rc), shown(want));
	}

	/* A 1 MB password */
	huge = malloc((1 << 20) + 1);
	if (!huge)
		hx_die("out of memory");
	memset(huge, 'p', 1 << 20);
	huge[1 << 20] = '\0';
	t0 = hx_now();
	rc = hx_pam_login(&bed, "attacks", "alice", "wrong password", NULL, false, NULL);
	t_wrong = hx_now() - t0;
	check(rc == PAM_AUTH_ERR, "wrong password: %s in %.1f ms", pam_strerror(NULL, rc),
	      t_wrong * 1000);
	longest_phrase = 0;
	crypt_calls = 0;
	t0 = hx_now();
	rc = hx_pam_login(&bed, "attacks", "alice", huge, NULL, false, NULL);
	t_huge = hx_now() - t0;
	check(rc == PAM_AUTH_ERR && crypt_calls > 0 && longest_phrase <= 511,
	      "1 MB password for alice: %s in %.1f ms; %u crypt_rn calls, longest phrase %zu bytes",
	      pam_strerror(NULL, rc), t_huge * 1000, crypt_calls, longest_phrase);
	longest_phrase = 0;
	crypt_calls = 0;
	t0 = hx_now();
	rc = hx_pam_login(&bed, "attacks", "nosuchuser", huge, NULL, false, NULL);
	t_huge = hx_now() - t0;
	check(rc == PAM_USER_UNKNOWN && crypt_calls > 0 && longest_phrase <= 511,
	      "1 MB password for an unknown user: %s in %.1f ms; %u crypt_rn calls, longest "
	      "phrase %zu bytes",
	      pam_strerror(NULL, rc), t_huge * 1000, crypt_calls, longest_phrase);
	rc = hx_pam_login(&bed, "attacks", "alice", PASSWORD, NULL, false, NULL);
	check(rc == PAM_SUCCESS, "alice still logs in with her password: %s",
	      pam_strerror(NULL, rc));

	/* The logs */
	{
		bool printable = true, secret = false;

		for (size_t j = 0; j < n_logs; j++) {
			for (const char *p = logs[j]; *p; p++)
				printable &= *p >= 0x20 && *p < 0x7f;
			secret |= strstr(logs[j], PASSWORD) || strstr(logs[j], "wrong password") ||
				  strstr(logs[j], "pppppppp") || strstr(logs[j], "$6$");
		}
		check(n_logs > 0 && printable, "%zu log lines, all printable ASCII", n_logs);
		check(!secret, "no password or hash in the logs");
		check(!logged_since(0, "nosuchuser"),
		      "the unknown name of the 1 MB try not logged");
		if (n_logs > 0)
			printf("# e.g. %s\n", logs[n_logs - 1]);
	}

	check(hx_integrity(&bed, msg, sizeof(msg)), "integrity_check afterwards: %s",
	      hx_integrity(&bed, msg, sizeof(msg)) ? "ok, ok" : msg);
	check(hx_sql_int(&bed, "SELECT count(*) FROM main.users", -1) == users_before &&
		      hx_half_users(&bed) == 0,
	      "the users are as they were");
	printf("1..%d\n", n_tests);
	for (size_t j = 0; j < n_logs; j++)
		free(logs[j]);
	free(huge);
	hx_teardown(&bed, n_failed != 0);
	return n_failed != 0;
}
