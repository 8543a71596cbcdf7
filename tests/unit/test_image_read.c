/* Unit tests of common/image_read.c's point lookups of users over images
 * the writer made (image_build.c, image_delta.c). By uid: the dense uid
 * index when the uids are in a row (also with the gap a deleted user
 * leaves), the hash table when they are spread, each under a delta; a uid
 * below, in a gap of, or above the index is not found, and an index entry
 * that leads to another user's record, or out of the records, is damage,
 * never an answer. By name: the 4-byte-slot name index, base and delta,
 * every user found among many and names nobody has not; a damaged slot
 * or table header is damage; records too many for a tag get the 8-byte
 * table. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "image-internal.h"
#include "image.h"
#include "user.h"

static uint32_t
add_user(const char *name, uint32_t uid)
{
	struct udb_user_spec spec = {.username = name, .has_uid = uid != 0, .uid = uid};
	struct udb_user *u = NULL;
	uint32_t got;

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, &u), UDB_OK);
	got = u->uid;
	udb_user_free(u);
	return got;
}

/* A copy of the installed file name, in memory the test may change. */
static unsigned char *
read_image(const char *name, size_t *ret_len)
{
	struct stat st;
	unsigned char *p;
	int fd = open(fx_dbfile(name), O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return p;
}

/* The installed public base and, when there is one, its delta. */
struct view {
	struct udb_img img;
	unsigned char *base, *delta;
	size_t len, delta_len;
};

static void
view_open(struct view *v)
{
	v->base = read_image(UDB_IMAGE_FILE, &v->len);
	v->delta = NULL;
	ck_assert_int_eq(udb_img_open(v->base, v->len, UDB_IMG_PUBLIC, &v->img), UDB_OK);
	if (access(fx_dbfile(UDB_IMAGE_DELTA_FILE), F_OK) == 0) {
		v->delta = read_image(UDB_IMAGE_DELTA_FILE, &v->delta_len);
		ck_assert_int_eq(udb_img_attach_delta(&v->img, v->delta, v->delta_len), UDB_OK);
	}
}

static void
view_close(struct view *v)
{
	free(v->base);
	free(v->delta);
}

static const struct udb_img_header *
header(const unsigned char *image)
{
	return (const struct udb_img_header *)(const void *)image;
}

/* The user name uid leads to, or "" when none; "!" when damaged. */
static const char *
name_of(const struct udb_img *img, uint32_t uid)
{
	static char name[64];
	struct udb_img_passwd u;
	enum udb_result r = udb_img_user_by_uid(img, uid, &u);

	if (r == UDB_NOT_FOUND)
		return "";
	if (r != UDB_OK)
		return "!";
	ck_assert_uint_eq(u.uid, uid);
	ck_assert_uint_lt(u.name_len, sizeof(name));
	memcpy(name, u.entry, u.name_len + 1);
	return name;
}

START_TEST(test_user_by_uid_dense_index)
{
	uint32_t a = add_user("alice", 0), b = add_user("bob", 0), c = add_user("carol", 0);
	struct view v;

	ck_assert_uint_eq(b, a + 1);
	ck_assert_uint_eq(c, a + 2);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	view_open(&v);
	/* The lowest uid and one entry per uid from it; no hash table. */
	ck_assert_uint_eq(header(v.base)->sect[UDB_IMG_S_UID_INDEX].len, 4 * sizeof(uint32_t));
	ck_assert_uint_eq(header(v.base)->sect[UDB_IMG_S_USER_BY_UID].len, 0);
	ck_assert_str_eq(name_of(&v.img, a), "alice");
	ck_assert_str_eq(name_of(&v.img, b), "bob");
	ck_assert_str_eq(name_of(&v.img, c), "carol");
	ck_assert_str_eq(name_of(&v.img, a - 1), "");
	ck_assert_str_eq(name_of(&v.img, c + 1), "");
	ck_assert_str_eq(name_of(&v.img, 0), "");
	ck_assert_str_eq(name_of(&v.img, UINT32_MAX), "");
	view_close(&v);

	/* bob deleted: the delta covers his base record, then the next base
	 * has a gap where his uid was. */
	ck_assert_int_eq(udb_user_delete(fx.db, "bob"), UDB_OK);
	view_open(&v);
	ck_assert(v.img.has_delta);
	ck_assert_str_eq(name_of(&v.img, b), "");
	ck_assert_str_eq(name_of(&v.img, c), "carol");
	view_close(&v);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	view_open(&v);
	ck_assert_uint_eq(header(v.base)->sect[UDB_IMG_S_UID_INDEX].len, 4 * sizeof(uint32_t));
	ck_assert_str_eq(name_of(&v.img, a), "alice");
	ck_assert_str_eq(name_of(&v.img, b), "");
	ck_assert_str_eq(name_of(&v.img, c), "carol");
	view_close(&v);
}
END_TEST

START_TEST(test_user_by_uid_sparse_table)
{
	uint32_t a = add_user("alice", 0), d = add_user("dave", a + 40000), e;
	struct view v;

	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	view_open(&v);
	/* 40,000 uids apart: the index would be far larger than the table. */
	ck_assert_uint_eq(header(v.base)->sect[UDB_IMG_S_UID_INDEX].len, 0);
	ck_assert_uint_gt(header(v.base)->sect[UDB_IMG_S_USER_BY_UID].len, 0);
	ck_assert_str_eq(name_of(&v.img, a), "alice");
	ck_assert_str_eq(name_of(&v.img, d), "dave");
	ck_assert_str_eq(name_of(&v.img, a + 1), "");
	view_close(&v);

	/* A user added over that base: in the delta, found through its own
	 * index, and the base's users still through the table. */
	e = add_user("erin", 0);
	view_open(&v);
	ck_assert(v.img.has_delta);
	ck_assert_uint_eq(header(v.delta)->sect[UDB_IMG_S_UID_INDEX].len, 2 * sizeof(uint32_t));
	ck_assert_str_eq(name_of(&v.img, e), "erin");
	ck_assert_str_eq(name_of(&v.img, d), "dave");
	ck_assert_str_eq(name_of(&v.img, a), "alice");
	view_close(&v);
}
END_TEST

START_TEST(test_user_by_uid_damaged_index)
{
	uint32_t a = add_user("alice", 0), b = add_user("bob", 0);
	struct view v;
	uint32_t *index;

	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	view_open(&v);
	index = (uint32_t *)(void *)(v.base + header(v.base)->sect[UDB_IMG_S_UID_INDEX].off);
	ck_assert_uint_eq(index[0], a);
	/* alice's entry leads to bob's record: damage, not bob. */
	index[1] = index[2];
	ck_assert_str_eq(name_of(&v.img, a), "!");
	ck_assert_str_eq(name_of(&v.img, b), "bob");
	/* bob's leads past the records. */
	index[2] = UINT32_MAX;
	ck_assert_str_eq(name_of(&v.img, b), "!");
	index[2] = (uint32_t)(header(v.base)->sect[UDB_IMG_S_USERS].len / 8);
	ck_assert_str_eq(name_of(&v.img, b), "!");
	view_close(&v);
}
END_TEST

/* The user name leads to: its uid, 0 when none, UINT32_MAX when damaged. */
static uint32_t
uid_of(const struct udb_img *img, const char *name)
{
	struct udb_img_passwd u;
	enum udb_result r = udb_img_user_by_name(img, name, &u);

	if (r == UDB_NOT_FOUND)
		return 0;
	if (r != UDB_OK)
		return UINT32_MAX;
	ck_assert_uint_eq(u.name_len, strlen(name));
	ck_assert_int_eq(memcmp(u.entry, name, u.name_len), 0);
	return u.uid;
}

START_TEST(test_user_by_name_index)
{
	uint32_t uids[300];
	char name[32];
	struct view v;

	/* Enough users that probes run into each other and wrap. */
	ck_assert_int_eq(udb_db_begin(fx.db), UDB_OK);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		uids[i] = add_user(name, 0);
	}
	ck_assert_int_eq(udb_db_commit(fx.db), UDB_OK);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	(void)add_user("zed", 0);
	view_open(&v);
	ck_assert(v.img.has_delta);
	/* Both files: the word, then 300 + 300 / 3 + 8 slots in the base. */
	ck_assert_uint_eq(header(v.base)->sect[UDB_IMG_S_NAME_INDEX].len, (1 + 408) * 4);
	ck_assert_uint_eq(header(v.base)->sect[UDB_IMG_S_USER_BY_NAME].len, 0);
	ck_assert_uint_gt(header(v.delta)->sect[UDB_IMG_S_NAME_INDEX].len, 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		ck_assert_uint_eq(uid_of(&v.img, name), uids[i]);
		snprintf(name, sizeof(name), "user%03dx", i);
		ck_assert_uint_eq(uid_of(&v.img, name), 0);
	}
	ck_assert_uint_eq(uid_of(&v.img, "zed"), uids[299] + 1);
	ck_assert_uint_eq(uid_of(&v.img, "user"), 0);
	view_close(&v);
}
END_TEST

START_TEST(test_user_by_name_damaged_index)
{
	const struct udb_img_header *h;
	uint32_t *index, m, bits;
	struct view v;

	(void)add_user("alice", 0);
	(void)add_user("bob", 0);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	view_open(&v);
	h = header(v.base);
	index = (uint32_t *)(void *)(v.base + h->sect[UDB_IMG_S_NAME_INDEX].off);
	m = (uint32_t)(h->sect[UDB_IMG_S_NAME_INDEX].len / 4) - 1;
	bits = index[0];
	ck_assert_uint_ge(bits, 1);
	ck_assert_uint_le(bits, 32 - UDB_IMG_NAME_TAG_MIN_BITS);
	/* Every slot alice's tag and out of the records: damage. */
	for (uint32_t i = 1; i <= m; i++)
		index[i] =
			udb_img_name_tag(udb_img_hash_name("alice", 5), bits) | ((1u << bits) - 1);
	ck_assert_uint_eq(uid_of(&v.img, "alice"), UINT32_MAX);
	/* Her tag with no record at all. */
	for (uint32_t i = 1; i <= m; i++)
		index[i] = udb_img_name_tag(udb_img_hash_name("alice", 5), bits);
	ck_assert_uint_eq(uid_of(&v.img, "alice"), UINT32_MAX);
	/* Full of other tags, no empty slot: the probe still ends. */
	for (uint32_t i = 1; i <= m; i++)
		index[i] = ~udb_img_name_tag(udb_img_hash_name("alice", 5), bits);
	ck_assert_uint_eq(uid_of(&v.img, "alice"), 0);
	/* A header word no writer makes. */
	index[0] = 0;
	ck_assert_uint_eq(uid_of(&v.img, "bob"), UINT32_MAX);
	index[0] = 32;
	ck_assert_uint_eq(uid_of(&v.img, "bob"), UINT32_MAX);
	view_close(&v);
}
END_TEST

/* Records past 2^28 units (2 GiB of them) leave a tag of less than 4
 * bits: the writer falls back to the 8-byte table. */
START_TEST(test_name_index_falls_back_to_table)
{
	struct udb_image_sections im = {0};
	uint32_t hashes[2] = {udb_img_hash_name("a", 1), udb_img_hash_name("b", 1)};
	uint32_t near[2] = {1, (1u << 28) - 2}, far[2] = {1, 1u << 28};

	ck_assert_int_eq(udb_image_name_index_build(&im, hashes, near, 2), UDB_OK);
	ck_assert_uint_gt(im.sect[UDB_IMG_S_NAME_INDEX].len, 0);
	ck_assert_uint_eq(im.sect[UDB_IMG_S_USER_BY_NAME].len, 0);
	udb_image_sections_free(&im);
	im = (struct udb_image_sections){0};
	ck_assert_int_eq(udb_image_name_index_build(&im, hashes, far, 2), UDB_OK);
	ck_assert_uint_eq(im.sect[UDB_IMG_S_NAME_INDEX].len, 0);
	ck_assert_uint_gt(im.sect[UDB_IMG_S_USER_BY_NAME].len, 0);
	udb_image_sections_free(&im);
}
END_TEST

static Suite *
image_read_suite(void)
{
	Suite *s = suite_create("image_read");
	TCase *tc;

	tc = fx_tcase(s, "udb_img_user_by_uid", true);
	tcase_add_test(tc, test_user_by_uid_dense_index);
	tcase_add_test(tc, test_user_by_uid_sparse_table);
	tcase_add_test(tc, test_user_by_uid_damaged_index);
	tc = fx_tcase(s, "udb_img_user_by_name", true);
	tcase_add_test(tc, test_user_by_name_index);
	tcase_add_test(tc, test_user_by_name_damaged_index);
	tcase_add_test(tc, test_name_index_falls_back_to_table);
	return s;
}

int
main(void)
{
	return fx_main(image_read_suite());
}
