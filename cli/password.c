/* Reading a new password and hashing it: one line from stdin with
 * --password-stdin (without echo if stdin is a terminal; one trailing \r
 * of a CRLF line ending dropped), otherwise twice
 * from /dev/tty with echo off. Never
 * from argv or the environment. Every buffer that held the password is
 * wiped before it is released, on every path. Called by `user add` and
 * `user passwd` (user.c, account.c), which also take a ready-made hash
 * from one line of stdin with --password-hash-stdin. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "hash.h"

/* Room for the longest password, one more byte to notice a longer one, and
 * the terminating NUL. */
#define BUF_SIZE (UDB_PASSWORD_MAX + 2)

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define N_TTY_SIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

static volatile sig_atomic_t caught_signal;

static void
on_signal(int sig)
{
	caught_signal = sig;
}

/* Reads bytes from fd up to a newline or end of file into buf. *ret_len is
 * the length read; a line longer than the buffer is drained and reported
 * as UDB_BUFFER_TOO_SMALL. A read interrupted by a signal is UDB_IO. */
static enum udb_result
read_line(int fd, char *buf, size_t *ret_len)
{
	size_t len = 0;
	bool too_long = false;
	char ch = 0;

	for (;;) {
		ssize_t n = read(fd, &ch, 1);

		if (n < 0 && errno == EINTR && !caught_signal)
			continue;
		if (n < 0)
			return UDB_IO;
		if (n == 0 || ch == '\n')
			break;
		if (len < BUF_SIZE - 1)
			buf[len++] = ch;
		else
			too_long = true;
	}
	explicit_bzero(&ch, sizeof(ch));
	buf[len] = '\0';
	*ret_len = len;
	return too_long ? UDB_BUFFER_TOO_SMALL : UDB_OK;
}

/* One line from /dev/tty with echo off. The terminal is restored on every
 * path; a signal that arrives meanwhile is re-raised once it is. */
static enum udb_result
read_tty(int fd, const char *prompt, char *buf, size_t *ret_len)
{
	struct sigaction sa = {.sa_handler = on_signal}, old_sa[N_TTY_SIGNALS];
	struct termios old_tio, tio;
	enum udb_result r;
	int sig;

	if (tcgetattr(fd, &old_tio) < 0)
		return cli_error(UDB_INVALID,
				 "password: /dev/tty is not a terminal (use --password-stdin)");
	tio = old_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	tio.c_lflag |= ECHONL | ICANON;
	caught_signal = 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &sa, &old_sa[i]);
	/* TCSAFLUSH drops anything typed before echo went off. */
	if (tcsetattr(fd, TCSAFLUSH, &tio) < 0) {
		r = cli_error(UDB_IO, "password: cannot turn off echo on /dev/tty");
		goto out;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = cli_error(UDB_IO, "password: cannot write to /dev/tty");
		goto out;
	}
	r = read_line(fd, buf, ret_len);
out:
	tcsetattr(fd, TCSAFLUSH, &old_tio);
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &old_sa[i], NULL);
	sig = caught_signal;
	if (sig) {
		explicit_bzero(buf, BUF_SIZE);
		raise(sig);
		return cli_error(UDB_INVALID, "password: interrupted");
	}
	return r;
}

/* Checks a password just read; the error names the rule it breaks. */
static enum udb_result
check_password(const struct cli *c, enum udb_result r, const char *pw, size_t len)
{
	size_t max = udb_hash_password_max(c->cfg);

	if (r == UDB_BUFFER_TOO_SMALL || (r == UDB_OK && len > UDB_PASSWORD_MAX))
		return cli_error(UDB_INVALID, "password: longer than %d bytes", UDB_PASSWORD_MAX);
	if (r == UDB_OK && len > max)
		return cli_error(UDB_INVALID,
				 "password: longer than %zu bytes, where bcrypt "
				 "(hash_method) would cut it",
				 max);
	if (r != UDB_OK)
		return cli_error(r, "password: cannot read it");
	if (strlen(pw) != len)
		return cli_error(UDB_INVALID, "password: contains a NUL byte");
	if (len == 0)
		return cli_error(UDB_INVALID, "password: empty");
	if (len < c->cfg->pass_min_len)
		return cli_error(UDB_INVALID, "password: shorter than %u bytes (pass_min_len)",
				 c->cfg->pass_min_len);
	return UDB_OK;
}

static enum udb_result
read_password(const struct cli *c, bool from_stdin, const char *username, char *pw)
{
	char again[BUF_SIZE], prompt[96];
	size_t len = 0, len2 = 0;
	enum udb_result r;
	int fd;

	if (from_stdin && !isatty(STDIN_FILENO)) {
		r = read_line(STDIN_FILENO, pw, &len);
		/* A line from a Windows editor or a CRLF pipe ends in "\r\n":
		 * the \r is the line's end, not the password's last byte. */
		if (r == UDB_OK && len > 0 && pw[len - 1] == '\r')
			pw[--len] = '\0';
		return check_password(c, r, pw, len);
	}
	if (from_stdin) {
		/* Someone typing into --password-stdin: still one line, but
		 * without echo. */
		r = read_tty(STDIN_FILENO, "Password: ", pw, &len);
		return r == UDB_OK || r == UDB_BUFFER_TOO_SMALL ? check_password(c, r, pw, len) : r;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return cli_error(UDB_INVALID,
				 "password: no terminal to ask on (use --password-stdin)");
	snprintf(prompt, sizeof(prompt), "New password for %s: ", username);
	r = read_tty(fd, prompt, pw, &len);
	if (r == UDB_OK || r == UDB_BUFFER_TOO_SMALL)
		r = check_password(c, r, pw, len);
	if (r == UDB_OK)
		r = read_tty(fd, "Retype new password: ", again, &len2);
	if (r == UDB_OK && (len != len2 || memcmp(pw, again, len) != 0))
		r = cli_error(UDB_INVALID, "password: the two entries do not match");
	explicit_bzero(again, sizeof(again));
	close(fd);
	return r;
}

/* A command run a second time (cli_central_rerun_reset) cannot read its
 * password again: stdin is spent. The first run keeps the hash it made. */
static enum udb_result
keep_hash(struct cli *c, char **hash)
{
	c->cached_hash = strdup(*hash);
	if (c->cached_hash)
		return UDB_OK;
	explicit_bzero(*hash, strlen(*hash));
	free(*hash);
	*hash = NULL;
	return cli_fail(UDB_NO_MEMORY, "password");
}

static enum udb_result
reuse_hash(struct cli *c, char **ret_hash)
{
	*ret_hash = strdup(c->cached_hash);
	return *ret_hash ? UDB_OK : cli_fail(UDB_NO_MEMORY, "password");
}

void
cli_password_forget(struct cli *c)
{
	if (c->cached_hash)
		explicit_bzero(c->cached_hash, strlen(c->cached_hash));
	free(c->cached_hash);
	c->cached_hash = NULL;
}

enum udb_result
cli_password_hash(struct cli *c, bool from_stdin, const char *username, char **ret_hash)
{
	char pw[BUF_SIZE];
	enum udb_result r;

	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	if (c->cached_hash)
		return reuse_hash(c, ret_hash);
	r = read_password(c, from_stdin, username, pw);
	if (r == UDB_OK) {
		r = udb_hash_password(c->cfg, pw, ret_hash);
		if (r != UDB_OK)
			cli_error(r, "password: hashing failed (hash_method or hash_cost in %s)",
				  c->cfg->path ? cli_quote(c->cfg->path) : "the defaults");
	}
	explicit_bzero(pw, sizeof(pw));
	if (r == UDB_OK)
		r = keep_hash(c, ret_hash);
	return r;
}

enum udb_result
cli_password_hash_stdin(struct cli *c, char **ret_hash)
{
	char line[BUF_SIZE];
	size_t len = 0;
	enum udb_result r;

	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	if (c->cached_hash)
		return reuse_hash(c, ret_hash);
	if (isatty(STDIN_FILENO))
		r = read_tty(STDIN_FILENO, "Password hash: ", line, &len);
	else
		r = read_line(STDIN_FILENO, line, &len);
	if (r == UDB_OK && len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (r == UDB_BUFFER_TOO_SMALL)
		r = cli_error(UDB_INVALID, "password hash: longer than %d bytes", UDB_PASSWORD_MAX);
	else if (r != UDB_OK)
		r = cli_error(r, "password hash: cannot read it");
	else if (strlen(line) != len || udb_hash_check_stored(line) != UDB_OK)
		r = cli_error(UDB_INVALID,
			      "password hash: not a hash libxcrypt can verify (a method it knows "
			      "and allows, such as $y$ or $6$; not empty, '*' or '!'; no ':' or "
			      "control characters)");
	if (r == UDB_OK) {
		*ret_hash = strdup(line);
		if (!*ret_hash)
			r = cli_error(UDB_NO_MEMORY, "password hash: out of memory");
	}
	explicit_bzero(line, sizeof(line));
	if (r == UDB_OK)
		r = keep_hash(c, ret_hash);
	return r;
}
