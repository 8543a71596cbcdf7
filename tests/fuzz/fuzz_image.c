/* Fuzz target: the image reader of common/image_read.c, which the NSS module
 * runs on files anyone with write access to dbdir, or a damaged disk, may
 * have shaped. The input is a one-byte selector (public or shadow image,
 * a base alone or a base with a delta over it, and the time of the
 * lookups) followed by the bytes: the base's alone, or a four-byte
 * little-endian length, that many bytes of base, and the delta's bytes.
 * Each file is copied into a heap block of exactly its length (ASan
 * catches any read past it; the block is 8-aligned like a mapping). When
 * the header passes (and the delta attaches), every record is read and
 * every lookup made, and each answer is checked against a reference
 * computed here, independently of the reader's own checks:
 *   - whatever a record gives back lies inside the base or the delta: the
 *     passwd entry, its NUL-ended name of the stated length, a role's name
 *     and member block (ending with a NUL), the member lengths adding up
 *     to it, every timed member's name;
 *   - enumeration in file order gives entries inside the files, never a
 *     covered one, always moving forward, each index (over base and
 *     delta) greater than the one before;
 *   - a lookup by name or id that succeeds returns a record with that name
 *     or id, the same as reading that record by index (a linear scan of the
 *     records is the reference of what "that name" means); with a delta, a
 *     name the delta's own records have is answered from the delta, and a
 *     base record the delta covers is never an answer;
 *   - a user packed into buffers around its need gives what the packer of
 *     untrusted entries gives for the same bytes (which splits the five
 *     strings itself and checks them with the entry rules): the same
 *     result, the same strings, inside the buffer, nothing written past;
 *   - a role packed into buffers of every size around its need either fits
 *     with every string and pointer inside the buffer, or says
 *     UDB_BUFFER_TOO_SMALL or UDB_CORRUPT, and never writes past it.
 * The seeds in corpus/image/ are public and shadow bases and deltas the
 * writer made for a small database (two roles, one including the other, a
 * primary role, grants that end and one that starts; then a grant, a
 * revoke, a user added and one deleted over the base, and one added with
 * a uid far from the others: the base finds uids through its dense index,
 * the delta through its hash table), at two lookup times, and copies of
 * the public base truncated, of another version, with a user's entry, a
 * role's offsets, the uid index's entries and the name index's slots
 * pointing out of range, to other users or into the middle of records. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "image.h"
#include "pack.h"

#define GUARD       32
#define GUARD_BYTE  0xa5
#define MAX_RECORDS 64

static const struct udb_config cfg = {
	.uid_min = 1000,
	.uid_max = 60000,
	.gid_min = 1000,
	.gid_max = 70000,
};

static bool
inside_part(const struct udb_img_part *part, const void *p, size_t len)
{
	const unsigned char *c = p;

	return c >= part->base && c <= part->base + part->size && len <= part->size &&
	       (size_t)(c - part->base) <= part->size - len;
}

/* Inside the base or, when there is one, the delta. */
static bool
inside(const struct udb_img *img, const void *p, size_t len)
{
	return inside_part(&img->part[0], p, len) ||
	       (img->has_delta && inside_part(&img->part[1], p, len));
}

/* The reference of "covered": index (over base and delta) is a base
 * record that a linear scan of the delta's covered section finds. */
static bool
covered_by_scan(const struct udb_img *img, enum udb_img_section c, uint32_t index)
{
	/* Public users are counted by USER_OFFS (their records have no fixed
	 * size), accounts and roles by their records. */
	enum udb_img_section recs = c == UDB_IMG_S_COVERED_ROLES  ? UDB_IMG_S_ROLES
				    : img->kind == UDB_IMG_SHADOW ? UDB_IMG_S_USERS
								  : UDB_IMG_S_USER_OFFS;
	size_t rec = recs == UDB_IMG_S_ROLES   ? sizeof(struct udb_img_role)
		     : recs == UDB_IMG_S_USERS ? sizeof(struct udb_img_account)
					       : sizeof(uint32_t);
	const struct udb_img_part *d = &img->part[1];
	uint32_t v;

	if (!img->has_delta || index >= img->part[0].sect[recs].len / rec)
		return false;
	for (uint64_t off = 0; off + sizeof(v) <= d->sect[c].len; off += sizeof(v)) {
		memcpy(&v, d->base + d->sect[c].off + off, sizeof(v));
		if (v == index)
			return true;
	}
	return false;
}

static void
no_gid(uint32_t gid, void *data)
{
	(void)gid;
	(void)data;
}

static void
check_str_in(const char *s, const char *buf, size_t size, const char *want, const char *what)
{
	fuzz_check(s >= buf && s < buf + size && memchr(s, '\0', (size_t)(buf + size - s)),
		   "pack user: %s outside the buffer", what);
	fuzz_check(strcmp(s, want) == 0, "pack user: %s \"%s\", want \"%s\"", what, s, want);
}

/* The user packed into size bytes against the reference: the same bytes
 * split and checked by pack.c's packer of untrusted entries, which finds
 * the five strings itself (the reader's offsets are not used). */
static void
check_packed_user(const struct udb_img_passwd *u, size_t size)
{
	struct udb_passwd_entry e = {u->uid, u->gid, u->entry, u->len};
	unsigned char *block = malloc(size + 2 * GUARD), *ref_block = malloc(u->len + 1);
	char *buf = (char *)block + GUARD;
	struct passwd pw, ref;
	enum udb_result r, want;

	fuzz_check(block != NULL && ref_block != NULL, "out of memory");
	memset(block, GUARD_BYTE, size + 2 * GUARD);
	want = udb_pack_passwd_from_entry(&e, &cfg, &ref, (char *)ref_block, u->len + 1);
	if (size < u->len)
		want = UDB_BUFFER_TOO_SMALL;
	r = udb_pack_img_passwd(u, &cfg, &pw, buf, size);
	fuzz_check(r == want, "pack user: result %d, want %d", (int)r, (int)want);
	if (r == UDB_OK) {
		check_str_in(pw.pw_name, buf, size, ref.pw_name, "pw_name");
		check_str_in(pw.pw_passwd, buf, size, ref.pw_passwd, "pw_passwd");
		check_str_in(pw.pw_gecos, buf, size, ref.pw_gecos, "pw_gecos");
		check_str_in(pw.pw_dir, buf, size, ref.pw_dir, "pw_dir");
		check_str_in(pw.pw_shell, buf, size, ref.pw_shell, "pw_shell");
		fuzz_check(pw.pw_uid == u->uid && pw.pw_gid == u->gid, "pack user: ids");
	}
	for (size_t g = 0; g < GUARD; g++)
		fuzz_check(block[g] == GUARD_BYTE && block[GUARD + size + g] == GUARD_BYTE,
			   "pack user: write outside the buffer");
	free(block);
	free(ref_block);
}

static void
check_user(const struct udb_img *img, uint32_t i, int64_t now)
{
	struct udb_img_passwd u, v;
	char name[64];
	enum udb_result r;

	if (udb_img_user_at(img, i, &u) != UDB_OK)
		return;
	fuzz_check(!covered_by_scan(img, UDB_IMG_S_COVERED_USERS, i),
		   "user %u: covered by the delta, read anyway", i);
	fuzz_check(inside(img, u.entry, u.len) && u.len > 0, "user %u: entry outside", i);
	fuzz_check(u.entry[u.len - 1] == '\0', "user %u: entry not NUL-ended", i);
	fuzz_check(u.name_len < u.len && memchr(u.entry, '\0', u.len) == u.entry + u.name_len,
		   "user %u: name length", i);
	check_packed_user(&u, u.len);
	check_packed_user(&u, u.len - 1);
	check_packed_user(&u, u.len + 7);
	if (u.name_len >= sizeof(name))
		return;
	memcpy(name, u.entry, u.name_len + 1);
	r = udb_img_user_by_name(img, name, &v);
	if (r == UDB_OK) {
		fuzz_check(v.name_len == u.name_len && memcmp(v.entry, name, u.name_len) == 0,
			   "by name %s: another user", name);
		fuzz_check(!covered_by_scan(img, UDB_IMG_S_COVERED_USERS, v.index),
			   "by name %s: a base record the delta covers", name);
	}
	/* The uid, and the ones beside it (the dense index's neighbours, or
	 * its ends): an answer has the uid asked for. */
	for (uint32_t id = u.uid - 1; id != u.uid + 2; id++) {
		r = udb_img_user_by_uid(img, id, &v);
		if (r != UDB_OK)
			continue;
		fuzz_check(v.uid == id, "by uid %u: uid %u", id, v.uid);
		fuzz_check(!covered_by_scan(img, UDB_IMG_S_COVERED_USERS, v.index),
			   "by uid %u: a base record the delta covers", id);
	}
	(void)udb_img_user_groups(img, &u, now, no_gid, NULL);
}

/* Enumeration in file order: each user it gives is inside, not covered,
 * the same as reading that index, and the walk only moves forward. */
static void
check_walk(const struct udb_img *img)
{
	struct udb_img_passwd u;
	struct udb_img_walk walk = {0};
	uint64_t pos = 0;
	uint32_t last = 0;

	for (int i = 0; i < MAX_RECORDS; i++) {
		pos = walk.pos;
		if (udb_img_user_next(img, &walk, &u) != UDB_OK)
			return;
		fuzz_check(walk.pos > pos, "walk: position %llu did not move",
			   (unsigned long long)pos);
		fuzz_check(inside(img, u.entry, u.len) && u.len > 0 && u.entry[u.len - 1] == '\0',
			   "walk: entry outside");
		fuzz_check(!covered_by_scan(img, UDB_IMG_S_COVERED_USERS, u.index),
			   "walk: a base record the delta covers");
		fuzz_check(memchr(u.entry, '\0', u.len) == u.entry + u.name_len,
			   "walk: name length");
		/* Over base and delta, each user once, in index order. */
		fuzz_check(i == 0 || u.index > last, "walk: index %u after %u", u.index, last);
		last = u.index;
	}
}

static void
check_packed_role(const struct udb_img_group *g, int64_t now, size_t size)
{
	unsigned char *block = malloc(size + 2 * GUARD);
	char *buf = (char *)block + GUARD;
	struct group gr;
	enum udb_result r;

	fuzz_check(block != NULL, "out of memory");
	memset(block, GUARD_BYTE, size + 2 * GUARD);
	r = udb_pack_img_role(g, &cfg, now, &gr, buf, size);
	fuzz_check(r == UDB_OK || r == UDB_BUFFER_TOO_SMALL || r == UDB_CORRUPT,
		   "pack role: result %d", (int)r);
	if (r == UDB_OK) {
		fuzz_check(gr.gr_name >= buf && gr.gr_name < buf + size, "gr_name outside");
		fuzz_check(strcmp(gr.gr_name, g->name) == 0, "gr_name changed");
		for (size_t i = 0; gr.gr_mem[i]; i++) {
			fuzz_check((char *)&gr.gr_mem[i] >= buf &&
					   (char *)&gr.gr_mem[i] < buf + size,
				   "gr_mem outside");
			fuzz_check(gr.gr_mem[i] >= buf && gr.gr_mem[i] < buf + size,
				   "member outside");
			fuzz_check(i < (size_t)g->n_members + g->n_timed,
				   "more members than the role has");
		}
	}
	for (size_t i = 0; i < GUARD; i++)
		fuzz_check(block[i] == GUARD_BYTE && block[GUARD + size + i] == GUARD_BYTE,
			   "pack role wrote outside its buffer");
	free(block);
}

static void
check_role(const struct udb_img *img, uint32_t i, int64_t now)
{
	struct udb_img_group g, h;
	size_t need;

	if (udb_img_role_at(img, i, &g) != UDB_OK)
		return;
	fuzz_check(inside(img, g.name, g.name_len + 1) && g.name[g.name_len] == '\0',
		   "role %u: name outside", i);
	if (g.n_members > 0) {
		fuzz_check(inside(img, g.members, g.members_len) && g.members_len > 0 &&
				   g.members[g.members_len - 1] == '\0',
			   "role %u: members outside", i);
		size_t sum = g.n_members;

		fuzz_check(inside(img, g.lens, g.n_members), "role %u: lengths outside", i);
		for (uint32_t k = 0; k < g.n_members; k++)
			sum += g.lens[k];
		fuzz_check(sum == g.members_len, "role %u: lengths do not add up to the block", i);
	}
	for (uint32_t t = 0; t < g.n_timed; t++) {
		const char *name;
		size_t len;
		bool shown;

		if (udb_img_timed_member(&g, t, now, &name, &len, &shown) == UDB_OK)
			fuzz_check(inside(img, name, len + 1) && name[len] == '\0' &&
					   strlen(name) == len,
				   "role %u: timed member %u outside", i, t);
	}
	fuzz_check(!covered_by_scan(img, UDB_IMG_S_COVERED_ROLES, i),
		   "role %u: covered by the delta, read anyway", i);
	if (udb_img_role_by_name(img, g.name, &h) == UDB_OK)
		fuzz_check(strcmp(h.name, g.name) == 0, "role by name %s: another role", g.name);
	if (udb_img_role_by_gid(img, g.gid, &h) == UDB_OK)
		fuzz_check(h.gid == g.gid, "role by gid %u: gid %u", g.gid, h.gid);
	/* Every size around the exact need (the need is at most this). */
	need = 16 + ((size_t)g.n_members + g.n_timed + 1) * sizeof(char *) + g.name_len + 3 +
	       g.members_len;
	for (uint32_t t = 0; t < g.n_timed; t++)
		need += (size_t)g.timed[t].name_len + 1;
	if (need > (1u << 20))
		return;
	check_packed_role(&g, now, need);
	check_packed_role(&g, now, need / 2);
	check_packed_role(&g, now, 0);
}

static void
check_account(const struct udb_img *img, uint32_t i)
{
	struct udb_img_shadow a, b;
	char name[64];

	if (udb_img_account_at(img, i, &a) != UDB_OK)
		return;
	fuzz_check(!covered_by_scan(img, UDB_IMG_S_COVERED_USERS, i),
		   "account %u: covered by the delta, read anyway", i);
	fuzz_check(inside(img, a.name, a.name_len + 1) && a.name[a.name_len] == '\0',
		   "account %u: name outside", i);
	if (a.hash)
		fuzz_check(inside(img, a.hash, a.hash_len + 1) && a.hash[a.hash_len] == '\0',
			   "account %u: hash outside", i);
	if (a.name_len >= sizeof(name))
		return;
	memcpy(name, a.name, a.name_len + 1);
	if (udb_img_account_by_name(img, name, &b) == UDB_OK)
		fuzz_check(b.name_len == a.name_len && memcmp(b.name, name, a.name_len) == 0,
			   "account by name %s: another account", name);
}

/* len bytes at data in a heap block of their own, 8-aligned. */
static uint64_t *
copy_block(const uint8_t *data, size_t len)
{
	uint64_t *block = malloc(len ? (len + 7) / 8 * 8 : 8);

	fuzz_check(block != NULL, "out of memory");
	memcpy(block, data, len);
	return block;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum udb_img_kind kind;
	struct udb_img img;
	uint64_t *block, *delta = NULL;
	size_t base_len, delta_len = 0;
	bool with_delta;
	int64_t now;
	enum udb_result r;

	if (size < 1)
		return 0;
	kind = data[0] & 1 ? UDB_IMG_SHADOW : UDB_IMG_PUBLIC;
	with_delta = (data[0] & 2) != 0;
	/* The time of the lookups: before, inside and after typical windows. */
	now = (int64_t)(data[0] >> 2) * 100000000;
	data++;
	size--;
	base_len = size;
	if (with_delta) {
		if (size < 4)
			return 0;
		base_len = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
			   (size_t)data[3] << 24;
		data += 4;
		size -= 4;
		if (base_len > size)
			return 0;
		delta_len = size - base_len;
		delta = copy_block(data + base_len, delta_len);
	}
	block = copy_block(data, base_len);
	r = udb_img_open(block, base_len, kind, &img);
	if (r == UDB_OK && with_delta) {
		r = udb_img_attach_delta(&img, delta, delta_len);
		/* A delta of another base: ignored, or a reason to map again. */
		fuzz_check(r != UDB_OK || img.has_delta, "attached delta not there");
		if (r == UDB_NOT_FOUND)
			r = UDB_OK;
	}
	if (r == UDB_OK) {
		if (kind == UDB_IMG_PUBLIC) {
			size_t n = udb_img_user_count(&img);

			for (uint32_t i = 0; i < n && i < MAX_RECORDS; i++)
				check_user(&img, i, now);
			check_walk(&img);
			n = udb_img_role_count(&img);
			for (uint32_t i = 0; i < n && i < MAX_RECORDS; i++)
				check_role(&img, i, now);
			/* Names and ids nobody has: misses end (the probe is bounded). */
			(void)udb_img_user_by_name(&img, "nobody-here",
						   &(struct udb_img_passwd){0});
			(void)udb_img_role_by_gid(&img, 4294967294u, &(struct udb_img_group){0});
		} else {
			size_t n = udb_img_account_count(&img);

			for (uint32_t i = 0; i < n && i < MAX_RECORDS; i++)
				check_account(&img, i);
		}
	}
	free(block);
	free(delta);
	return 0;
}
