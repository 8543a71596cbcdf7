/* The driver bench/run-pam-callgrind.sh runs under callgrind (never the
 * test suite): N successful pam_authenticate calls of one user, a fresh
 * PAM handle each, as pam_bench's table (a) makes them, so that the
 * instructions pam_sm_authenticate spends outside libcrypt can be counted
 * without the noise of a shared machine's clock.
 *
 *   pam_auth_loop CONFDIR SERVICE USER PASSWORD N
 *
 * Exits 1 at the first login that does not succeed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
			continue;
		r[i].resp = strdup(data);
		if (!r[i].resp) {
			for (int k = 0; k < i; k++)
				free(r[k].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct pam_conv conv = {converse, NULL};
	long n;

	if (argc != 6 || (n = strtol(argv[5], NULL, 10)) < 1) {
		fprintf(stderr, "usage: pam_auth_loop CONFDIR SERVICE USER PASSWORD N\n");
		return 2;
	}
	conv.appdata_ptr = argv[4];
	for (long i = 0; i < n; i++) {
		pam_handle_t *ph = NULL;
		int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &ph);

		if (rc == PAM_SUCCESS)
			rc = pam_authenticate(ph, 0);
		if (ph)
			pam_end(ph, rc);
		if (rc != PAM_SUCCESS) {
			fprintf(stderr, "login %ld: %s\n", i + 1, pam_strerror(NULL, rc));
			return 1;
		}
	}
	return 0;
}
