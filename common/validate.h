/* Validation of everything that comes from outside: names, emails,
 * permissions, GECOS fields, paths, numbers and times. Called by the core
 * before every write, by the NSS module before every lookup (an invalid
 * name is NOT_FOUND without touching the database) and by the CLI. */
#ifndef UDB_VALIDATE_H
#define UDB_VALIDATE_H

#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "result.h"

#define UDB_NAME_MAX       32
#define UDB_EMAIL_MAX      254
#define UDB_PERMISSION_MAX 128
#define UDB_TEXT_MAX       256  /* first_name, last_name, description */
#define UDB_PATH_MAX       4096 /* home and shell */
#define UDB_HASH_MAX       512  /* a shadow entry's password field */

/* A fleet host's name (`host =`, `userdb host add NAME`): 1 to 50 bytes of
 * lowercase letters, digits, '-' and '.', starting with a letter or digit
 * (a DNS name, short enough for the PostgreSQL login userdb_host_NAME). */
#define UDB_HOST_NAME_MAX 50
bool udb_valid_host_name(const char *s);
/* `[a-z_][a-z0-9_-]*` with an optional trailing `$`, 1 to 32 bytes. */
bool udb_valid_username(const char *s);
/* `[A-Za-z_][A-Za-z0-9_.-]*`, 1 to 32 bytes. */
bool udb_valid_rolename(const char *s);
/* At most 254 bytes, exactly one `@` with text on both sides, printable
 * ASCII only (no spaces, no control characters). */
bool udb_valid_email(const char *s);
/* `[A-Za-z0-9_.:*-]+`, at most 128 bytes, e.g. `ssh:login`. */
bool udb_valid_permission(const char *s);
/* Free text that ends up in passwd's GECOS or in `role show`: valid UTF-8,
 * no control characters, no `:` or `,` (the GECOS separators). May be empty. */
bool udb_valid_text(const char *s);
/* An absolute path without `:` or control characters (home, shell). */
bool udb_valid_path(const char *s);

/* A decimal id in 0..4294967294 (-1 is "no id" to the kernel). */
enum udb_result udb_parse_id(const char *s, uint32_t *ret_id);
/* A non-negative decimal number up to max. */
enum udb_result udb_parse_uint(const char *s, unsigned long max, unsigned long *ret_value);

/* A point in time, UTC, as Unix seconds: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`,
 * `YYYY-MM-DDTHH:MM:SS` (optional trailing `Z`, a space may replace `T`),
 * `@SECONDS`, or `+N` with a unit `s`, `m`, `h`, `d`, `w` relative to now. */
enum udb_result udb_parse_time(const char *s, int64_t now, int64_t *ret_time);
/* Formats t as `YYYY-MM-DDTHH:MM:SSZ` into buf (at least 21 bytes). */
void udb_format_time(int64_t t, char *buf, unsigned long size);

/* What the NSS module may serve, checked on every entry right before it is
 * handed out, whatever wrote the row (the tool, sqlite3, a damaged file):
 * the same name rules as the tool's, no `:`, newline or other control
 * character in any field, uid and gid never 0 and inside the configured
 * ranges (a gid in the uid range is a personal group's), home and shell
 * absolute paths. UDB_CORRUPT for an entry that breaks a rule. Called by
 * the NSS packers (nss_userdb/pack.c) and by whatever else builds the
 * entries glibc will see, so there is one rule. */
bool udb_served_uid(const struct udb_config *cfg, uint32_t uid);
bool udb_served_gid(const struct udb_config *cfg, uint32_t gid);
/* pw_passwd must be "x": hashes are only in shadow entries. */
enum udb_result udb_passwd_entry_check(const struct passwd *pw, const struct udb_config *cfg);
/* Members must be valid user names; gr_passwd "x". */
enum udb_result udb_group_entry_check(const struct group *gr, const struct udb_config *cfg);
/* sp_pwdp: 1 to UDB_HASH_MAX bytes of printable ASCII without `:`. */
enum udb_result udb_shadow_entry_check(const struct spwd *sp);

#endif
