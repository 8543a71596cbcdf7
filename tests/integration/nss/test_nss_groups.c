/* Group lists and large groups through the module's own symbols:
 * initgroups_dyn's contract with glibc (grow the array, respect the limit,
 * skip the primary group, add nothing twice), and a role with 100,000
 * effective members fetched the way glibc's getgrnam() does, with a buffer
 * doubling from 1 KiB, including a change or an expiry between the ERANGE
 * and the retry. Run by meson (suite nss). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "module.h"
#include "role.h"

static char big[1 << 16];

#define BIG_GID     5000
#define BIG_MEMBERS 100000

static bool
has(const gid_t *groups, long n, gid_t gid)
{
	for (long i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

START_TEST(test_initgroups_grows_array)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err = 0;
	enum nss_status st;

	groups[0] = 2001;
	st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	/* admins directly, staff because admins includes it. */
	ck_assert_int_eq(start, 3);
	ck_assert_int_ge(size, 3);
	ck_assert_uint_eq(groups[0], 2001);
	ck_assert(has(groups, start, NFX_ADMINS_GID));
	ck_assert(has(groups, start, NFX_STAFF_GID));
	free(groups);
}
END_TEST

START_TEST(test_initgroups_respects_limit)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err = 0;
	enum nss_status st;

	groups[0] = 2001;
	st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, 2, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_int_eq(start, 2);
	ck_assert_int_eq(size, 2);
	free(groups);
}
END_TEST

START_TEST(test_initgroups_skips_primary_and_duplicates)
{
	long start = 2, size = 8;
	gid_t *groups = calloc(8, sizeof(gid_t));
	int err = 0;
	enum nss_status st;

	/* Another source already added admins: only staff is new. */
	groups[0] = 2001;
	groups[1] = NFX_ADMINS_GID;
	st = mod.initgroups_dyn("alice", 2001, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_int_eq(start, 3);
	ck_assert_uint_eq(groups[2], NFX_STAFF_GID);
	ck_assert_int_eq(size, 8);
	/* bob's only role is his primary group, which glibc adds itself. */
	start = 1;
	groups[0] = NFX_STAFF_GID;
	st = mod.initgroups_dyn("bob", NFX_STAFF_GID, &start, &size, &groups, -1, &err);
	ck_assert_int_eq(start, 1);
	ck_assert(st == NSS_STATUS_SUCCESS || st == NSS_STATUS_NOTFOUND);
	free(groups);
}
END_TEST

START_TEST(test_initgroups_no_roles_notfound)
{
	static const char *const users[] = {"carol", "dave", "erin", "zoe"};
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	enum nss_status st;

	/* carol has no grant, dave's expired, erin's has not started, zoe
	 * does not exist. */
	for (size_t i = 0; i < 4; i++) {
		int err = 0;

		st = mod.initgroups_dyn(users[i], 100, &start, &size, &groups, -1, &err);
		ck_assert_nss(st, err, NSS_STATUS_NOTFOUND, ENOENT);
		ck_assert_int_eq(start, 1);
	}
	free(groups);
}
END_TEST

/* --- a role with 100,000 members ----------------------------------------- */

/* Built once, in the parent (seconds, not per test); each test, in its own
 * process, opens its own writer and leaves the membership as it found it. */
static void
big_setup_once(void)
{
	nfx_setup();
	nfx_role("big", BIG_GID, NULL);
	nfx_bulk_users("m", 100000, BIG_MEMBERS, "big");
	udb_db_close(nfx.db);
	nfx.db = NULL;
}

static void
big_setup(void)
{
	if (udb_db_open(nfx.dbdir, UDB_OPEN_WRITE, &nfx.db) != UDB_OK)
		nfx_die("open");
}

static void
big_teardown(void)
{
	udb_db_close(nfx.db);
	nfx.db = NULL;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks that mem is m0000000 .. m<n-1> but skip (or none if skip < 0),
 * each once. */
static void
check_big_members(char **mem, long n, long skip)
{
	long count = 0, want = 0;

	while (mem[count])
		count++;
	ck_assert_int_eq(count, skip >= 0 ? n - 1 : n);
	qsort(mem, (size_t)count, sizeof(*mem), str_cmp);
	for (long i = 0; i < count; i++, want++) {
		char name[32];

		if (want == skip)
			want++;
		snprintf(name, sizeof(name), "m%07ld", want);
		ck_assert_str_eq(mem[i], name);
	}
}

/* What glibc's getgrnam() does: start at 1 KiB, double after ERANGE. */
static enum nss_status
getgrnam_like_glibc(const char *name, struct group *gr, char **buf, int *retries)
{
	size_t len = 1024;
	enum nss_status st;
	int err = 0;

	*retries = 0;
	for (;;) {
		*buf = realloc(*buf, len);
		st = mod.getgrnam_r(name, gr, *buf, len, &err);
		if (st != NSS_STATUS_TRYAGAIN || err != ERANGE)
			return st;
		len *= 2;
		(*retries)++;
	}
}

/* An enumeration, however long, reads a mapping of the image: it
 * allocates nothing per entry and never opens or maps the store. */
START_TEST(test_enumeration_maps_nothing)
{
	static char buf[4096];
	struct passwd pw;
	size_t n = 0;
	int err = 0;

	ck_assert_int_eq(mod.setpwent(0), NSS_STATUS_SUCCESS);
	while (mod.getpwent_r(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS)
		n++;
	mod.endpwent();
	ck_assert_uint_gt(n, 100000);
	ck_assert_int_eq(file_mapped("public.db"), 0);
}
END_TEST

START_TEST(test_big_group_correct)
{
	struct group gr;
	char *buf = NULL;
	int retries = 0, err = 0;
	enum nss_status st;

	st = getgrnam_like_glibc("big", &gr, &buf, &retries);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_uint_eq(gr.gr_gid, BIG_GID);
	/* 100,000 names of 8 bytes and their pointers: about 1.7 MB, which a
	 * doubling buffer reaches in 11 steps. */
	ck_assert_int_le(retries, 11);
	check_big_members(gr.gr_mem, BIG_MEMBERS, -1);
	st = mod.getgrgid_r(BIG_GID, &gr, buf, 4096, &err);
	ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	st = mod.getgrgid_r(BIG_GID, &gr, buf, (size_t)1024 << retries, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	check_big_members(gr.gr_mem, BIG_MEMBERS, -1);
	free(buf);
}
END_TEST

/* The module keeps a group that did not fit for glibc's retry. A change
 * committed between the ERANGE and the retry must show in the retry. */
START_TEST(test_big_group_retry_sees_change)
{
	struct group gr;
	size_t len = (size_t)4 << 20;
	char *buf = malloc(len);
	int err = 0;
	enum nss_status st;

	st = mod.getgrnam_r("big", &gr, buf, 1024, &err);
	ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	nfx_revoke("m0000042", "big");
	st = mod.getgrnam_r("big", &gr, buf, len, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	check_big_members(gr.gr_mem, BIG_MEMBERS, 42);
	/* The same by gid, and a grant instead of a revoke. */
	st = mod.getgrgid_r(BIG_GID, &gr, buf, 1024, &err);
	ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	nfx_grant("m0000042", "big", 0, 0);
	st = mod.getgrgid_r(BIG_GID, &gr, buf, len, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	check_big_members(gr.gr_mem, BIG_MEMBERS, -1);
	free(buf);
}
END_TEST

/* Membership also changes with time alone: a grant that ends between the
 * ERANGE and the retry must be gone in the retry. */
START_TEST(test_big_group_retry_sees_expiry)
{
	struct group gr;
	size_t len = (size_t)4 << 20;
	char *buf = malloc(len);
	int64_t until = udb_now() + 1;
	int err = 0;
	enum nss_status st;

	nfx_grant("m0000007", "big", 0, until);
	st = mod.getgrnam_r("big", &gr, buf, 1024, &err);
	ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	while (udb_now() < until)
		usleep(20 * 1000);
	st = mod.getgrnam_r("big", &gr, buf, len, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	check_big_members(gr.gr_mem, BIG_MEMBERS, 7);
	nfx_grant("m0000007", "big", 0, 0);
	free(buf);
}
END_TEST

/* Grants that end or start cross their second with no write in between:
 * the image keeps their times and the module filters at each lookup. */
START_TEST(test_grants_cross_their_second_without_a_write)
{
	static const char *const with_carol[] = {"alice", "bob", "carol", NULL};
	static const char *const without[] = {"alice", "bob", NULL};
	struct group gr;
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(gid_t));
	int64_t at = udb_now() + 2;
	int err = 0;
	enum nss_status st;

	ck_assert_ptr_nonnull(groups);
	/* carol's grant of staff ends at `at`, erin's (already there, see
	 * fixture.h) starts an hour on; admins starts for carol at `at`. */
	nfx_grant("carol", "staff", 0, at);
	nfx_grant("carol", "admins", at, 0);
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert(members_are(gr.gr_mem, with_carol));
	groups[0] = 2003;
	st = mod.initgroups_dyn("carol", 2003, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_int_eq(start, 2);
	ck_assert_uint_eq(groups[1], NFX_STAFF_GID);
	while (udb_now() < at)
		usleep(20 * 1000);
	st = mod.getgrgid_r(NFX_STAFF_GID, &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	/* admins includes staff: carol is back in staff through admins. */
	ck_assert(members_are(gr.gr_mem, with_carol));
	st = mod.getgrnam_r("admins", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert(members_are(gr.gr_mem, (const char *const[]){"alice", "carol", NULL}));
	start = 1;
	st = mod.initgroups_dyn("carol", 2003, &start, &size, &groups, -1, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_int_eq(start, 3);
	nfx_revoke("carol", "admins");
	st = mod.getgrnam_r("staff", &gr, big, sizeof(big), &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert(members_are(gr.gr_mem, without));
	free(groups);
}
END_TEST

/* A retry for another group must not get the kept one. */
START_TEST(test_retry_cache_keyed_by_group)
{
	static const char *const staff[] = {"alice", "bob", NULL};
	struct group gr;
	char *buf = malloc(1 << 16);
	int err = 0;
	enum nss_status st;

	st = mod.getgrnam_r("big", &gr, buf, 64, &err);
	ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	st = mod.getgrnam_r("staff", &gr, buf, 1 << 16, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(gr.gr_name, "staff");
	ck_assert(members_are(gr.gr_mem, staff));
	st = mod.getgrgid_r(NFX_STAFF_GID, &gr, buf, 16, &err);
	ck_assert_nss(st, err, NSS_STATUS_TRYAGAIN, ERANGE);
	st = mod.getgrgid_r(NFX_ADMINS_GID, &gr, buf, 1 << 16, &err);
	ck_assert_nss(st, err, NSS_STATUS_SUCCESS, 0);
	ck_assert_str_eq(gr.gr_name, "admins");
	free(buf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nss_groups");
	TCase *tc;
	SRunner *sr;
	int failed;

	module_load();
	tc = tcase_create("initgroups");
	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, test_initgroups_grows_array);
	tcase_add_test(tc, test_initgroups_respects_limit);
	tcase_add_test(tc, test_initgroups_skips_primary_and_duplicates);
	tcase_add_test(tc, test_initgroups_no_roles_notfound);
	tcase_add_test(tc, test_grants_cross_their_second_without_a_write);
	suite_add_tcase(s, tc);
	tc = tcase_create("big");
	tcase_add_unchecked_fixture(tc, big_setup_once, nfx_teardown);
	tcase_add_checked_fixture(tc, big_setup, big_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_big_group_correct);
	tcase_add_test(tc, test_enumeration_maps_nothing);
	tcase_add_test(tc, test_big_group_retry_sees_change);
	tcase_add_test(tc, test_big_group_retry_sees_expiry);
	tcase_add_test(tc, test_retry_cache_keyed_by_group);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
