/* Building the deltas (format in image.h) over the installed bases, inside
 * the write transaction that publishes them: every entry changed since the
 * base was built, as schema/0009-*.sql's tables name them, rebuilt whole
 * from the transaction's snapshot, and the base records they supersede.
 * Called by image_write.c only, through image-internal.h.
 *
 * The cost is the change's, not the store's. A changed user is read by id
 * with its grants. A role is rewritten when a changed user was or is in
 * it, or when it is new or renamed: its members are the base's list less
 * the names the changed users had in the base, plus the changed users
 * that are members now, so a grant to a role of 30,000 members copies
 * that list from the mapped base instead of reading 30,000 users. That
 * holds while no inclusion between roles and no role's gid changed since
 * the base (those mark the store for a base rebuild, transaction.c). */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "image-internal.h"
#include "image-read-internal.h"
#include "image.h"

/* A membership of a changed user: in role (store id), with a window. */
struct dmember {
	int64_t role;
	uint32_t user; /* the user's index in the delta */
	int64_t not_before, not_after;
};

/* An affected role: its store id, and once read, its gid. */
struct drole {
	int64_t id;
	uint32_t gid;
	bool exists;
};

/* Names (in the mapped base) of the changed users as the base has them. */
struct nameset {
	const char **name;
	uint32_t *len;
	size_t slots;
};

struct delta {
	struct udb_db *db;
	struct udb_img view; /* the base alone, to read its records */
	struct udb_image_sections im;
	int64_t *changed;
	size_t n_changed;
	uint32_t *cov_users, *cov_roles;
	size_t n_cov_users, n_cov_roles;
	struct nameset drop;
	struct dmember *ms;
	size_t n_ms, cap_ms;
	struct drole *roles;
	size_t n_roles, cap_roles;
	uint32_t *name_keys;
	size_t n_users;
};

static bool
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n < *cap)
		return true;
	q = realloc(*p, (*cap ? 2 * *cap : 64) * size);
	if (!q)
		return false;
	*p = q;
	*cap = *cap ? 2 * *cap : 64;
	return true;
}

/* Column 0 of every row of q, ascending as the query orders it. */
static enum udb_result
read_ids(struct udb_db *db, enum udb_query q, int64_t **ret_ids, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	size_t cap = 0;
	int rc;

	*ret_ids = NULL;
	*ret_n = 0;
	r = udb_stmt(db, q, &st);
	if (r != UDB_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!grow((void **)ret_ids, &cap, *ret_n, sizeof(**ret_ids))) {
			r = UDB_NO_MEMORY;
			break;
		}
		(*ret_ids)[(*ret_n)++] = sqlite3_column_int64(st, 0);
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(db, q);
	return r;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_role(const void *a, const void *b)
{
	const struct drole *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int
ms_by_role_user(const void *a, const void *b)
{
	const struct dmember *x = a, *y = b;

	if (x->role != y->role)
		return (x->role > y->role) - (x->role < y->role);
	return (x->user > y->user) - (x->user < y->user);
}

static int
ms_by_user_role(const void *a, const void *b)
{
	const struct dmember *x = a, *y = b;

	if (x->user != y->user)
		return (x->user > y->user) - (x->user < y->user);
	return (x->role > y->role) - (x->role < y->role);
}

static bool
nameset_init(struct nameset *s, size_t n)
{
	s->slots = 16;
	while (s->slots < 2 * n)
		s->slots *= 2;
	s->name = calloc(s->slots, sizeof(*s->name));
	s->len = calloc(s->slots, sizeof(*s->len));
	return s->name && s->len;
}

static void
nameset_add(struct nameset *s, const char *name, uint32_t len)
{
	size_t i = udb_img_hash_name(name, len);

	while (s->name[i & (s->slots - 1)])
		i++;
	s->name[i & (s->slots - 1)] = name;
	s->len[i & (s->slots - 1)] = len;
}

static bool
nameset_has(const struct nameset *s, const char *name, size_t len)
{
	for (size_t i = udb_img_hash_name(name, len);; i++) {
		const char *n = s->name[i & (s->slots - 1)];

		if (!n)
			return false;
		if (s->len[i & (s->slots - 1)] == len && memcmp(n, name, len) == 0)
			return true;
	}
}

static enum udb_result
role_add(struct delta *d, int64_t id)
{
	if (!grow((void **)&d->roles, &d->cap_roles, d->n_roles, sizeof(*d->roles)))
		return UDB_NO_MEMORY;
	d->roles[d->n_roles++] = (struct drole){.id = id};
	return UDB_OK;
}

/* A group of a changed user as the base has it: the role's store id, and
 * whether the membership always holds (no window). */
struct bgroup {
	int64_t role;
	bool always;
};

/* The base's record of a changed user: superseded, its name dropped from
 * every role list rewritten, and its groups in *ret_g (ret_n of them);
 * *ret_name NULL when the base has no such user (or a damaged one). */
static enum udb_result
base_user(struct delta *d, int64_t id, const char **ret_name, size_t *ret_len,
	  struct bgroup **ret_g, size_t *ret_n)
{
	const struct udb_img_part *b = &d->view.part[0];
	const struct udb_img_user *u;
	const struct udb_img_user_group *g;
	const uint32_t *units = (const void *)(b->base + b->sect[UDB_IMG_S_USER_OFFS].off);
	size_t n_users = b->sect[UDB_IMG_S_USER_OFFS].len / sizeof(*units);
	const struct udb_img_role *roles = (const void *)(b->base + b->sect[UDB_IMG_S_ROLES].off);
	const struct udb_img_id *ids = (const void *)(b->base + b->sect[UDB_IMG_S_ROLE_IDS].off);
	size_t n_roles = b->sect[UDB_IMG_S_ROLES].len / sizeof(*roles);
	size_t n_ids = b->sect[UDB_IMG_S_ROLE_IDS].len / sizeof(*ids);
	struct udb_img_passwd pw;
	uint32_t idx;

	*ret_name = NULL;
	*ret_n = 0;
	if (!udb_img_part_find_id(b, UDB_IMG_S_USER_IDS, id, &idx) || idx >= n_users)
		return UDB_OK;
	d->cov_users[d->n_cov_users++] = idx;
	if (udb_img_user_at(&d->view, idx, &pw) == UDB_OK) {
		nameset_add(&d->drop, pw.entry, (uint32_t)pw.name_len);
		*ret_name = pw.entry;
		*ret_len = pw.name_len;
	}
	/* The record even when its entry is damaged: its groups still name
	 * the roles to rewrite. */
	if ((uint64_t)units[idx] * UDB_IMG_ALIGN + sizeof(*u) > b->sect[UDB_IMG_S_USERS].len)
		return UDB_CORRUPT;
	u = (const struct udb_img_user *)(const void *)(b->base + b->sect[UDB_IMG_S_USERS].off +
							(uint64_t)units[idx] * UDB_IMG_ALIGN);
	if ((uint64_t)u->groups_first + u->n_groups >
	    b->sect[UDB_IMG_S_USER_GROUPS].len / sizeof(*g))
		return UDB_CORRUPT;
	g = (const struct udb_img_user_group *)(const void *)(b->base +
							      b->sect[UDB_IMG_S_USER_GROUPS].off) +
	    u->groups_first;
	*ret_g = calloc(u->n_groups + 1, sizeof(**ret_g));
	if (!*ret_g)
		return UDB_NO_MEMORY;
	for (uint32_t i = 0; i < u->n_groups; i++)
		/* Few roles: a scan finds the gid's store id. */
		for (size_t k = 0; k < n_ids; k++)
			if (ids[k].idx < n_roles && roles[ids[k].idx].gid == g[i].gid) {
				(*ret_g)[(*ret_n)++] =
					(struct bgroup){ids[k].id, g[i].win_count == 0};
				break;
			}
	return UDB_OK;
}

enum image_membership_col { DM_ROLE, DM_USER, DM_NOT_BEFORE, DM_NOT_AFTER };

/* The changed user as the store has it now, with its memberships appended
 * to d->ms; *ret_found false when the user is gone. */
static enum udb_result
current_user(struct delta *d, int64_t id, bool *ret_found)
{
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	uint32_t k = (uint32_t)d->n_users;
	int rc;

	*ret_found = false;
	r = udb_stmt(d->db, UDB_Q_IMAGE_USER_ONE, &st);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		d->name_keys[k] = udb_image_user_row(st, &d->im);
		d->n_users++;
		*ret_found = true;
	} else if (rc != SQLITE_DONE) {
		r = udb_sqlite_result(rc);
	}
	udb_stmt_done(d->db, UDB_Q_IMAGE_USER_ONE);
	if (r != UDB_OK || !*ret_found)
		return r;
	r = udb_stmt(d->db, UDB_Q_IMAGE_USER_MEMBERSHIPS, &st);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dmember m = {sqlite3_column_int64(st, DM_ROLE), k,
				    udb_column_time(st, DM_NOT_BEFORE),
				    udb_column_time(st, DM_NOT_AFTER)};

		if (!grow((void **)&d->ms, &d->cap_ms, d->n_ms, sizeof(*d->ms))) {
			r = UDB_NO_MEMORY;
			break;
		}
		d->ms[d->n_ms++] = m;
	}
	if (r == UDB_OK && rc != SQLITE_DONE)
		r = udb_sqlite_result(rc);
	udb_stmt_done(d->db, UDB_Q_IMAGE_USER_MEMBERSHIPS);
	return r;
}

/* Whether user ms[from..to) is in role always (a grant without a window). */
static bool
always_now(const struct delta *d, size_t from, size_t to, int64_t role)
{
	for (size_t i = from; i < to; i++)
		if (d->ms[i].role == role && d->ms[i].not_before == 0 && d->ms[i].not_after == 0)
			return true;
	return false;
}

/* One changed user: its base record superseded, its record now, and the
 * roles whose lists its change touches marked for rewriting. A role it
 * stays in, always, under the same name, is left alone: a grant rewrites
 * the role granted, not every role of the user. */
static enum udb_result
change_user(struct delta *d, int64_t id)
{
	struct bgroup *g = NULL;
	const char *old_name = NULL;
	size_t old_len = 0, n_g = 0, from = d->n_ms;
	bool found = false, renamed;
	enum udb_result r;

	r = base_user(d, id, &old_name, &old_len, &g, &n_g);
	if (r == UDB_OK)
		r = current_user(d, id, &found);
	if (r != UDB_OK) {
		free(g);
		return r;
	}
	renamed = !old_name || !found;
	if (found && old_name) {
		const struct udb_img_user *u =
			udb_image_user_rec(&d->im, (uint32_t)(d->n_users - 1));

		if (!u) {
			free(g);
			return UDB_NO_MEMORY;
		}
		renamed = u->name_len != old_len || memcmp(u + 1, old_name, old_len) != 0;
	}
	for (size_t i = 0; i < n_g && r == UDB_OK; i++)
		if (renamed || !g[i].always || !always_now(d, from, d->n_ms, g[i].role))
			r = role_add(d, g[i].role);
	for (size_t i = from; i < d->n_ms && r == UDB_OK; i++) {
		bool was_always = false;

		for (size_t k = 0; k < n_g; k++)
			was_always = was_always || (g[k].role == d->ms[i].role && g[k].always);
		if (renamed || !was_always || !always_now(d, from, d->n_ms, d->ms[i].role))
			r = role_add(d, d->ms[i].role);
	}
	free(g);
	return r;
}

/* The windows of ms[from..to) (one user, one role), as image_build.c's
 * add_windows: none when one grant is unbounded on both sides. */
static uint32_t
add_windows(struct delta *d, size_t from, size_t to, uint32_t *ret_first)
{
	struct udb_image_buf *w = &d->im.sect[UDB_IMG_S_WINDOWS];

	for (size_t i = from; i < to; i++)
		if (d->ms[i].not_before == 0 && d->ms[i].not_after == 0)
			return 0;
	*ret_first = (uint32_t)(w->len / sizeof(struct udb_img_window));
	for (size_t i = from; i < to; i++) {
		struct udb_img_window win = {d->ms[i].not_before, d->ms[i].not_after};

		udb_image_buf_add(w, &win, sizeof(win));
	}
	return (uint32_t)(to - from);
}

/* Appends member name[0..len) to role g: to its block when it has no
 * window (n_win 0), else to TIMED with its windows (win, or when NULL the
 * n_win already added at first_new). */
static void
add_member(struct delta *d, struct udb_img_role *g, const char *name, size_t len,
	   const struct udb_img_window *win, uint32_t n_win, uint32_t first_new)
{
	struct udb_image_buf *pool = &d->im.sect[UDB_IMG_S_STRINGS];
	struct udb_img_timed t = {0, (uint32_t)len, first_new, n_win};

	if (n_win == 0) {
		udb_image_block_add(&d->im, g, name, len);
		return;
	}
	if (win) {
		t.win_first = (uint32_t)(d->im.sect[UDB_IMG_S_WINDOWS].len / sizeof(*win));
		udb_image_buf_add(&d->im.sect[UDB_IMG_S_WINDOWS], win, n_win * sizeof(*win));
	}
	t.name_off = udb_image_pool_add(pool, name, len);
	udb_image_buf_add(&d->im.sect[UDB_IMG_S_TIMED], &t, sizeof(t));
	g->n_timed++;
}

/* The base role's members but the changed users: the block (timed false)
 * or the timed ones. */
static void
copy_base_members(struct delta *d, struct udb_img_role *g, const struct udb_img_group *old,
		  bool timed)
{
	const struct udb_img_part *p = old->part;
	const struct udb_img_window *w = (const void *)(p->base + p->sect[UDB_IMG_S_WINDOWS].off);
	const struct udb_img_timed *t = old->timed;

	/* The block ends with a NUL (the reader checked it): each strlen
	 * stays inside. */
	for (size_t at = 0; !timed && at < old->members_len;) {
		const char *name = old->members + at;
		size_t len = strlen(name);

		if (!nameset_has(&d->drop, name, len))
			add_member(d, g, name, len, NULL, 0, 0);
		at += len + 1;
	}
	for (uint32_t i = 0; timed && i < old->n_timed; i++) {
		const char *name = udb_img_pool_str(p, t[i].name_off, t[i].name_len);

		if (!name || (uint64_t)t[i].win_first + t[i].win_count >
				     p->sect[UDB_IMG_S_WINDOWS].len / sizeof(*w)) {
			d->im.sect[UDB_IMG_S_STRINGS].failed = true;
			return;
		}
		if (t[i].win_count > 0 && !nameset_has(&d->drop, name, t[i].name_len))
			add_member(d, g, name, t[i].name_len, w + t[i].win_first, t[i].win_count,
				   0);
	}
}

/* The changed users' memberships of role from ms[from..]: the block
 * (timed false) or the timed ones; returns where the role's run ends. */
static size_t
add_changed_members(struct delta *d, struct udb_img_role *g, int64_t role, size_t from, bool timed)
{
	size_t at = from;

	while (at < d->n_ms && d->ms[at].role == role) {
		const struct udb_img_user *u = udb_image_user_rec(&d->im, d->ms[at].user);
		size_t end = at;
		uint32_t first = 0, n = 0;
		bool always = false;

		while (end < d->n_ms && d->ms[end].role == role &&
		       d->ms[end].user == d->ms[at].user)
			end++;
		for (size_t i = at; i < end; i++)
			always = always || (d->ms[i].not_before == 0 && d->ms[i].not_after == 0);
		if (!u) {
			d->im.sect[UDB_IMG_S_STRINGS].failed = true;
			return end;
		}
		if (u->flags & UDB_IMG_DAMAGED)
			g->flags |= UDB_IMG_BAD_MEMBER;
		if (timed && !always)
			n = add_windows(d, at, end, &first);
		if (always != timed)
			add_member(d, g, (const char *)(u + 1), u->name_len, NULL, n, first);
		at = end;
	}
	return at;
}

enum image_role_col { DR_ID, DR_NAME, DR_GID };

/* One affected role, from the store, over the base's record of it. */
static enum udb_result
build_role(struct delta *d, struct drole *role, size_t *ms_at)
{
	const struct udb_img_part *b = &d->view.part[0];
	struct udb_image_buf *pool = &d->im.sect[UDB_IMG_S_STRINGS];
	struct udb_img_role g = {0};
	struct udb_img_group old = {0};
	sqlite3_stmt *st = NULL;
	enum udb_result r;
	bool in_base = false;
	uint32_t idx = 0;
	int rc;

	if (udb_img_part_find_id(b, UDB_IMG_S_ROLE_IDS, role->id, &idx)) {
		d->cov_roles[d->n_cov_roles++] = idx;
		r = udb_img_role_at(&d->view, idx, &old);
		if (r != UDB_OK)
			return r;
		in_base = true;
	}
	r = udb_stmt(d->db, UDB_Q_IMAGE_ROLE_ONE, &st);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(st, 1, role->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, DR_NAME);

		role->exists = true;
		role->gid = g.gid = (uint32_t)sqlite3_column_int64(st, DR_GID);
		g.name_len = (uint32_t)strlen(name ? name : "");
		g.name_off = udb_image_pool_add(pool, name ? name : "", g.name_len);
	} else if (rc != SQLITE_DONE) {
		r = udb_sqlite_result(rc);
	}
	udb_stmt_done(d->db, UDB_Q_IMAGE_ROLE_ONE);
	if (r != UDB_OK || !role->exists)
		return r;
	/* The block of members always shown, contiguous in the pool; then
	 * the timed members, whose names follow it. */
	g.members_off = (uint32_t)pool->len;
	g.timed_first = (uint32_t)(d->im.sect[UDB_IMG_S_TIMED].len / sizeof(struct udb_img_timed));
	g.lens_first = (uint32_t)d->im.sect[UDB_IMG_S_MEMBER_LENS].len;
	if (in_base) {
		copy_base_members(d, &g, &old, false);
		if (old.bad_member)
			g.flags |= UDB_IMG_BAD_MEMBER;
	}
	(void)add_changed_members(d, &g, role->id, *ms_at, false);
	g.members_len = (uint32_t)(pool->len - g.members_off);
	if (g.members_len == 0)
		g.members_off = 0;
	if (in_base)
		copy_base_members(d, &g, &old, true);
	*ms_at = add_changed_members(d, &g, role->id, *ms_at, true);
	udb_image_buf_add(&d->im.sect[UDB_IMG_S_ROLES], &g, sizeof(g));
	return UDB_OK;
}

static enum udb_result
build_roles(struct delta *d)
{
	enum udb_result r = read_ids(d->db, UDB_Q_IMAGE_CHANGED_ROLES, &d->changed, &d->n_changed);
	size_t ms_at = 0, n = 0;

	for (size_t i = 0; i < d->n_changed && r == UDB_OK; i++)
		r = role_add(d, d->changed[i]);
	if (r != UDB_OK)
		return r;
	if (d->n_roles > 1)
		qsort(d->roles, d->n_roles, sizeof(*d->roles), cmp_role);
	for (size_t i = 0; i < d->n_roles; i++)
		if (n == 0 || d->roles[n - 1].id != d->roles[i].id)
			d->roles[n++] = d->roles[i];
	d->n_roles = n;
	d->cov_roles = malloc((n ? n : 1) * sizeof(*d->cov_roles));
	if (!d->cov_roles)
		return UDB_NO_MEMORY;
	if (d->n_ms > 1)
		qsort(d->ms, d->n_ms, sizeof(*d->ms), ms_by_role_user);
	for (size_t i = 0; i < n && r == UDB_OK; i++) {
		/* A membership of a role that is gone (none while the closure
		 * holds) is skipped with it. */
		while (ms_at < d->n_ms && d->ms[ms_at].role < d->roles[i].id)
			ms_at++;
		r = build_role(d, &d->roles[i], &ms_at);
	}
	return r;
}

/* Each delta user's groups, memberships sorted by user then role. */
static void
build_user_groups(struct delta *d)
{
	struct udb_image_buf *ug = &d->im.sect[UDB_IMG_S_USER_GROUPS];
	size_t i = 0;

	if (d->n_ms > 1)
		qsort(d->ms, d->n_ms, sizeof(*d->ms), ms_by_user_role);
	while (i < d->n_ms && !ug->failed) {
		struct drole key = {.id = d->ms[i].role};
		/* bsearch's array must not be NULL, even for no elements. */
		const struct drole *role = d->n_roles ? bsearch(&key, d->roles, d->n_roles,
								sizeof(*d->roles), cmp_role)
						      : NULL;
		struct udb_img_user *u = udb_image_user_rec(&d->im, d->ms[i].user);
		struct udb_img_user_group g = {0};
		size_t end = i;

		bool found = role && role->exists;
		uint32_t idx = 0;

		while (end < d->n_ms && d->ms[end].user == d->ms[i].user &&
		       d->ms[end].role == d->ms[i].role)
			end++;
		if (found) {
			g.gid = role->gid;
		} else if (udb_img_part_find_id(&d->view.part[0], UDB_IMG_S_ROLE_IDS, key.id,
						&idx)) {
			/* A role this change left alone: its gid is the base's (a
			 * new gid rebuilds the bases). */
			struct udb_img_group old;

			found = udb_img_role_at(&d->view, idx, &old) == UDB_OK;
			g.gid = old.gid;
		}
		if (!u) {
			ug->failed = true;
			break;
		}
		if (found) {
			if (u->n_groups == 0)
				u->groups_first = (uint32_t)(ug->len / sizeof(g));
			g.win_count = add_windows(d, i, end, &g.win_first);
			udb_image_buf_add(ug, &g, sizeof(g));
			u->n_groups++;
		}
		i = end;
	}
}

static enum udb_result
build_tables(struct delta *d)
{
	struct udb_image_sections *im = &d->im;
	uint32_t nu = (uint32_t)d->n_users;
	uint32_t nr = (uint32_t)(im->sect[UDB_IMG_S_ROLES].len / sizeof(struct udb_img_role));
	uint32_t *keys = malloc(((nu > nr ? nu : nr) + 1) * sizeof(*keys));
	const uint32_t *units = (const void *)im->sect[UDB_IMG_S_USER_OFFS].p;
	const struct udb_img_role *roles = (const void *)im->sect[UDB_IMG_S_ROLES].p;
	const char *pool = (const char *)im->sect[UDB_IMG_S_STRINGS].p;
	enum udb_result r;

	if (!keys)
		return UDB_NO_MEMORY;
	r = udb_image_table_build(&im->sect[UDB_IMG_S_USER_BY_NAME], d->name_keys, units, nu);
	for (uint32_t i = 0; i < nu && r == UDB_OK; i++) {
		const struct udb_img_user *u = udb_image_user_rec(im, i);

		if (u)
			keys[i] = u->uid;
		else
			r = UDB_NO_MEMORY;
	}
	if (r == UDB_OK)
		r = udb_image_table_build(&im->sect[UDB_IMG_S_USER_BY_UID], keys, units, nu);
	for (uint32_t i = 0; i < nr; i++)
		keys[i] = udb_img_hash_name(pool + roles[i].name_off, roles[i].name_len);
	if (r == UDB_OK)
		r = udb_image_table_build(&im->sect[UDB_IMG_S_ROLE_BY_NAME], keys, NULL, nr);
	for (uint32_t i = 0; i < nr; i++)
		keys[i] = roles[i].gid;
	if (r == UDB_OK)
		r = udb_image_table_build(&im->sect[UDB_IMG_S_ROLE_BY_GID], keys, NULL, nr);
	free(keys);
	return r;
}

/* The covered indexes, ascending and once each, into section s. */
static void
add_covered(struct udb_image_sections *im, enum udb_img_section s, uint32_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			udb_image_buf_add(&im->sect[s], &v[i], sizeof(v[i]));
}

static enum udb_result
build_users(struct delta *d)
{
	enum udb_result r;

	r = read_ids(d->db, UDB_Q_IMAGE_CHANGED_USERS, &d->changed, &d->n_changed);
	if (r != UDB_OK)
		return r;
	d->cov_users = malloc((d->n_changed + 1) * sizeof(*d->cov_users));
	d->name_keys = malloc((d->n_changed + 1) * sizeof(*d->name_keys));
	if (!d->cov_users || !d->name_keys || !nameset_init(&d->drop, d->n_changed))
		return UDB_NO_MEMORY;
	for (size_t i = 0; i < d->n_changed && r == UDB_OK; i++)
		r = change_user(d, d->changed[i]);
	free(d->changed);
	d->changed = NULL;
	return r;
}

enum udb_result
udb_image_build_public_delta(struct udb_db *db, const struct udb_img_part *base,
			     struct udb_image_sections *ret_im)
{
	struct delta d = {.db = db};
	enum udb_result r;

	d.view = (struct udb_img){.part = {*base}, .kind = UDB_IMG_PUBLIC};
	r = build_users(&d);
	if (r == UDB_OK)
		r = build_roles(&d);
	if (r == UDB_OK) {
		build_user_groups(&d);
		r = build_tables(&d);
	}
	if (r == UDB_OK) {
		add_covered(&d.im, UDB_IMG_S_COVERED_USERS, d.cov_users, d.n_cov_users);
		add_covered(&d.im, UDB_IMG_S_COVERED_ROLES, d.cov_roles, d.n_cov_roles);
		for (int s = 0; s < UDB_IMG_S_COUNT; s++)
			if (d.im.sect[s].failed || d.im.sect[s].len > UINT32_MAX)
				r = UDB_NO_MEMORY;
	}
	free(d.changed);
	free(d.cov_users);
	free(d.cov_roles);
	free(d.drop.name);
	free(d.drop.len);
	free(d.ms);
	free(d.roles);
	free(d.name_keys);
	if (r != UDB_OK) {
		udb_image_sections_free(&d.im);
		return r;
	}
	*ret_im = d.im;
	return UDB_OK;
}

enum udb_result
udb_image_build_shadow_delta(struct udb_db *db, const struct udb_img_part *base,
			     struct udb_image_sections *ret_im)
{
	struct udb_image_sections im = {0};
	int64_t *ids = NULL;
	uint32_t *cov = NULL;
	size_t n = 0, n_cov = 0;
	enum udb_result r;

	r = read_ids(db, UDB_Q_IMAGE_CHANGED_ACCOUNTS, &ids, &n);
	if (r == UDB_OK && !(cov = malloc((n + 1) * sizeof(*cov))))
		r = UDB_NO_MEMORY;
	for (size_t i = 0; i < n && r == UDB_OK; i++) {
		sqlite3_stmt *st = NULL;
		uint32_t idx;
		int rc;

		if (udb_img_part_find_id(base, UDB_IMG_S_USER_IDS, ids[i], &idx))
			cov[n_cov++] = idx;
		r = udb_stmt(db, UDB_Q_IMAGE_ACCOUNT_ONE, &st);
		if (r != UDB_OK)
			break;
		sqlite3_bind_int64(st, 1, ids[i]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			udb_image_account_row(st, &im.sect[UDB_IMG_S_STRINGS],
					      &im.sect[UDB_IMG_S_USERS]);
		else if (rc != SQLITE_DONE)
			r = udb_sqlite_result(rc);
		udb_stmt_done(db, UDB_Q_IMAGE_ACCOUNT_ONE);
	}
	if (r == UDB_OK)
		r = udb_image_account_table(&im);
	if (r == UDB_OK)
		add_covered(&im, UDB_IMG_S_COVERED_USERS, cov, n_cov);
	for (int s = 0; s < UDB_IMG_S_COUNT && r == UDB_OK; s++)
		if (im.sect[s].failed)
			r = UDB_NO_MEMORY;
	free(ids);
	free(cov);
	if (r != UDB_OK) {
		udb_image_sections_free(&im);
		return r;
	}
	*ret_im = im;
	return UDB_OK;
}
