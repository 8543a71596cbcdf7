/* Packing records of the core into the caller's struct and buffer, the way
 * glibc hands them to NSS modules. Pure functions: no lock, no database, no
 * allocation. Called by the entry points in passwd.c, group.c and
 * shadow.c, and by the integration tests through the module. */
#ifndef UDB_NSS_PACK_H
#define UDB_NSS_PACK_H

#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "config.h"
#include "group.h"
#include "image.h"
#include "result.h"
#include "user.h"

/* The packers take glibc's argument order (result struct, buffer, length).
 * Each returns UDB_BUFFER_TOO_SMALL, leaving *result untouched, unless the
 * whole record fits in buf; the strings (and for groups the member pointer
 * array, aligned for char *) then live in buf. A record that breaks
 * validate.h's entry rules (cfg gives the id ranges) is UDB_CORRUPT, with
 * *result untouched too (buf may have been written). */
enum udb_result udb_pack_passwd(const struct udb_user_view *user, const struct udb_config *cfg,
				struct passwd *result, char *buf, size_t buflen);

/* Enumeration packs each passwd entry once into its page buffer and hands
 * it out later, when the buffer may have moved: a packed entry is its
 * block's place in the page buffer and its strings' offsets in the block. */
struct udb_packed_passwd {
	size_t off;
	uint32_t len;
	uint32_t uid, gid;
	uint32_t passwd, gecos, dir, shell;
};
/* The lengths of a user's strings, measured once per record. */
struct udb_passwd_lens {
	size_t name, first, last, gecos, home, shell;
};
/* The bytes udb_pack_passwd needs for user; fills *ret_lens. */
size_t udb_pack_passwd_size(const struct udb_user_view *user, struct udb_passwd_lens *ret_lens);
/* Copies a ready-made entry (user.h) to block, which has entry->len bytes,
 * and fills *ret_entry except ret_entry->off, which is the caller's.
 * UDB_CORRUPT, *ret_entry untouched, unless the entry is exactly five
 * NUL-terminated strings that pass the entry rules. */
enum udb_result udb_pack_passwd_entry(const struct udb_passwd_entry *entry,
				      const struct udb_config *cfg, char *block,
				      struct udb_packed_passwd *ret_entry);
/* Copies a ready-made entry straight into the caller's struct and buffer
 * (getpwuid): UDB_BUFFER_TOO_SMALL, nothing changed, when it does not fit. */
enum udb_result udb_pack_passwd_from_entry(const struct udb_passwd_entry *entry,
					   const struct udb_config *cfg, struct passwd *result,
					   char *buf, size_t buflen);
/* Copies a user's entry from the image (its shape checked by the reader)
 * into the caller's struct and buffer, then checks it with the entry
 * rules: UDB_BUFFER_TOO_SMALL, nothing changed, when it does not fit. */
enum udb_result udb_pack_img_passwd(const struct udb_img_passwd *user, const struct udb_config *cfg,
				    struct passwd *result, char *buf, size_t buflen);
/* Copies a packed entry (checked when it was packed) from its page buffer
 * into the caller's buffer. */
enum udb_result udb_unpack_passwd(const struct udb_packed_passwd *entry, const char *page,
				  struct passwd *result, char *buf, size_t buflen);
enum udb_result udb_pack_group(const struct udb_group *group, const struct udb_config *cfg,
			       struct group *result, char *buf, size_t buflen);
/* A role of the image with the members shown at time now: the members'
 * block is copied whole when no member's grants start or end. The role's
 * name and gid are checked against the entry rules here; its members were
 * checked by the writer (a role with a bad member is marked so, and is
 * UDB_CORRUPT here). */
enum udb_result udb_pack_img_role(const struct udb_img_group *role, const struct udb_config *cfg,
				  int64_t now, struct group *result, char *buf, size_t buflen);
/* now decides whether a not-yet-valid account shows as expired. */
enum udb_result udb_pack_shadow(const struct udb_account *account, int64_t now, struct spwd *result,
				char *buf, size_t buflen);

#endif
