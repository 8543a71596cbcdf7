/* Unit tests of common/image_write.c through the commits that call it:
 * which changes publish which image, that a login's own bookkeeping
 * publishes nothing, that an image missing or out of step is rebuilt by the
 * next write whatever it changes, and that what is published reads back
 * through common/image_read.c as the store says. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "email.h"
#include "fixture.h"
#include "image.h"
#include "role.h"
#include "user.h"

struct published {
	ino_t pub, sec;
	uint64_t word;
};

static ino_t
inode_of(const char *name)
{
	struct stat st;

	ck_assert_int_eq(stat(fx_dbfile(name), &st), 0);
	return st.st_ino;
}

static struct published
published(void)
{
	struct published p = {inode_of(UDB_IMAGE_FILE), inode_of(UDB_SHADOW_IMAGE_FILE), 0};
	int fd = open(fx_dbfile(UDB_IMAGE_GEN_FILE), O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, &p.word, sizeof(p.word)), (ssize_t)sizeof(p.word));
	close(fd);
	return p;
}

static void
add_user(const char *name)
{
	struct udb_user_spec spec = {.username = name, .password_hash = "$6$rounds=1000$s$h"};

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, NULL), UDB_OK);
}

/* The installed public image, mapped; unmapped by the caller. */
static void *
map_image(const char *name, size_t *ret_len)
{
	struct stat st;
	void *map;
	int fd = open(fx_dbfile(name), O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return map;
}

START_TEST(test_commit_publishes_both_images)
{
	struct published before = published(), after;

	add_user("alice");
	after = published();
	ck_assert_uint_ne(after.pub, before.pub);
	ck_assert_uint_ne(after.sec, before.sec);
	ck_assert_uint_ne(after.word, before.word);
}
END_TEST

START_TEST(test_login_bookkeeping_publishes_nothing)
{
	struct udb_user *u = NULL;
	struct published before, after;

	add_user("alice");
	ck_assert_int_eq(udb_user_by_name(fx.db, "alice", &u), UDB_OK);
	before = published();
	ck_assert_int_eq(udb_account_record_login(fx.db, u->id, T0, "10.0.0.1"), UDB_OK);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	ck_assert_int_eq(udb_email_add(fx.db, "alice", "alice@example.com", false, false, T0),
			 UDB_OK);
	after = published();
	ck_assert_uint_eq(after.pub, before.pub);
	ck_assert_uint_eq(after.sec, before.sec);
	ck_assert_uint_eq(after.word, before.word);
	udb_user_free(u);
}
END_TEST

START_TEST(test_account_change_publishes_shadow_only)
{
	struct published before, after;

	add_user("alice");
	before = published();
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "alice", false, NULL), UDB_OK);
	after = published();
	ck_assert_uint_eq(after.pub, before.pub);
	ck_assert_uint_ne(after.sec, before.sec);
	ck_assert_uint_ne(after.word, before.word);
}
END_TEST

/* A writer killed after its commit and before the install leaves an image
 * out of step (here: gone): the next write, even one that changes nothing
 * NSS shows, rebuilds it. */
START_TEST(test_missing_image_rebuilt_by_next_write)
{
	add_user("alice");
	ck_assert_int_eq(unlink(fx_dbfile(UDB_IMAGE_FILE)), 0);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	ck_assert_int_eq(access(fx_dbfile(UDB_IMAGE_FILE), R_OK), 0);
}
END_TEST

/* The same for an image of an older generation (an install that never
 * happened): copied aside before a change, put back after it. */
START_TEST(test_stale_image_rebuilt_by_next_write)
{
	struct udb_img img;
	struct udb_img_passwd u;
	size_t len = 0;
	void *map;
	char cmd[3 * PATH_MAX];

	add_user("alice");
	snprintf(cmd, sizeof(cmd), "cp -p %s %s.old", fx_dbfile(UDB_IMAGE_FILE),
		 fx_dbfile(UDB_IMAGE_FILE));
	ck_assert_int_eq(system(cmd), 0);
	add_user("bob");
	snprintf(cmd, sizeof(cmd), "mv %s.old %s", fx_dbfile(UDB_IMAGE_FILE),
		 fx_dbfile(UDB_IMAGE_FILE));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	map = map_image(UDB_IMAGE_FILE, &len);
	ck_assert_int_eq(udb_img_open(map, len, UDB_IMG_PUBLIC, &img), UDB_OK);
	ck_assert_int_eq(udb_img_user_by_name(&img, "bob", &u), UDB_OK);
	munmap(map, len);
}
END_TEST

/* What the image holds, read back: entries, a role's effective members
 * through inclusion, a grant's window kept for the reader. */
START_TEST(test_image_reads_back)
{
	struct udb_role_spec staff = {.name = "staff"}, admins = {.name = "admins"};
	const char *const includes[] = {"staff"};
	struct udb_img img;
	struct udb_img_passwd u;
	struct udb_img_group g;
	size_t len = 0;
	void *map;

	admins.includes = includes;
	admins.n_includes = 1;
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &staff, false, T0), UDB_OK);
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &admins, false, T0), UDB_OK);
	add_user("alice");
	add_user("bob");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admins", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, T0 + DAY, T0, NULL), UDB_OK);
	map = map_image(UDB_IMAGE_FILE, &len);
	ck_assert_int_eq(udb_img_open(map, len, UDB_IMG_PUBLIC, &img), UDB_OK);
	ck_assert_int_eq(udb_img_user_by_name(&img, "alice", &u), UDB_OK);
	ck_assert_str_eq(u.entry, "alice");
	ck_assert_int_eq(udb_img_user_by_uid(&img, u.uid, &u), UDB_OK);
	ck_assert_str_eq(u.entry, "alice");
	ck_assert_int_eq(udb_img_user_by_name(&img, "carol", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_img_role_by_name(&img, "staff", &g), UDB_OK);
	ck_assert_uint_eq(g.n_members, 2);
	/* bob's grant ends a day on: kept with its window. */
	ck_assert_uint_eq(g.n_timed, 1);
	ck_assert_str_eq(g.members + g.offs[g.timed[0].member], "bob");
	ck_assert(udb_img_windows_hold(&img, g.timed[0].win_first, g.timed[0].win_count,
				       T0 + DAY - 1, &(bool){false}));
	ck_assert(!udb_img_windows_hold(&img, g.timed[0].win_first, g.timed[0].win_count, T0 + DAY,
					&(bool){false}));
	ck_assert_int_eq(udb_img_role_by_name(&img, "admins", &g), UDB_OK);
	ck_assert_uint_eq(g.n_members, 1);
	ck_assert_str_eq(g.members, "alice");
	munmap(map, len);
}
END_TEST

static Suite *
image_write_suite(void)
{
	Suite *s = suite_create("image_write");
	TCase *tc;

	tc = fx_tcase(s, "udb_image_build", true);
	tcase_add_test(tc, test_commit_publishes_both_images);
	tcase_add_test(tc, test_login_bookkeeping_publishes_nothing);
	tcase_add_test(tc, test_account_change_publishes_shadow_only);
	tcase_add_test(tc, test_image_reads_back);
	tc = fx_tcase(s, "udb_image_install", true);
	tcase_add_test(tc, test_missing_image_rebuilt_by_next_write);
	tcase_add_test(tc, test_stale_image_rebuilt_by_next_write);
	return s;
}

int
main(void)
{
	return fx_main(image_write_suite());
}
