/*
 * login_bench: times whole PAM logins (pam_authenticate, pam_acct_mgmt,
 * pam_open_session, pam_close_session on a fresh handle each) of one user
 * against the PAM service directory given, and the password hash alone, so
 * that a login's cost beyond its hash can be compared across population
 * sizes. Run by bench/run-nss-bench.sh inside its namespace (see
 * bench/README.md), never by the test suite.
 *
 *   login_bench CONFDIR SERVICE USER N        password on stdin (one line)
 *
 * The hash is the user's shadow entry as NSS gives it to root (getspnam),
 * verified with crypt_rn exactly as often as the logins run, interleaved
 * with them. Prints one markdown row: median login, median hash, median of
 * login minus hash, in ms.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <crypt.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

static char password[512];

static _Noreturn void
die(const char *msg)
{
	fprintf(stderr, "login_bench: %s\n", msg);
	exit(2);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Answers every hidden prompt with the password; shows nothing. */
static int
conv(int n, const struct pam_message **msg, struct pam_response **ret, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
			continue;
		r[i].resp = strdup(password);
		if (!r[i].resp) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*ret = r;
	return PAM_SUCCESS;
}

/* One whole login; 0 when every step succeeded. */
static int
login(const char *confdir, const char *service, const char *user)
{
	struct pam_conv c = {conv, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	rc = pam_start_confdir(service, user, &c, confdir, &pamh);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = pam_authenticate(pamh, 0);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(pamh, 0);
	if (rc == PAM_SUCCESS)
		rc = pam_open_session(pamh, 0);
	if (rc == PAM_SUCCESS)
		rc = pam_close_session(pamh, 0);
	pam_end(pamh, rc);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	double *t_login, *t_hash, *t_beyond;
	struct spwd *sp;
	char *hash;
	size_t n, len;

	if (argc != 5 || (n = strtoul(argv[4], NULL, 10)) < 1 || n > 100000)
		die("usage: login_bench CONFDIR SERVICE USER N  (password on stdin)");
	if (!fgets(password, sizeof(password), stdin))
		die("no password on stdin");
	len = strcspn(password, "\n");
	password[len] = '\0';
	sp = getspnam(argv[3]);
	if (!sp || !sp->sp_pwdp || !(hash = strdup(sp->sp_pwdp)))
		die("no shadow entry for the user through NSS (run as root)");
	t_login = calloc(n, sizeof(double));
	t_hash = calloc(n, sizeof(double));
	t_beyond = calloc(n, sizeof(double));
	if (!cd || !t_login || !t_hash || !t_beyond)
		die("out of memory");

	/* Warm-up: the module, libcrypt and the image pages. */
	for (int i = 0; i < 3; i++)
		if (login(argv[1], argv[2], argv[3]) != PAM_SUCCESS)
			die("a login failed (wrong password, or the service refuses)");
	for (size_t i = 0; i < n; i++) {
		double t0 = now_ms(), t1, t2;
		const char *out;

		if (login(argv[1], argv[2], argv[3]) != PAM_SUCCESS)
			die("a login failed");
		t1 = now_ms();
		out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
		t2 = now_ms();
		if (!out || strcmp(out, hash) != 0)
			die("the shadow entry's hash does not verify the password");
		t_login[i] = t1 - t0;
		t_hash[i] = t2 - t1;
		t_beyond[i] = t_login[i] - t_hash[i];
	}
	printf("%.3f | %.3f | %.3f", median(t_login, n), median(t_hash, n), median(t_beyond, n));
	printf("\n");
	explicit_bzero(password, sizeof(password));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	free(hash);
	free(t_login);
	free(t_hash);
	free(t_beyond);
	return 0;
}
