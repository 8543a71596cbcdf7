/* Loading the module under test; see module.h. */
#include <dlfcn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

struct nss_module mod;

static void *
sym(void *handle, const char *name)
{
	char full[64];
	void *p;

	snprintf(full, sizeof(full), "_nss_userdb_%s", name);
	p = dlsym(handle, full);
	if (!p) {
		fprintf(stderr, "module has no %s\n", full);
		exit(99);
	}
	return p;
}

#define LOAD(field) memcpy(&mod.field, &(void *){sym(h, #field)}, sizeof(void *))

void
module_load(void)
{
	const char *path = getenv("NSS_USERDB_MODULE");
	void *h;

	if (!path) {
		fprintf(stderr, "NSS_USERDB_MODULE is not set\n");
		exit(99);
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		exit(99);
	}
	LOAD(getpwnam_r);
	LOAD(getpwuid_r);
	LOAD(setpwent);
	LOAD(getpwent_r);
	LOAD(endpwent);
	LOAD(getgrnam_r);
	LOAD(getgrgid_r);
	LOAD(setgrent);
	LOAD(getgrent_r);
	LOAD(endgrent);
	LOAD(initgroups_dyn);
	LOAD(getspnam_r);
	LOAD(setspent);
	LOAD(getspent_r);
	LOAD(endspent);
}

const char *
status_name(enum nss_status st)
{
	switch (st) {
	case NSS_STATUS_SUCCESS:
		return "SUCCESS";
	case NSS_STATUS_NOTFOUND:
		return "NOTFOUND";
	case NSS_STATUS_TRYAGAIN:
		return "TRYAGAIN";
	case NSS_STATUS_UNAVAIL:
		return "UNAVAIL";
	case NSS_STATUS_RETURN:
		return "RETURN";
	default:
		return "?";
	}
}

int
file_mapped(const char *name)
{
	char line[1024];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strlen(line) > strlen(name) + 2 && line[strlen(line) - 1] == '\n' &&
		    line[strlen(line) - strlen(name) - 2] == '/' &&
		    strncmp(line + strlen(line) - strlen(name) - 1, name, strlen(name)) == 0)
			found = 1;
	fclose(f);
	return found;
}

int
members_are(char **mem, const char *const *want)
{
	size_t n = 0, w = 0;

	while (want[w])
		w++;
	for (; mem[n]; n++) {
		size_t hits = 0;

		for (size_t i = 0; want[i]; i++)
			hits += strcmp(mem[n], want[i]) == 0;
		for (size_t j = 0; j < n; j++)
			hits += strcmp(mem[n], mem[j]) == 0 ? 2 : 0;
		if (hits != 1)
			return 0;
	}
	return n == w;
}

char *
guarded_buffer(size_t len)
{
	static char *region;
	static size_t region_size;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = (len + page - 1) / page * page + page;

	if (need > region_size) {
		if (region)
			munmap(region, region_size);
		region = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0);
		if (region == MAP_FAILED) {
			fprintf(stderr, "mmap failed\n");
			exit(99);
		}
		region_size = need;
		mprotect(region + need - page, page, PROT_NONE);
	}
	return region + region_size - page - len;
}
