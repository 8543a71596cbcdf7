/* Building the deltas (format in image.h) over the installed bases, inside
 * the write transaction that publishes them: every entry changed since the
 * base was built, as schema/0009-*.sql's tables name them, rebuilt whole
 * from the transaction's snapshot, and the base records they supersede.
 * This file: the changed users, the tables, the covered records and the
 * shadow delta; image_delta_roles.c: the roles rewritten and the users'
 * groups. Called by image_write.c only, through image-internal.h.
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

#include "image-delta-internal.h"

bool
udb_delta_grow(void **p, size_t *cap, size_t n, size_t size)
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
enum udb_result
udb_delta_read_ids(struct udb_db *db, enum udb_query q, int64_t **ret_ids, size_t *ret_n)
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
		if (!udb_delta_grow((void **)ret_ids, &cap, *ret_n, sizeof(**ret_ids))) {
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

bool
udb_delta_nameset_has(const struct nameset *s, const char *name, size_t len)
{
	for (size_t i = udb_img_hash_name(name, len);; i++) {
		const char *n = s->name[i & (s->slots - 1)];

		if (!n)
			return false;
		if (s->len[i & (s->slots - 1)] == len && memcmp(n, name, len) == 0)
			return true;
	}
}

enum udb_result
udb_delta_role_add(struct delta *d, int64_t id)
{
	if (!udb_delta_grow((void **)&d->roles, &d->cap_roles, d->n_roles, sizeof(*d->roles)))
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

		if (!udb_delta_grow((void **)&d->ms, &d->cap_ms, d->n_ms, sizeof(*d->ms))) {
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
			r = udb_delta_role_add(d, g[i].role);
	for (size_t i = from; i < d->n_ms && r == UDB_OK; i++) {
		bool was_always = false;

		for (size_t k = 0; k < n_g; k++)
			was_always = was_always || (g[k].role == d->ms[i].role && g[k].always);
		if (renamed || !was_always || !always_now(d, from, d->n_ms, d->ms[i].role))
			r = udb_delta_role_add(d, d->ms[i].role);
	}
	free(g);
	return r;
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
	r = udb_image_name_index_build(im, d->name_keys, units, nu);
	for (uint32_t i = 0; i < nu && r == UDB_OK; i++) {
		const struct udb_img_user *u = udb_image_user_rec(im, i);

		if (u)
			keys[i] = u->uid;
		else
			r = UDB_NO_MEMORY;
	}
	if (r == UDB_OK)
		r = udb_image_uid_index_build(im, keys, units, nu);
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

	r = udb_delta_read_ids(d->db, UDB_Q_IMAGE_CHANGED_USERS, &d->changed, &d->n_changed);
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
		r = udb_delta_build_roles(&d);
	if (r == UDB_OK) {
		udb_delta_build_user_groups(&d);
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

	r = udb_delta_read_ids(db, UDB_Q_IMAGE_CHANGED_ACCOUNTS, &ids, &n);
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
