/* Users: the identity half of an account, stored in the public file (what
 * passwd entries show), created and deleted together with the account row
 * in the shadow file. Called by the CLI, the NSS module (lookups) and the
 * PAM module (lookups). */
#ifndef UDB_USER_H
#define UDB_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"

struct udb_user {
	int64_t id;
	char *username;
	uint32_t uid;
	uint32_t gid;
	char *primary_role; /* NULL: the personal group (name = username, gid = uid) */
	char *first_name;
	char *last_name;
	char *home;
	char *shell;
	int64_t created_at;
	int64_t updated_at;
};

void udb_user_free(struct udb_user *user);
void udb_user_list_free(struct udb_user **users, size_t n);

/* Lookups. An invalid name is UDB_NOT_FOUND without a query. */
enum udb_result udb_user_by_name(struct udb_db *db, const char *name, struct udb_user **ret_user);
enum udb_result udb_user_by_uid(struct udb_db *db, uint32_t uid, struct udb_user **ret_user);
/* Case-insensitive; needs a handle with the shadow file. */
enum udb_result udb_user_by_email(struct udb_db *db, const char *email, struct udb_user **ret_user);

/* Calls fn for every effective member of role at time now, in id order,
 * from one statement that stays open until the last call, so the
 * membership is read once (paging it re-reads it per page). Stops at the
 * first result of fn other than UDB_OK and returns it. fn may run other
 * lookups on db. */
enum udb_result udb_user_each_in_role(struct udb_db *db, const char *role, int64_t now,
				      enum udb_result (*fn)(void *ctx, const struct udb_user *user),
				      void *ctx);
/* One page of users with id > after_id, in id order, at most max of them.
 * Keyset paging: no statement stays open between pages. A role's members
 * come from udb_user_each_in_role(). */
enum udb_result udb_user_page(struct udb_db *db, int64_t after_id, size_t max,
			      struct udb_user ***ret_users, size_t *ret_n);

/* Allocation-free fast paths for the NSS module (passwd lookups and
 * enumeration): fn sees each row as a view whose strings belong to SQLite
 * and are valid only during the call; fn must not use db. A result other
 * than UDB_OK from fn stops the walk and is returned. The view has no
 * primary role name and no timestamps. */
struct udb_user_view {
	int64_t id;
	const char *username;
	uint32_t uid;
	uint32_t gid;
	const char *first_name;
	const char *last_name;
	const char *home;
	const char *shell;
};
typedef enum udb_result udb_user_view_fn(const struct udb_user_view *view, void *userdata);

/* UDB_NOT_FOUND (fn not called) when there is no such user. */
enum udb_result udb_user_view_by_name(struct udb_db *db, const char *name, udb_user_view_fn *fn,
				      void *userdata);
/* A user's ready-made passwd entry (schema 2's pub.passwd_entries): strings
 * holds the name, "x", the GECOS, the home and the shell, each
 * NUL-terminated, len bytes in all (checked: exactly five strings). */
struct udb_passwd_entry {
	uint32_t uid;
	uint32_t gid;
	const char *strings;
	size_t len;
};
typedef enum udb_result udb_passwd_entry_fn(const struct udb_passwd_entry *entry, void *userdata);

/* The entry of the user with this uid; UDB_NOT_FOUND (fn not called) when
 * there is none, UDB_CORRUPT for a damaged entry. */
enum udb_result udb_passwd_entry_by_uid(struct udb_db *db, uint32_t uid, udb_passwd_entry_fn *fn,
					void *userdata);

/* Up to max entries of users with uid > after_uid in uid order (after_uid
 * -1: from the start); *ret_n is how many fn accepted. fn is called from
 * inside sqlite3_step() here, so it must not call SQLite at all.
 * UDB_CORRUPT for a damaged entry. */
enum udb_result udb_passwd_entry_page(struct udb_db *db, int64_t after_uid, size_t max,
				      udb_passwd_entry_fn *fn, void *userdata, size_t *ret_n);

struct udb_user_spec {
	const char *username;
	bool has_uid;
	uint32_t uid;
	const char *primary_role; /* NULL: personal group */
	const char *first_name;   /* NULL: "" */
	const char *last_name;
	const char *home;  /* NULL: home_base/username */
	const char *shell; /* NULL: default_shell */
	bool disabled;
	const char *password_hash; /* NULL: no password (cannot log in with one) */
};

/* Creates the user and its account row in one transaction. The uid comes
 * from above the high-water mark (ids.h) unless given; a given one raises
 * the mark. When check_system
 * is set, a name or id that another NSS source (e.g. /etc/passwd) already
 * has is UDB_CONFLICT. A primary role is also granted, without expiry. */
enum udb_result udb_user_add(struct udb_db *db, const struct udb_config *cfg,
			     const struct udb_user_spec *spec, bool check_system, int64_t now,
			     struct udb_user **ret_user);

/* Changes the fields that are not NULL. */
struct udb_user_changes {
	const char *first_name;
	const char *last_name;
	const char *home;
	const char *shell;
};
enum udb_result udb_user_modify(struct udb_db *db, const char *name,
				const struct udb_user_changes *changes, int64_t now);

/* Deletes the user, its grants, account row and emails. */
enum udb_result udb_user_delete(struct udb_db *db, const char *name);

/* Another NSS source (files, ldap, ...) has this name / uid / gid. Only for
 * the CLI: it calls getpwnam_r and friends, so the NSS module never may. */
bool udb_system_has_user(const char *name);
bool udb_system_has_group(const char *name);
bool udb_system_has_uid(uint32_t uid);
bool udb_system_has_gid(uint32_t gid);

/* UDB_EXISTS when the database already uses id as a uid or gid,
 * UDB_CONFLICT when another NSS source does (with check_system). */
enum udb_result udb_id_check_free(struct udb_db *db, uint32_t id, bool check_system);
/* The same for a user or role name (they share the group namespace). */
enum udb_result udb_name_check_free(struct udb_db *db, const char *name, bool check_system);

#endif
