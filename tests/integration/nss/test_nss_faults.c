/* An image that cannot be used: missing, corrupt, truncated, of another
 * format version, with offsets out of range, symlinked, writable by others.
 * Every lookup must then say UNAVAIL, never NOTFOUND (glibc would move on
 * and callers would believe "no such user") and never crash, print
 * nothing, and recover once the fault is gone. A thread that already has
 * an image mapped keeps answering from it (it is immutable, and noticing
 * a change costs no system call): faults are checked in a thread that maps
 * afresh, as a new process would. The store itself, locked by anyone, does
 * not affect lookups at all. Run by meson (suite nss). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "image.h"
#include "module.h"

static char big[1 << 16];

/* The file the damage tests break: the base (after a compaction, so that
 * it holds every entry) or the delta (before one: the fixture's entries
 * are all in it). */
static const char *target = UDB_IMAGE_FILE;

/* Every kind of lookup gives want / want_errno. */
static void
check_all_lookups(enum nss_status want, int want_errno)
{
	struct passwd pw;
	struct group gr;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	int err;
	enum nss_status st;

	err = 0;
	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getpwuid_r(2001, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getgrgid_r(NFX_STAFF_GID, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	groups[0] = 2001;
	st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	mod.setpwent(0);
	st = mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	mod.endpwent();
	err = 0;
	mod.setgrent(0);
	st = mod.getgrent_r(&gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	mod.endgrent();
	free(groups);
}

/* The lookups a thread answers from the image it has mapped (enumeration
 * maps one of its own per pass). */
static void
check_mapped_lookups(void)
{
	struct passwd pw;
	struct group gr;
	int err = 0;

	ck_assert_int_eq(mod.getpwnam_r("alice", &pw, big, sizeof(big), &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(mod.getpwuid_r(2001, &pw, big, sizeof(big), &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(mod.getgrnam_r("staff", &gr, big, sizeof(big), &err), NSS_STATUS_SUCCESS);
}

struct want {
	void (*check)(enum nss_status want, int want_errno);
	enum nss_status status;
	int errno_value;
};

static void *
check_thread(void *p)
{
	const struct want *w = p;

	w->check(w->status, w->errno_value);
	return NULL;
}

/* check(want, want_errno) in a thread of its own, which maps the image
 * anew. */
static void
check_in_new_thread(void (*check)(enum nss_status, int), enum nss_status want, int want_errno)
{
	struct want w = {check, want, want_errno};
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, check_thread, &w), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

static void
path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", nfx.dbdir, name);
}

/* The bytes of the installed target; *ret_len its size. */
static unsigned char *
read_image(size_t *ret_len)
{
	char img[256];
	struct stat st;
	unsigned char *bytes;
	int fd;

	path(img, sizeof(img), target);
	fd = open(img, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	bytes = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_int_eq(read(fd, bytes, (size_t)st.st_size), st.st_size);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return bytes;
}

/* Replaces the target by a file of the given bytes, keeping the original
 * aside as NAME.orig. */
static void
replace_image(const void *bytes, size_t len)
{
	char img[256], orig[272];
	int fd;

	path(img, sizeof(img), target);
	snprintf(orig, sizeof(orig), "%s.orig", img);
	ck_assert_int_eq(rename(img, orig), 0);
	fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

static void
restore_image(void)
{
	char img[256], orig[272];

	path(img, sizeof(img), target);
	snprintf(orig, sizeof(orig), "%s.orig", img);
	unlink(img);
	ck_assert_int_eq(rename(orig, img), 0);
}

/* The image with one change made to a copy of its bytes, looked up by a
 * process that has no image mapped yet: UNAVAIL/EIO for every lookup, then
 * everything back once the original is back (in a new thread: one that
 * mapped a damaged image whose header passed keeps failing closed until a
 * writer publishes the next one). */
static void
check_damaged(unsigned char *bytes, size_t len)
{
	replace_image(bytes, len);
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	restore_image();
	check_in_new_thread(check_all_lookups, NSS_STATUS_SUCCESS, 0);
	free(bytes);
}

START_TEST(test_missing_database_unavail_then_recovers)
{
	char away[256];

	/* A lookup first, so this thread has the image mapped: it keeps
	 * answering lookups from it, a thread that maps afresh (or an
	 * enumeration) finds nothing. */
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	snprintf(away, sizeof(away), "%s/away", nfx.dir);
	ck_assert_int_eq(rename(nfx.dbdir, away), 0);
	check_in_new_thread(check_all_lookups, NSS_STATUS_UNAVAIL, ENOENT);
	check_mapped_lookups();
	ck_assert_int_eq(rename(away, nfx.dbdir), 0);
	check_in_new_thread(check_all_lookups, NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_missing_config_unavail)
{
	setenv("USERDB_CONF", "/nonexistent/userdb.conf", 1);
	check_all_lookups(NSS_STATUS_UNAVAIL, ENOENT);
	setenv("USERDB_CONF", nfx.conf, 1);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_corrupt_database_unavail)
{
	size_t len = 8192;
	unsigned char *garbage = malloc(len);

	for (size_t i = 0; i < len; i++)
		garbage[i] = (unsigned char)(i * 7919 % 251);
	check_damaged(garbage, len);
}
END_TEST

START_TEST(test_empty_database_unavail)
{
	check_damaged(calloc(1, 1), 0);
}
END_TEST

START_TEST(test_truncated_image_unavail)
{
	size_t len = 0;
	unsigned char *bytes = read_image(&len);

	check_damaged(bytes, len / 2);
}
END_TEST

START_TEST(test_other_format_version_unavail)
{
	size_t len = 0;
	unsigned char *bytes = read_image(&len);
	struct udb_img_header h;

	memcpy(&h, bytes, sizeof(h));
	h.version = UDB_IMG_VERSION + 1;
	memcpy(bytes, &h, sizeof(h));
	check_damaged(bytes, len);
}
END_TEST

/* A section that points past the end of the file. */
START_TEST(test_section_out_of_range_unavail)
{
	size_t len = 0;
	unsigned char *bytes = read_image(&len);
	struct udb_img_header h;

	memcpy(&h, bytes, sizeof(h));
	h.sect[UDB_IMG_S_USERS].off = (uint64_t)len - 8;
	memcpy(bytes, &h, sizeof(h));
	check_damaged(bytes, len);
}
END_TEST

/* The user record of USER_OFFS[i] in an image's bytes. */
static struct udb_img_user *
user_record(unsigned char *bytes, const struct udb_img_header *h, size_t i)
{
	uint32_t unit;

	memcpy(&unit, bytes + h->sect[UDB_IMG_S_USER_OFFS].off + i * sizeof(unit), sizeof(unit));
	return (struct udb_img_user *)(void *)(bytes + h->sect[UDB_IMG_S_USERS].off +
					       (size_t)unit * UDB_IMG_ALIGN);
}

/* Every user record's inline entry running far past its section, and every
 * role's member block past the string pool: the header is fine, the
 * records are not. */
START_TEST(test_record_offsets_out_of_range_unavail)
{
	size_t len = 0;
	unsigned char *bytes = read_image(&len);
	struct udb_img_header h;
	struct udb_img_role *g;

	memcpy(&h, bytes, sizeof(h));
	for (size_t i = 0; i < h.sect[UDB_IMG_S_USER_OFFS].len / sizeof(uint32_t); i++) {
		struct udb_img_user *u = user_record(bytes, &h, i);

		u->entry_len = 0xfffffff0u;
		u->groups_first = 0x7fffffffu;
	}
	g = (struct udb_img_role *)(void *)(bytes + h.sect[UDB_IMG_S_ROLES].off);
	for (size_t i = 0; i < h.sect[UDB_IMG_S_ROLES].len / sizeof(*g); i++) {
		g[i].members_off = 0xfffffff0u;
		g[i].timed_first = 0x7fffffffu;
	}
	check_damaged(bytes, len);
}
END_TEST

/* A role that claims one member more than its block holds, and a user
 * record whose index is not its own: checked, never trusted. */
START_TEST(test_record_counts_wrong_unavail)
{
	size_t len = 0;
	unsigned char *bytes = read_image(&len);
	struct udb_img_header h;
	struct udb_img_role *g;

	memcpy(&h, bytes, sizeof(h));
	for (size_t i = 0; i < h.sect[UDB_IMG_S_USER_OFFS].len / sizeof(uint32_t); i++)
		user_record(bytes, &h, i)->flags |= UDB_IMG_DAMAGED;
	g = (struct udb_img_role *)(void *)(bytes + h.sect[UDB_IMG_S_ROLES].off);
	for (size_t i = 0; i < h.sect[UDB_IMG_S_ROLES].len / sizeof(*g); i++)
		if (g[i].n_members > 0)
			g[i].n_members++;
	check_damaged(bytes, len);
}
END_TEST

/* The n-th NUL of the entry of record u (0: the one after the name). */
static char *
entry_nul(struct udb_img_user *u, int n)
{
	char *c = (char *)(u + 1);

	for (;; c++)
		if (*c == '\0' && n-- == 0)
			return c;
}

/* A user's lookups and enumeration give want / want_errno. */
static void
check_user_lookups(enum nss_status want, int want_errno)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st;

	st = mod.getpwnam_r("alice", &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	st = mod.getpwuid_r(2001, &pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	err = 0;
	mod.setpwent(0);
	st = mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	mod.endpwent();
}

/* Every user's entry made of other than five strings, each string's bytes
 * valid for its field: the home's NUL made a '/' (four strings, the home
 * running into the shell), or the shell cut in two by a NUL ("/bin" and
 * "bash": six). UNAVAIL, never the entry of a shape the record does not
 * have. Each image is looked up by a thread that maps it afresh. */
START_TEST(test_entry_strings_wrong_unavail)
{
	for (int fewer = 0; fewer < 2; fewer++) {
		size_t len = 0;
		unsigned char *bytes = read_image(&len);
		struct udb_img_header h;

		memcpy(&h, bytes, sizeof(h));
		for (size_t i = 0; i < h.sect[UDB_IMG_S_USER_OFFS].len / sizeof(uint32_t); i++) {
			struct udb_img_user *u = user_record(bytes, &h, i);
			char *shell = entry_nul(u, 3) + 1;

			ck_assert_str_eq(shell, "/bin/bash");
			if (fewer)
				shell[-1] = '/';
			else
				shell[4] = '\0';
		}
		replace_image(bytes, len);
		check_in_new_thread(check_user_lookups, NSS_STATUS_UNAVAIL, EIO);
		restore_image();
		check_in_new_thread(check_user_lookups, NSS_STATUS_SUCCESS, 0);
		free(bytes);
	}
}
END_TEST

/* The first enumeration call of a pass (which maps the image anew) gives
 * want / want_errno. */
static void
check_first_entry(enum nss_status want, int want_errno)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st;

	mod.setpwent(0);
	st = mod.getpwent_r(&pw, big, sizeof(big), &err);
	ck_assert_nss(st, err, want, want_errno);
	mod.endpwent();
}

/* The numbers of the first two user records swapped: enumeration walks
 * the records in file order and finds the first one numbered 1, not 0.
 * The number is what the delta's covered list names, so a walk that took
 * it as it comes could show a superseded entry or hide a live one:
 * UNAVAIL. */
START_TEST(test_records_out_of_sequence_unavail)
{
	size_t len = 0;
	unsigned char *bytes = read_image(&len);
	struct udb_img_header h;

	memcpy(&h, bytes, sizeof(h));
	user_record(bytes, &h, 0)->index = 1;
	user_record(bytes, &h, 1)->index = 0;
	replace_image(bytes, len);
	check_first_entry(NSS_STATUS_UNAVAIL, EIO);
	restore_image();
	check_first_entry(NSS_STATUS_SUCCESS, 0);
	free(bytes);
}
END_TEST

START_TEST(test_symlinked_database_unavail)
{
	char img[256], real[256];

	path(img, sizeof(img), target);
	path(real, sizeof(real), "real.img");
	ck_assert_int_eq(rename(img, real), 0);
	ck_assert_int_eq(symlink(real, img), 0);
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	unlink(img);
	ck_assert_int_eq(rename(real, img), 0);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

START_TEST(test_world_writable_database_unavail)
{
	char img[256];

	path(img, sizeof(img), target);
	ck_assert_int_eq(chmod(img, 0666), 0);
	check_all_lookups(NSS_STATUS_UNAVAIL, EIO);
	ck_assert_int_eq(chmod(img, 0644), 0);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
}
END_TEST

/* Lookups never open the store: a connection holding an exclusive lock on
 * the public file (an admin's `sqlite3` session with
 * `PRAGMA locking_mode=EXCLUSIVE`) changes nothing for them. */
START_TEST(test_locked_store_does_not_matter)
{
	char pub[256];
	int ready[2], release[2];
	pid_t pid;
	char c = 0;
	int status = 0;

	udb_db_close(nfx.db);
	nfx.db = NULL;
	path(pub, sizeof(pub), "public.db");
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(release), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db = NULL;
		int rc;

		rc = sqlite3_open_v2(pub, &db, SQLITE_OPEN_READWRITE, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db,
					  "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
					  "SELECT count(*) FROM users",
					  NULL, NULL, NULL);
		c = rc == SQLITE_OK ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(release[0], &c, 1) != 1)
			_exit(2);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_msg(c == 'y', "the lock holder could not lock");
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	ck_assert_int_eq(write(release[1], &c, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
}
END_TEST

/* A module lives in every process: it must never write to the program's
 * stdout or stderr, whatever goes wrong. */
START_TEST(test_nothing_printed_on_errors)
{
	char out[256], away[256];
	struct stat st;
	int fd, saved_out, saved_err;

	snprintf(out, sizeof(out), "%s/output", nfx.dir);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	snprintf(away, sizeof(away), "%s/away", nfx.dir);
	rename(nfx.dbdir, away);
	check_in_new_thread(check_all_lookups, NSS_STATUS_UNAVAIL, ENOENT);
	setenv("USERDB_CONF", "/nonexistent", 1);
	check_in_new_thread(check_all_lookups, NSS_STATUS_UNAVAIL, ENOENT);
	setenv("USERDB_CONF", nfx.conf, 1);
	rename(away, nfx.dbdir);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(fd);
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

/* The module keeps no descriptor: the image is mapped and its file closed,
 * the shadow image is opened and closed within each call. A program that
 * looks a user up and then runs another leaks nothing, and one that
 * closes every descriptor it does not know (daemons do) breaks nothing. */
START_TEST(test_no_descriptor_kept)
{
	struct spwd sp;
	bool before[1024] = {false};
	int err = 0;

	for (int fd = 0; fd < 1024; fd++)
		before[fd] = fcntl(fd, F_GETFD) >= 0;
	check_all_lookups(NSS_STATUS_SUCCESS, 0);
	mod.getspnam_r("alice", &sp, big, sizeof(big), &err);
	for (int fd = 0; fd < 1024; fd++)
		ck_assert_msg(before[fd] || fcntl(fd, F_GETFD) < 0, "fd %d left open", fd);
}
END_TEST

static void
base_setup(void)
{
	nfx_setup();
	ck_assert_int_eq(udb_db_compact(nfx.db, false, NULL), UDB_OK);
	target = UDB_IMAGE_FILE;
}

static void
delta_setup(void)
{
	char delta[256];

	nfx_setup();
	target = UDB_IMAGE_DELTA_FILE;
	path(delta, sizeof(delta), target);
	ck_assert_int_eq(access(delta, F_OK), 0);
}

int
main(void)
{
	Suite *s = suite_create("nss_faults");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, base_setup, nfx_teardown);
	tcase_add_test(tc, test_missing_database_unavail_then_recovers);
	tcase_add_test(tc, test_missing_config_unavail);
	tcase_add_test(tc, test_corrupt_database_unavail);
	tcase_add_test(tc, test_empty_database_unavail);
	tcase_add_test(tc, test_truncated_image_unavail);
	tcase_add_test(tc, test_other_format_version_unavail);
	tcase_add_test(tc, test_section_out_of_range_unavail);
	tcase_add_test(tc, test_record_offsets_out_of_range_unavail);
	tcase_add_test(tc, test_record_counts_wrong_unavail);
	tcase_add_test(tc, test_entry_strings_wrong_unavail);
	tcase_add_test(tc, test_records_out_of_sequence_unavail);
	tcase_add_test(tc, test_symlinked_database_unavail);
	tcase_add_test(tc, test_world_writable_database_unavail);
	tcase_add_test(tc, test_locked_store_does_not_matter);
	tcase_add_test(tc, test_nothing_printed_on_errors);
	tcase_add_test(tc, test_no_descriptor_kept);
	suite_add_tcase(s, tc);
	/* The same damage to the delta beside the base. */
	tc = tcase_create("delta");
	tcase_add_checked_fixture(tc, delta_setup, nfx_teardown);
	tcase_add_test(tc, test_corrupt_database_unavail);
	tcase_add_test(tc, test_empty_database_unavail);
	tcase_add_test(tc, test_truncated_image_unavail);
	tcase_add_test(tc, test_other_format_version_unavail);
	tcase_add_test(tc, test_section_out_of_range_unavail);
	tcase_add_test(tc, test_record_offsets_out_of_range_unavail);
	tcase_add_test(tc, test_record_counts_wrong_unavail);
	tcase_add_test(tc, test_entry_strings_wrong_unavail);
	tcase_add_test(tc, test_records_out_of_sequence_unavail);
	tcase_add_test(tc, test_symlinked_database_unavail);
	tcase_add_test(tc, test_world_writable_database_unavail);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
