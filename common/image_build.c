/* Building the sections of the compiled images (format in image.h) from
 * the store, inside the write transaction that publishes them: the users
 * with their ready-made entries, the roles with their effective members
 * resolved from role_closure and user_roles (a member whose grants all
 * start or end keeps their windows), each user's groups, the lookup
 * tables (built by image_build_index.c; the shadow image:
 * image_build_shadow.c). Called by image_write.c and
 * image_delta.c only, through image-internal.h. Every statement is in
 * sql.c. */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "image-internal.h"
#include "image.h"
#include "validate.h"

void *
udb_image_buf_add(struct udb_image_buf *b, const void *data, size_t n)
{
	void *at;

	if (b->failed)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *grown;

		while (cap - b->len < n)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->failed = true;
			return NULL;
		}
		b->p = grown;
		b->cap = cap;
	}
	at = b->p + b->len;
	if (data)
		memcpy(at, data, n);
	else
		memset(at, 0, n);
	b->len += n;
	return at;
}

uint32_t
udb_image_pool_add(struct udb_image_buf *pool, const void *s, size_t n)
{
	uint32_t off = (uint32_t)pool->len;

	udb_image_buf_add(pool, s, n);
	udb_image_buf_add(pool, "", 1);
	if (pool->len > UINT32_MAX)
		pool->failed = true;
	return off;
}

void
udb_image_sections_free(struct udb_image_sections *im)
{
	/* The shadow image's pool holds hashes: every buffer is wiped. */
	for (int s = 0; s < UDB_IMG_S_COUNT; s++) {
		if (im->sect[s].p)
			explicit_bzero(im->sect[s].p, im->sect[s].cap);
		free(im->sect[s].p);
	}
}

/* The store's id of user index i, for mapping grants to users. */
struct id_map {
	int64_t id;
	uint32_t idx;
};

static int
id_map_cmp(const void *a, const void *b)
{
	const struct id_map *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static bool
id_map_find(const struct id_map *m, size_t n, int64_t id, uint32_t *ret_idx)
{
	struct id_map key = {id, 0};
	/* bsearch's array must not be NULL either, even for no elements. */
	const struct id_map *hit = n ? bsearch(&key, m, n, sizeof(*m), id_map_cmp) : NULL;

	if (hit)
		*ret_idx = hit->idx;
	return hit != NULL;
}

/* One effective membership: user (index) in role (index) during a window. */
struct membership {
	uint32_t role, user;
	int64_t not_before, not_after;
};

static int
by_role_user(const void *a, const void *b)
{
	const struct membership *x = a, *y = b;

	if (x->role != y->role)
		return (x->role > y->role) - (x->role < y->role);
	return (x->user > y->user) - (x->user < y->user);
}

static int
by_user_role(const void *a, const void *b)
{
	const struct membership *x = a, *y = b;

	if (x->user != y->user)
		return (x->user > y->user) - (x->user < y->user);
	return (x->role > y->role) - (x->role < y->role);
}

struct build {
	struct udb_db *db;
	struct udb_image_sections im;
	struct id_map *users, *roles;
	size_t n_users, n_roles;
	uint32_t *name_keys; /* hash of each user's name, from the users table */
	uint32_t *role_gids;
	struct membership *ms;
	size_t n_ms;
};

enum image_user_col { IU_ID, IU_UID, IU_GID, IU_PERSONAL, IU_ENTRY, IU_USERNAME };

void
udb_image_block_add(struct udb_image_sections *im, struct udb_img_role *g, const char *name,
		    size_t len)
{
	uint8_t n = len > UINT8_MAX ? UINT8_MAX : (uint8_t)len;

	/* No valid name is that long: the role is not served. */
	if (len > UINT8_MAX)
		g->flags |= UDB_IMG_BAD_MEMBER;
	udb_image_pool_add(&im->sect[UDB_IMG_S_STRINGS], name, n);
	udb_image_buf_add(&im->sect[UDB_IMG_S_MEMBER_LENS], &n, 1);
	g->n_members++;
}

struct udb_img_user *
udb_image_user_rec(struct udb_image_sections *im, uint32_t idx)
{
	const struct udb_image_buf *offs = &im->sect[UDB_IMG_S_USER_OFFS];
	uint32_t unit;

	if (im->sect[UDB_IMG_S_USERS].failed || offs->failed ||
	    (size_t)idx >= offs->len / sizeof(unit))
		return NULL;
	memcpy(&unit, offs->p + (size_t)idx * sizeof(unit), sizeof(unit));
	return (struct udb_img_user *)(void *)(im->sect[UDB_IMG_S_USERS].p +
					       (size_t)unit * UDB_IMG_ALIGN);
}

uint32_t
udb_image_user_row(sqlite3_stmt *st, struct udb_image_sections *im)
{
	struct udb_image_buf *users = &im->sect[UDB_IMG_S_USERS];
	struct udb_image_buf *offs = &im->sect[UDB_IMG_S_USER_OFFS];
	const char *entry = sqlite3_column_blob(st, IU_ENTRY);
	int len = sqlite3_column_bytes(st, IU_ENTRY);
	const char *username = (const char *)sqlite3_column_text(st, IU_USERNAME);
	struct udb_img_user u = {0};
	size_t at = users->len;
	uint32_t unit = (uint32_t)(at / UDB_IMG_ALIGN);

	u.uid = (uint32_t)sqlite3_column_int64(st, IU_UID);
	u.gid = (uint32_t)sqlite3_column_int64(st, IU_GID);
	u.index = (uint32_t)(offs->len / sizeof(unit));
	u.flags = sqlite3_column_int(st, IU_PERSONAL) ? UDB_IMG_PERSONAL : 0;
	u.name_len = entry ? (uint32_t)strnlen(entry, (size_t)len) : 0;
	/* A blob that does not start with the user's valid name (rows planted
	 * in the store) is kept, marked: looked up, it fails closed. The
	 * reader checks the rest of its shape. */
	if (!entry || !username || !udb_valid_username(username) ||
	    strlen(username) != u.name_len || memcmp(entry, username, u.name_len) != 0)
		u.flags |= UDB_IMG_DAMAGED;
	u.entry_len = (uint32_t)len;
	/* The record: header, entry, zeros to the next aligned offset. */
	udb_image_buf_add(users, &u, sizeof(u));
	if (len > 0)
		udb_image_buf_add(users, entry, (size_t)len);
	udb_image_buf_add(users, NULL,
			  (UDB_IMG_ALIGN - users->len % UDB_IMG_ALIGN) % UDB_IMG_ALIGN);
	if (at / UDB_IMG_ALIGN > UINT32_MAX - 1)
		users->failed = true;
	udb_image_buf_add(offs, &unit, sizeof(unit));
	/* By the name in the users table, so that a user whose entry is
	 * damaged is found, and fails closed. */
	return udb_img_hash_name(username ? username : "", username ? strlen(username) : 0);
}

static enum udb_result
read_users(struct build *b)
{
	struct udb_image_buf *users = &b->im.sect[UDB_IMG_S_USERS];
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	size_t cap = 0;
	int rc;

	r = udb_stmt(b->db, UDB_Q_IMAGE_USERS, &st);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (b->n_users == cap) {
			struct id_map *grown;
			uint32_t *keys;

			cap = cap ? 2 * cap : 1024;
			grown = realloc(b->users, cap * sizeof(*grown));
			if (grown)
				b->users = grown;
			keys = grown ? realloc(b->name_keys, cap * sizeof(*keys)) : NULL;
			if (!keys) {
				r = UDB_NO_MEMORY;
				break;
			}
			b->name_keys = keys;
		}
		b->users[b->n_users] =
			(struct id_map){sqlite3_column_int64(st, IU_ID), (uint32_t)b->n_users};
		b->name_keys[b->n_users] = udb_image_user_row(st, &b->im);
		b->n_users++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(b->db, UDB_Q_IMAGE_USERS);
	if (r == UDB_OK && (users->failed || b->im.sect[UDB_IMG_S_USER_OFFS].failed))
		r = UDB_NO_MEMORY;
	/* qsort's array must not be NULL, even for no elements. */
	if (r == UDB_OK && b->n_users > 1)
		qsort(b->users, b->n_users, sizeof(*b->users), id_map_cmp);
	return r;
}

enum image_role_col { IR_ID, IR_NAME, IR_GID };

static enum udb_result
read_roles(struct build *b)
{
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	size_t cap = 0;
	int rc;

	r = udb_stmt(b->db, UDB_Q_IMAGE_ROLES, &st);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (b->n_roles == cap) {
			struct id_map *grown;
			uint32_t *gids;

			cap = cap ? 2 * cap : 64;
			grown = realloc(b->roles, cap * sizeof(*grown));
			if (grown)
				b->roles = grown;
			gids = grown ? realloc(b->role_gids, cap * sizeof(*gids)) : NULL;
			if (!gids) {
				r = UDB_NO_MEMORY;
				break;
			}
			b->role_gids = gids;
		}
		b->roles[b->n_roles] =
			(struct id_map){sqlite3_column_int64(st, IR_ID), (uint32_t)b->n_roles};
		b->role_gids[b->n_roles] = (uint32_t)sqlite3_column_int64(st, IR_GID);
		b->n_roles++;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(b->db, UDB_Q_IMAGE_ROLES);
	/* Roles were read in id order, so the map is sorted already. */
	return r;
}

enum image_membership_col { IM_ROLE, IM_USER, IM_NOT_BEFORE, IM_NOT_AFTER };

static enum udb_result
read_memberships(struct build *b)
{
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	size_t cap = 0;
	int rc;

	r = udb_stmt(b->db, UDB_Q_IMAGE_MEMBERSHIPS, &st);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct membership m;

		/* A user in one file only (a writer killed between the two
		 * commits) has no passwd entry: nothing to list. */
		if (!id_map_find(b->roles, b->n_roles, sqlite3_column_int64(st, IM_ROLE),
				 &m.role) ||
		    !id_map_find(b->users, b->n_users, sqlite3_column_int64(st, IM_USER), &m.user))
			continue;
		m.not_before = udb_column_time(st, IM_NOT_BEFORE);
		m.not_after = udb_column_time(st, IM_NOT_AFTER);
		if (b->n_ms == cap) {
			struct membership *grown;

			cap = cap ? 2 * cap : 1024;
			grown = realloc(b->ms, cap * sizeof(*grown));
			if (!grown) {
				r = UDB_NO_MEMORY;
				break;
			}
			b->ms = grown;
		}
		b->ms[b->n_ms++] = m;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(b->db, UDB_Q_IMAGE_MEMBERSHIPS);
	return r;
}

/* The windows of the run ms[from..to) (one user and one role): none when
 * one of them is unbounded on both sides (the membership always holds),
 * else all of them. Returns the window count, 0 for "always". */
static uint32_t
add_windows(struct build *b, size_t from, size_t to, uint32_t *ret_first)
{
	struct udb_image_buf *w = &b->im.sect[UDB_IMG_S_WINDOWS];

	for (size_t i = from; i < to; i++)
		if (b->ms[i].not_before == 0 && b->ms[i].not_after == 0)
			return 0;
	*ret_first = (uint32_t)(w->len / sizeof(struct udb_img_window));
	for (size_t i = from; i < to; i++) {
		struct udb_img_window win = {b->ms[i].not_before, b->ms[i].not_after};

		udb_image_buf_add(w, &win, sizeof(win));
	}
	return (uint32_t)(to - from);
}

/* Whether the run ms[from..to) always holds (one grant unbounded on both
 * sides), as add_windows() decides it. */
static bool
always(const struct build *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b->ms[i].not_before == 0 && b->ms[i].not_after == 0)
			return true;
	return false;
}

static struct udb_img_user *
user_rec(struct build *b, uint32_t idx)
{
	return udb_image_user_rec(&b->im, idx);
}

/* The members of role from ms[*at..]: the ones always shown (timed false)
 * appended to the block, or the timed ones to TIMED; *at moves past the
 * role. */
static void
add_members(struct build *b, uint32_t role, size_t *at, bool timed, struct udb_img_role *g)
{
	struct udb_image_buf *pool = &b->im.sect[UDB_IMG_S_STRINGS];
	size_t i = *at;

	while (i < b->n_ms && b->ms[i].role == role) {
		size_t end = i;
		struct udb_img_user *u = user_rec(b, b->ms[i].user);
		uint32_t first = 0, n;

		while (end < b->n_ms && b->ms[end].role == role && b->ms[end].user == b->ms[i].user)
			end++;
		if (!u) {
			pool->failed = true;
			return;
		}
		n = timed ? add_windows(b, i, end, &first) : 0;
		/* A damaged member (see read_users) is not listed quietly:
		 * the role fails closed. */
		if (u->flags & UDB_IMG_DAMAGED)
			g->flags |= UDB_IMG_BAD_MEMBER;
		if (!timed && always(b, i, end)) {
			udb_image_block_add(&b->im, g, (const char *)(u + 1), u->name_len);
		} else if (timed && n > 0) {
			struct udb_img_timed t = {0, u->name_len, first, n};

			t.name_off = udb_image_pool_add(pool, (const char *)(u + 1), u->name_len);
			udb_image_buf_add(&b->im.sect[UDB_IMG_S_TIMED], &t, sizeof(t));
			g->n_timed++;
		}
		i = end;
	}
	*at = i;
}

/* Roles with their members, memberships sorted by role then user: first
 * the block of members always shown, then the timed ones. */
static void
build_roles(struct build *b, sqlite3_stmt *names)
{
	struct udb_image_buf *pool = &b->im.sect[UDB_IMG_S_STRINGS];
	struct udb_image_buf *timed = &b->im.sect[UDB_IMG_S_TIMED];
	size_t i = 0;

	if (b->n_ms > 1)
		qsort(b->ms, b->n_ms, sizeof(*b->ms), by_role_user);
	for (uint32_t role = 0; role < b->n_roles; role++) {
		struct udb_img_role g = {.gid = b->role_gids[role]};
		const char *name;
		size_t from = i;

		if (sqlite3_step(names) != SQLITE_ROW) {
			pool->failed = true;
			return;
		}
		name = (const char *)sqlite3_column_text(names, IR_NAME);
		g.name_len = (uint32_t)strlen(name ? name : "");
		g.name_off = udb_image_pool_add(pool, name ? name : "", g.name_len);
		g.members_off = (uint32_t)pool->len;
		g.timed_first = (uint32_t)(timed->len / sizeof(struct udb_img_timed));
		g.lens_first = (uint32_t)b->im.sect[UDB_IMG_S_MEMBER_LENS].len;
		add_members(b, role, &i, false, &g);
		g.members_len = (uint32_t)(pool->len - g.members_off);
		if (g.members_len == 0)
			g.members_off = 0;
		i = from;
		add_members(b, role, &i, true, &g);
		udb_image_buf_add(&b->im.sect[UDB_IMG_S_ROLES], &g, sizeof(g));
	}
}

/* Each user's groups for initgroups, memberships sorted by user then role. */
static void
build_user_groups(struct build *b)
{
	struct udb_image_buf *ug = &b->im.sect[UDB_IMG_S_USER_GROUPS];
	size_t i = 0;

	if (b->n_ms > 1)
		qsort(b->ms, b->n_ms, sizeof(*b->ms), by_user_role);
	while (i < b->n_ms && !ug->failed) {
		size_t end = i;
		struct udb_img_user_group g = {.gid = b->role_gids[b->ms[i].role]};
		struct udb_img_user *u = user_rec(b, b->ms[i].user);

		while (end < b->n_ms && b->ms[end].user == b->ms[i].user &&
		       b->ms[end].role == b->ms[i].role)
			end++;
		if (!u) {
			ug->failed = true;
			break;
		}
		if (u->n_groups == 0)
			u->groups_first = (uint32_t)(ug->len / sizeof(g));
		g.win_count = add_windows(b, i, end, &g.win_first);
		udb_image_buf_add(ug, &g, sizeof(g));
		u->n_groups++;
		i = end;
	}
}

static enum udb_result
build_tables(struct build *b)
{
	struct udb_image_sections *im = &b->im;
	size_t n = b->n_users > b->n_roles ? b->n_users : b->n_roles;
	uint32_t *keys = malloc((n ? n : 1) * sizeof(*keys));
	const char *pool = (const char *)im->sect[UDB_IMG_S_STRINGS].p;
	const struct udb_img_role *roles = (const void *)im->sect[UDB_IMG_S_ROLES].p;
	enum udb_result r;

	if (!keys)
		return UDB_NO_MEMORY;
	const uint32_t *units = (const void *)im->sect[UDB_IMG_S_USER_OFFS].p;

	r = udb_image_name_index_build(im, b->name_keys, units, (uint32_t)b->n_users);
	for (size_t i = 0; i < b->n_users; i++)
		keys[i] = user_rec(b, (uint32_t)i)->uid;
	if (r == UDB_OK)
		r = udb_image_uid_index_build(im, keys, units, (uint32_t)b->n_users);
	for (size_t i = 0; i < b->n_roles; i++)
		keys[i] = udb_img_hash_name(pool + roles[i].name_off, roles[i].name_len);
	if (r == UDB_OK)
		r = udb_image_table_build(&im->sect[UDB_IMG_S_ROLE_BY_NAME], keys, NULL,
					  (uint32_t)b->n_roles);
	for (size_t i = 0; i < b->n_roles; i++)
		keys[i] = roles[i].gid;
	if (r == UDB_OK)
		r = udb_image_table_build(&im->sect[UDB_IMG_S_ROLE_BY_GID], keys, NULL,
					  (uint32_t)b->n_roles);
	free(keys);
	/* Store ids, ascending (both maps are sorted by id): the next delta's
	 * writer finds a changed entry's base record with them. */
	for (size_t i = 0; i < b->n_users && r == UDB_OK; i++) {
		struct udb_img_id id = {b->users[i].id, b->users[i].idx, 0};

		udb_image_buf_add(&im->sect[UDB_IMG_S_USER_IDS], &id, sizeof(id));
	}
	for (size_t i = 0; i < b->n_roles && r == UDB_OK; i++) {
		struct udb_img_id id = {b->roles[i].id, b->roles[i].idx, 0};

		udb_image_buf_add(&im->sect[UDB_IMG_S_ROLE_IDS], &id, sizeof(id));
	}
	if (r == UDB_OK &&
	    (im->sect[UDB_IMG_S_USER_IDS].failed || im->sect[UDB_IMG_S_ROLE_IDS].failed))
		r = UDB_NO_MEMORY;
	return r;
}

enum udb_result
udb_image_build_public(struct udb_db *db, struct udb_image_sections *ret_im)
{
	struct build b = {.db = db};
	sqlite3_stmt *names = NULL;
	enum udb_result r;

	r = read_users(&b);
	if (r == UDB_OK)
		r = read_roles(&b);
	if (r == UDB_OK)
		r = read_memberships(&b);
	/* Role names are read again, in the same id order, as the pool is
	 * filled: the map above keeps ids only. */
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_IMAGE_ROLES, &names);
	if (r == UDB_OK) {
		build_roles(&b, names);
		udb_stmt_done(db, UDB_Q_IMAGE_ROLES);
		build_user_groups(&b);
		for (int s = 0; s < UDB_IMG_S_COUNT; s++)
			if (b.im.sect[s].failed)
				r = UDB_NO_MEMORY;
	}
	if (r == UDB_OK)
		r = build_tables(&b);
	free(b.users);
	free(b.name_keys);
	free(b.roles);
	free(b.role_gids);
	free(b.ms);
	if (r != UDB_OK) {
		udb_image_sections_free(&b.im);
		return r;
	}
	*ret_im = b.im;
	return UDB_OK;
}
