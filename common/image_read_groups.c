/* Reading a mapped image, the second half (the first, with the header
 * check and users, is image_read.c): roles, their timed members, the
 * windows, a user's groups for initgroups, and the shadow image's
 * accounts. Same rules: every offset checked before it is followed, no
 * allocation, no system call, no lock.
 *
 * A role's members always shown are one block of NUL-ended names, checked
 * once as a whole: inside the pool, ending with a NUL, and the names'
 * lengths (a byte each) adding up to it. The packer copies the block with
 * one memcpy and points at its names by adding lengths, a loop over n
 * bytes that cannot leave the block. Members with a time window are a
 * small separate list. */
#include <string.h>

#include "image-read-internal.h"
#include "image.h"
#include "window.h"

/* The sum of n bytes, eight at a time. */
static uint64_t
sum_bytes(const uint8_t *b, uint32_t n)
{
	const uint64_t m8 = 0x00ff00ff00ff00ffull, m16 = 0x0000ffff0000ffffull;
	uint64_t sum = 0;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, sizeof(w));
		w = (w & m8) + ((w >> 8) & m8);
		w = (w & m16) + ((w >> 16) & m16);
		sum += (w & 0xffffffffull) + (w >> 32);
	}
	for (; i < n; i++)
		sum += b[i];
	return sum;
}

size_t
udb_img_role_count(const struct udb_img *img)
{
	return img->kind == UDB_IMG_PUBLIC ? udb_img_total(img, UDB_IMG_S_ROLES) : 0;
}

static enum udb_result
part_role_at(const struct udb_img_part *p, uint32_t i, struct udb_img_group *ret_role)
{
	const struct udb_img_role *g;

	if (i >= udb_img_sect_count(p, UDB_IMG_S_ROLES))
		return UDB_CORRUPT;
	g = (const struct udb_img_role *)udb_img_sect(p, UDB_IMG_S_ROLES) + i;
	ret_role->gid = g->gid;
	ret_role->name = udb_img_pool_str(p, g->name_off, g->name_len);
	ret_role->name_len = g->name_len;
	if (!ret_role->name || memchr(ret_role->name, '\0', g->name_len))
		return UDB_CORRUPT;
	if ((uint64_t)g->timed_first + g->n_timed > udb_img_sect_count(p, UDB_IMG_S_TIMED))
		return UDB_CORRUPT;
	ret_role->n_members = g->n_members;
	ret_role->members_len = g->members_len;
	ret_role->members = NULL;
	/* n names take at least n bytes (their NULs): a count the block
	 * cannot hold is caught here, before anyone sizes a buffer by it. */
	if (g->n_members > g->members_len || (g->n_members == 0) != (g->members_len == 0))
		return UDB_CORRUPT;
	if ((uint64_t)g->lens_first + g->n_members > udb_img_sect_count(p, UDB_IMG_S_MEMBER_LENS))
		return UDB_CORRUPT;
	ret_role->lens = (const uint8_t *)udb_img_sect(p, UDB_IMG_S_MEMBER_LENS) + g->lens_first;
	if (g->n_members > 0) {
		ret_role->members = udb_img_pool_block(p, g->members_off, g->members_len);
		/* Once per block: the lengths cover it exactly. */
		if (!ret_role->members ||
		    sum_bytes(ret_role->lens, g->n_members) + g->n_members != g->members_len)
			return UDB_CORRUPT;
	}
	ret_role->timed =
		(const struct udb_img_timed *)udb_img_sect(p, UDB_IMG_S_TIMED) + g->timed_first;
	ret_role->n_timed = g->n_timed;
	ret_role->bad_member = (g->flags & UDB_IMG_BAD_MEMBER) != 0;
	ret_role->part = p;
	return UDB_OK;
}

enum udb_result
udb_img_role_at(const struct udb_img *img, uint32_t index, struct udb_img_group *ret_role)
{
	const struct udb_img_part *p;
	uint32_t i;

	if (img->kind != UDB_IMG_PUBLIC || !udb_img_locate(img, UDB_IMG_S_ROLES, index, &p, &i))
		return UDB_CORRUPT;
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_ROLES, i))
		return UDB_NOT_FOUND;
	return part_role_at(p, i, ret_role);
}

struct role_key {
	const char *name;
	size_t len;
};

static bool
role_name_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct role_key *k = want;
	const struct udb_img_role *g;
	const char *name;

	if (idx >= udb_img_sect_count(p, UDB_IMG_S_ROLES)) {
		*ret_bad = true;
		return false;
	}
	g = (const struct udb_img_role *)udb_img_sect(p, UDB_IMG_S_ROLES) + idx;
	name = udb_img_pool_str(p, g->name_off, g->name_len);
	if (!name) {
		*ret_bad = true;
		return false;
	}
	return g->name_len == k->len && memcmp(name, k->name, k->len) == 0;
}

static bool
role_gid_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct udb_img_role *g = udb_img_sect(p, UDB_IMG_S_ROLES);

	if (idx >= udb_img_sect_count(p, UDB_IMG_S_ROLES)) {
		*ret_bad = true;
		return false;
	}
	return g[idx].gid == *(const uint32_t *)want;
}

/* The role a lookup found at idx of p, unless the delta covers it. */
static enum udb_result
found_role(const struct udb_img *img, const struct udb_img_part *p, uint32_t idx,
	   struct udb_img_group *ret_role)
{
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_ROLES, idx))
		return UDB_NOT_FOUND;
	return part_role_at(p, idx, ret_role);
}

enum udb_result
udb_img_role_by_name(const struct udb_img *img, const char *name, struct udb_img_group *ret_role)
{
	struct role_key k = {name, strlen(name)};
	const struct udb_img_part *p = NULL;
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = udb_img_lookup(img, UDB_IMG_S_ROLE_BY_NAME, udb_img_hash_name(name, k.len),
			   role_name_match, &k, &p, &idx);
	return r == UDB_OK ? found_role(img, p, idx, ret_role) : r;
}

enum udb_result
udb_img_role_by_gid(const struct udb_img *img, uint32_t gid, struct udb_img_group *ret_role)
{
	const struct udb_img_part *p = NULL;
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_PUBLIC)
		return UDB_CORRUPT;
	r = udb_img_lookup(img, UDB_IMG_S_ROLE_BY_GID, gid, role_gid_match, &gid, &p, &idx);
	return r == UDB_OK ? found_role(img, p, idx, ret_role) : r;
}

bool
udb_img_windows_hold(const struct udb_img_part *part, uint32_t first, uint32_t count, int64_t now,
		     bool *ret_bad)
{
	const struct udb_img_window *w = udb_img_sect(part, UDB_IMG_S_WINDOWS);

	if (count == 0)
		return true;
	if ((uint64_t)first + count > udb_img_sect_count(part, UDB_IMG_S_WINDOWS)) {
		*ret_bad = true;
		return false;
	}
	for (uint32_t i = first; i < first + count; i++)
		if (udb_window_state(w[i].not_before, w[i].not_after, now) == UDB_WINDOW_OPEN)
			return true;
	return false;
}

enum udb_result
udb_img_timed_member(const struct udb_img_group *role, uint32_t t, int64_t now,
		     const char **ret_name, size_t *ret_len, bool *ret_shown)
{
	const struct udb_img_timed *m;
	bool bad = false;

	if (t >= role->n_timed)
		return UDB_CORRUPT;
	m = &role->timed[t];
	*ret_name = udb_img_pool_str(role->part, m->name_off, m->name_len);
	*ret_len = m->name_len;
	/* A timed member always has a window (count 0 would be "always"). */
	if (!*ret_name || m->name_len == 0 || memchr(*ret_name, '\0', m->name_len) ||
	    m->win_count == 0)
		return UDB_CORRUPT;
	*ret_shown = udb_img_windows_hold(role->part, m->win_first, m->win_count, now, &bad);
	return bad ? UDB_CORRUPT : UDB_OK;
}

enum udb_result
udb_img_user_groups(const struct udb_img *img, const struct udb_img_passwd *user, int64_t now,
		    void (*fn)(uint32_t gid, void *data), void *data)
{
	const struct udb_img_part *p = user->part;
	const struct udb_img_user *u = user->rec;
	const struct udb_img_user_group *g;

	if (img->kind != UDB_IMG_PUBLIC || !p || !u)
		return UDB_CORRUPT;
	if ((uint64_t)u->groups_first + u->n_groups > udb_img_sect_count(p, UDB_IMG_S_USER_GROUPS))
		return UDB_CORRUPT;
	g = (const struct udb_img_user_group *)udb_img_sect(p, UDB_IMG_S_USER_GROUPS) +
	    u->groups_first;
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
	return img->kind == UDB_IMG_SHADOW ? udb_img_total(img, UDB_IMG_S_USERS) : 0;
}

static enum udb_result
part_account_at(const struct udb_img_part *p, uint32_t i, struct udb_img_shadow *ret_account)
{
	const struct udb_img_account *a;

	if (i >= udb_img_sect_count(p, UDB_IMG_S_USERS))
		return UDB_CORRUPT;
	a = (const struct udb_img_account *)udb_img_sect(p, UDB_IMG_S_USERS) + i;
	ret_account->account = *a;
	ret_account->name = udb_img_pool_str(p, a->name_off, a->name_len);
	ret_account->name_len = a->name_len;
	if (!ret_account->name || a->name_len == 0 || memchr(ret_account->name, '\0', a->name_len))
		return UDB_CORRUPT;
	ret_account->hash = NULL;
	ret_account->hash_len = 0;
	if (a->hash_off != UDB_IMG_NO_HASH) {
		ret_account->hash = udb_img_pool_str(p, a->hash_off, a->hash_len);
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

	if (img->kind != UDB_IMG_SHADOW || !udb_img_locate(img, UDB_IMG_S_USERS, index, &p, &i))
		return UDB_CORRUPT;
	if (p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_USERS, i))
		return UDB_NOT_FOUND;
	return part_account_at(p, i, ret_account);
}

static bool
account_name_match(const struct udb_img_part *p, uint32_t idx, const void *want, bool *ret_bad)
{
	const struct role_key *k = want;
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
	struct role_key k = {name, strlen(name)};
	const struct udb_img_part *p = NULL;
	uint32_t idx = 0;
	enum udb_result r;

	if (img->kind != UDB_IMG_SHADOW)
		return UDB_CORRUPT;
	r = udb_img_lookup(img, UDB_IMG_S_USER_BY_NAME, udb_img_hash_name(name, k.len),
			   account_name_match, &k, &p, &idx);
	if (r == UDB_OK && p == &img->part[0] && udb_img_covered(img, UDB_IMG_S_USERS, idx))
		return UDB_NOT_FOUND;
	return r == UDB_OK ? part_account_at(p, idx, ret_account) : r;
}
