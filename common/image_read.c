/* Reading a mapped image's users (format in image.h): by index, in file
 * order, by name and by uid, over a base and its delta; the header check,
 * the sections and the generic probe are in image_read_part.c, roles,
 * windows and accounts in image_read_groups.c. Every offset is checked
 * against the section it points into before it is followed. Pure
 * functions over bytes: no SQL, no allocation, no system call, no lock.
 * Called by the NSS module for every lookup, by the image writer and by
 * the fuzz target (tests/fuzz/fuzz_image.c).
 *
 * A point lookup reads a slot or an index entry, then a self-contained
 * user record, the passwd entry inline: two dependent memory reads. By
 * uid, where the writer made the dense UID_INDEX, the first is an entry
 * found by subtraction, without hashing or probing, in an array a quarter
 * of the 8-byte table's size; by name, NAME_INDEX has 4-byte slots (offset
 * and tag in one word) filled to 3/4, a third of the 8-byte table's size:
 * a random read in a smaller area misses the TLB less often. */
#include <string.h>

#include "image-read-internal.h"
#include "image.h"

size_t
udb_img_user_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_PUBLIC ? udb_img_total(img, UDB_IMG_S_USER_OFFS) : 0;
}

/* The user record at unit (8-byte units into USERS), header and entry
 * inside the section; NULL when they are not. */
static const struct udb_img_user *
user_rec(const struct udb_img_part *p, uint32_t unit)
{
	uint64_t len = p->sect[UDB_IMG_S_USERS].len, off = (uint64_t)unit * UDB_IMG_ALIGN;
	const struct udb_img_user *u;

	if (off > len || len - off < sizeof(*u))
		return NULL;
	u = (const struct udb_img_user *)(const void *)((const unsigned char *)udb_img_sect(
								p, UDB_IMG_S_USERS) +
							off);
	if (u->entry_len > len - off - sizeof(*u))
		return NULL;
	return u;
}

/* The offset of the string after the one that starts at at (< len), in
 * an entry of len bytes whose last byte is a NUL: at most len. */
static size_t
next_string(const char *entry, size_t len, size_t at)
{
	const char *nul = memchr(entry + at, '\0', len - at);

	return (size_t)(nul - entry) + 1;
}

/* The passwd entry of record u of part p, its shape checked; index is the
 * record's own (in p). */
static enum udb_result
user_from_rec(const struct udb_img_part *p, const struct udb_img_user *u,
	      struct udb_img_passwd *ret_user)
{
	const char *entry = (const char *)(u + 1);
	size_t len = u->entry_len, gecos, dir, shell;

	if (u->flags & UDB_IMG_DAMAGED)
		return UDB_CORRUPT;
	/* name, "x", GECOS, home, shell: five strings, the name u->name_len
	 * bytes long, the entry ending with the fifth NUL. Each memchr below
	 * starts inside the entry and finds a NUL at the latest at its last
	 * byte. */
	if (len == 0 || entry[len - 1] != '\0' || (uint64_t)u->name_len + 3 > len ||
	    entry[u->name_len] != '\0' || entry[u->name_len + 1] != 'x' ||
	    entry[u->name_len + 2] != '\0' || memchr(entry, '\0', u->name_len) != NULL)
		return UDB_CORRUPT;
	gecos = u->name_len + 3;
	if (gecos >= len)
		return UDB_CORRUPT;
	dir = next_string(entry, len, gecos);
	if (dir >= len)
		return UDB_CORRUPT;
	shell = next_string(entry, len, dir);
	if (shell >= len || next_string(entry, len, shell) != len)
		return UDB_CORRUPT;
	ret_user->uid = u->uid;
	ret_user->gid = u->gid;
	ret_user->entry = entry;
	ret_user->len = len;
	ret_user->name_len = u->name_len;
	ret_user->gecos = (uint32_t)gecos;
	ret_user->dir = (uint32_t)dir;
	ret_user->shell = (uint32_t)shell;
	ret_user->personal = (u->flags & UDB_IMG_PERSONAL) != 0;
	ret_user->index = u->index;
	ret_user->part = p;
	ret_user->rec = u;
	return UDB_OK;
}

enum udb_result
udb_img_user_at(const struct udb_img *img, uint32_t index, struct udb_img_passwd *ret_user)
{
	const struct udb_img_part *p;
	const struct udb_img_user *u;
	const uint32_t *offs;
	enum udb_result r;
	uint32_t i;

	if (img->kind != UDB_IMG_PUBLIC || !udb_img_locate(img, UDB_IMG_S_USER_OFFS, index, &p, &i))
		return UDB_CORRUPT;
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_USERS, i))
		return UDB_NOT_FOUND;
	offs = udb_img_sect(p, UDB_IMG_S_USER_OFFS);
	u = user_rec(p, offs[i]);
	if (!u || u->index != i)
		return UDB_CORRUPT;
	r = user_from_rec(p, u, ret_user);
	ret_user->index = index;
	return r;
}

struct name_key {
	const char *name;
	size_t len;
	struct udb_img_passwd *user; /* user_name_match() fills it on a match */
};

static bool
user_name_match(const struct udb_img_part *p, uint32_t ref, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;
	const struct udb_img_user *u = user_rec(p, ref);

	if (!u || user_from_rec(p, u, k->user) != UDB_OK) {
		*ret_bad = true;
		return false;
	}
	return k->user->name_len == k->len && memcmp(k->user->entry, k->name, k->len) == 0;
}

/* The record of the name (hash: its hash) in part p: through NAME_INDEX
 * when the writer made it, else by probing USER_BY_NAME. */
static enum udb_result
probe_name(const struct udb_img_part *p, uint32_t hash, const struct name_key *k, uint32_t *ret_ref)
{
	const uint32_t *v = udb_img_sect(p, UDB_IMG_S_NAME_INDEX);
	uint32_t n = udb_img_sect_count(p, UDB_IMG_S_NAME_INDEX), m, bits, mask, tag, at;

	if (n == 0)
		return udb_img_probe(p, UDB_IMG_S_USER_BY_NAME, hash, user_name_match, k, ret_ref);
	bits = v[0];
	if (n < 2 || bits == 0 || bits > 32 - UDB_IMG_NAME_TAG_MIN_BITS)
		return UDB_CORRUPT;
	m = n - 1;
	mask = (1u << bits) - 1;
	tag = udb_img_name_tag(hash, bits);
	at = (uint32_t)(((uint64_t)hash * m) >> 32);
	/* At most m probes: a damaged table with no empty slot still ends. */
	for (uint32_t step = 0; step < m; step++) {
		uint32_t slot = v[1 + at];
		bool bad = false;

		if (slot == 0)
			return UDB_NOT_FOUND;
		if ((slot & ~mask) == tag) {
			if ((slot & mask) == 0)
				return UDB_CORRUPT;
			if (user_name_match(p, (slot & mask) - 1, k, &bad)) {
				*ret_ref = (slot & mask) - 1;
				return UDB_OK;
			}
			if (bad)
				return UDB_CORRUPT;
		}
		at = at + 1 < m ? at + 1 : 0;
	}
	return UDB_NOT_FOUND;
}

struct uid_key {
	uint32_t uid;
	struct udb_img_passwd *user;
};

static bool
user_uid_match(const struct udb_img_part *p, uint32_t ref, const void *want, bool *ret_bad)
{
	const struct uid_key *k = want;
	const struct udb_img_user *u = user_rec(p, ref);

	if (!u) {
		*ret_bad = true;
		return false;
	}
	if (u->uid != k->uid)
		return false;
	if (user_from_rec(p, u, k->user) != UDB_OK) {
		*ret_bad = true;
		return false;
	}
	return true;
}

/* The record of uid in part p: through UID_INDEX when the writer made
 * it, else by probing USER_BY_UID. */
static enum udb_result
probe_uid(const struct udb_img_part *p, struct uid_key *k, uint32_t *ret_ref)
{
	const uint32_t *v = udb_img_sect(p, UDB_IMG_S_UID_INDEX);
	uint32_t n = udb_img_sect_count(p, UDB_IMG_S_UID_INDEX), at, e;
	bool bad = false;

	if (n == 0)
		return udb_img_probe(p, UDB_IMG_S_USER_BY_UID, k->uid, user_uid_match, k, ret_ref);
	/* v[0] is the lowest uid, v[1 + uid - v[0]] leads to uid's record;
	 * a uid below v[0] wraps around and is past the end too. */
	at = k->uid - v[0];
	if (at >= n - 1 || (e = v[1 + at]) == 0)
		return UDB_NOT_FOUND;
	/* The index names this record for uid: another uid there is damage. */
	if (!user_uid_match(p, e - 1, k, &bad))
		return UDB_CORRUPT;
	*ret_ref = e - 1;
	return UDB_OK;
}

/* A user found in p: its index over base and delta, or UDB_NOT_FOUND
 * when it is a base record the delta covers. */
static enum udb_result
found_user(const struct udb_img *img, const struct udb_img_part *p, struct udb_img_passwd *user)
{
	uint32_t n0 = udb_img_sect_count(&img->part[0], UDB_IMG_S_USER_OFFS);

	if (p == &img->part[0])
		return udb_img_covered(img, UDB_IMG_S_USERS, user->index) ? UDB_NOT_FOUND : UDB_OK;
	if ((uint64_t)n0 + user->index > UINT32_MAX)
		return UDB_CORRUPT;
	user->index += n0;
	return UDB_OK;
}

enum udb_result
udb_img_user_by_name(const struct udb_img *img, const char *name, struct udb_img_passwd *ret_user)
{
	struct udb_img_passwd u;
	struct name_key k = {name, strlen(name), &u};
	const struct udb_img_part *p = NULL;
	uint32_t ref = 0, hash;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	/* The match reads and checks the record it compares: a hit hands it
	 * out as it is, without reading it a second time. One hash for both
	 * files; the delta first, then the base (udb_img_lookup's order). */
	hash = udb_img_hash_name(name, k.len);
	r = UDB_NOT_FOUND;
	if (img->has_delta) {
		p = &img->part[1];
		r = probe_name(p, hash, &k, &ref);
	}
	if (r == UDB_NOT_FOUND) {
		p = &img->part[0];
		r = probe_name(p, hash, &k, &ref);
	}
	if (r == UDB_OK)
		r = found_user(img, p, &u);
	if (r == UDB_OK)
		*ret_user = u;
	return r;
}

enum udb_result
udb_img_user_by_uid(const struct udb_img *img, uint32_t uid, struct udb_img_passwd *ret_user)
{
	struct udb_img_passwd u;
	struct uid_key k = {uid, &u};
	const struct udb_img_part *p = NULL;
	uint32_t ref = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	/* The delta first, then the base (udb_img_lookup's order). */
	r = UDB_NOT_FOUND;
	if (img->has_delta) {
		p = &img->part[1];
		r = probe_uid(p, &k, &ref);
	}
	if (r == UDB_NOT_FOUND) {
		p = &img->part[0];
		r = probe_uid(p, &k, &ref);
	}
	if (r == UDB_OK)
		r = found_user(img, p, &u);
	if (r == UDB_OK)
		*ret_user = u;
	return r;
}

#define IN_DELTA (1ull << 63)

/* Whether base record idx is covered, for a walk whose covered list
 * position is *at: the list and the walk's records both ascend, so *at
 * only moves forward. */
static bool
walk_covered(const struct udb_img *img, uint32_t idx, uint32_t *at)
{
	/* The section read from the part itself, as udb_img_sect() and
	 * udb_img_sect_count() would, without a call per record: the header
	 * check found it inside the file, a whole number of 4-byte entries. */
	const struct udb_img_part *d = &img->part[1];
	const uint32_t *v =
		(const uint32_t *)(const void *)(d->base + d->sect[UDB_IMG_S_COVERED_USERS].off);
	uint64_t n = d->sect[UDB_IMG_S_COVERED_USERS].len / sizeof(*v);

	while (*at < n && v[*at] < idx)
		(*at)++;
	return *at < n && v[*at] == idx;
}

enum udb_result
udb_img_user_next(const struct udb_img *img, struct udb_img_walk *walk,
		  struct udb_img_passwd *ret_user)
{
	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	for (;;) {
		const struct udb_img_part *p = &img->part[(walk->pos & IN_DELTA) ? 1 : 0];
		uint64_t off = walk->pos & ~IN_DELTA;
		const struct udb_img_user *u;
		enum udb_result r;

		if ((walk->pos & IN_DELTA) && !img->has_delta)
			return UDB_NOT_FOUND;
		if (off >= p->sect[UDB_IMG_S_USERS].len) {
			if (walk->pos & IN_DELTA || !img->has_delta)
				return UDB_NOT_FOUND;
			walk->pos = IN_DELTA;
			walk->index = 0;
			continue;
		}
		if (off % UDB_IMG_ALIGN != 0 || off / UDB_IMG_ALIGN > UINT32_MAX)
			return UDB_CORRUPT;
		u = user_rec(p, (uint32_t)(off / UDB_IMG_ALIGN));
		/* The index is what the covered list names: a record out of
		 * sequence could hide a covered one, or show it. */
		if (!u || u->index != walk->index || walk->index == UINT32_MAX)
			return UDB_CORRUPT;
		/* The record's size, aligned: user_rec() checked it lies inside
		 * the section, so this does not overflow. */
		walk->pos += (sizeof(*u) + u->entry_len + UDB_IMG_ALIGN - 1) / UDB_IMG_ALIGN *
			     UDB_IMG_ALIGN;
		walk->index++;
		/* A base record the delta covers is skipped here; a delta's
		 * record gets its index over both (found_user). */
		if (p == &img->part[0] && img->has_delta &&
		    walk_covered(img, u->index, &walk->covered))
			continue;
		r = user_from_rec(p, u, ret_user);
		if (r == UDB_OK && p != &img->part[0])
			r = found_user(img, p, ret_user);
		return r;
	}
}
