/* The one result type of the userdb core. Every function in common/ returns
 * an enum udb_result; callers map it once, in one place, to NSS status and
 * errno (nss_userdb/), a PAM code (pam_userdb/) or a sysexits status (cli/).
 * Raw errno values and SQLite codes never leave common/. */
#ifndef UDB_RESULT_H
#define UDB_RESULT_H

enum udb_result {
	UDB_OK = 0,
	UDB_NOT_FOUND,        /* the entry really does not exist */
	UDB_BUFFER_TOO_SMALL, /* the caller's buffer cannot hold the record */
	UDB_BUSY,             /* the database is locked by a writer; try again */
	UDB_UNAVAILABLE,      /* the database is missing or cannot be read */
	UDB_PERMISSION,       /* the caller may not read or write this file */
	UDB_UNSAFE,           /* a file is a symlink, or writable by someone but root */
	UDB_CORRUPT,          /* not a userdb database, or damaged */
	UDB_SCHEMA,           /* the schema version is not the one this build knows */
	UDB_NO_MEMORY,
	UDB_IO,          /* an I/O error, including a full disk */
	UDB_AUTH_FAILED, /* wrong password, or a hash that never verifies */
	UDB_INVALID,     /* bad input: a name, email, date, number or option */
	UDB_EXISTS,      /* a duplicate name, uid, gid or email */
	UDB_CONFLICT,    /* another NSS source already has this name, uid or gid */
	UDB_CYCLE,       /* a role inclusion would make a cycle */
	UDB_IN_USE,      /* still referenced (a role that is a primary group) */
	UDB_EXHAUSTED,   /* no free uid or gid left in the configured range */
	UDB_STALE,       /* a copy is behind its source: the admin mirror behind central */
	UDB_INTERNAL,    /* a bug: an unexpected SQLite or library failure */
};

const char *udb_result_to_string(enum udb_result r);

#endif
