/* Unit tests of common/image_write.c, image_delta.c and image_changes.c
 * through the commits that call them: which changes publish which delta,
 * that a change leaves the bases alone and a login's own bookkeeping
 * publishes nothing, that an image missing or out of step is published
 * again by the next write whatever it changes, that what is published
 * (base and delta) reads back through common/image_read.c as the store
 * says, and that rebuilding the bases (compaction) changes no answer. */
#include <fcntl.h>
#include <stddef.h>
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
	ino_t pub, sec;             /* the bases */
	ino_t pub_delta, sec_delta; /* 0: none */
	uint64_t word;
};

static ino_t
inode_of(const char *name)
{
	struct stat st;

	if (stat(fx_dbfile(name), &st) < 0)
		return 0;
	return st.st_ino;
}

static struct published
published(void)
{
	struct published p = {inode_of(UDB_IMAGE_FILE), inode_of(UDB_SHADOW_IMAGE_FILE),
			      inode_of(UDB_IMAGE_DELTA_FILE), inode_of(UDB_SHADOW_DELTA_FILE), 0};
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

/* The installed file, mapped; unmapped by the caller. */
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

/* The installed public base with its delta, as the NSS module reads them. */
struct view {
	struct udb_img img;
	void *map, *delta;
	size_t len, delta_len;
};

static void
view_open(struct view *v, enum udb_img_kind kind)
{
	bool shadow = kind == UDB_IMG_SHADOW;

	v->delta = NULL;
	v->map = map_image(shadow ? UDB_SHADOW_IMAGE_FILE : UDB_IMAGE_FILE, &v->len);
	ck_assert_int_eq(udb_img_open(v->map, v->len, kind, &v->img), UDB_OK);
	if (access(fx_dbfile(shadow ? UDB_SHADOW_DELTA_FILE : UDB_IMAGE_DELTA_FILE), F_OK) == 0) {
		v->delta = map_image(shadow ? UDB_SHADOW_DELTA_FILE : UDB_IMAGE_DELTA_FILE,
				     &v->delta_len);
		enum udb_result r = udb_img_attach_delta(&v->img, v->delta, v->delta_len);

		/* UDB_NOT_FOUND: a delta of an older base, which readers ignore. */
		ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
	}
}

static void
view_close(struct view *v)
{
	munmap(v->map, v->len);
	if (v->delta)
		munmap(v->delta, v->delta_len);
}

START_TEST(test_commit_publishes_both_deltas)
{
	struct published before = published(), after;

	add_user("alice");
	after = published();
	ck_assert_uint_ne(after.pub_delta, before.pub_delta);
	ck_assert_uint_ne(after.sec_delta, before.sec_delta);
	ck_assert_uint_ne(after.word, before.word);
	/* The bases stay as they were. */
	ck_assert_uint_eq(after.pub, before.pub);
	ck_assert_uint_eq(after.sec, before.sec);
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
	ck_assert_uint_eq(after.pub_delta, before.pub_delta);
	ck_assert_uint_eq(after.sec_delta, before.sec_delta);
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
	ck_assert_uint_eq(after.pub_delta, before.pub_delta);
	ck_assert_uint_ne(after.sec_delta, before.sec_delta);
	ck_assert_uint_eq(after.sec, before.sec);
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

/* The same for a delta of an older generation (an install that never
 * happened): copied aside before a change, put back after it; the next
 * write publishes it again with the change. */
START_TEST(test_stale_delta_republished_by_next_write)
{
	struct udb_img_passwd u;
	struct view v;
	char cmd[3 * PATH_MAX];

	add_user("alice");
	snprintf(cmd, sizeof(cmd), "cp -p %s %s.old", fx_dbfile(UDB_IMAGE_DELTA_FILE),
		 fx_dbfile(UDB_IMAGE_DELTA_FILE));
	ck_assert_int_eq(system(cmd), 0);
	add_user("bob");
	snprintf(cmd, sizeof(cmd), "mv %s.old %s", fx_dbfile(UDB_IMAGE_DELTA_FILE),
		 fx_dbfile(UDB_IMAGE_DELTA_FILE));
	ck_assert_int_eq(system(cmd), 0);
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert_int_eq(udb_img_user_by_name(&v.img, "bob", &u), UDB_NOT_FOUND);
	view_close(&v);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert_int_eq(udb_img_user_by_name(&v.img, "bob", &u), UDB_OK);
	view_close(&v);
}
END_TEST

/* And a base of an older generation: the next write rebuilds the bases. */
START_TEST(test_stale_base_rebuilt_by_next_write)
{
	struct udb_img_passwd u;
	struct view v;
	char cmd[3 * PATH_MAX];

	add_user("alice");
	snprintf(cmd, sizeof(cmd), "cp -p %s %s.old", fx_dbfile(UDB_IMAGE_FILE),
		 fx_dbfile(UDB_IMAGE_FILE));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	ck_assert_uint_eq(inode_of(UDB_IMAGE_DELTA_FILE), 0);
	snprintf(cmd, sizeof(cmd), "mv %s.old %s", fx_dbfile(UDB_IMAGE_FILE),
		 fx_dbfile(UDB_IMAGE_FILE));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(udb_account_record_unknown_failure(fx.db), UDB_OK);
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert(!v.img.has_delta);
	ck_assert_int_eq(udb_img_user_by_name(&v.img, "alice", &u), UDB_OK);
	view_close(&v);
}
END_TEST

/* Sets the format version in the installed file's header. */
static void
set_format_version(const char *name, uint32_t version)
{
	int fd = open(fx_dbfile(name), O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(
		pwrite(fd, &version, sizeof(version), offsetof(struct udb_img_header, version)),
		(ssize_t)sizeof(version));
	close(fd);
}

/* A base of the previous format (version 2, before the records held their
 * entries inline) is refused by readers, never read with this format's
 * layout, and rebuilt by `userdb init` (udb_db_init) and by the next
 * write. */
START_TEST(test_old_format_base_rebuilt)
{
	struct udb_img_passwd u;
	struct udb_img img;
	struct view v;
	size_t len;
	void *map;

	add_user("alice");
	set_format_version(UDB_IMAGE_FILE, UDB_IMG_VERSION - 1);
	map = map_image(UDB_IMAGE_FILE, &len);
	ck_assert_int_eq(udb_img_open(map, len, UDB_IMG_PUBLIC, &img), UDB_SCHEMA);
	munmap(map, len);
	ck_assert_int_eq(udb_db_init(fx.dbdir, NULL), UDB_OK);
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert_int_eq(udb_img_user_by_name(&v.img, "alice", &u), UDB_OK);
	view_close(&v);
	set_format_version(UDB_IMAGE_FILE, UDB_IMG_VERSION - 1);
	add_user("bob");
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert_int_eq(udb_img_user_by_name(&v.img, "alice", &u), UDB_OK);
	ck_assert_int_eq(udb_img_user_by_name(&v.img, "bob", &u), UDB_OK);
	view_close(&v);
}
END_TEST

/* What the image holds, read back: entries, a role's effective members
 * through inclusion, a grant's window kept for the reader. */
START_TEST(test_image_reads_back)
{
	struct udb_role_spec staff = {.name = "staff"}, admins = {.name = "admins"};
	const char *const includes[] = {"staff"};
	struct udb_img_passwd u;
	struct udb_img_group g;
	struct view v;
	const struct udb_img *img = &v.img;
	const char *name;
	size_t len;
	bool shown;

	admins.includes = includes;
	admins.n_includes = 1;
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &staff, false, T0), UDB_OK);
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &admins, false, T0), UDB_OK);
	add_user("alice");
	add_user("bob");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admins", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, T0 + DAY, T0, NULL), UDB_OK);
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert(v.img.has_delta);
	ck_assert_int_eq(udb_img_user_by_name(img, "alice", &u), UDB_OK);
	ck_assert_str_eq(u.entry, "alice");
	ck_assert_int_eq(udb_img_user_by_uid(img, u.uid, &u), UDB_OK);
	ck_assert_str_eq(u.entry, "alice");
	ck_assert_int_eq(udb_img_user_by_name(img, "carol", &u), UDB_NOT_FOUND);
	ck_assert_int_eq(udb_img_role_by_name(img, "staff", &g), UDB_OK);
	/* alice in the block of members always shown; bob's grant ends a day
	 * on: kept apart, with its window. */
	ck_assert_uint_eq(g.n_members, 1);
	ck_assert_str_eq(g.members, "alice");
	ck_assert_uint_eq(g.n_timed, 1);
	ck_assert_int_eq(udb_img_timed_member(&g, 0, T0 + DAY - 1, &name, &len, &shown), UDB_OK);
	ck_assert_str_eq(name, "bob");
	ck_assert_uint_eq(len, 3);
	ck_assert(shown);
	ck_assert_int_eq(udb_img_timed_member(&g, 0, T0 + DAY, &name, &len, &shown), UDB_OK);
	ck_assert(!shown);
	ck_assert_int_eq(udb_img_timed_member(&g, 1, T0, &name, &len, &shown), UDB_CORRUPT);
	ck_assert_int_eq(udb_img_role_by_name(img, "admins", &g), UDB_OK);
	ck_assert_uint_eq(g.n_members, 1);
	ck_assert_str_eq(g.members, "alice");
	view_close(&v);
}
END_TEST

/* Every answer of the public image (base and delta) as sorted lines: each
 * user's entry, ids and groups at time now, each role's gid and members
 * shown at now; and of the shadow image, each account's name and hash. */
static void
add_gid(uint32_t gid, void *data)
{
	char *line = data;
	size_t n = strlen(line);

	snprintf(line + n, 1024 - n, " %u", gid);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
dump_images(int64_t now)
{
	struct view v, sv;
	char **lines = NULL, *out;
	size_t n = 0, total = 1;

	view_open(&v, UDB_IMG_PUBLIC);
	view_open(&sv, UDB_IMG_SHADOW);
	lines = calloc(udb_img_user_count(&v.img) + udb_img_role_count(&v.img) +
			       udb_img_account_count(&sv.img) + 1,
		       sizeof(*lines));
	for (uint32_t i = 0; i < udb_img_user_count(&v.img); i++) {
		struct udb_img_passwd u;
		enum udb_result r = udb_img_user_at(&v.img, i, &u);
		char *line;

		ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
		if (r != UDB_OK)
			continue;
		line = calloc(1, 1024);
		const char *gecos = u.entry + u.name_len + 3;
		const char *home = gecos + strlen(gecos) + 1;

		snprintf(line, 1024, "u %s %u %u %d %s:%s:%s groups", u.entry, u.uid, u.gid,
			 u.personal, gecos, home, home + strlen(home) + 1);
		ck_assert_int_eq(udb_img_user_groups(&v.img, &u, now, add_gid, line), UDB_OK);
		lines[n++] = line;
	}
	for (uint32_t i = 0; i < udb_img_role_count(&v.img); i++) {
		struct udb_img_group g;
		enum udb_result r = udb_img_role_at(&v.img, i, &g);
		char *line = calloc(1, 1 << 16), **names;
		uint32_t t = 0, k = 0;

		ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
		if (r != UDB_OK) {
			free(line);
			continue;
		}
		names = calloc(g.n_members + g.n_timed + 1, sizeof(*names));
		for (size_t at = 0; at < g.members_len; at += strlen(g.members + at) + 1)
			names[k++] = (char *)(uintptr_t)(g.members + at);
		ck_assert_uint_eq(k, g.n_members);
		for (; t < g.n_timed; t++) {
			const char *name;
			size_t len;
			bool shown;

			ck_assert_int_eq(udb_img_timed_member(&g, t, now, &name, &len, &shown),
					 UDB_OK);
			if (shown)
				names[k++] = (char *)(uintptr_t)name;
		}
		qsort(names, k, sizeof(*names), cmp_str);
		snprintf(line, 1 << 16, "r %s %u:", g.name, g.gid);
		for (uint32_t m = 0; m < k; m++)
			snprintf(line + strlen(line), (1 << 16) - strlen(line), " %s", names[m]);
		free(names);
		lines[n++] = line;
	}
	for (uint32_t i = 0; i < udb_img_account_count(&sv.img); i++) {
		struct udb_img_shadow a;
		enum udb_result r = udb_img_account_at(&sv.img, i, &a);
		char *line = calloc(1, 1024);

		ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
		if (r != UDB_OK) {
			free(line);
			continue;
		}
		snprintf(line, 1024, "s %s %s %d", a.name, a.hash ? a.hash : "-",
			 a.account.is_enabled);
		lines[n++] = line;
	}
	view_close(&v);
	view_close(&sv);
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++)
		total += strlen(lines[i]) + 1;
	out = calloc(1, total);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
		free(lines[i]);
	}
	free(lines);
	return out;
}

/* A run of changes of every kind a delta carries: added, renamed away,
 * deleted, disabled users; grants with and without windows, a revoke, a
 * new role. What the base and the delta answer together is what the store
 * says: the same lines as after compaction, which rebuilds the bases from
 * the store alone (and removes the deltas). */
START_TEST(test_compaction_keeps_answers)
{
	struct udb_role_spec staff = {.name = "staff"}, ops = {.name = "ops"};
	struct udb_user_changes shell = {.shell = "/bin/sh"};
	char *before, *after, *delta_only;

	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &staff, false, T0), UDB_OK);
	add_user("alice");
	add_user("bob");
	add_user("carol");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "staff", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "bob", "staff", 0, T0 + DAY, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "carol", "staff", 0, 0, T0, NULL), UDB_OK);
	/* Those in the base; what follows in the delta over it. */
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	add_user("dave");
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &ops, false, T0), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "dave", "staff", T0 + DAY, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "dave", "ops", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_revoke(fx.db, "alice", "staff", NULL), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "carol"), UDB_OK);
	ck_assert_int_eq(udb_user_modify(fx.db, "bob", &shell, T0), UDB_OK);
	ck_assert_int_eq(udb_account_set_enabled(fx.db, "bob", false, NULL), UDB_OK);
	delta_only = dump_images(T0);
	ck_assert_ptr_nonnull(strstr(delta_only, "r staff 10000: bob\n"));
	ck_assert_ptr_null(strstr(delta_only, "carol"));
	ck_assert_ptr_nonnull(strstr(delta_only, "/bin/sh"));
	before = dump_images(T0 + DAY);
	ck_assert_ptr_nonnull(strstr(before, "r staff 10000: dave\n"));
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	ck_assert_uint_eq(inode_of(UDB_IMAGE_DELTA_FILE), 0);
	ck_assert_uint_eq(inode_of(UDB_SHADOW_DELTA_FILE), 0);
	after = dump_images(T0 + DAY);
	ck_assert_str_eq(after, before);
	free(after);
	after = dump_images(T0);
	ck_assert_str_eq(after, delta_only);
	free(after);
	free(before);
	free(delta_only);
}
END_TEST

/* A writer killed after it renamed new bases into place and before it
 * removed the deltas leaves a delta of the older base beside the new one:
 * readers ignore it (its covered records are the old base's), and answer
 * what the new base says. */
START_TEST(test_delta_of_older_base_ignored)
{
	char cmd[3 * PATH_MAX], *want, *got;

	add_user("alice");
	add_user("bob");
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	ck_assert_int_eq(udb_user_delete(fx.db, "alice"), UDB_OK);
	add_user("carol");
	snprintf(cmd, sizeof(cmd), "cp -p %s %s.old", fx_dbfile(UDB_IMAGE_DELTA_FILE),
		 fx_dbfile(UDB_IMAGE_DELTA_FILE));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	want = dump_images(T0);
	ck_assert_ptr_nonnull(strstr(want, "u bob "));
	snprintf(cmd, sizeof(cmd), "mv %s.old %s", fx_dbfile(UDB_IMAGE_DELTA_FILE),
		 fx_dbfile(UDB_IMAGE_DELTA_FILE));
	ck_assert_int_eq(system(cmd), 0);
	got = dump_images(T0);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
}
END_TEST

/* A user's groups in the delta are all of them: a grant of a third role
 * rewrites that role's list only, and the user's initgroups list keeps the
 * two roles the change left alone. */
START_TEST(test_delta_user_keeps_untouched_groups)
{
	struct udb_role_spec r1 = {.name = "one"}, r2 = {.name = "two"}, r3 = {.name = "three"};
	char *got;

	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &r1, false, T0), UDB_OK);
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &r2, false, T0), UDB_OK);
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &r3, false, T0), UDB_OK);
	add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "one", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "two", 0, 0, T0, NULL), UDB_OK);
	ck_assert_int_eq(udb_db_compact(fx.db, false, NULL), UDB_OK);
	ck_assert_int_eq(udb_grant(fx.db, "alice", "three", 0, 0, T0, NULL), UDB_OK);
	got = dump_images(T0);
	ck_assert_ptr_nonnull(strstr(got, "groups 10000 10001 10002\n"));
	ck_assert_ptr_nonnull(strstr(got, "r one 10000: alice\n"));
	ck_assert_ptr_nonnull(strstr(got, "r three 10002: alice\n"));
	free(got);
}
END_TEST

/* A change that reaches beyond its entries (an inclusion between roles)
 * rebuilds the bases instead of publishing a delta. */
START_TEST(test_inclusion_rebuilds_bases)
{
	struct udb_role_spec staff = {.name = "staff"}, admins = {.name = "admins"};
	struct published before, after;
	struct udb_img_group g;
	struct view v;

	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &staff, false, T0), UDB_OK);
	ck_assert_int_eq(udb_role_add(fx.db, fx.cfg, &admins, false, T0), UDB_OK);
	add_user("alice");
	ck_assert_int_eq(udb_grant(fx.db, "alice", "admins", 0, 0, T0, NULL), UDB_OK);
	before = published();
	ck_assert_uint_ne(before.pub_delta, 0);
	ck_assert_int_eq(udb_role_include(fx.db, "admins", "staff", NULL), UDB_OK);
	after = published();
	ck_assert_uint_ne(after.pub, before.pub);
	ck_assert_uint_eq(after.pub_delta, 0);
	view_open(&v, UDB_IMG_PUBLIC);
	ck_assert_int_eq(udb_img_role_by_name(&v.img, "staff", &g), UDB_OK);
	ck_assert_uint_eq(g.n_members, 1);
	ck_assert_str_eq(g.members, "alice");
	view_close(&v);
}
END_TEST

static Suite *
image_write_suite(void)
{
	Suite *s = suite_create("image_write");
	TCase *tc;

	tc = fx_tcase(s, "udb_image_build", true);
	tcase_add_test(tc, test_commit_publishes_both_deltas);
	tcase_add_test(tc, test_old_format_base_rebuilt);
	tcase_add_test(tc, test_login_bookkeeping_publishes_nothing);
	tcase_add_test(tc, test_account_change_publishes_shadow_only);
	tcase_add_test(tc, test_image_reads_back);
	tcase_add_test(tc, test_compaction_keeps_answers);
	tcase_add_test(tc, test_inclusion_rebuilds_bases);
	tcase_add_test(tc, test_delta_user_keeps_untouched_groups);
	tc = fx_tcase(s, "udb_image_install", true);
	tcase_add_test(tc, test_missing_image_rebuilt_by_next_write);
	tcase_add_test(tc, test_stale_delta_republished_by_next_write);
	tcase_add_test(tc, test_stale_base_rebuilt_by_next_write);
	tcase_add_test(tc, test_delta_of_older_base_ignored);
	return s;
}

int
main(void)
{
	return fx_main(image_write_suite());
}
