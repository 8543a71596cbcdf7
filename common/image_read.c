/* Reading a mapped image (format in image.h): the header check, the
 * lookup over a base and its delta, and users; roles, windows and
 * accounts are in image_read_groups.c. Every offset is checked against the
 * section it points into before it is followed. Pure functions over bytes:
 * no SQL, no allocation, no system call, no lock. Called by the NSS module
 * for every lookup, by the image writer and by the fuzz target
 * (tests/fuzz/fuzz_image.c).
 *
 * A point lookup is one probe into a table of 8-byte slots whose key (the
 * uid, or the name's hash) skips false candidates without reading them,
 * and whose slot leads straight to a self-contained user record, the
 * passwd entry inline: two dependent memory reads, the slot and the
 * record. By uid, where the writer made the dense UID_INDEX, the first of
 * the two is an entry found by subtraction, without hashing or probing,
 * in an array a quarter of the table's size; by name, NAME_INDEX has
 * 4-byte slots (offset and tag in one word) filled to 3/4, a third of
 * the 8-byte table's size: a random read in a smaller area misses the
 * TLB less often. */
#include <string.h>

#include "image-read-internal.h"
#include "image.h"

static const size_t record_size[UDB_IMG_S_COUNT] = {
	[UDB_IMG_S_STRINGS] = 1,
	[UDB_IMG_S_USERS] = UDB_IMG_ALIGN,
	[UDB_IMG_S_USER_BY_NAME] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_USER_BY_UID] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_ROLES] = sizeof(struct udb_img_role),
	[UDB_IMG_S_ROLE_BY_NAME] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_ROLE_BY_GID] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_USER_GROUPS] = sizeof(struct udb_img_user_group),
	[UDB_IMG_S_WINDOWS] = sizeof(struct udb_img_window),
	[UDB_IMG_S_USER_OFFS] = sizeof(uint32_t),
	[UDB_IMG_S_TIMED] = sizeof(struct udb_img_timed),
	[UDB_IMG_S_USER_IDS] = sizeof(struct udb_img_id),
	[UDB_IMG_S_ROLE_IDS] = sizeof(struct udb_img_id),
	[UDB_IMG_S_COVERED_USERS] = sizeof(uint32_t),
	[UDB_IMG_S_COVERED_ROLES] = sizeof(uint32_t),
	[UDB_IMG_S_MEMBER_LENS] = 1,
	[UDB_IMG_S_UID_INDEX] = sizeof(uint32_t),
	[UDB_IMG_S_NAME_INDEX] = sizeof(uint32_t),
};

uint32_t
udb_img_hash_name(const char *name, size_t len)
{
	/* FNV-1a: names are short, and this needs no table. */
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t
udb_img_hash_id(uint32_t id)
{
	/* Ids are often consecutive: spread them over the table. */
	uint32_t h = id * 0x9e3779b1u;

	return h ^ (h >> 15);
}

uint32_t
udb_img_name_tag(uint32_t hash, uint32_t unit_bits)
{
	/* The top bits of another mix of the hash, in place: the slot a
	 * probe starts at comes from the hash's own top bits. */
	if (unit_bits >= 32)
		return 0;
	return udb_img_hash_id(hash) >> unit_bits << unit_bits;
}

static bool
is_shadow(enum udb_img_kind kind)
{
	return kind == UDB_IMG_SHADOW || kind == UDB_IMG_SHADOW_DELTA;
}

static size_t
rec_size(enum udb_img_kind kind, enum udb_img_section s)
{
	if (is_shadow(kind) && s == UDB_IMG_S_USERS)
		return sizeof(struct udb_img_account);
	return record_size[s];
}

static bool
is_table(enum udb_img_section s)
{
	return s == UDB_IMG_S_USER_BY_NAME || s == UDB_IMG_S_USER_BY_UID ||
	       s == UDB_IMG_S_ROLE_BY_NAME || s == UDB_IMG_S_ROLE_BY_GID;
}

enum udb_result
udb_img_part_open(const void *base, size_t len, enum udb_img_kind kind,
		  struct udb_img_part *ret_part)
{
	struct udb_img_header h;
	bool delta = kind == UDB_IMG_PUBLIC_DELTA || kind == UDB_IMG_SHADOW_DELTA;

	if (!base || len < sizeof(h))
		return UDB_CORRUPT;
	memcpy(&h, base, sizeof(h));
	if (memcmp(h.magic, UDB_IMG_MAGIC, sizeof(h.magic)) != 0)
		return UDB_CORRUPT;
	if (h.version != UDB_IMG_VERSION)
		return UDB_SCHEMA;
	if (h.kind != (uint32_t)kind || h.size != len || (h.base_generation != 0) != delta)
		return UDB_CORRUPT;
	for (int s = 0; s < UDB_IMG_S_COUNT; s++) {
		uint64_t off = h.sect[s].off, n = h.sect[s].len;

		if (off % 8 != 0 || off > len || n > len - off || (off < sizeof(h) && n > 0))
			return UDB_CORRUPT;
		if (n % rec_size(kind, s) != 0 || n / rec_size(kind, s) > UINT32_MAX)
			return UDB_CORRUPT;
		/* Tables: a power of two slots, or none at all. */
		if (is_table(s) && n > 0 && ((n / 8) & (n / 8 - 1)) != 0)
			return UDB_CORRUPT;
	}
	ret_part->base = base;
	ret_part->size = len;
	ret_part->kind = kind;
	ret_part->generation = h.generation;
	ret_part->base_generation = h.base_generation;
	memcpy(ret_part->sect, h.sect, sizeof(h.sect));
	return UDB_OK;
}

enum udb_result
udb_img_open(const void *base, size_t len, enum udb_img_kind kind, struct udb_img *ret_img)
{
	enum udb_result r;

	if (kind != UDB_IMG_PUBLIC && kind != UDB_IMG_SHADOW)
		return UDB_CORRUPT;
	r = udb_img_part_open(base, len, kind, &ret_img->part[0]);
	if (r != UDB_OK)
		return r;
	ret_img->has_delta = false;
	ret_img->kind = kind;
	return UDB_OK;
}

enum udb_result
udb_img_attach_delta(struct udb_img *img, const void *base, size_t len)
{
	enum udb_img_kind kind =
		img->kind == UDB_IMG_PUBLIC ? UDB_IMG_PUBLIC_DELTA : UDB_IMG_SHADOW_DELTA;
	struct udb_img_part d;
	enum udb_result r;

	img->has_delta = false;
	r = udb_img_part_open(base, len, kind, &d);
	if (r != UDB_OK)
		return r;
	if (d.base_generation < img->part[0].generation)
		return UDB_NOT_FOUND;
	if (d.base_generation > img->part[0].generation)
		return UDB_BUSY;
	/* Covered indexes strictly ascending, checked once here, so that
	 * every lookup's binary search over them is exact. */
	for (int c = UDB_IMG_S_COVERED_USERS; c <= UDB_IMG_S_COVERED_ROLES; c++) {
		const uint32_t *v = (const uint32_t *)(const void *)(d.base + d.sect[c].off);
		uint64_t n = d.sect[c].len / sizeof(*v);

		for (uint64_t i = 1; i < n; i++)
			if (v[i - 1] >= v[i])
				return UDB_CORRUPT;
	}
	img->part[1] = d;
	img->has_delta = true;
	return UDB_OK;
}

const void *
udb_img_sect(const struct udb_img_part *p, enum udb_img_section s)
{
	return p->base + p->sect[s].off;
}

uint32_t
udb_img_sect_count(const struct udb_img_part *p, enum udb_img_section s)
{
	return (uint32_t)(p->sect[s].len / rec_size(p->kind, s));
}

bool
udb_img_covered(const struct udb_img *img, enum udb_img_section s, uint32_t idx)
{
	enum udb_img_section c =
		s == UDB_IMG_S_ROLES ? UDB_IMG_S_COVERED_ROLES : UDB_IMG_S_COVERED_USERS;
	const uint32_t *v;
	uint32_t lo = 0, hi;

	if (!img->has_delta)
		return false;
	v = udb_img_sect(&img->part[1], c);
	hi = udb_img_sect_count(&img->part[1], c);
	/* Strictly ascending: udb_img_attach_delta() checked it. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v[mid] == idx)
			return true;
		if (v[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
udb_img_part_find_id(const struct udb_img_part *part, enum udb_img_section s, int64_t id,
		     uint32_t *ret_idx)
{
	const struct udb_img_id *v = udb_img_sect(part, s);
	uint32_t lo = 0, hi = udb_img_sect_count(part, s);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v[mid].id == id) {
			*ret_idx = v[mid].idx;
			return true;
		}
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

const char *
udb_img_pool_str(const struct udb_img_part *p, uint32_t off, uint32_t len)
{
	const char *pool = udb_img_sect(p, UDB_IMG_S_STRINGS);
	uint64_t n = p->sect[UDB_IMG_S_STRINGS].len;

	if ((uint64_t)off + len >= n || pool[off + len] != '\0')
		return NULL;
	return pool + off;
}

const char *
udb_img_pool_block(const struct udb_img_part *p, uint32_t off, uint32_t len)
{
	const char *pool = udb_img_sect(p, UDB_IMG_S_STRINGS);
	uint64_t n = p->sect[UDB_IMG_S_STRINGS].len;

	if (len == 0 || (uint64_t)off + len > n || pool[off + len - 1] != '\0')
		return NULL;
	return pool + off;
}

bool
udb_img_locate(const struct udb_img *img, enum udb_img_section s, uint32_t index,
	       const struct udb_img_part **ret_part, uint32_t *ret_i)
{
	uint32_t n0 = udb_img_sect_count(&img->part[0], s);

	if (index < n0) {
		*ret_part = &img->part[0];
		*ret_i = index;
		return true;
	}
	if (!img->has_delta || index - n0 >= udb_img_sect_count(&img->part[1], s))
		return false;
	*ret_part = &img->part[1];
	*ret_i = index - n0;
	return true;
}

uint32_t
udb_img_total(const struct udb_img *img, enum udb_img_section s)
{
	uint64_t n = udb_img_sect_count(&img->part[0], s);

	if (img->has_delta)
		n += udb_img_sect_count(&img->part[1], s);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Probes table s of part p for key. */
static enum udb_result
probe(const struct udb_img_part *p, enum udb_img_section s, uint32_t key, udb_img_match_fn *match,
      const void *want, uint32_t *ret_ref)
{
	const struct udb_img_slot *slots = udb_img_sect(p, s);
	uint32_t n = udb_img_sect_count(p, s), mask = n - 1;
	uint32_t i = udb_img_hash_id(key);

	if (n == 0)
		return UDB_NOT_FOUND;
	/* At most n probes: a damaged table with no empty slot still ends. */
	for (uint32_t step = 0; step < n; step++, i++) {
		const struct udb_img_slot *slot = &slots[i & mask];
		bool bad = false;

		if (slot->idx == 0)
			return UDB_NOT_FOUND;
		if (slot->key != key)
			continue;
		if (match(p, slot->idx - 1, want, &bad)) {
			*ret_ref = slot->idx - 1;
			return UDB_OK;
		}
		if (bad)
			return UDB_CORRUPT;
	}
	return UDB_NOT_FOUND;
}

enum udb_result
udb_img_lookup(const struct udb_img *img, enum udb_img_section table, uint32_t key,
	       udb_img_match_fn *match, const void *want, const struct udb_img_part **ret_part,
	       uint32_t *ret_ref)
{
	enum udb_result r;

	if (img->has_delta) {
		r = probe(&img->part[1], table, key, match, want, ret_ref);
		*ret_part = &img->part[1];
		if (r != UDB_NOT_FOUND)
			return r;
	}
	*ret_part = &img->part[0];
	return probe(&img->part[0], table, key, match, want, ret_ref);
}

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
		return probe(p, UDB_IMG_S_USER_BY_NAME, hash, user_name_match, k, ret_ref);
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
		return probe(p, UDB_IMG_S_USER_BY_UID, k->uid, user_uid_match, k, ret_ref);
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
	const uint32_t *v = udb_img_sect(&img->part[1], UDB_IMG_S_COVERED_USERS);
	uint32_t n = udb_img_sect_count(&img->part[1], UDB_IMG_S_COVERED_USERS);

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
