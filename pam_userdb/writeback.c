/* A password change on a fleet host goes to central first: passwd.c hands
 * the new hash to the root-only helper userdb-central-passwd
 * (userdb-central-passwd.c), which calls userdb.host_set_password() with
 * the host's login, and writes the local copy only when central committed.
 * The helper, not this module, links libpq. It is given WAIT_SECONDS in
 * all (its own connect gives up after 3 s): a password change at login
 * must never hang on the network. Called by passwd.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "module.h"

#ifndef PUD_CENTRAL_PASSWD_PATH
#error "PUD_CENTRAL_PASSWD_PATH must name the installed userdb-central-passwd"
#endif

#define WAIT_SECONDS 10

/* The child: the hash pipe as stdin, the answer pipe as stdout, stderr to
 * /dev/null, a clean environment (USERDB_CONF only), all uids root's when
 * the effective one is (a setuid passwd: the user can then not signal it)
 * and a session of its own (the terminal's ^C and ^Z do not reach it). */
static void __attribute__((noreturn))
exec_helper(const char *path, int in, int out, const char *conf, int64_t user_id, int64_t at)
{
	char env_conf[4096], id[24], when[24], arg0[] = "userdb-central-passwd";
	char *envp[2] = {NULL, NULL};
	char *argv[4] = {arg0, id, when, NULL};
	int null_fd;

	/* No malloc after fork: the application may have threads. */
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(null_fd, STDERR_FILENO) < 0)
		_exit(127);
	closefrom(STDERR_FILENO + 1);
	if (geteuid() == 0 && setresuid(0, 0, 0) != 0)
		_exit(127);
	setsid();
	snprintf(id, sizeof(id), "%" PRId64, user_id);
	snprintf(when, sizeof(when), "%" PRId64, at);
	if (conf &&
	    (size_t)snprintf(env_conf, sizeof(env_conf), "USERDB_CONF=%s", conf) < sizeof(env_conf))
		envp[0] = env_conf;
	execve(path, argv, envp);
	_exit(127);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the helper's answer until EOF or the deadline; false at the
 * deadline or on a read error. */
static bool
read_answer(int fd, char *buf, size_t size, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t n = 0;
	ssize_t got;
	int left;

	for (;;) {
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return false;
		if (poll(&p, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (p.revents == 0)
			continue;
		got = read(fd, buf + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return false;
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == size - 1)
			break;
	}
	buf[n] = '\0';
	return true;
}

/* Runs the helper; its exit status (0..255), or -1 when it could not be
 * run, was killed at the deadline or died of a signal. */
static int
run_helper(struct pud_ctx *ctx, const char *path, int64_t user_id, const char *hash, int64_t at,
	   char *answer, size_t size)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old_chld;
	int in[2] = {-1, -1}, out[2] = {-1, -1}, status = 0;
	int64_t deadline = now_ms() + WAIT_SECONDS * 1000;
	pid_t pid = -1, got = -1;
	bool answered = false;
	size_t len = strlen(hash);

	answer[0] = '\0';
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		goto out;
	/* A hash is far below a pipe's capacity: written whole before the
	 * child runs, so a child that never reads cannot block this, and the
	 * read end is open here, so no SIGPIPE. */
	if (write(in[1], hash, len) != (ssize_t)len || write(in[1], "\n", 1) != 1)
		goto out;
	close(in[1]);
	in[1] = -1;
	/* As chkpwd.c: an application that ignores SIGCHLD would have the
	 * child reaped before waitpid sees it. */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old_chld);
	pid = fork();
	if (pid == 0)
		exec_helper(path, in[0], out[1], ctx->args.conf, user_id, at);
	close(out[1]);
	out[1] = -1;
	if (pid > 0) {
		answered = read_answer(out[0], answer, size, deadline);
		if (!answered) {
			pam_syslog(ctx->pamh, LOG_ERR, "%s gave no answer in %d s: killed", path,
				   WAIT_SECONDS);
			kill(pid, SIGKILL);
		}
		while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	sigaction(SIGCHLD, &old_chld, NULL);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (pid < 0 || got != pid || !answered || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
tell(struct pud_ctx *ctx, int flags, const char *text)
{
	if (!(flags & PAM_SILENT))
		pam_error(ctx->pamh, "%s", text);
}

int
pud_writeback_password(struct pud_ctx *ctx, const struct udb_account *account, const char *hash,
		       int64_t at, int flags, int64_t *ret_rev)
{
	const char *path =
		ctx->args.central_passwd ? ctx->args.central_passwd : PUD_CENTRAL_PASSWD_PATH;
	char answer[32], *end = NULL;
	const char *why;
	int status;

	*ret_rev = 0;
	status = run_helper(ctx, path, account->user_id, hash, at, answer, sizeof(answer));
	if (status == 0) {
		errno = 0;
		*ret_rev = strtoll(answer, &end, 10);
		if (errno == 0 && end != answer && (*end == '\n' || *end == '\0') && *ret_rev > 0)
			return PAM_SUCCESS;
		status = 6;
	}
	switch (status) {
	case -1:
	case 5:
		why = "The central user database is unreachable: password not changed.";
		break;
	case 1:
		why = "The central user database refused the change: password not changed.";
		break;
	case 2:
		why = "The central user database refused this host's login: password not changed.";
		break;
	default:
		why = "The password cannot be changed in the central user database: password not "
		      "changed.";
		break;
	}
	pam_syslog(ctx->pamh, LOG_ERR,
		   "password change refused for %s: central write-back failed (%s status %d)",
		   account->username, path, status);
	tell(ctx, flags, why);
	return PAM_AUTHTOK_ERR;
}
