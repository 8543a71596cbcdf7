/* The compiled images the NSS module answers from, and the functions that
 * read them. An image is an immutable file in dbdir, written whole by
 * image_write.c in the transaction that changes what it shows and renamed
 * into place after the commit; the NSS module maps it read-only and never
 * opens the SQLite store. The reader here is pure: no SQL, no allocation, no
 * system call; it takes the mapped bytes and their length and trusts none of
 * them (every offset and count is checked before it is used), so a damaged
 * or truncated image is UDB_CORRUPT, never a read out of bounds. Called by
 * the NSS module (nss_userdb/), the image writer and the fuzz target.
 *
 * Two images: nss.img (0644: passwd, group, initgroups) and nss-shadow.img
 * (the shadow file's owner and mode: shadow entries). A third file,
 * nss.gen, holds one 64-bit word that every publication bumps: a process
 * keeps it mapped and compares it at each lookup, so noticing a new image
 * costs a load, not a system call.
 *
 * Base and delta. Each image is a base (nss.img, nss-shadow.img), rebuilt
 * whole now and then, and an optional delta beside it (nss-delta.img,
 * nss-shadow-delta.img) that holds, in the same format, every entry
 * changed since that base (whole: a role with its resolved members, a user
 * with its groups) and the indexes of the base's entries it supersedes
 * (changed, renamed or deleted: the COVERED sections). A delta names the
 * generation of the base it applies to. A lookup asks the delta first,
 * then the base, and a base entry the delta covers is not there. A delta
 * made for an older base is ignored (the newer base has everything it
 * had); one made for a newer base means a base is being installed: the
 * reader maps again. The base carries each entry's store id (the ID
 * sections), which the writer of the next delta uses to find what a
 * changed entry was in the base.
 *
 * Layout, format version 5 (all integers little-endian as the host writes
 * them, every section 8-byte aligned):
 *   header: magic, format version, kind, the store's generation, the file
 *     size and a table of sections (offset, length);
 *   public image: users in uid order as self-contained records (uid, gid,
 *     flags, the user's groups for initgroups, and the passwd entry inline
 *     as five NUL-ended strings), each 8-byte aligned, with USER_OFFS
 *     giving each one's offset for reading by index; by name, NAME_INDEX:
 *     an open-addressing table of 4-byte slots, each the record's offset
 *     and, in the bits the offset leaves free, a tag from the name's hash
 *     that skips a false candidate without reading it, filled to three
 *     quarters (5.3 MB at 1M users, against 16 MB of 8-byte slots filled
 *     to half); or USER_BY_NAME, a table of 8-byte slots (the name's hash,
 *     the offset), when the records are too many to leave a tag of 4 bits;
 *     by uid, either USER_BY_UID, a table of 8-byte slots (the uid, the
 *     offset), or, when the uids are dense (userdb allocates them in a
 *     row), UID_INDEX: the lowest uid, then one 4-byte entry per uid from
 *     it leading to the record (0: none), read without hashing or probing,
 *     written when it is at most half the table's size; in either pair
 *     the other section is empty. So a point lookup reads a slot or an
 *     index entry, then the record, and nothing else. A string pool for
 *     the roles; roles with their effective members already resolved
 *     (inclusion closure, primary roles): the members always shown as one
 *     block of NUL-ended names with a byte per name giving its length
 *     (MEMBER_LENS), and apart from it, the members whose grants start or
 *     end, with their time windows, filtered at lookup time; two hash
 *     tables for roles (by name, by gid). A personal group is the user's
 *     record: gid equal to uid and the PERSONAL flag.
 *   shadow image: a string pool, accounts in user id order with the fields
 *     a shadow entry is computed from, a hash table by name.
 * Version 4 had the 8-byte name table only; version 3 also the uid table
 * only (a random read into 16 MB at 1M users where UID_INDEX is 4 MB);
 * version 2 had fixed-size user records pointing into the pool (three
 * dependent reads a lookup) and a member offset array. A reader refuses
 * any other version (UDB_SCHEMA) and the writer rebuilds it. */
#ifndef UDB_IMAGE_H
#define UDB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define UDB_IMAGE_FILE        "nss.img"
#define UDB_SHADOW_IMAGE_FILE "nss-shadow.img"
#define UDB_IMAGE_DELTA_FILE  "nss-delta.img"
#define UDB_SHADOW_DELTA_FILE "nss-shadow-delta.img"
#define UDB_IMAGE_GEN_FILE    "nss.gen"
#define UDB_IMAGE_LOCK_FILE   "image.lock"

#define UDB_IMG_MAGIC   "UDBIMG\r\n"
#define UDB_IMG_VERSION 5u

enum udb_img_kind {
	UDB_IMG_PUBLIC = 1,
	UDB_IMG_SHADOW = 2,
	UDB_IMG_PUBLIC_DELTA = 3,
	UDB_IMG_SHADOW_DELTA = 4,
};

enum udb_img_section {
	UDB_IMG_S_STRINGS,
	UDB_IMG_S_USERS,        /* or accounts, in the shadow image */
	UDB_IMG_S_USER_BY_NAME, /* or accounts by name */
	UDB_IMG_S_USER_BY_UID,
	UDB_IMG_S_ROLES,
	UDB_IMG_S_ROLE_BY_NAME,
	UDB_IMG_S_ROLE_BY_GID,
	UDB_IMG_S_USER_GROUPS,
	UDB_IMG_S_WINDOWS,
	UDB_IMG_S_USER_OFFS, /* each user's record offset in USERS, in 8-byte units */
	UDB_IMG_S_TIMED,
	UDB_IMG_S_USER_IDS,      /* base: (store id, index) of each user, by id */
	UDB_IMG_S_ROLE_IDS,      /* base: the same for roles */
	UDB_IMG_S_COVERED_USERS, /* delta: base user (account) indexes, ascending */
	UDB_IMG_S_COVERED_ROLES, /* delta: base role indexes, ascending */
	UDB_IMG_S_MEMBER_LENS,   /* each block member's name length, one byte */
	UDB_IMG_S_UID_INDEX,     /* lowest uid, then per uid: USERS unit + 1, or 0 */
	UDB_IMG_S_NAME_INDEX,    /* users by name, 4-byte slots (udb_img_name_slot) */
	UDB_IMG_S_COUNT,
};

struct udb_img_span {
	uint64_t off, len;
};

struct udb_img_header {
	char magic[8];
	uint32_t version;
	uint32_t kind;
	uint64_t generation;
	uint64_t base_generation; /* a delta: the base it applies to; a base: 0 */
	uint64_t size;
	struct udb_img_span sect[UDB_IMG_S_COUNT];
};

/* An entry's id in the store and its index in the base. */
struct udb_img_id {
	int64_t id;
	uint32_t idx, pad;
};

/* A hash table slot: key is the uid or gid, or the hash of the name (a
 * tag that skips false candidates without reading their record); idx
 * leads to the record (0: empty): in the public image's user tables, the
 * user record's offset in USERS in 8-byte units + 1, so that a probe goes
 * straight to the record; elsewhere the record's index + 1. Tables have a
 * power-of-two number of slots, at least twice the records, probed
 * linearly. */
struct udb_img_slot {
	uint32_t key, idx;
};

/* NAME_INDEX: a 4-byte word, unit_bits (1 to 28), then m slots: 0 is
 * empty, else the low unit_bits bits are the record's USERS unit + 1 and
 * the others the tag, udb_img_name_tag() of the name's hash. A name's
 * probe starts at slot (hash * m) >> 32 and goes on linearly, wrapping at
 * m (any m: no power of two, so the table can be filled to 3/4). */
#define UDB_IMG_NAME_TAG_MIN_BITS 4u
uint32_t udb_img_name_tag(uint32_t hash, uint32_t unit_bits);

/* Records in the public image's USERS are 8-byte aligned. */
#define UDB_IMG_ALIGN 8u

#define UDB_IMG_PERSONAL 1u /* the user's primary group is the personal group */
/* The writer found the entry damaged (a row planted in the store: a blob
 * that is not the user's five strings, a name that breaks the rules): it
 * is in the image so that lookups of it fail closed (UDB_CORRUPT), not
 * answer "no such user". */
#define UDB_IMG_DAMAGED 2u

/* A user record: this header, then its passwd entry inline
 * (name\0x\0gecos\0home\0shell\0, entry_len bytes), then zeros up to
 * the next multiple of UDB_IMG_ALIGN. index is the record's position in
 * the file (USER_OFFS[index] leads back to it). */
struct udb_img_user {
	uint32_t uid, gid;
	uint32_t index, flags;
	uint32_t groups_first, n_groups; /* into USER_GROUPS */
	uint32_t entry_len, name_len;
};

/* A group of the user (for initgroups): present at time t when win_count
 * is 0 or t lies in one of its windows. */
struct udb_img_user_group {
	uint32_t gid;
	uint32_t win_first, win_count;
};

/* [not_before, not_after): 0 means unbounded on that side. */
struct udb_img_window {
	int64_t not_before, not_after;
};

/* A role: the members always shown are one block of n_members NUL-ended
 * names in the pool, ready to copy, with each name's length (a byte: a
 * name has at most 32) in MEMBER_LENS, so that the copy's names are found
 * by adding lengths, without reading the names again; the members whose
 * grants all start or end are a separate list in TIMED, filtered at lookup
 * time. */
struct udb_img_role {
	uint32_t gid;
	uint32_t name_off, name_len;
	uint32_t members_off, members_len; /* the block, in the pool */
	uint32_t n_members;                /* names in the block */
	uint32_t timed_first, n_timed;     /* into TIMED */
	uint32_t flags;                    /* UDB_IMG_BAD_MEMBER */
	uint32_t lens_first;               /* into MEMBER_LENS */
};

/* The writer found a member whose name breaks the entry rules (a row
 * planted in the store): the role is not served. */
#define UDB_IMG_BAD_MEMBER 1u

/* A member whose grants all start or end: its name in the pool, present at
 * time t when t lies in one of its windows. */
struct udb_img_timed {
	uint32_t name_off, name_len;
	uint32_t win_first, win_count;
};

#define UDB_IMG_NO_HASH UINT32_MAX

struct udb_img_account {
	uint32_t name_off, name_len;
	uint32_t hash_off, hash_len; /* hash_off UDB_IMG_NO_HASH: no password */
	int64_t password_changed_at;
	int32_t min_days, max_days, warn_days, inactive_days;
	int64_t not_before, not_after, locked_until, last_failed_at;
	int32_t failed_count;
	uint8_t must_change, is_enabled, pad[2];
};

/* One mapped file, checked: the header and every section were found inside
 * the bytes given. Records are checked when they are read. */
struct udb_img_part {
	const unsigned char *base;
	size_t size;
	enum udb_img_kind kind;
	uint64_t generation, base_generation;
	struct udb_img_span sect[UDB_IMG_S_COUNT];
};

/* What lookups read: a base and, when has_delta, the delta over it.
 * Indexes (udb_img_user_at, udb_img_role_at, udb_img_account_at) run over
 * the base's records, then the delta's; a base record the delta covers
 * reads as UDB_NOT_FOUND (enumeration skips it). */
struct udb_img {
	struct udb_img_part part[2];
	bool has_delta;
	enum udb_img_kind kind; /* UDB_IMG_PUBLIC or UDB_IMG_SHADOW */
};

uint32_t udb_img_hash_name(const char *name, size_t len);
uint32_t udb_img_hash_id(uint32_t id);

/* Checks the header and the section table of len bytes at base, which must
 * stay mapped while *ret_img is used. UDB_CORRUPT for anything wrong,
 * UDB_SCHEMA for another format version. */
enum udb_result udb_img_open(const void *base, size_t len, enum udb_img_kind kind,
			     struct udb_img *ret_img);
/* The same check for one file of kind, into *ret_part (udb_img_open's
 * first half; the writer reads a base with it). */
enum udb_result udb_img_part_open(const void *base, size_t len, enum udb_img_kind kind,
				  struct udb_img_part *ret_part);
/* Adds the delta of len bytes at base (same lifetime) to img, a base
 * opened with udb_img_open. UDB_OK: added. UDB_NOT_FOUND: a delta of an
 * older base, ignored (img answers alone). UDB_BUSY: a delta of a newer
 * base, whose install is under way: map both again. UDB_CORRUPT or
 * UDB_SCHEMA as udb_img_open; then img must not be used. */
enum udb_result udb_img_attach_delta(struct udb_img *img, const void *base, size_t len);
/* Whether base record idx of section s (USERS or ROLES) is superseded. */
bool udb_img_covered(const struct udb_img *img, enum udb_img_section s, uint32_t idx);
/* The base index of the entry whose store id is id (USER_IDS or ROLE_IDS
 * of a base part); false when the base has none. */
bool udb_img_part_find_id(const struct udb_img_part *part, enum udb_img_section s, int64_t id,
			  uint32_t *ret_idx);

/* A passwd entry: the five strings, each NUL-ended, at entry[0..len):
 * the name (name_len bytes), "x", then GECOS, home and shell at the
 * offsets the reader found (it checked this shape, not the strings'
 * content: that is validate.h's entry rules, which the packer applies). */
struct udb_img_passwd {
	uint32_t uid, gid;
	const char *entry;
	size_t len;
	size_t name_len;
	uint32_t gecos, dir, shell;
	bool personal;
	uint32_t index;                  /* over base and delta, as udb_img_user_at() takes it */
	const struct udb_img_part *part; /* where the record is, for */
	const struct udb_img_user *rec;  /* udb_img_user_groups() */
};

size_t udb_img_user_count(const struct udb_img *img);
enum udb_result udb_img_user_at(const struct udb_img *img, uint32_t index,
				struct udb_img_passwd *ret_user);
/* Where an enumeration is; {0} is the base's first record. pos: the next
 * record's place (the base's records, then the delta's); index: the
 * number that record must carry (records in file order are numbered 0,
 * 1, ... in each file); covered: how many of the delta's covered indexes
 * the walk has passed. */
struct udb_img_walk {
	uint64_t pos;
	uint32_t index, covered;
};
/* Enumeration in file order, record after record (no index, no search):
 * the user at *walk or the first after it, skipping base records the
 * delta covers (the covered list is ascending, and so are the records: a
 * merge), with *walk moved past it. UDB_NOT_FOUND past the last;
 * UDB_CORRUPT for a record out of bounds or out of sequence. The caller
 * keeps its own copy of *walk until the user is handed out. */
enum udb_result udb_img_user_next(const struct udb_img *img, struct udb_img_walk *walk,
				  struct udb_img_passwd *ret_user);
enum udb_result udb_img_user_by_name(const struct udb_img *img, const char *name,
				     struct udb_img_passwd *ret_user);
enum udb_result udb_img_user_by_uid(const struct udb_img *img, uint32_t uid,
				    struct udb_img_passwd *ret_user);

/* A role: its name, the block of members always shown, and the timed
 * members (udb_img_timed_member() reads one, with whether it is shown at
 * a time). */
struct udb_img_group {
	uint32_t gid;
	const char *name;
	size_t name_len;
	const char *members; /* n_members names, each NUL-ended; NULL if none */
	size_t members_len;  /* bytes of members; its last byte is a NUL */
	const uint8_t *lens; /* lens[i] + 1 bytes for name i: they add up */
	uint32_t n_members;  /* to members_len (checked) */
	const struct udb_img_timed *timed;
	uint32_t n_timed;
	bool bad_member;
	const struct udb_img_part *part; /* the file it came from, for its windows */
};

size_t udb_img_role_count(const struct udb_img *img);
enum udb_result udb_img_role_at(const struct udb_img *img, uint32_t index,
				struct udb_img_group *ret_role);
enum udb_result udb_img_role_by_name(const struct udb_img *img, const char *name,
				     struct udb_img_group *ret_role);
enum udb_result udb_img_role_by_gid(const struct udb_img *img, uint32_t gid,
				    struct udb_img_group *ret_role);
/* Timed member t of role: its name (NUL-ended, checked) and whether one of
 * its windows holds at now. UDB_CORRUPT when out of bounds. */
enum udb_result udb_img_timed_member(const struct udb_img_group *role, uint32_t t, int64_t now,
				     const char **ret_name, size_t *ret_len, bool *ret_shown);
/* Whether a window list [first, first + count) holds now; count 0 is
 * "always". UDB_CORRUPT (as false with *ret_bad set) when out of bounds. */
bool udb_img_windows_hold(const struct udb_img_part *part, uint32_t first, uint32_t count,
			  int64_t now, bool *ret_bad);

/* Calls fn for the gid of every group user is in at time now (no repeats). */
enum udb_result udb_img_user_groups(const struct udb_img *img, const struct udb_img_passwd *user,
				    int64_t now, void (*fn)(uint32_t gid, void *data), void *data);

/* Shadow image. */
struct udb_img_shadow {
	struct udb_img_account account;
	const char *name;
	size_t name_len;
	const char *hash; /* NULL: no password */
	size_t hash_len;
};

size_t udb_img_account_count(const struct udb_img *img);
enum udb_result udb_img_account_at(const struct udb_img *img, uint32_t index,
				   struct udb_img_shadow *ret_account);
enum udb_result udb_img_account_by_name(const struct udb_img *img, const char *name,
					struct udb_img_shadow *ret_account);

#endif
