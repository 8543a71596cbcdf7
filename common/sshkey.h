/* SSH public keys as an authorized_keys line has them: parsing, the checks
 * every key passes before it is stored (a known type, a base64 blob whose
 * own type string and structure match it, options by OpenSSH's rules, a
 * printable comment) and the SHA256 fingerprint in OpenSSH's form. Pure:
 * no I/O, no SQL. Called by the key store (sshkey_store.c), the keys image
 * reader (to recheck what it serves) and the CLI. */
#ifndef UDB_SSHKEY_H
#define UDB_SSHKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define UDB_SSHKEY_LINE_MAX    8192 /* a whole authorized_keys line */
#define UDB_SSHKEY_OPTIONS_MAX 4096
#define UDB_SSHKEY_COMMENT_MAX 1024
/* "SHA256:" and 43 characters of unpadded base64, and the NUL. */
#define UDB_SSHKEY_FP_SIZE 51

/* One key. Strings point into the struct's own copy of the line (owned:
 * udb_sshkey_clear() frees it); options and comment are "" when absent. */
struct udb_sshkey {
	const char *options;
	const char *type;
	const char *blob; /* base64, as written in the line */
	const char *comment;
	char fingerprint[UDB_SSHKEY_FP_SIZE];
	char *buf_;
};

void udb_sshkey_clear(struct udb_sshkey *key);

/* Parses and checks one authorized_keys line (no newline inside; one
 * trailing newline or \r\n is dropped). UDB_INVALID with *ret_why (a static
 * phrase such as "unknown key type") for a line that is not a key sshd
 * would take; UDB_NO_MEMORY. */
enum udb_result udb_sshkey_parse(const char *line, struct udb_sshkey *ret_key,
				 const char **ret_why);

/* Whether the line holds nothing to parse: empty, blanks only, or a '#'
 * comment (authorized_keys skips these). */
bool udb_sshkey_line_is_blank(const char *line);

/* Options as they go before the key type ("no-pty,from=\"10.0.0.0/8\""):
 * OpenSSH's names (case does not matter), flags without a value, the
 * others with one double-quoted value (\" inside it), comma-separated, no
 * blanks outside quotes and no control characters. "" is valid (none). */
bool udb_sshkey_valid_options(const char *options, const char **ret_why);

/* A comment: printable (UTF-8 allowed), no control characters, at most
 * UDB_SSHKEY_COMMENT_MAX bytes. May be empty. */
bool udb_sshkey_valid_comment(const char *comment);

/* The known types, and whether s is one. */
bool udb_sshkey_known_type(const char *s, size_t len);

/* Checks the base64 blob of a key of the stated type and computes its
 * fingerprint ("SHA256:" + unpadded base64 of the SHA-256 of the decoded
 * blob) into ret_fp. */
enum udb_result udb_sshkey_check_blob(const char *type, const char *blob,
				      char ret_fp[UDB_SSHKEY_FP_SIZE], const char **ret_why);

#endif
