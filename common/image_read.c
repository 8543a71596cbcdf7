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

static size_t
rec_size(enum udb_img_kind kind, enum udb_img_section s)
{
	if (kind == UDB_IMG_SHADOW && s == UDB_IMG_S_USERS)
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
udb_img_open(const void *base, size_t len, enum udb_img_kind kind, struct udb_img *ret_img)
{
	struct udb_img_header h;

	if (!base || len < sizeof(h))
		return UDB_CORRUPT;
	memcpy(&h, base, sizeof(h));
	if (memcmp(h.magic, UDB_IMG_MAGIC, sizeof(h.magic)) != 0)
		return UDB_CORRUPT;
	if (h.version != UDB_IMG_VERSION)
		return UDB_SCHEMA;
	if (h.kind != (uint32_t)kind || h.size != len)
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
	ret_img->base = base;
	ret_img->size = len;
	ret_img->kind = kind;
	ret_img->generation = h.generation;
	memcpy(ret_img->sect, h.sect, sizeof(h.sect));
	return UDB_OK;
}

static const void *
sect_ptr(const struct udb_img *img, enum udb_img_section s)
{
	return img->base + img->sect[s].off;
}

static uint32_t
sect_count(const struct udb_img *img, enum udb_img_section s)
{
	return (uint32_t)(img->sect[s].len / rec_size(img->kind, s));
}

/* A string of the pool: [off, off + len) inside it and a NUL right after. */
static const char *
pool_str(const struct udb_img *img, uint32_t off, uint32_t len)
{
	const char *pool = sect_ptr(img, UDB_IMG_S_STRINGS);
	uint64_t n = img->sect[UDB_IMG_S_STRINGS].len;

	if ((uint64_t)off + len >= n || pool[off + len] != '\0')
		return NULL;
	return pool + off;
}

/* A block of the pool that ends with a NUL: [off, off + len), len > 0. */
static const char *
pool_block(const struct udb_img *img, uint32_t off, uint32_t len)
{
	const char *pool = sect_ptr(img, UDB_IMG_S_STRINGS);
	uint64_t n = img->sect[UDB_IMG_S_STRINGS].len;

	if (len == 0 || (uint64_t)off + len > n || pool[off + len - 1] != '\0')
		return NULL;
	return pool + off;
}

size_t
udb_img_user_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_PUBLIC ? sect_count(img, UDB_IMG_S_USERS) : 0;
}

enum udb_result
udb_img_user_at(const struct udb_img *img, uint32_t index, struct udb_img_passwd *ret_user)
{
	const struct udb_img_user *u;
	const char *entry;
	size_t nuls = 0;

	if (img->kind != UDB_IMG_PUBLIC || index >= sect_count(img, UDB_IMG_S_USERS))
		return UDB_CORRUPT;
	u = (const struct udb_img_user *)sect_ptr(img, UDB_IMG_S_USERS) + index;
	if (u->flags & UDB_IMG_DAMAGED)
		return UDB_CORRUPT;
	entry = pool_block(img, u->entry_off, u->entry_len);
	/* name, "x", GECOS, home, shell: five strings, the name u->name_len
	 * bytes long, the block ending with the fifth NUL. */
	if (!entry || (uint64_t)u->name_len + 3 > u->entry_len || entry[u->name_len] != '\0' ||
	    entry[u->name_len + 1] != 'x' || entry[u->name_len + 2] != '\0' ||
	    memchr(entry, '\0', u->name_len) != NULL)
		return UDB_CORRUPT;
	for (const char *p = entry; p < entry + u->entry_len; p++)
		nuls += *p == '\0';
	if (nuls != 5)
		return UDB_CORRUPT;
	ret_user->uid = u->uid;
	ret_user->gid = u->gid;
	ret_user->entry = entry;
	ret_user->len = u->entry_len;
	ret_user->name_len = u->name_len;
	ret_user->personal = (u->flags & UDB_IMG_PERSONAL) != 0;
	ret_user->index = index;
	return UDB_OK;
}

/* Probes table s for key; match says whether record idx is the one. */
static enum udb_result
probe(const struct udb_img *img, enum udb_img_section s, uint32_t key,
      bool (*match)(const struct udb_img *img, uint32_t idx, const void *want, bool *ret_bad),
      const void *want, uint32_t *ret_idx)
{
	const struct udb_img_slot *slots = sect_ptr(img, s);
	uint32_t n = sect_count(img, s), mask = n - 1;
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
		if (match(img, slot->idx - 1, want, &bad)) {
			*ret_idx = slot->idx - 1;
			return UDB_OK;
		}
		if (bad)
			return UDB_CORRUPT;
	}
	return UDB_NOT_FOUND;
}

struct name_key {
	const char *name;
	size_t len;
	struct udb_img_passwd *user; /* user_name_match() fills it on a match */
};

static bool
user_name_match(const struct udb_img *img, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;

	if (udb_img_user_at(img, idx, k->user) != UDB_OK) {
		*ret_bad = true;
		return false;
	}
	return k->user->name_len == k->len && memcmp(k->user->entry, k->name, k->len) == 0;
}

static bool
user_uid_match(const struct udb_img *img, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct udb_img_user *u = (const struct udb_img_user *)sect_ptr(img, UDB_IMG_S_USERS);

	if (idx >= sect_count(img, UDB_IMG_S_USERS)) {
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
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	/* The match reads and checks the record it compares: a hit hands it
	 * out as it is, without reading it a second time. */
	r = probe(img, UDB_IMG_S_USER_BY_NAME, udb_img_hash_name(name, k.len), user_name_match, &k,
		  &idx);
	if (r == UDB_OK)
		*ret_user = u;
	return r;
}

enum udb_result
udb_img_user_by_uid(const struct udb_img *img, uint32_t uid, struct udb_img_passwd *ret_user)
{
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = probe(img, UDB_IMG_S_USER_BY_UID, uid, user_uid_match, &uid, &idx);
	return r == UDB_OK ? udb_img_user_at(img, idx, ret_user) : r;
}

size_t
udb_img_role_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_PUBLIC ? sect_count(img, UDB_IMG_S_ROLES) : 0;
}

enum udb_result
udb_img_role_at(const struct udb_img *img, uint32_t index, struct udb_img_group *ret_role)
{
	const struct udb_img_role *g;
	const uint32_t *offs;

	if (img->kind != UDB_IMG_PUBLIC || index >= sect_count(img, UDB_IMG_S_ROLES))
		return UDB_CORRUPT;
	g = (const struct udb_img_role *)sect_ptr(img, UDB_IMG_S_ROLES) + index;
	ret_role->gid = g->gid;
	ret_role->name = pool_str(img, g->name_off, g->name_len);
	ret_role->name_len = g->name_len;
	if (!ret_role->name || memchr(ret_role->name, '\0', g->name_len))
		return UDB_CORRUPT;
	if ((uint64_t)g->offs_first + g->n_members > sect_count(img, UDB_IMG_S_MEMBER_OFFS) ||
	    (uint64_t)g->timed_first + g->n_timed > sect_count(img, UDB_IMG_S_TIMED))
		return UDB_CORRUPT;
	ret_role->n_members = g->n_members;
	ret_role->members_len = g->members_len;
	ret_role->members = NULL;
	if (g->n_members > 0) {
		ret_role->members = pool_block(img, g->members_off, g->members_len);
		if (!ret_role->members)
			return UDB_CORRUPT;
	}
	offs = sect_ptr(img, UDB_IMG_S_MEMBER_OFFS);
	ret_role->offs = offs + g->offs_first;
	ret_role->timed =
		(const struct udb_img_timed *)sect_ptr(img, UDB_IMG_S_TIMED) + g->timed_first;
	ret_role->n_timed = g->n_timed;
	ret_role->bad_member = (g->flags & UDB_IMG_BAD_MEMBER) != 0;
	ret_role->img = img;
	/* Each member's offset must start a name inside the block: the block
	 * ends with a NUL, so every such name ends inside it too. Checked here,
	 * once per lookup, so a packer may copy the block and add offsets. */
	for (uint32_t i = 0; i < g->n_members; i++)
		if (ret_role->offs[i] >= g->members_len)
			return UDB_CORRUPT;
	for (uint32_t i = 0; i < g->n_timed; i++)
		if (ret_role->timed[i].member >= g->n_members)
			return UDB_CORRUPT;
	return UDB_OK;
}

static bool
role_name_match(const struct udb_img *img, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;
	const struct udb_img_role *g;
	const char *name;

	if (idx >= sect_count(img, UDB_IMG_S_ROLES)) {
		*ret_bad = true;
		return false;
	}
	g = (const struct udb_img_role *)sect_ptr(img, UDB_IMG_S_ROLES) + idx;
	name = pool_str(img, g->name_off, g->name_len);
	if (!name) {
		*ret_bad = true;
		return false;
	}
	return g->name_len == k->len && memcmp(name, k->name, k->len) == 0;
}

static bool
role_gid_match(const struct udb_img *img, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct udb_img_role *g = (const struct udb_img_role *)sect_ptr(img, UDB_IMG_S_ROLES);

	if (idx >= sect_count(img, UDB_IMG_S_ROLES)) {
		*ret_bad = true;
		return false;
	}
	return g[idx].gid == *(const uint32_t *)want;
}

enum udb_result
udb_img_role_by_name(const struct udb_img *img, const char *name, struct udb_img_group *ret_role)
{
	struct name_key k = {name, strlen(name), NULL};
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = probe(img, UDB_IMG_S_ROLE_BY_NAME, udb_img_hash_name(name, k.len), role_name_match, &k,
		  &idx);
	return r == UDB_OK ? udb_img_role_at(img, idx, ret_role) : r;
}

enum udb_result
udb_img_role_by_gid(const struct udb_img *img, uint32_t gid, struct udb_img_group *ret_role)
{
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = probe(img, UDB_IMG_S_ROLE_BY_GID, gid, role_gid_match, &gid, &idx);
	return r == UDB_OK ? udb_img_role_at(img, idx, ret_role) : r;
}

bool
udb_img_windows_hold(const struct udb_img *img, uint32_t first, uint32_t count, int64_t now,
		     bool *ret_bad)
{
	const struct udb_img_window *w = sect_ptr(img, UDB_IMG_S_WINDOWS);

	if (count == 0)
		return true;
	if ((uint64_t)first + count > sect_count(img, UDB_IMG_S_WINDOWS)) {
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
	const struct udb_img_user *u;
	const struct udb_img_user_group *g;

	if (img->kind != UDB_IMG_PUBLIC || user->index >= sect_count(img, UDB_IMG_S_USERS))
		return UDB_CORRUPT;
	u = (const struct udb_img_user *)sect_ptr(img, UDB_IMG_S_USERS) + user->index;
	if ((uint64_t)u->groups_first + u->n_groups > sect_count(img, UDB_IMG_S_USER_GROUPS))
		return UDB_CORRUPT;
	g = (const struct udb_img_user_group *)sect_ptr(img, UDB_IMG_S_USER_GROUPS) +
	    u->groups_first;
	for (uint32_t i = 0; i < u->n_groups; i++) {
		bool bad = false;

		if (udb_img_windows_hold(img, g[i].win_first, g[i].win_count, now, &bad))
			fn(g[i].gid, data);
		else if (bad)
			return UDB_CORRUPT;
	}
	return UDB_OK;
}

size_t
udb_img_account_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_SHADOW ? sect_count(img, UDB_IMG_S_USERS) : 0;
}

enum udb_result
udb_img_account_at(const struct udb_img *img, uint32_t index, struct udb_img_shadow *ret_account)
{
	const struct udb_img_account *a;

	if (img->kind != UDB_IMG_SHADOW || index >= udb_img_account_count(img))
		return UDB_CORRUPT;
	a = (const struct udb_img_account *)sect_ptr(img, UDB_IMG_S_USERS) + index;
	ret_account->account = *a;
	ret_account->name = pool_str(img, a->name_off, a->name_len);
	ret_account->name_len = a->name_len;
	if (!ret_account->name || a->name_len == 0 || memchr(ret_account->name, '\0', a->name_len))
		return UDB_CORRUPT;
	ret_account->hash = NULL;
	ret_account->hash_len = 0;
	if (a->hash_off != UDB_IMG_NO_HASH) {
		ret_account->hash = pool_str(img, a->hash_off, a->hash_len);
		ret_account->hash_len = a->hash_len;
		if (!ret_account->hash || memchr(ret_account->hash, '\0', a->hash_len))
			return UDB_CORRUPT;
	}
	return UDB_OK;
}

static bool
account_name_match(const struct udb_img *img, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct name_key *k = want;
	struct udb_img_shadow a;

	if (udb_img_account_at(img, idx, &a) != UDB_OK) {
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
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_SHADOW)
		return UDB_CORRUPT;
	r = probe(img, UDB_IMG_S_USER_BY_NAME, udb_img_hash_name(name, k.len), account_name_match,
		  &k, &idx);
	return r == UDB_OK ? udb_img_account_at(img, idx, ret_account) : r;
}
