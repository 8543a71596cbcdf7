/* Which sessions are logins: the rule pam_sm_open_session (pam_userdb.c)
 * applies before it writes the login record (time, remote host, count).
 * Reads PAM items only. */
#include <string.h>

#include "module.h"

/* Not a login when someone else switches to the user: su and sudo set
 * PAM_RUSER to whoever ran them (root's `su - alice`, a script's
 * `su - alice -c …`, `sudo -u alice`, `su alice` from another account),
 * and like wtmp and lastlog the record leaves switches out. sshd and
 * login do not set it. Sessions nobody interactive opens (cron, sudo,
 * systemd --user) go through common-session-noninteractive, which the
 * shipped profile keeps the module out of (Session-Interactive-Only). */
bool
pud_session_is_login(pam_handle_t *pamh, const char *user)
{
	const void *ruser = NULL;

	if (pam_get_item(pamh, PAM_RUSER, &ruser) != PAM_SUCCESS)
		ruser = NULL;
	return !ruser || !*(const char *)ruser || strcmp(ruser, user) == 0;
}
