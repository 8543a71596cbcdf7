/* Building a delta (image_delta.c), the roles: every role a changed user
 * was or is in, rewritten whole over the base's record of it (its block
 * of members always shown, then its timed members), and each changed
 * user's groups for initgroups. A role of 30,000 members granted to one
 * more user copies the base's block, less the changed users' old names,
 * and appends the changed users that are members now. Called through
 * image-delta-internal.h. */
#include <stdlib.h>
#include <string.h>

#include "image-delta-internal.h"
#include "image-read-internal.h"

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

		if (!udb_delta_nameset_has(&d->drop, name, len))
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
		if (t[i].win_count > 0 && !udb_delta_nameset_has(&d->drop, name, t[i].name_len))
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

enum udb_result
udb_delta_build_roles(struct delta *d)
{
	enum udb_result r =
		udb_delta_read_ids(d->db, UDB_Q_IMAGE_CHANGED_ROLES, &d->changed, &d->n_changed);
	size_t ms_at = 0, n = 0;

	for (size_t i = 0; i < d->n_changed && r == UDB_OK; i++)
		r = udb_delta_role_add(d, d->changed[i]);
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
void
udb_delta_build_user_groups(struct delta *d)
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
