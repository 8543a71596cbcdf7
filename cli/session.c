/* A user's running processes, for the commands that change an account:
 * `--terminate` on `user disable`, `user expire` and `revoke` ends them, and
 * `user del` refuses while any run. The process work is common/procs.c;
 * this file words it. Called by account.c, grant.c and user.c. */
#include <stdio.h>

#include "cli.h"
#include "procs.h"

/* SIGHUP first, as a hangup of the terminal would; what is still there
 * after this long gets SIGKILL. */
#define GRACE_MS 1000

enum udb_result
cli_terminate(struct cli *c, const char *name, uint32_t uid)
{
	unsigned n = 0;
	enum udb_result r;

	r = udb_procs_terminate(uid, GRACE_MS, &n);
	if (r != UDB_OK)
		return cli_error(r,
				 "user %s: the change is saved, but ending its processes (uid %u) "
				 "failed: %s",
				 cli_quote(name), (unsigned)uid, udb_result_to_string(r));
	c->subject.terminate = true;
	c->subject.terminated = n;
	return UDB_OK;
}

const char *
cli_terminated_text(const struct cli *c)
{
	static char buf[64];
	unsigned n = c->subject.terminated;

	if (!c->subject.terminate)
		return "";
	snprintf(buf, sizeof(buf), "; %u process%s signalled", n, n == 1 ? "" : "es");
	return buf;
}
