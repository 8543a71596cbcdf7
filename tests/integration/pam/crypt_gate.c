/* An LD_PRELOAD shim that holds one password's hash at a gate, so a test
 * can make an attempt read the account, start hashing, and finish only
 * after other attempts have locked the account: the race of a lockout
 * decided before the hash. Driven by the environment:
 *   CRYPT_GATE_PASSWORD  the password to hold (others pass at once);
 *   CRYPT_GATE_DIR       a directory: the shim creates DIR/reached when the
 *                        password's hash starts, then waits (up to 60 s)
 *                        for DIR/open to exist before hashing.
 * Used by race.sh and owner.sh (suite pam) and tests/e2e/lockout.sh
 * (through sshd, which passes its environment on to the processes it
 * starts; both are read when the shim is loaded). The module
 * must resolve crypt_rn through the global scope: under pam_wrapper that
 * needs PAM_WRAPPER_DISABLE_DEEPBIND=1. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef char *crypt_rn_fn(const char *phrase, const char *setting, void *data, int size);

__attribute__((visibility("default"))) char *crypt_rn(const char *phrase, const char *setting,
						      void *data, int size);

/* Read when the shim is loaded: sshd's PAM process empties its
 * environment (environ[0] = NULL) before it calls PAM. */
static char gate_password[512], gate_dir[PATH_MAX - 16];

__attribute__((constructor)) static void
gate_init(void)
{
	const char *pw = getenv("CRYPT_GATE_PASSWORD"), *dir = getenv("CRYPT_GATE_DIR");

	if (pw && dir && strlen(pw) < sizeof(gate_password) && strlen(dir) < sizeof(gate_dir)) {
		strcpy(gate_password, pw);
		strcpy(gate_dir, dir);
	}
}

static void
gate(const char *phrase)
{
	const char *pw = gate_password, *dir = gate_dir;
	struct timespec tick = {0, 10 * 1000 * 1000};
	char path[PATH_MAX];
	int fd;

	if (!pw[0] || !phrase || strcmp(pw, phrase) != 0)
		return;
	snprintf(path, sizeof(path), "%s/reached", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/open", dir);
	for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++)
		nanosleep(&tick, NULL);
}

char *
crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	crypt_rn_fn *real;

	/* libcrypt usually comes in with the module, after this shim and
	 * outside the global scope that RTLD_NEXT searches. */
	*(void **)&real = dlsym(RTLD_NEXT, "crypt_rn");
	if (!real) {
		void *lib = dlopen("libcrypt.so.1", RTLD_LAZY | RTLD_LOCAL);

		if (lib)
			*(void **)&real = dlsym(lib, "crypt_rn");
	}

	gate(phrase);
	return real ? real(phrase, setting, data, size) : NULL;
}
