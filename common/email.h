/* A user's email addresses (Flask-User's UserEmail): unique across users,
 * compared case-insensitively (ASCII), at most one primary per user, each
 * optionally confirmed. Stored in the shadow file (private, not shown by
 * getent). Called by the CLI and the PAM module (require_confirmed_email). */
#ifndef UDB_EMAIL_H
#define UDB_EMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct udb_email {
	char *address;
	int64_t confirmed_at; /* 0: not confirmed */
	bool is_primary;
	int64_t created_at;
};

void udb_email_list_free(struct udb_email *emails, size_t n);

/* The first address of a user becomes primary even without make_primary. */
enum udb_result udb_email_add(struct udb_db *db, const char *user, const char *address,
			      bool make_primary, bool confirmed, int64_t now);
/* Removing the primary address makes none primary. */
enum udb_result udb_email_delete(struct udb_db *db, const char *user, const char *address);
/* *ret_changed (may be NULL) is false when it was already confirmed. */
enum udb_result udb_email_confirm(struct udb_db *db, const char *user, const char *address,
				  int64_t now, bool *ret_changed);
enum udb_result udb_email_make_primary(struct udb_db *db, const char *user, const char *address);
/* Primary first, then by address. */
enum udb_result udb_email_list(struct udb_db *db, const char *user, struct udb_email **ret_emails,
			       size_t *ret_n);
enum udb_result udb_user_has_confirmed_email(struct udb_db *db, int64_t user_id, bool *ret_has);

#endif
