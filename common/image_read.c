/* Reading a mapped image (format in image.h): the header check and every
 * lookup, each offset checked against the section it points into before it
 * is followed. Pure functions over bytes: no SQL, no allocation, no system
 * call, no lock. Called by the NSS module for every lookup, by the image
 * writer's tests and by the fuzz target (tests/fuzz/fuzz_image.c). */
#include <string.h>

#include "image.h"
#include "window.h"

static const size_t record_size[UDB_IMG_S_COUNT] = {
	[UDB_IMG_S_STRINGS] = 1,
	[UDB_IMG_S_USERS] = sizeof(struct udb_img_user),
	[UDB_IMG_S_USER_BY_NAME] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_USER_BY_UID] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_ROLES] = sizeof(struct udb_img_role),
	[UDB_IMG_S_ROLE_BY_NAME] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_ROLE_BY_GID] = sizeof(struct udb_img_slot),
	[UDB_IMG_S_USER_GROUPS] = sizeof(struct udb_img_user_group),
	[UDB_IMG_S_WINDOWS] = sizeof(struct udb_img_window),
	[UDB_IMG_S_MEMBER_OFFS] = sizeof(uint32_t),
	[UDB_IMG_S_TIMED] = sizeof(struct udb_img_timed),
	[UDB_IMG_S_USER_IDS] = sizeof(struct udb_img_id),
	[UDB_IMG_S_ROLE_IDS] = sizeof(struct udb_img_id),
	[UDB_IMG_S_COVERED_USERS] = sizeof(uint32_t),
	[UDB_IMG_S_COVERED_ROLES] = sizeof(uint32_t),
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

static const void *
sect_ptr(const struct udb_img_part *p, enum udb_img_section s)
{
	return p->base + p->sect[s].off;
}

static uint32_t
sect_count(const struct udb_img_part *p, enum udb_img_section s)
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
	v = sect_ptr(&img->part[1], c);
	hi = sect_count(&img->part[1], c);
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
	const struct udb_img_id *v = sect_ptr(part, s);
	uint32_t lo = 0, hi = sect_count(part, s);

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

/* A string of the pool: [off, off + len) inside it and a NUL right after. */
static const char *
pool_str(const struct udb_img_part *p, uint32_t off, uint32_t len)
{
	const char *pool = sect_ptr(p, UDB_IMG_S_STRINGS);
	uint64_t n = p->sect[UDB_IMG_S_STRINGS].len;

	if ((uint64_t)off + len >= n || pool[off + len] != '\0')
		return NULL;
	return pool + off;
}

/* A block of the pool that ends with a NUL: [off, off + len), len > 0. */
static const char *
pool_block(const struct udb_img_part *p, uint32_t off, uint32_t len)
{
	const char *pool = sect_ptr(p, UDB_IMG_S_STRINGS);
	uint64_t n = p->sect[UDB_IMG_S_STRINGS].len;

	if (len == 0 || (uint64_t)off + len > n || pool[off + len - 1] != '\0')
		return NULL;
	return pool + off;
}

/* The records of section s over base and delta: index runs over the
 * base's first. Sets *ret_part and *ret_i to the record's file and its
 * index there; false past the end. */
static bool
locate(const struct udb_img *img, enum udb_img_section s, uint32_t index,
       const struct udb_img_part **ret_part, uint32_t *ret_i)
{
	uint32_t n0 = sect_count(&img->part[0], s);

	if (index < n0) {
		*ret_part = &img->part[0];
		*ret_i = index;
		return true;
	}
	if (!img->has_delta || index - n0 >= sect_count(&img->part[1], s))
		return false;
	*ret_part = &img->part[1];
	*ret_i = index - n0;
	return true;
}

static uint32_t
total_count(const struct udb_img *img, enum udb_img_section s)
{
	uint64_t n = sect_count(&img->part[0], s);

	if (img->has_delta)
		n += sect_count(&img->part[1], s);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

size_t
udb_img_user_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_PUBLIC ? total_count(img, UDB_IMG_S_USERS) : 0;
}

static enum udb_result
part_user_at(const struct udb_img_part *p, uint32_t i, struct udb_img_passwd *ret_user)
{
	const struct udb_img_user *u;
	const char *entry;
	size_t nuls = 0;

	if (i >= sect_count(p, UDB_IMG_S_USERS))
		return UDB_CORRUPT;
	u = (const struct udb_img_user *)sect_ptr(p, UDB_IMG_S_USERS) + i;
	if (u->flags & UDB_IMG_DAMAGED)
		return UDB_CORRUPT;
	entry = pool_block(p, u->entry_off, u->entry_len);
	/* name, "x", GECOS, home, shell: five strings, the name u->name_len
	 * bytes long, the block ending with the fifth NUL. */
	if (!entry || (uint64_t)u->name_len + 3 > u->entry_len || entry[u->name_len] != '\0' ||
	    entry[u->name_len + 1] != 'x' || entry[u->name_len + 2] != '\0' ||
	    memchr(entry, '\0', u->name_len) != NULL)
		return UDB_CORRUPT;
	for (const char *c = entry; c < entry + u->entry_len; c++)
		nuls += *c == '\0';
	if (nuls != 5)
		return UDB_CORRUPT;
	ret_user->uid = u->uid;
	ret_user->gid = u->gid;
	ret_user->entry = entry;
	ret_user->len = u->entry_len;
	ret_user->name_len = u->name_len;
	ret_user->personal = (u->flags & UDB_IMG_PERSONAL) != 0;
	ret_user->index = i;
	return UDB_OK;
}

enum udb_result
udb_img_user_at(const struct udb_img *img, uint32_t index, struct udb_img_passwd *ret_user)
{
	const struct udb_img_part *p;
	enum udb_result r;
	uint32_t i;

	if (img->kind != UDB_IMG_PUBLIC || !locate(img, UDB_IMG_S_USERS, index, &p, &i))
		return UDB_CORRUPT;
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_USERS, i))
		return UDB_NOT_FOUND;
	r = part_user_at(p, i, ret_user);
	ret_user->index = index;
	return r;
}

/* Probes table s of part p for key; match says whether record idx is the
 * one. */
static enum udb_result
probe(const struct udb_img_part *p, enum udb_img_section s, uint32_t key,
      bool (*match)(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad),
      const void *want, uint32_t *ret_idx)
{
	const struct udb_img_slot *slots = sect_ptr(p, s);
	uint32_t n = sect_count(p, s), mask = n - 1;
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
			*ret_idx = slot->idx - 1;
			return UDB_OK;
		}
		if (bad)
			return UDB_CORRUPT;
	}
	return UDB_NOT_FOUND;
}

/* Table s for key in the delta, then in the base, where a covered record
 * is not there. *ret_index is the record's index over both (see locate). */
static enum udb_result
lookup(const struct udb_img *img, enum udb_img_section table, enum udb_img_section recs,
       uint32_t key,
       bool (*match)(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad),
       const void *want, uint32_t *ret_index)
{
	uint32_t idx = 0;
	enum udb_result r;

	if (img->has_delta) {
		r = probe(&img->part[1], table, key, match, want, &idx);
		if (r == UDB_OK)
			*ret_index = sect_count(&img->part[0], recs) + idx;
		if (r != UDB_NOT_FOUND)
			return r;
	}
	r = probe(&img->part[0], table, key, match, want, &idx);
	if (r == UDB_OK && udb_img_covered(img, recs, idx))
		return UDB_NOT_FOUND;
	if (r == UDB_OK)
		*ret_index = idx;
	return r;
}

struct name_key {
	const char *name;
	size_t len;
	struct udb_img_passwd *user; /* user_name_match() fills it on a match */
};

static bool
user_name_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;

	if (part_user_at(p, idx, k->user) != UDB_OK) {
		*ret_bad = true;
		return false;
	}
	return k->user->name_len == k->len && memcmp(k->user->entry, k->name, k->len) == 0;
}

static bool
user_uid_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct udb_img_user *u = (const struct udb_img_user *)sect_ptr(p, UDB_IMG_S_USERS);

	if (idx >= sect_count(p, UDB_IMG_S_USERS)) {
		*ret_bad = true;
		return false;
	}
	return u[idx].uid == *(const uint32_t *)want;
}

enum udb_result
udb_img_user_by_name(const struct udb_img *img, const char *name, struct udb_img_passwd *ret_user)
{
	struct udb_img_passwd u;
	struct name_key k = {name, strlen(name), &u};
	uint32_t index = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	/* The match reads and checks the record it compares: a hit hands it
	 * out as it is, without reading it a second time. */
	r = lookup(img, UDB_IMG_S_USER_BY_NAME, UDB_IMG_S_USERS, udb_img_hash_name(name, k.len),
		   user_name_match, &k, &index);
	if (r == UDB_OK) {
		u.index = index;
		*ret_user = u;
	}
	return r;
}

enum udb_result
udb_img_user_by_uid(const struct udb_img *img, uint32_t uid, struct udb_img_passwd *ret_user)
{
	uint32_t index = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = lookup(img, UDB_IMG_S_USER_BY_UID, UDB_IMG_S_USERS, uid, user_uid_match, &uid, &index);
	return r == UDB_OK ? udb_img_user_at(img, index, ret_user) : r;
}

size_t
udb_img_role_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_PUBLIC ? total_count(img, UDB_IMG_S_ROLES) : 0;
}

static enum udb_result
part_role_at(const struct udb_img_part *p, uint32_t i, struct udb_img_group *ret_role)
{
	const struct udb_img_role *g;
	const uint32_t *offs;

	if (i >= sect_count(p, UDB_IMG_S_ROLES))
		return UDB_CORRUPT;
	g = (const struct udb_img_role *)sect_ptr(p, UDB_IMG_S_ROLES) + i;
	ret_role->gid = g->gid;
	ret_role->name = pool_str(p, g->name_off, g->name_len);
	ret_role->name_len = g->name_len;
	if (!ret_role->name || memchr(ret_role->name, '\0', g->name_len))
		return UDB_CORRUPT;
	if ((uint64_t)g->offs_first + g->n_members > sect_count(p, UDB_IMG_S_MEMBER_OFFS) ||
	    (uint64_t)g->timed_first + g->n_timed > sect_count(p, UDB_IMG_S_TIMED))
		return UDB_CORRUPT;
	ret_role->n_members = g->n_members;
	ret_role->members_len = g->members_len;
	ret_role->members = NULL;
	if (g->n_members > 0) {
		ret_role->members = pool_block(p, g->members_off, g->members_len);
		if (!ret_role->members)
			return UDB_CORRUPT;
	}
	offs = sect_ptr(p, UDB_IMG_S_MEMBER_OFFS);
	ret_role->offs = offs + g->offs_first;
	ret_role->timed =
		(const struct udb_img_timed *)sect_ptr(p, UDB_IMG_S_TIMED) + g->timed_first;
	ret_role->n_timed = g->n_timed;
	ret_role->bad_member = (g->flags & UDB_IMG_BAD_MEMBER) != 0;
	ret_role->part = p;
	/* Each member's offset must start a name inside the block: the block
	 * ends with a NUL, so every such name ends inside it too. Checked here,
	 * once per lookup, so a packer may copy the block and add offsets. */
	for (uint32_t m = 0; m < g->n_members; m++)
		if (ret_role->offs[m] >= g->members_len)
			return UDB_CORRUPT;
	for (uint32_t t = 0; t < g->n_timed; t++)
		if (ret_role->timed[t].member >= g->n_members)
			return UDB_CORRUPT;
	return UDB_OK;
}

enum udb_result
udb_img_role_at(const struct udb_img *img, uint32_t index, struct udb_img_group *ret_role)
{
	const struct udb_img_part *p;
	uint32_t i;

	if (img->kind != UDB_IMG_PUBLIC || !locate(img, UDB_IMG_S_ROLES, index, &p, &i))
		return UDB_CORRUPT;
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_ROLES, i))
		return UDB_NOT_FOUND;
	return part_role_at(p, i, ret_role);
}

static bool
role_name_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;
	const struct udb_img_role *g;
	const char *name;

	if (idx >= sect_count(p, UDB_IMG_S_ROLES)) {
		*ret_bad = true;
		return false;
	}
	g = (const struct udb_img_role *)sect_ptr(p, UDB_IMG_S_ROLES) + idx;
	name = pool_str(p, g->name_off, g->name_len);
	if (!name) {
		*ret_bad = true;
		return false;
	}
	return g->name_len == k->len && memcmp(name, k->name, k->len) == 0;
}

static bool
role_gid_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct udb_img_role *g = (const struct udb_img_role *)sect_ptr(p, UDB_IMG_S_ROLES);

	if (idx >= sect_count(p, UDB_IMG_S_ROLES)) {
		*ret_bad = true;
		return false;
	}
	return g[idx].gid == *(const uint32_t *)want;
}

enum udb_result
udb_img_role_by_name(const struct udb_img *img, const char *name, struct udb_img_group *ret_role)
{
	struct name_key k = {name, strlen(name), NULL};
	uint32_t index = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = lookup(img, UDB_IMG_S_ROLE_BY_NAME, UDB_IMG_S_ROLES, udb_img_hash_name(name, k.len),
		   role_name_match, &k, &index);
	return r == UDB_OK ? udb_img_role_at(img, index, ret_role) : r;
}

enum udb_result
udb_img_role_by_gid(const struct udb_img *img, uint32_t gid, struct udb_img_group *ret_role)
{
	uint32_t index = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = lookup(img, UDB_IMG_S_ROLE_BY_GID, UDB_IMG_S_ROLES, gid, role_gid_match, &gid, &index);
	return r == UDB_OK ? udb_img_role_at(img, index, ret_role) : r;
}

bool
udb_img_windows_hold(const struct udb_img_part *part, uint32_t first, uint32_t count, int64_t now,
		     bool *ret_bad)
{
	const struct udb_img_window *w = sect_ptr(part, UDB_IMG_S_WINDOWS);

	if (count == 0)
		return true;
	if ((uint64_t)first + count > sect_count(part, UDB_IMG_S_WINDOWS)) {
		*ret_bad = true;
		return false;
	}
	for (uint32_t i = first; i < first + count; i++)
		if (udb_window_state(w[i].not_before, w[i].not_after, now) == UDB_WINDOW_OPEN)
			return true;
	return false;
}

enum udb_result
udb_img_user_groups(const struct udb_img *img, const struct udb_img_passwd *user, int64_t now,
		    void (*fn)(uint32_t gid, void *data), void *data)
{
	const struct udb_img_part *p;
	const struct udb_img_user *u;
	const struct udb_img_user_group *g;
	uint32_t i;

	if (img->kind != UDB_IMG_PUBLIC || !locate(img, UDB_IMG_S_USERS, user->index, &p, &i))
		return UDB_CORRUPT;
	u = (const struct udb_img_user *)sect_ptr(p, UDB_IMG_S_USERS) + i;
	if ((uint64_t)u->groups_first + u->n_groups > sect_count(p, UDB_IMG_S_USER_GROUPS))
		return UDB_CORRUPT;
	g = (const struct udb_img_user_group *)sect_ptr(p, UDB_IMG_S_USER_GROUPS) + u->groups_first;
	for (uint32_t k = 0; k < u->n_groups; k++) {
		bool bad = false;

		if (udb_img_windows_hold(p, g[k].win_first, g[k].win_count, now, &bad))
			fn(g[k].gid, data);
		else if (bad)
			return UDB_CORRUPT;
	}
	return UDB_OK;
}

size_t
udb_img_account_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_SHADOW ? total_count(img, UDB_IMG_S_USERS) : 0;
}

static enum udb_result
part_account_at(const struct udb_img_part *p, uint32_t i, struct udb_img_shadow *ret_account)
{
	const struct udb_img_account *a;

	if (i >= sect_count(p, UDB_IMG_S_USERS))
		return UDB_CORRUPT;
	a = (const struct udb_img_account *)sect_ptr(p, UDB_IMG_S_USERS) + i;
	ret_account->account = *a;
	ret_account->name = pool_str(p, a->name_off, a->name_len);
	ret_account->name_len = a->name_len;
	if (!ret_account->name || a->name_len == 0 || memchr(ret_account->name, '\0', a->name_len))
		return UDB_CORRUPT;
	ret_account->hash = NULL;
	ret_account->hash_len = 0;
	if (a->hash_off != UDB_IMG_NO_HASH) {
		ret_account->hash = pool_str(p, a->hash_off, a->hash_len);
		ret_account->hash_len = a->hash_len;
		if (!ret_account->hash || memchr(ret_account->hash, '\0', a->hash_len))
			return UDB_CORRUPT;
	}
	return UDB_OK;
}

enum udb_result
udb_img_account_at(const struct udb_img *img, uint32_t index, struct udb_img_shadow *ret_account)
{
	const struct udb_img_part *p;
	uint32_t i;

	if (img->kind != UDB_IMG_SHADOW || !locate(img, UDB_IMG_S_USERS, index, &p, &i))
		return UDB_CORRUPT;
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_USERS, i))
		return UDB_NOT_FOUND;
	return part_account_at(p, i, ret_account);
}

static bool
account_name_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;
	struct udb_img_shadow a;

	if (part_account_at(p, idx, &a) != UDB_OK) {
		*ret_bad = true;
		return false;
	}
	return a.name_len == k->len && memcmp(a.name, k->name, k->len) == 0;
}

enum udb_result
udb_img_account_by_name(const struct udb_img *img, const char *name,
			struct udb_img_shadow *ret_account)
{
	struct name_key k = {name, strlen(name), NULL};
	uint32_t index = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_SHADOW)
		return UDB_CORRUPT;
	r = lookup(img, UDB_IMG_S_USER_BY_NAME, UDB_IMG_S_USERS, udb_img_hash_name(name, k.len),
		   account_name_match, &k, &index);
	return r == UDB_OK ? udb_img_account_at(img, index, ret_account) : r;
}
