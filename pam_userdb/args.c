/* Parsing of the module arguments of one PAM line. The rules (which
 * arguments are ours, which values are bad) are common/pam_args.c, shared
 * with `userdb explain`; this file logs what they find. Called by every
 * entry point in pam_userdb.c before it does anything else. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "module.h"

/* Logs an unknown argument once per PAM handle: each entry point parses
 * its line again, and a stack that runs auth, account, session and
 * password would otherwise log the same typo four times. The mark is module
 * data named after the argument (libpam copies the name). */
static void
log_unknown_once(pam_handle_t *pamh, const char *arg)
{
	static int mark;
	char safe[128], key[192];
	const void *seen = NULL;

	pud_escape(arg, safe, sizeof(safe));
	snprintf(key, sizeof(key), "pam_userdb:unknown-argument:%s", safe);
	if (pam_get_data(pamh, key, &seen) == PAM_SUCCESS && seen)
		return;
	pam_syslog(pamh, LOG_WARNING, "unknown argument ignored: %s", safe);
	pam_set_data(pamh, key, &mark, NULL);
}

int
pud_args_parse(pam_handle_t *pamh, int argc, const char **argv, struct udb_pam_args *ret_args)
{
	struct udb_pam_args a = {0};
	int rc = PAM_SUCCESS;

	for (int i = 0; i < argc; i++) {
		char safe[128];
		enum udb_result r;

		if (!argv[i])
			continue;
		r = udb_pam_arg_parse(argv[i], &a);
		if (r == UDB_NOT_FOUND)
			log_unknown_once(pamh, argv[i]);
		if (r != UDB_INVALID)
			continue;
		pud_escape(argv[i], safe, sizeof(safe));
		pam_syslog(pamh, LOG_ERR, "bad value in argument %s", safe);
		rc = PAM_SERVICE_ERR;
	}
	*ret_args = a;
	return rc;
}
