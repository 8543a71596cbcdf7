/* The unprivileged door: when the caller cannot open the shadow file (a
 * screen locker running as the user), pam_sm_authenticate hands the
 * password to the setuid helper userdb-chkpwd (userdb-chkpwd.c), which
 * checks the caller's own password and records the attempt like a login.
 * Called by pam_userdb.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "module.h"
#include "validate.h"

#ifndef PUD_CHKPWD_PATH
#error "PUD_CHKPWD_PATH must name the installed userdb-chkpwd"
#endif

/* Writes the whole password to fd with SIGPIPE blocked in this thread (a
 * helper that died early must not kill the application), then takes back
 * a SIGPIPE that this raised. */
static bool
write_password(int fd, const char *password)
{
	size_t len = strlen(password), done = 0;
	sigset_t pipe_set, old;
	struct timespec zero = {0, 0};
	bool pending_before;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	{
		sigset_t pending;

		sigpending(&pending);
		pending_before = sigismember(&pending, SIGPIPE);
	}
	while (done < len) {
		n = write(fd, password + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (!pending_before)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return done == len;
}

/* The child: the pipe as stdin, nothing else open, a clean environment
 * (USERDB_CONF only, which a setuid helper ignores). */
static void __attribute__((noreturn))
exec_helper(const char *path, const char *user, int in, const char *conf)
{
	char env_conf[4096], name[UDB_NAME_MAX + 1], arg0[] = "userdb-chkpwd";
	char *envp[2] = {NULL, NULL};
	char *argv[3] = {arg0, name, NULL};

	/* No malloc after fork: the application may have threads. */
	if (dup2(in, STDIN_FILENO) < 0 || !udb_valid_username(user))
		_exit(4);
	snprintf(name, sizeof(name), "%s", user);
	closefrom(STDERR_FILENO + 1);
	if (conf &&
	    (size_t)snprintf(env_conf, sizeof(env_conf), "USERDB_CONF=%s", conf) < sizeof(env_conf))
		envp[0] = env_conf;
	execve(path, argv, envp);
	_exit(4);
}

int
pud_chkpwd_run(struct pud_ctx *ctx, const char *user, const char *password)
{
	const char *path = ctx->args.chkpwd ? ctx->args.chkpwd : PUD_CHKPWD_PATH;
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old_chld;
	int fds[2], status = 0;
	pid_t pid, got;
	bool sent;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return PAM_AUTH_ERR;
	/* As pam_unix does for unix_chkpwd: an application that ignores
	 * SIGCHLD would have the child reaped before waitpid sees it. */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old_chld);
	pid = fork();
	if (pid == 0)
		exec_helper(path, user, fds[0], ctx->args.conf);
	close(fds[0]);
	sent = pid > 0 && write_password(fds[1], password);
	close(fds[1]);
	got = -1;
	if (pid > 0)
		while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
	sigaction(SIGCHLD, &old_chld, NULL);
	if (pid < 0 || got != pid || !sent || !WIFEXITED(status)) {
		pam_syslog(ctx->pamh, LOG_ERR, "cannot run %s for %s", path, user);
		return PAM_AUTH_ERR;
	}
	switch (WEXITSTATUS(status)) {
	case 0:
		return PAM_SUCCESS;
	case 2:
		return PAM_USER_UNKNOWN;
	case 1:
	case 3:
		return PAM_AUTH_ERR;
	default:
		/* Fail closed, never AUTHINFO_UNAVAIL: the profile would hand
		 * that to pam_unix, which checks the same hash uncounted. */
		pam_syslog(ctx->pamh, LOG_ERR, "%s for %s failed with status %d", path, user,
			   WEXITSTATUS(status));
		return PAM_AUTH_ERR;
	}
}
