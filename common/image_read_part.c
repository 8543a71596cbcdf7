/* Reading a mapped image (format in image.h), the part every reader
 * shares: the checks of a file's header and section table, attaching a
 * delta to its base, the sections, the covered lists, the string pool, the
 * hashes and the probe of an 8-byte-slot hash table over a base and its
 * delta. Users are read in image_read.c, roles, windows and accounts in
 * image_read_groups.c. Pure functions over bytes: no SQL, no allocation,
 * no system call, no lock. Called through those two by the NSS module,
 * the image writer and the fuzz target (tests/fuzz/fuzz_image.c). */
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

enum udb_result
udb_img_probe(const struct udb_img_part *p, enum udb_img_section s, uint32_t key,
	      udb_img_match_fn *match, const void *want, uint32_t *ret_ref)
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
		r = udb_img_probe(&img->part[1], table, key, match, want, ret_ref);
		*ret_part = &img->part[1];
		if (r != UDB_NOT_FOUND)
			return r;
	}
	*ret_part = &img->part[0];
	return udb_img_probe(&img->part[0], table, key, match, want, ret_ref);
}
