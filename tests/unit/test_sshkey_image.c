/* Unit tests of common/sshkey_store.c, sshkey_image.c and
 * sshkey_image_read.c: keys added, listed and removed in the store, and what
 * keys.img then serves for a user at a given time, including after a
 * disable, an expiry, a delete, a missing or damaged file and a row planted
 * in the store. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "fixture.h"
#include "sshkey.h"
#include "sshkey_image.h"
#include "sshkey_store.h"
#include "user.h"

#define ED25519    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb"
#define ED25519_FP "SHA256:/TA9k/pxdB9iMIUIgjEGF0vjUOMSismsKWajim0keWc"
#define ECDSA256                                                                                   \
	"ecdsa-sha2-nistp256 "                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2B0WnSGWM63OInftQEzyGmjyB" \
	"S"                                                                                        \
	"lN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNk="

/* What a lookup printed, one key per line. */
static char served[8192];

static void
collect(const char *line, size_t len, void *data)
{
	size_t n = strlen(served);

	(void)data;
	ck_assert_uint_lt(n + len + 1, sizeof(served));
	memcpy(served + n, line, len);
	served[n + len] = '\n';
	served[n + len + 1] = '\0';
}

/* Looks user up in the installed keys.img at now; served holds the lines. */
static enum udb_result
lookup(const char *user, int64_t now)
{
	struct udb_keys_img img;
	const void *base = NULL;
	size_t len = 0;
	enum udb_result r;

	served[0] = '\0';
	r = udb_keys_image_map(fx.dbdir, &base, &len);
	if (r == UDB_OK)
		r = udb_keys_img_open(base, len, &img);
	if (r == UDB_OK)
		r = udb_keys_img_lookup(&img, user, now, collect, NULL);
	udb_keys_image_unmap(base, len);
	return r;
}

static void
add(const char *user, const char *line, const char *comment, int64_t until)
{
	struct udb_sshkey k = {0};
	const char *why = NULL;

	ck_assert_int_eq(udb_sshkey_parse(line, &k, &why), UDB_OK);
	ck_assert_int_eq(udb_sshkey_add(fx.db, user, &k, 1, comment, until, T0, NULL), UDB_OK);
	udb_sshkey_clear(&k);
}

static void
setup_users(void)
{
	fx_setup();
	fx_add_user("alice");
	fx_add_user("bob");
}

START_TEST(test_udb_sshkey_add_serves_lines_in_order)
{
	struct udb_sshkey_row *rows = NULL;
	size_t n = 0;

	add("alice", "no-pty,from=\"10.0.0.0/8\" " ED25519 " alice@laptop", NULL, 0);
	add("alice", ECDSA256 " old comment", "work", T0 + DAY);
	ck_assert_int_eq(lookup("alice", T0), UDB_OK);
	ck_assert_str_eq(served, "no-pty,from=\"10.0.0.0/8\" " ED25519 " alice@laptop\n" ECDSA256
				 " work\n");
	ck_assert_int_eq(lookup("bob", T0), UDB_NOT_FOUND);
	ck_assert_str_eq(served, "");
	ck_assert_int_eq(lookup("carol", T0), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_sshkey_list(fx.db, "alice", &rows, &n), UDB_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].type, "ssh-ed25519");
	ck_assert_str_eq(rows[0].fingerprint, ED25519_FP);
	ck_assert_str_eq(rows[0].options, "no-pty,from=\"10.0.0.0/8\"");
	ck_assert_str_eq(rows[0].comment, "alice@laptop");
	ck_assert_int_eq(rows[0].added_at, T0);
	ck_assert_int_eq(rows[0].until, 0);
	ck_assert_str_eq(rows[1].comment, "work");
	ck_assert_int_eq(rows[1].until, T0 + DAY);
	udb_sshkey_rows_free(rows, n);
}
END_TEST

START_TEST(test_udb_sshkey_add_duplicate_adds_nothing)
{
	struct udb_sshkey k[2] = {{0}};
	const char *why = NULL;
	size_t failed = 99;

	add("alice", ED25519, NULL, 0);
	ck_assert_int_eq(udb_sshkey_parse(ECDSA256, &k[0], &why), UDB_OK);
	ck_assert_int_eq(udb_sshkey_parse(ED25519 " again", &k[1], &why), UDB_OK);
	ck_assert_int_eq(udb_sshkey_add(fx.db, "alice", k, 2, NULL, 0, T0, &failed), UDB_EXISTS);
	ck_assert_uint_eq(failed, 1);
	ck_assert_int_eq(lookup("alice", T0), UDB_OK);
	ck_assert_str_eq(served, ED25519 "\n");
	/* Another user may have the same key. */
	ck_assert_int_eq(udb_sshkey_add(fx.db, "bob", &k[1], 1, NULL, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_sshkey_add(fx.db, "nobody", k, 1, NULL, 0, T0, NULL), UDB_NOT_FOUND);
	udb_sshkey_clear(&k[0]);
	udb_sshkey_clear(&k[1]);
}
END_TEST

START_TEST(test_udb_sshkey_add_refuses_past_until_and_bad_comment)
{
	struct udb_sshkey k = {0};
	const char *why = NULL;

	ck_assert_int_eq(udb_sshkey_parse(ED25519, &k, &why), UDB_OK);
	ck_assert_int_eq(udb_sshkey_add(fx.db, "alice", &k, 1, NULL, T0, T0, NULL), UDB_INVALID);
	ck_assert_int_eq(udb_sshkey_add(fx.db, "alice", &k, 1, "a\nb", 0, T0, NULL), UDB_INVALID);
	udb_sshkey_clear(&k);
	ck_assert_int_eq(lookup("alice", T0), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_sshkey_delete_by_fingerprint)
{
	add("alice", ED25519, NULL, 0);
	add("alice", ECDSA256, NULL, 0);
	ck_assert_int_eq(udb_sshkey_delete(fx.db, "alice", ED25519_FP), UDB_OK);
	ck_assert_int_eq(lookup("alice", T0), UDB_OK);
	ck_assert_str_eq(served, ECDSA256 "\n");
	ck_assert_int_eq(udb_sshkey_delete(fx.db, "alice", ED25519_FP), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_sshkey_delete(fx.db, "bob", ED25519_FP), UDB_NOT_FOUND);
}
END_TEST

START_TEST(test_udb_keys_img_lookup_time_rules)
{
	add("alice", ED25519, NULL, T0 + DAY);
	add("alice", ECDSA256, NULL, 0);
	ck_assert_int_eq(lookup("alice", T0 + DAY - 1), UDB_OK);
	ck_assert_str_eq(served, ED25519 "\n" ECDSA256 "\n");
	/* until is the first second the key is not served. */
	ck_assert_int_eq(lookup("alice", T0 + DAY), UDB_OK);
	ck_assert_str_eq(served, ECDSA256 "\n");
	/* The account's validity, at lookup time. */
	ck_assert_int_eq(udb_account_set_validity(fx.db, "alice", T0 + 10, T0 + 20), UDB_OK);
	ck_assert_int_eq(lookup("alice", T0 + 9), UDB_OK);
	ck_assert_str_eq(served, "");
	ck_assert_int_eq(lookup("alice", T0 + 10), UDB_OK);
	ck_assert_str_eq(served, ED25519 "\n" ECDSA256 "\n");
	ck_assert_int_eq(lookup("alice", T0 + 20), UDB_OK);
	ck_assert_str_eq(served, "");
}
END_TEST

START_TEST(test_udb_keys_img_lookup_disabled_and_deleted)
{
	add("alice", ED25519, NULL, 0);
	add("bob", ECDSA256, NULL, 0);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", false, NULL), UDB_OK);
	/* Not in the image at all: it does not tell a disabled user from one
	 * without keys. */
	ck_assert_int_eq(lookup("alice", T0), UDB_NOT_FOUND);
	ck_assert_str_eq(served, "");
	ck_assert_int_eq(lookup("bob", T0), UDB_OK);
	ck_assert_str_eq(served, ECDSA256 "\n");
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", true, NULL), UDB_OK);
	ck_assert_int_eq(lookup("alice", T0), UDB_OK);
	ck_assert_str_eq(served, ED25519 "\n");
	ck_assert_int_eq(udb_user_delete(fx.db, "alice"), UDB_OK);
	ck_assert_int_eq(lookup("alice", T0), UDB_NOT_FOUND);
	ck_assert_str_eq(served, "");
}
END_TEST

/* A writer killed between its COMMIT and the rename leaves an old image
 * (here: none at all); the next write of anything rebuilds it. A write that
 * changes nothing keys depend on leaves the installed file alone. */
START_TEST(test_udb_keys_image_prepare_rebuilds_missing_only)
{
	struct stat before, after;

	add("alice", ED25519, NULL, 0);
	ck_assert_int_eq(stat(fx_dbfile(UDB_KEYS_IMAGE_FILE), &before), 0);
	fx_add_user("carol");
	ck_assert_int_eq(stat(fx_dbfile(UDB_KEYS_IMAGE_FILE), &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(after.st_mode & 07777, 0644);
	ck_assert_int_eq(unlink(fx_dbfile(UDB_KEYS_IMAGE_FILE)), 0);
	ck_assert_int_eq(lookup("alice", T0), UDB_UNAVAILABLE);
	fx_add_user("dave");
	ck_assert_int_eq(lookup("alice", T0), UDB_OK);
	ck_assert_str_eq(served, ED25519 "\n");
}
END_TEST

static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *s = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(s, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(s));
	sqlite3_close(s);
}

/* A row written behind the tool's back that would give sshd a second line
 * (or any key the rules refuse) makes that user's lookup fail, with
 * nothing served; other users are served. */
START_TEST(test_udb_keys_image_planted_row_fails_closed)
{
	add("alice", ED25519, NULL, 0);
	add("bob", ECDSA256, NULL, 0);
	udb_db_close(fx.db);
	fx.db = NULL;
	raw_exec(fx_dbfile(UDB_PUBLIC_FILE),
		 "UPDATE ssh_keys SET comment = 'x' || char(10) || 'ssh-ed25519 AAAA evil' "
		 "WHERE comment = '' AND type = 'ssh-ed25519'");
	fx_reopen(UDB_OPEN_WRITE);
	/* Any change of keys rebuilds the image. */
	ck_assert_int_eq(udb_sshkey_delete(fx.db, "bob", "SHA256:nope"), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "bob", true, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "bob", false, NULL), UDB_OK);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "bob", true, NULL), UDB_OK);
	ck_assert_int_eq(lookup("alice", T0), UDB_CORRUPT);
	ck_assert_str_eq(served, "");
	ck_assert_int_eq(lookup("bob", T0), UDB_OK);
	ck_assert_str_eq(served, ECDSA256 "\n");
}
END_TEST

/* Every byte of a small image changed, one at a time, and every length cut:
 * lookups answer something or UDB_CORRUPT, never read outside the bytes
 * (the sanitizer build checks that) and never serve a line with a control
 * character. */
START_TEST(test_udb_keys_img_lookup_damaged_bytes)
{
	const void *base = NULL;
	unsigned char *copy;
	size_t len = 0;

	add("alice", ED25519 " a", NULL, 0);
	add("bob", ECDSA256, NULL, 0);
	ck_assert_int_eq(udb_keys_image_map(fx.dbdir, &base, &len), UDB_OK);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	for (size_t cut = 0; cut <= len; cut++) {
		struct udb_keys_img img;

		memcpy(copy, base, cut);
		if (udb_keys_img_open(copy, cut, &img) == UDB_OK) {
			ck_assert_uint_eq(cut, len);
		}
	}
	for (size_t i = 0; i < len; i++) {
		static const unsigned char flips[] = {0x01, 0x80, 0xff, 0x0a};

		for (size_t f = 0; f < sizeof(flips); f++) {
			struct udb_keys_img img;

			memcpy(copy, base, len);
			copy[i] ^= flips[f];
			if (udb_keys_img_open(copy, len, &img) != UDB_OK)
				continue;
			served[0] = '\0';
			(void)udb_keys_img_lookup(&img, "alice", T0, collect, NULL);
			(void)udb_keys_img_lookup(&img, "bob", T0, collect, NULL);
			for (const char *p = served; *p; p++)
				ck_assert((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t');
		}
	}
	free(copy);
	udb_keys_image_unmap(base, len);
}
END_TEST

START_TEST(test_udb_keys_image_map_refuses_untrusted)
{
	add("alice", ED25519, NULL, 0);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_KEYS_IMAGE_FILE), 0666), 0);
	ck_assert_int_eq(lookup("alice", T0), UDB_UNSAFE);
	ck_assert_int_eq(chmod(fx_dbfile(UDB_KEYS_IMAGE_FILE), 0644), 0);
	fx_write_file(fx_file("garbage"), "not an image at all, but long enough for a header!!",
		      0644);
	ck_assert_int_eq(rename(fx_file("garbage"), fx_dbfile(UDB_KEYS_IMAGE_FILE)), 0);
	ck_assert_int_eq(lookup("alice", T0), UDB_CORRUPT);
}
END_TEST

static TCase *
keys_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup_users, fx_teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("sshkey_image");
	TCase *tc;

	tc = keys_tcase(s, "udb_sshkey_add");
	tcase_add_test(tc, test_udb_sshkey_add_serves_lines_in_order);
	tcase_add_test(tc, test_udb_sshkey_add_duplicate_adds_nothing);
	tcase_add_test(tc, test_udb_sshkey_add_refuses_past_until_and_bad_comment);
	tc = keys_tcase(s, "udb_sshkey_delete");
	tcase_add_test(tc, test_udb_sshkey_delete_by_fingerprint);
	tc = keys_tcase(s, "udb_keys_img_lookup");
	tcase_add_test(tc, test_udb_keys_img_lookup_time_rules);
	tcase_add_test(tc, test_udb_keys_img_lookup_disabled_and_deleted);
	tcase_add_test(tc, test_udb_keys_img_lookup_damaged_bytes);
	tc = keys_tcase(s, "udb_keys_image_prepare");
	tcase_add_test(tc, test_udb_keys_image_prepare_rebuilds_missing_only);
	tcase_add_test(tc, test_udb_keys_image_planted_row_fails_closed);
	tc = keys_tcase(s, "udb_keys_image_map");
	tcase_add_test(tc, test_udb_keys_image_map_refuses_untrusted);
	return fx_main(s);
}
