/* An LD_PRELOAD shim for the kill test (kill.c): counts the calls through
 * which a process changes files (write, pwrite, pwrite64, fsync,
 * fdatasync, ftruncate, ftruncate64: what SQLite's unix VFS uses; rename
 * and unlink: how the images are installed) and kills its own process with
 * SIGKILL right before the Nth one, so a kill can land at every point of a
 * commit, including between the shadow and the public file's commits and
 * between the renames that install new images. Driven by the environment:
 *   UDB_FAULT_KILL_AT=N   SIGKILL before the Nth call;
 *   UDB_FAULT_COUNT=PATH  write the number of calls to PATH at exit.
 * Built without _FILE_OFFSET_BITS=64, so that pwrite and pwrite64 are two
 * symbols here as they are in libc. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static long calls, kill_at = -1;

__attribute__((constructor)) static void
shim_init(void)
{
	const char *k = getenv("UDB_FAULT_KILL_AT");

	if (k)
		kill_at = atol(k);
}

__attribute__((destructor)) static void
shim_fini(void)
{
	const char *path = getenv("UDB_FAULT_COUNT");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%ld\n", calls);
		fclose(f);
	}
}

static void
tick(void)
{
	if (++calls == kill_at)
		raise(SIGKILL);
}

static void *
next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p)
		abort();
	return p;
}

#define SHIM_EXPORT __attribute__((visibility("default")))

SHIM_EXPORT ssize_t
write(int fd, const void *b, size_t n)
{
	static ssize_t (*real)(int fd, const void *b, size_t n);

	if (!real)
		*(void **)&real = next("write");
	tick();
	return real(fd, b, n);
}

SHIM_EXPORT ssize_t
pwrite(int fd, const void *b, size_t n, off_t o)
{
	static ssize_t (*real)(int fd, const void *b, size_t n, off_t o);

	if (!real)
		*(void **)&real = next("pwrite");
	tick();
	return real(fd, b, n, o);
}

SHIM_EXPORT ssize_t
pwrite64(int fd, const void *b, size_t n, off64_t o)
{
	static ssize_t (*real)(int fd, const void *b, size_t n, off64_t o);

	if (!real)
		*(void **)&real = next("pwrite64");
	tick();
	return real(fd, b, n, o);
}

SHIM_EXPORT int
fsync(int fd)
{
	static int (*real)(int fd);

	if (!real)
		*(void **)&real = next("fsync");
	tick();
	return real(fd);
}

SHIM_EXPORT int
fdatasync(int fd)
{
	static int (*real)(int fd);

	if (!real)
		*(void **)&real = next("fdatasync");
	tick();
	return real(fd);
}

SHIM_EXPORT int
ftruncate(int fd, off_t n)
{
	static int (*real)(int fd, off_t n);

	if (!real)
		*(void **)&real = next("ftruncate");
	tick();
	return real(fd, n);
}

SHIM_EXPORT int
ftruncate64(int fd, off64_t n)
{
	static int (*real)(int fd, off64_t n);

	if (!real)
		*(void **)&real = next("ftruncate64");
	tick();
	return real(fd, n);
}

SHIM_EXPORT int
rename(const char *from, const char *to)
{
	static int (*real)(const char *from, const char *to);

	if (!real)
		*(void **)&real = next("rename");
	tick();
	return real(from, to);
}

SHIM_EXPORT int
unlink(const char *path)
{
	static int (*real)(const char *path);

	if (!real)
		*(void **)&real = next("unlink");
	tick();
	return real(path);
}
