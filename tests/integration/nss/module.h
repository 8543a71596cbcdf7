/* The built module, dlopen()ed by path (NSS_USERDB_MODULE) so that the tests
 * call its _nss_userdb_* symbols directly: the only way to see the exact
 * NSS status, errno and every buffer size. Used by every test_nss_*.c.
 *
 * Load it in main(), before check forks: the parent never looks anything
 * up, so every test starts with no connection open. */
#ifndef NSS_TEST_MODULE_H
#define NSS_TEST_MODULE_H

#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>

struct nss_module {
	nss_getpwnam_r *getpwnam_r;
	nss_getpwuid_r *getpwuid_r;
	nss_setpwent *setpwent;
	nss_getpwent_r *getpwent_r;
	nss_endpwent *endpwent;
	nss_getgrnam_r *getgrnam_r;
	nss_getgrgid_r *getgrgid_r;
	nss_setgrent *setgrent;
	nss_getgrent_r *getgrent_r;
	nss_endgrent *endgrent;
	nss_initgroups_dyn *initgroups_dyn;
	nss_getspnam_r *getspnam_r;
	nss_setspent *setspent;
	nss_getspent_r *getspent_r;
	nss_endspent *endspent;
};

extern struct nss_module mod;

/* Exits with status 99 (meson's hard error) when the module cannot be
 * loaded or lacks a symbol. */
void module_load(void);

/* "NOTFOUND/ENOENT" and the like, for messages. */
const char *status_name(enum nss_status st);

/* Whether the NULL-terminated member list is exactly the NULL-terminated
 * set want, in any order, without repeats. */
int members_are(char **mem, const char *const *want);

/* Whether this process has a file of that name (say "nss.img", not
 * "public.db-shm") mapped into memory, from /proc/self/maps. */
int file_mapped(const char *name);

/* A buffer of exactly len bytes that ends where an inaccessible page
 * begins, so that a write past len crashes the test instead of passing
 * unnoticed. Valid until the next call. */
char *guarded_buffer(size_t len);

/* Every lookup result the tests compare: status and, unless SUCCESS,
 * errno. */
#define ck_assert_nss(st, err, want_st, want_err)                                                  \
	ck_assert_msg((st) == (want_st) &&                                                         \
			      ((want_st) == NSS_STATUS_SUCCESS || (err) == (want_err)),            \
		      "got %s errno %d, want %s errno %d", status_name(st), (err),                 \
		      status_name(want_st), (want_err))

#endif
