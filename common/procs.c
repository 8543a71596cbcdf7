/* Finding and ending a uid's processes through /proc. Called by the CLI
 * (cli/user.c, cli/account.c, cli/grant.c) for `user del` and the
 * `--terminate` options; the PAM and NSS modules never use it.
 *
 * A process belongs to the uid when its real, effective or saved uid is
 * that uid (the Uid: line of /proc/PID/status), so a setuid program a
 * user started, or a daemon that dropped to the user, counts too. To
 * signal, each pid is first pinned with pidfd_open and only then checked
 * again: a process that exited and whose pid went to someone else is then
 * never signalled. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "procs.h"

#define MAX_ROUNDS 20

/* Whether /proc/PID/status (dirfd: /proc) says uid is one of the
 * process's real, effective or saved uids. A process that is gone, or a
 * file that cannot be read, or a zombie, is not the uid's. */
static bool
owned_by(int proc_fd, const char *pid, uid_t uid)
{
	char path[64], buf[4096];
	unsigned long ids[4];
	bool owned = false;
	ssize_t n;
	char *line;
	int fd;

	snprintf(path, sizeof(path), "%s/status", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* A zombie has ended; only its parent's wait() is missing. */
	line = strstr(buf, "\nState:");
	if (line && (strstr(line, "\tZ") == line + 7 || strstr(line, "\tX") == line + 7))
		return false;
	line = strstr(buf, "\nUid:");
	if (line && sscanf(line + 5, "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) == 4)
		owned = ids[0] == uid || ids[1] == uid || ids[2] == uid;
	return owned;
}

static bool
is_pid(const char *name, pid_t *ret_pid)
{
	char *end;
	long v;

	if (name[0] < '1' || name[0] > '9')
		return false;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno || *end || v <= 0 || v > 0x7fffffff)
		return false;
	*ret_pid = (pid_t)v;
	return true;
}

/* Calls fn for every process of uid but the caller; stops at the first
 * result that is not UDB_OK. */
static enum udb_result
for_each(uid_t uid, enum udb_result (*fn)(int proc_fd, const char *name, pid_t pid, void *ctx),
	 void *ctx)
{
	enum udb_result r = UDB_OK;
	struct dirent *e;
	pid_t self = getpid();
	int proc_fd;
	DIR *d;

	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return UDB_IO;
	d = fdopendir(dup(proc_fd));
	if (!d) {
		close(proc_fd);
		return UDB_IO;
	}
	while (r == UDB_OK && (e = readdir(d))) {
		pid_t pid;

		if (is_pid(e->d_name, &pid) && pid != self && owned_by(proc_fd, e->d_name, uid))
			r = fn(proc_fd, e->d_name, pid, ctx);
	}
	closedir(d);
	close(proc_fd);
	return r;
}

static enum udb_result
count_one(int proc_fd, const char *name, pid_t pid, void *ctx)
{
	(void)proc_fd;
	(void)name;
	(void)pid;
	(*(unsigned *)ctx)++;
	return UDB_OK;
}

enum udb_result
udb_procs_count(uid_t uid, unsigned *ret_count)
{
	unsigned n = 0;
	enum udb_result r;

	if (uid == 0)
		return UDB_INVALID;
	r = for_each(uid, count_one, &n);
	if (r == UDB_OK)
		*ret_count = n;
	return r;
}

/* The pids signalled so far, to count each process once. */
struct signal_round {
	uid_t uid;
	int sig;
	pid_t *seen;
	size_t n_seen, cap;
	unsigned sent; /* in this round */
};

static enum udb_result
remember(struct signal_round *s, pid_t pid)
{
	for (size_t i = 0; i < s->n_seen; i++)
		if (s->seen[i] == pid)
			return UDB_OK;
	if (s->n_seen == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		pid_t *grown = realloc(s->seen, cap * sizeof(*grown));

		if (!grown)
			return UDB_NO_MEMORY;
		s->seen = grown;
		s->cap = cap;
	}
	s->seen[s->n_seen++] = pid;
	return UDB_OK;
}

static enum udb_result
signal_one(int proc_fd, const char *name, pid_t pid, void *ctx)
{
	struct signal_round *s = ctx;
	int pidfd, rc, err;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? UDB_OK : UDB_IO;
	/* Pinned: if it is still the uid's now, it is the process found. */
	if (!owned_by(proc_fd, name, s->uid)) {
		close(pidfd);
		return UDB_OK;
	}
	rc = (int)syscall(SYS_pidfd_send_signal, pidfd, s->sig, NULL, 0);
	err = errno;
	close(pidfd);
	if (rc < 0)
		return err == ESRCH ? UDB_OK : UDB_PERMISSION;
	s->sent++;
	return remember(s, pid);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

enum udb_result
udb_procs_terminate(uid_t uid, unsigned grace_ms, unsigned *ret_signalled)
{
	struct signal_round s = {.uid = uid, .sig = SIGHUP};
	enum udb_result r;
	unsigned left = 0;

	if (uid == 0)
		return UDB_INVALID;
	r = for_each(uid, signal_one, &s);
	/* Give the hangup a moment to end shells and sessions cleanly. */
	for (unsigned waited = 0; r == UDB_OK && s.sent && waited < grace_ms; waited += 50) {
		r = udb_procs_count(uid, &left);
		if (r != UDB_OK || left == 0)
			break;
		sleep_ms(50);
	}
	s.sig = SIGKILL;
	for (int round = 0; r == UDB_OK; round++) {
		s.sent = 0;
		r = for_each(uid, signal_one, &s);
		if (r != UDB_OK || s.sent == 0)
			break;
		if (round == MAX_ROUNDS) {
			r = UDB_BUSY;
			break;
		}
		/* SIGKILL is not instant: let them die before looking again. */
		sleep_ms(20);
	}
	if (r == UDB_OK)
		*ret_signalled = (unsigned)s.n_seen;
	free(s.seen);
	return r;
}
