/* The audit trail of the admin tool: one row per command that changed
 * something, in the shadow file (schema/0005-audit.sql). Written by the CLI
 * after a change, read by `userdb log`. PAM's own writes are not audited.
 * common/ only stores and reads; the CLI also sends the authpriv line. */
#ifndef UDB_AUDIT_H
#define UDB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "result.h"

/* A change to record. */
struct udb_audit_change {
	int64_t at;
	uint32_t uid;             /* the real uid that ran the tool */
	const char *actor;        /* its user name, or "#UID" */
	const char *sudo_user;    /* SUDO_USER, or NULL */
	const char *command;      /* "user add" */
	const char *subject_user; /* the user the change touched, or NULL */
	const char *subject_role; /* the role the change touched, or NULL */
	const char *message;      /* what the tool printed */
};

/* A row read back: the same, owned, with the row's id. */
struct udb_audit_entry {
	int64_t id; /* rows are read in this order */
	int64_t at;
	uint32_t uid;       /* the real uid that ran the tool */
	char *actor;        /* its user name, or "#UID" */
	char *sudo_user;    /* SUDO_USER, or NULL */
	char *command;      /* "user add" */
	char *subject_user; /* the user the change touched, or NULL */
	char *subject_role; /* the role the change touched, or NULL */
	char *message;      /* what the tool printed */
};

/* Adds a row for e in a transaction of its own, or inside the
 * caller's. Changes no image. */
enum udb_result udb_audit_add(struct udb_db *db, const struct udb_audit_change *e);

/* The rows about user (NULL: every row) made at or after since, oldest
 * first. The handle must have the shadow file. */
enum udb_result udb_audit_list(struct udb_db *db, const char *user, int64_t since,
			       struct udb_audit_entry **ret_entries, size_t *ret_n);
void udb_audit_list_free(struct udb_audit_entry *entries, size_t n);

#endif
