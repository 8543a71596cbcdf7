/* Shared by image_delta.c (the changed users, the tables, the covered
 * records) and image_delta_roles.c (the rewritten roles and the users'
 * groups) only: the state of a delta being built. Nothing else includes
 * this. */
#ifndef UDB_IMAGE_DELTA_INTERNAL_H
#define UDB_IMAGE_DELTA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db-internal.h"
#include "image-internal.h"
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

/* Room in *p (cap elements of size) for element n; false out of memory. */
bool udb_delta_grow(void **p, size_t *cap, size_t n, size_t size);
/* Column 0 of every row of q, ascending as the query orders it. */
enum udb_result udb_delta_read_ids(struct udb_db *db, enum udb_query q, int64_t **ret_ids,
				   size_t *ret_n);
bool udb_delta_nameset_has(const struct nameset *s, const char *name, size_t len);
/* Marks role id (store id) for rewriting. */
enum udb_result udb_delta_role_add(struct delta *d, int64_t id);
/* Every role marked, rewritten from the store over the base's record. */
enum udb_result udb_delta_build_roles(struct delta *d);
/* Each delta user's groups. */
void udb_delta_build_user_groups(struct delta *d);

#endif
